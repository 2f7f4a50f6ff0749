"""The console's attendance, check-in, accreditation and certificates pages, against real processes:
they call the certificates service over HTTP as the signed-in person, so the stack runs for real and
a browser (requests.Session) signs in with a console link made in the stack's own database.

One stack for the module; the steps build on each other the way an organiser works through a webinar.
"""
from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from flask import Flask

from tests.support.apps import make_settings
from tests.support.console import add_person
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Vienna")
SLUG = "console-webinar"
PEOPLE = {"zoe": ("zoe@szpital.example", "Zoe", "Lukas"), "giorgos": ("g.pap@iatriko.example", "Giorgos", "Pap"),
          "ana": ("ana@clinico.example", "Ana", "Nunez")}
ZOOM_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def zoom_report(start: dt.datetime) -> bytes:
    """Zoë all 90 minutes, Giorgos 60, and Ana from her private address, which matches nobody."""
    local = start.astimezone(TZ).replace(tzinfo=None)

    def at(minutes: int) -> str:
        return (local + dt.timedelta(minutes=minutes)).strftime(ZOOM_FORMAT)

    out = io.StringIO()
    out.write("Attendee Report\r\nTopic,Webinar ID,Actual Start Time,Actual Duration (minutes)\r\n")
    out.write(f"\"Console webinar\",812 3456 7890,\"{at(0)}\",90\r\nAttendee Details\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Attended", "User Name (Original Name)", "Email", "Join Time", "Leave Time",
                     "Time in Session (minutes)", "Is Guest"])
    writer.writerow(["Yes", "Zoe Lukas", "zoe@szpital.example", at(0), at(90), "90", "No"])
    writer.writerow(["Yes", "Giorgos Pap", "g.pap@iatriko.example", at(0), at(60), "60", "No"])
    writer.writerow(["Yes", "Ana N.", "ana.private@mail.example", at(0), at(90), "90", "Yes"])
    return out.getvalue().encode()


@dataclass
class Suite:
    registration: str
    certificates: str
    auth: dict[str, str]
    app: Flask
    ids: dict[str, int]
    manage: dict[str, str]
    report: bytes

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.certificates}/api/v1{path}", headers=self.auth, timeout=30, **kwargs)

    def browser(self, org: str, role: str) -> Browser:
        return Browser.sign_in(self.registration, add_person(self.app, org, role))

    def ticket(self, who: str) -> str:
        from registration.models import Registration

        with self.app.app_context(), self.app.extensions["suite_db"].session_scope() as session:
            return session.get(Registration, self.ids[who]).ticket_code


