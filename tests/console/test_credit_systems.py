"""The console's credit systems page, the accreditation page beside several systems, and a session's
credits per system, against real processes: the pages call the certificates service over HTTP as the
signed-in person (the browsers and the stack as in test_accreditation.py).

One stack for the module; the steps build on each other as an organiser sets up a congress with
European CME credits and a national register's points.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask

from tests.console.test_accreditation import Browser, _text
from tests.support.apps import make_settings
from tests.support.console import add_person
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Vienna")
SLUG = "two-systems-congress"
SINGLE = "one-system-course"
QUESTION = {"id": "overall", "text": "How was it?", "kind": "rating", "required": True}


@dataclass
class Suite:
    registration: str
    certificates: str
    auth: dict[str, str]
    app: Flask
    start: dt.datetime

    def rules(self, slug: str = SLUG) -> dict[str, Any]:
        answer = requests.get(f"{self.certificates}/api/v1/events/{slug}/accreditation", headers=self.auth,
                              timeout=30)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def browser(self, role: str, org: str = "society") -> Browser:
        return Browser.sign_in(self.registration, add_person(self.app, org, role))

    def ticket(self, registration_id: int) -> str:
        from registration.models import Registration

        with self.app.app_context(), self.app.extensions["suite_db"].session_scope() as session:
            return session.get(Registration, registration_id).ticket_code


def _event(registration: str, auth: dict[str, str], slug: str, start: dt.datetime) -> None:
    requests.post(f"{registration}/api/v1/events", headers=auth, timeout=30, json={
        "slug": slug, "title": slug.replace("-", " ").title(), "kind": "conference", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(days=1, hours=8)).isoformat(), "timezone": "Europe/Vienna",
        "capacity": 100, "currency": "EUR", "venue": "Vienna"}).raise_for_status()
    requests.post(f"{registration}/api/v1/events/{slug}/rates", headers=auth, timeout=30, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    tmp = tmp_path_factory.mktemp("console-credit-systems")
    with running_stack(tmp) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        start = (dt.datetime.now(TZ) + dt.timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)
        for slug in (SLUG, SINGLE):
            _event(registration, auth, slug, start)
        # The congress starts as every event does: the single-system body, its one system CME.
        requests.put(f"{certificates}/api/v1/events/{SLUG}/accreditation", headers=auth, timeout=30, json={
            "body": "EACCME®", "statement": "Accredited with 12 European CME credits.",
            "signatory": "Prof. Dr. Eva de Vries", "signatory_title": "Chair",
            "evaluation_questions": [QUESTION]}).raise_for_status()
        # The course has one system set by hand, with a code, a claim and a presence rule of its own.
        requests.put(f"{certificates}/api/v1/events/{SINGLE}/accreditation", headers=auth, timeout=30, json={
            "signatory": "Dr. Jan Smit", "credit_systems": [{
                "code": "RCT", "name": "Radiographers' CE credits", "body": "ARRT", "statement": "Approved for CE.",
                "credit_step": "0.25", "claim_required": True, "presence_codes_required": 2}]}).raise_for_status()
        from registration import create_app

        app = create_app(make_settings("registration", f"sqlite:///{stack.var_dir / 'registration.db'}", tmp))
        yield Suite(registration, certificates, auth, app, start)
        app.extensions["suite_db"].engine.dispose()


@pytest.fixture(scope="module")
def staff(suite: Suite) -> Browser:
    return suite.browser("staff")


@pytest.fixture(scope="module")
def viewer(suite: Suite) -> Browser:
    return suite.browser("viewer")


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


def _form(page: str) -> dict[str, str]:
    """What the page's form would send: its inputs' values, the checked boxes, the selected options."""
    import html
    import re

    values: dict[str, str] = {}
    for tag in re.findall(r"<input [^>]+>", page):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name is None or name.group(1) == "csrf_token":
            continue
        if 'type="checkbox"' in tag and " checked" not in tag:
            continue
        values[name.group(1)] = html.unescape(value.group(1) if value else "")
    for name, body in re.findall(r'<textarea id="[^"]+" name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        values[name] = html.unescape(body)
    for name, options in re.findall(r'<select id="[^"]+" name="([^"]+)"[^>]*>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        values[name] = chosen.group(1) if chosen else re.search(r'<option value="([^"]*)"', options).group(1)
    return values


def test_two_systems_created_edited_and_one_removed(suite: Suite, staff: Browser, viewer: Browser) -> None:
    page = viewer.get(f"/console/events/{SLUG}/credit-systems")
    assert page.status_code == 200 and "Credit system 1: CME" in page.text
    assert "Save the credit systems" not in page.text and "Add a credit system" not in page.text
    assert 'href="/console/events/two-systems-congress/credit-systems" aria-current="page">Credit systems' in page.text

    form = _form(staff.get(f"/console/events/{SLUG}/credit-systems").text)
    assert (form["system_rows"], form["existing_rows"], form["cs-0-code"], form["cs-1-credit_step"]) == (
        "2", "1", "CME", "0.5")
    closes = suite.start + dt.timedelta(days=30)
    form.update({"cs-0-code": "ECMEC", "cs-0-name": "European CME credits (ECMEC®s)", "cs-0-min_session_share": "0.5",
                 "cs-0-max_credits_per_day": "6", "cs-0-evaluation_required": "yes",
                 "cs-1-code": "NVVTG", "cs-1-name": "NVvTG register points", "cs-1-body": "NVvTG",
                 "cs-1-statement": "Accredited by the NVvTG with 9 points.", "cs-1-credit_step": "1",
                 "cs-1-credit_mode": "session", "cs-1-min_session_share": "0.75",
                 "cs-1-daily_caps": f"{suite.start.date()} = 4\n", "cs-1-claim_required": "yes",
                 "cs-1-claim_closes_at": _local(closes), "cs-1-presence_codes_required": "2"})
    assert viewer.post(f"/console/events/{SLUG}/credit-systems", data=form).status_code == 403
    assert [s["code"] for s in suite.rules()["credit_systems"]] == ["CME"]  # the viewer changed nothing

    saved = staff.follow(staff.post(f"/console/events/{SLUG}/credit-systems", data=form))
    assert "Credit systems saved: ECMEC, NVVTG." in _text(saved)
    rules = suite.rules()
    ecmec, nvvtg = rules["credit_systems"]
    # The event-level fields stay as they were.
    assert (rules["signatory"], rules["signatory_title"], rules["evaluation_questions"]) == (
        "Prof. Dr. Eva de Vries", "Chair", [QUESTION])
    assert (ecmec["code"], ecmec["body"], ecmec["min_session_share"], ecmec["max_credits_per_day"],
            ecmec["evaluation_required"]) == ("ECMEC", "EACCME®", "0.5000", "6.00", True)
    assert (nvvtg["code"], nvvtg["credit_step"], nvvtg["credit_mode"], nvvtg["claim_required"],
            nvvtg["presence_codes_required"], nvvtg["daily_caps"]) == (
        "NVVTG", "1.00", "session", True, 2, {suite.start.date().isoformat(): "4.00"})
    assert dt.datetime.fromisoformat(nvvtg["claim_closes_at"]) == closes
    # The page shows them back, the closing time in the event's zone.
    again = _form(saved)
    assert (again["cs-1-code"], again["cs-1-claim_closes_at"], again["existing_rows"]) == (
        "NVVTG", _local(closes), "2")
    assert again["cs-1-claim_required"] == "yes" and "cs-0-claim_required" not in again

    # Edited, a third added, then the third removed.
    again.update({"cs-1-max_credits": "9", "cs-2-code": "RCT", "cs-2-name": "CE credits", "cs-2-body": "ARRT",
                  "cs-2-statement": "Approved for CE.", "cs-2-credit_step": "0.25"})
    three = _form(staff.follow(staff.post(f"/console/events/{SLUG}/credit-systems", data=again)))
    assert [s["code"] for s in suite.rules()["credit_systems"]] == ["ECMEC", "NVVTG", "RCT"]
    assert suite.rules()["credit_systems"][1]["max_credits"] == "9.00"
    three["cs-2-remove"] = "yes"
    removed = staff.follow(staff.post(f"/console/events/{SLUG}/credit-systems", data=three))
    assert "Credit systems saved: ECMEC, NVVTG." in _text(removed)
    assert [s["code"] for s in suite.rules()["credit_systems"]] == ["ECMEC", "NVVTG"]
    assert suite.rules()["signatory"] == "Prof. Dr. Eva de Vries"


def test_a_bad_step_in_the_second_system_is_shown_on_its_field(suite: Suite, staff: Browser) -> None:
    form = _form(staff.get(f"/console/events/{SLUG}/credit-systems").text)
    form.update({"cs-1-credit_step": "0", "cs-1-presence_codes_required": "two", "cs-2-code": "rct",
                 "cs-2-name": "CE credits", "cs-2-body": "ARRT", "cs-2-statement": ""})
    before = suite.rules()
    refused = staff.post(f"/console/events/{SLUG}/credit-systems", data=form)
    assert refused.status_code == 422
    page = refused.text
    assert 'id="cs-1-credit_step" name="cs-1-credit_step" value="0"' in page
    assert 'value="0" autocomplete="off" inputmode="decimal" aria-invalid="true" aria-describedby="cs-1-credit_step-hint cs-1-credit_step-error"' in page
    assert 'id="cs-1-credit_step-error">The credit step must be more than 0' in page
    summary = _text(page.split('id="error-summary"')[1].split("</div>")[0]).replace(" :", ":")
    assert "Credit system 2, Credit step: The credit step must be more than 0" in summary
    assert "Credit system 2, Presence codes required: Not a valid integer." in summary
    assert "Credit system 3, Code:" in summary and "Credit system 3, Accreditation statement:" in summary
    assert 'href="#cs-1-credit_step"' in page and 'href="#cs-2-code"' in page
    # Everything typed is kept, the new system's row too.
    assert 'name="cs-2-code" value="rct"' in page and 'name="cs-1-presence_codes_required" value="two"' in page
    assert suite.rules() == before


def test_the_accreditation_page_keeps_several_systems(suite: Suite, staff: Browser, viewer: Browser) -> None:
    page = viewer.get(f"/console/events/{SLUG}/accreditation").text
    text = _text(page)
    assert "Edit credit systems" in page and f'href="/console/events/{SLUG}/credit-systems"' in page
    assert "ECMEC European CME credits (ECMEC®s)" in text and "NVVTG NVvTG register points" in text
    assert 'name="body"' not in page and 'name="credit_step"' not in page  # no single system's rules

    form = _form(staff.get(f"/console/events/{SLUG}/accreditation").text)
    form.update({"signatory": "Prof. Dr. Anna Weber", "signatory_title": "President"})
    saved = staff.follow(staff.post(f"/console/events/{SLUG}/accreditation", data=form))
    assert "Credit rules saved" in saved
    rules = suite.rules()
    assert (rules["signatory"], rules["signatory_title"]) == ("Prof. Dr. Anna Weber", "President")
    assert [s["code"] for s in rules["credit_systems"]] == ["ECMEC", "NVVTG"]
    assert rules["credit_systems"][1]["claim_required"] is True and rules["evaluation_questions"] == [QUESTION]

    blank = staff.post(f"/console/events/{SLUG}/accreditation", data={**form, "signatory": ""})
    assert blank.status_code == 422 and 'href="#signatory"' in blank.text and "Edit credit systems" in blank.text
    assert suite.rules()["signatory"] == "Prof. Dr. Anna Weber"


def test_the_accreditation_page_keeps_one_systems_code_claim_and_presence(suite: Suite, staff: Browser) -> None:
    form = _form(staff.get(f"/console/events/{SINGLE}/accreditation").text)
    assert form["credit_unit"] == "Radiographers' CE credits" and form["credit_step"] == "0.25"
    form.update({"statement": "Approved for 3 CE credits.", "credit_step": "0.5"})
    staff.follow(staff.post(f"/console/events/{SINGLE}/accreditation", data=form))
    (system,) = suite.rules(SINGLE)["credit_systems"]
    assert (system["code"], system["name"], system["statement"], system["credit_step"], system["claim_required"],
            system["presence_codes_required"]) == (
        "RCT", "Radiographers' CE credits", "Approved for 3 CE credits.", "0.50", True, 2)

    refused = staff.post(f"/console/events/{SINGLE}/accreditation", data={**form, "body": "", "credit_unit": ""})
    assert refused.status_code == 422 and 'href="#body"' in refused.text
    assert 'id="body-error"' in refused.text
    assert suite.rules(SINGLE)["credit_systems"][0]["body"] == "ARRT"


def test_a_session_with_credits_in_two_systems(suite: Suite, staff: Browser, viewer: Browser) -> None:
    page = staff.get(f"/console/events/{SLUG}/sessions/new").text
    assert 'name="credits-ECMEC"' in page and 'name="credits-NVVTG"' in page and 'name="credits"' not in page
    assert "European CME credits (ECMEC®s)" in page and "NVvTG register points" in page
    single = staff.get(f"/console/events/{SINGLE}/sessions/new").text
    assert 'name="credits"' in single and "credits-RCT" not in single

    starts = suite.start
    session = {"code": "D1-AM", "title": "Day 1 morning", "starts_at": _local(starts),
               "ends_at": _local(starts + dt.timedelta(hours=3)), "credits-ECMEC": "3", "credits-NVVTG": "2"}
    assert viewer.post(f"/console/events/{SLUG}/sessions/new", data=session).status_code == 403
    bad = staff.post(f"/console/events/{SLUG}/sessions/new", data={**session, "credits-NVVTG": "lots"})
    assert bad.status_code == 422 and 'name="credits-NVVTG" value="lots"' in bad.text
    assert 'id="credits-NVVTG-error"' in bad.text and 'href="#credits-NVVTG"' in bad.text
    overview = staff.follow(staff.post(f"/console/events/{SLUG}/sessions/new", data=session))
    assert "Session D1-AM added." in overview
    assert "ECMEC 3" in _text(overview) and "NVVTG 2" in _text(overview)
    only_one = {**session, "code": "D1-PM", "starts_at": _local(starts + dt.timedelta(hours=4)),
                "ends_at": _local(starts + dt.timedelta(hours=6)), "credits-ECMEC": "2", "credits-NVVTG": ""}
    overview = _text(staff.follow(staff.post(f"/console/events/{SLUG}/sessions/new", data=only_one)))
    event = requests.get(f"{suite.registration}/api/v1/events/{SLUG}", headers=suite.auth, timeout=30).json()
    by_code = {s["code"]: s["credits_by_system"] for s in event["sessions"]}
    assert by_code == {"D1-AM": {"ECMEC": "3.00", "NVVTG": "2.00"}, "D1-PM": {"ECMEC": "2.00"}}
    assert "ECMEC 2; NVVTG none" not in overview and "D1-PM Day 1 morning" in overview
    assert "Credits in total, per credit system: ECMEC 5; NVVTG 2" in overview

    # Someone who attended the morning session earns credits in both systems at certificates.
    person = requests.post(f"{suite.registration}/api/v1/events/{SLUG}/registrations", timeout=30, json={
        "email": "zoe@szpital.example", "given_name": "Zoe", "family_name": "Lukas", "rate": "free",
        "consent": True})
    assert person.status_code == 201, person.text
    checked = requests.post(f"{suite.certificates}/api/v1/events/{SLUG}/check-ins", headers=suite.auth, timeout=30,
                            json={"ticket_code": suite.ticket(person.json()["id"]), "session": "D1-AM"})
    assert checked.status_code in (200, 201), checked.text
    (item,) = requests.get(f"{suite.certificates}/api/v1/events/{SLUG}/credits", headers=suite.auth,
                           timeout=30).json()["items"]
    systems = {system["code"]: system for system in item["systems"]}
    assert systems["ECMEC"]["total"] == "3.00" or systems["ECMEC"]["total"] == "3"
    assert item["supported_by_system"]["NVVTG"] in ("2", "2.00")


def test_another_organisations_event_is_not_found(suite: Suite) -> None:
    stranger = suite.browser("owner", org="other-society")
    assert stranger.get(f"/console/events/{SLUG}/credit-systems").status_code == 404
    assert stranger.post(f"/console/events/{SLUG}/credit-systems", data={"system_rows": "1"}).status_code == 404