@dataclass
class Browser:
    """A person's browser: the console's cookie and its CSRF token."""

    base: str
    http: requests.Session
    csrf: str = ""

    @classmethod
    def sign_in(cls, base: str, link: str) -> Browser:
        browser = cls(base, requests.Session())
        page = browser.get(link)
        entered = browser.http.post(base + link, data={"csrf_token": _csrf(page.text)}, allow_redirects=False)
        assert entered.status_code == 303, entered.text
        browser.csrf = _csrf(browser.get("/console/events").text)
        return browser

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.http.get(self.base + path, timeout=30, **kwargs)

    def post(self, path: str, data: dict[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        return self.http.post(self.base + path, data={"csrf_token": self.csrf, **(data or {})}, timeout=60,
                              allow_redirects=False, **kwargs)

    def follow(self, answer: requests.Response) -> str:
        assert answer.status_code == 303, (answer.status_code, answer.text[:2000])
        return self.get(answer.headers["Location"]).text


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _text(page: str) -> str:
    """The page's words, without tags and with entities decoded, for assertions on what a person reads."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    tmp = tmp_path_factory.mktemp("console-accreditation")
    with running_stack(tmp) as stack:
        registration = url(stack, "registration")
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        start = (dt.datetime.now(TZ) + dt.timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
        ends = start + dt.timedelta(minutes=90)
        requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": SLUG, "title": "Console webinar", "kind": "webinar", "starts_at": start.isoformat(),
            "ends_at": ends.isoformat(), "timezone": "Europe/Vienna", "capacity": 100, "currency": "EUR",
            "join_url": "https://zoom.us/j/1"}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/{SLUG}/sessions", headers=auth, json={
            "code": "LIVE", "title": "Live webinar", "starts_at": start.isoformat(), "ends_at": ends.isoformat(),
            "credits": "2"}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/{SLUG}/rates", headers=auth, json={
            "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
        ids, manage = {}, {}
        for key, (email, given, family) in PEOPLE.items():
            answer = requests.post(f"{registration}/api/v1/events/{SLUG}/registrations", json={
                "email": email, "given_name": given, "family_name": family, "rate": "free", "consent": True})
            assert answer.status_code == 201, answer.text
            ids[key], manage[key] = answer.json()["id"], answer.json()["manage_url"]
        from registration import create_app

        app = create_app(make_settings("registration", f"sqlite:///{stack.var_dir / 'registration.db'}", tmp))
        yield Suite(registration, url(stack, "certificates"), auth, app, ids, manage, zoom_report(start))
        app.extensions["suite_db"].engine.dispose()


@pytest.fixture(scope="module")
def staff(suite: Suite) -> Browser:
    return suite.browser("society", "staff")


@pytest.fixture(scope="module")
def viewer(suite: Suite) -> Browser:
    return suite.browser("society", "viewer")


def test_upload_a_report_and_match_a_row_by_hand(suite: Suite, staff: Browser, viewer: Browser) -> None:
    assert "No report uploaded yet" in staff.get(f"/console/events/{SLUG}/attendance").text
    missing = staff.post(f"/console/events/{SLUG}/attendance/reports")
    assert missing.status_code == 422 and "Choose the report file" in missing.text
    assert 'aria-invalid="true" aria-describedby="file-error"' in missing.text

    report = suite.report
    refused = viewer.post(f"/console/events/{SLUG}/attendance/reports", files={"file": ("zoom.csv", report)})
    assert refused.status_code == 403
    page = staff.follow(staff.post(f"/console/events/{SLUG}/attendance/reports",
                                   data={"timezone": "Europe/Vienna"}, files={"file": ("zoom.csv", report)}))
    (uploaded,) = suite.api("GET", f"/events/{SLUG}/attendance-reports").json()["items"]
    assert (uploaded["rows_read"], uploaded["matched"], uploaded["unmatched"]) == (3, 2, 1)
    assert "Report read: 3 rows, 2 matched, 1 unmatched, 0 skipped." in _text(page)
    assert "3 rows read 2 matched 1 unmatched 0 skipped" in _text(page)
    assert "ana.private@mail.example" in page
    again = staff.follow(staff.post(f"/console/events/{SLUG}/attendance/reports",
                                    files={"file": ("zoom.csv", report)}))
    assert "uploaded before; nothing changed" in again

    line = uploaded["unmatched_rows"][0]["line"]
    choice = {"report_id": uploaded["id"], "line": line, "registration_id": suite.ids["ana"]}
    assert f'<option value="{suite.ids["ana"]}">Ana Nunez (ana@clinico.example)</option>' in page
    assert viewer.post(f"/console/events/{SLUG}/attendance/match", data=choice).status_code == 403
    matched = staff.follow(staff.post(f"/console/events/{SLUG}/attendance/match", data=choice))
    assert f"Line {line} is now Ana Nunez's attendance." in _text(matched) and "Matched by hand to Ana Nunez" in matched
    (after,) = suite.api("GET", f"/events/{SLUG}/attendance-reports").json()["items"]
    assert (after["matched"], after["unmatched"]) == (3, 0)
    assert after["unmatched_rows"][0]["registration_id"] == suite.ids["ana"]
    other = staff.post(f"/console/events/{SLUG}/attendance/match", data={**choice,
                                                                         "registration_id": suite.ids["zoe"]})
    assert other.status_code == 422 and "matched to registration" in other.text
    assert staff.post(f"/console/events/{SLUG}/attendance/match", data=choice).status_code == 303  # idempotent


def test_upload_a_zoom_poll_report_as_presence_checks(suite: Suite, staff: Browser) -> None:
    event = requests.get(f"{suite.registration}/api/v1/events/{SLUG}", headers=suite.auth).json()
    answered = (dt.datetime.fromisoformat(event["starts_at"]).astimezone(TZ) + dt.timedelta(minutes=10)).strftime(
        "%Y-%m-%d %H:%M:%S")
    poll = ("#,User Name,User Email,Submitted Date/Time,\r\n"
            f"1,Zoe Lukas,zoe@szpital.example,{answered},Are you with us?,Yes\r\n"
            f"2,Ana N.,ana.private@mail.example,{answered},Are you with us?,Yes\r\n").encode()
    page = staff.follow(staff.post(f"/console/events/{SLUG}/attendance/reports", data={"kind": "poll"},
                                   files={"file": ("poll.csv", poll)}))
    assert "Poll report read: 2 answers, 1 counted as presence checks, 1 unmatched, 0 skipped." in _text(page)
    assert "(zoom-meeting-poll)" in page and "Poll “Are you with us?” answered" in page


def test_check_in_by_ticket_code(suite: Suite, staff: Browser, viewer: Browser) -> None:
    form = staff.get(f"/console/events/{SLUG}/check-in")
    assert form.status_code == 200 and "autofocus" in form.text and 'name="ticket_code"' in form.text
    assert '<input type="hidden" name="session" value="LIVE">' in form.text  # the event's one session
    assert viewer.get(f"/console/events/{SLUG}/check-in").status_code == 403
    code = suite.ticket("giorgos")
    assert viewer.post(f"/console/events/{SLUG}/check-in", data={"ticket_code": code}).status_code == 403
    page = staff.follow(staff.post(f"/console/events/{SLUG}/check-in", data={"ticket_code": code, "session": "LIVE"}))
    assert "Giorgos Pap" in page and "checked in for Live webinar" in page and "autofocus" in page
    repeated = staff.follow(staff.post(f"/console/events/{SLUG}/check-in", data={"ticket_code": code, "session": "LIVE"}))
    assert "already checked in" in repeated
    unknown = staff.post(f"/console/events/{SLUG}/check-in", data={"ticket_code": "NOSUCHTICKET", "session": "LIVE"})
    assert unknown.status_code == 422 and "Not checked in: No such ticket" in unknown.text
    empty = staff.post(f"/console/events/{SLUG}/check-in", data={"ticket_code": ""})
    assert empty.status_code == 422 and "Enter the ticket code." in empty.text


RULES = {"body": "EACCME®", "credit_unit": "European CME credits (ECMEC®s)",
         "statement": "The webinar is accredited with 2 European CME credits.", "credit_mode": "proportional",
         "credit_step": "0.5", "min_session_share": "0.5", "max_credits": "", "max_credits_per_day": "",
         "daily_caps": "", "signatory": "Prof. Dr. Eva de Vries", "signatory_title": "Chair",
         "organisation_name": "", "question_rows": "3", "q-0-text": "How was it?", "q-0-id": "overall",
         "q-0-kind": "rating", "q-0-required": "yes"}


def test_credit_rules_are_saved_and_refusals_shown_per_field(suite: Suite, staff: Browser, viewer: Browser) -> None:
    empty = staff.get(f"/console/events/{SLUG}/accreditation")
    assert empty.status_code == 200 and "No credit rules yet" in empty.text
    bad = staff.post(f"/console/events/{SLUG}/accreditation",
                     data={**RULES, "body": "", "min_session_share": "2", "q-0-id": "Not An Id"})
    assert bad.status_code == 422
    assert 'id="min_session_share" name="min_session_share" value="2" aria-invalid="true"' in bad.text
    assert 'href="#body"' in bad.text and 'href="#q-0-id"' in bad.text and 'id="q-0-id-error"' in bad.text
    assert suite.api("GET", f"/events/{SLUG}/accreditation").status_code == 404  # nothing saved
    assert viewer.post(f"/console/events/{SLUG}/accreditation", data=RULES).status_code == 403

    saved = staff.follow(staff.post(f"/console/events/{SLUG}/accreditation", data=RULES))
    assert "Credit rules saved" in saved and 'value="Prof. Dr. Eva de Vries"' in saved
    rules = suite.api("GET", f"/events/{SLUG}/accreditation").json()
    assert (rules["body"], rules["min_session_share"], rules["max_credits"]) == ("EACCME®", "0.5000", None)
    assert rules["evaluation_questions"] == [{"id": "overall", "text": "How was it?", "kind": "rating",
                                              "required": True}]
    shown = viewer.get(f"/console/events/{SLUG}/accreditation").text
    assert "How was it?" in shown and "Save the credit rules" not in shown


def test_issue_follow_the_job_list_revoke_and_reissue(suite: Suite, staff: Browser, viewer: Browser) -> None:
    assert viewer.post(f"/console/events/{SLUG}/certificates").status_code == 403
    started = staff.post(f"/console/events/{SLUG}/certificates")
    assert started.status_code == 303 and "/jobs/" in started.headers["Location"]
    job_path = started.headers["Location"]
    deadline = time.monotonic() + 60
    page = staff.get(job_path).text
    assert "<progress" in page
    while 'data-job="status">Done</strong>' not in page:
        # Until it is done, the page is followed by its script (through ?format=json), and without
        # JavaScript by its "Check progress" link; it never refreshes itself (WCAG 2.2.1).
        assert "console-job.js" in page and "Check progress" in page and time.monotonic() < deadline
        assert "http-equiv" not in page
        followed = viewer.get(job_path + "?format=json").json()
        assert set(followed) >= {"status", "total", "processed", "issued"}
        time.sleep(0.5)
        page = viewer.get(job_path).text
    assert "console-job.js" not in page and "Done: every eligible person" in page
    assert '<progress id="progress" max="3" value="3">' in page

    listed = {c["registration_id"]: c for c in suite.api("GET", f"/events/{SLUG}/certificates").json()["items"]}
    explained = {i["registration_id"]: i for i in suite.api("GET", f"/events/{SLUG}/credits").json()["items"]}
    assert {rid: c["credits"] for rid, c in listed.items()} == {
        suite.ids["zoe"]: "1.50", suite.ids["giorgos"]: "1.50", suite.ids["ana"]: "1.50"}
    page = viewer.get(f"/console/events/{SLUG}/certificates").text
    text = _text(page)
    for key in ("zoe", "ana"):
        assert f"Why {explained[suite.ids[key]]['total']} credits?" in text
        assert all(_text(line) in text for line in explained[suite.ids[key]]["explanation"])
        assert listed[suite.ids[key]]["download_url"] in page
    assert "Revoke" not in page and "Re-issue" not in page  # a viewer sees no actions

    giorgos = listed[suite.ids["giorgos"]]["code"]
    assert viewer.post(f"/console/events/{SLUG}/certificates/{giorgos}/revoke",
                       data={"reason": "issued in error"}).status_code == 403
    blank = staff.post(f"/console/events/{SLUG}/certificates/{giorgos}/revoke", data={"reason": ""})
    assert blank.status_code == 422 and f'id="reason-{giorgos}-error"' in blank.text
    revoked = staff.follow(staff.post(f"/console/events/{SLUG}/certificates/{giorgos}/revoke",
                                      data={"reason": "issued in error"}))
    assert "Revoked (issued in error)" in _text(revoked)
    after = {c["code"]: c for c in suite.api("GET", f"/events/{SLUG}/certificates").json()["items"]}
    assert after[giorgos]["revoked"] is True and after[giorgos]["revoked_reason"] == "issued in error"

    zoe = listed[suite.ids["zoe"]]["code"]
    browser = requests.Session()
    csrf = _csrf(browser.get(suite.manage["zoe"]).text)
    corrected = browser.post(suite.manage["zoe"] + "/name", data={
        "csrf_token": csrf, "given_name": "Zoë Anna", "family_name": "Łukasiewicz"})
    assert corrected.status_code == 200, corrected.text
    assert viewer.post(f"/console/events/{SLUG}/certificates/{zoe}/reissue").status_code == 403
    reissued = staff.follow(staff.post(f"/console/events/{SLUG}/certificates/{zoe}/reissue"))
    assert f"Certificate {zoe} re-issued for Zoë Anna Łukasiewicz (revision 2)." in html.unescape(reissued)
    verified = requests.get(f"{suite.certificates}/verify/{zoe}", headers={"Accept": "application/json"}).json()
    assert (verified["participant"], verified["revision"], verified["valid"]) == ("Zoë Anna Łukasiewicz", 2, True)
    unchanged = staff.follow(staff.post(f"/console/events/{SLUG}/certificates/{zoe}/reissue"))
    assert "nothing changed" in unchanged
    refused = staff.post(f"/console/events/{SLUG}/certificates/{giorgos}/reissue")
    assert refused.status_code == 409 and "revoked and stays so" in refused.text


def test_another_organisations_event_is_not_found(suite: Suite) -> None:
    stranger = suite.browser("other-society", "owner")
    for page in ("attendance", "accreditation", "certificates", "check-in"):
        assert stranger.get(f"/console/events/{SLUG}/{page}").status_code == 404, page
    assert stranger.post(f"/console/events/{SLUG}/certificates").status_code == 404
    job = suite.api("POST", f"/events/{SLUG}/certificates").json()["id"]
    assert stranger.get(f"/console/events/{SLUG}/jobs/{job}").status_code == 404
