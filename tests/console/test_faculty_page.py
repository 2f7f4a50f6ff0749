"""The console's faculty page: an event's speakers and planners with their statements; staff add (the
form's and the service's refusals shown on their fields), edit, remove and send the speaker's link;
viewers read and are refused the changes. The same rules as the faculty API, which reads the result."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registration.models import Outbox
from tests.support.console import signed_in
from tests.support.factories import create_event


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _event_with_sessions(client: FlaskClient, auth: dict[str, str]) -> str:
    event = create_event(client, auth)
    for code, title in (("S1", "Opening"), ("S2", "Deep learning in chest CT")):
        response = client.post(f"/api/v1/events/{event['slug']}/sessions", headers=auth, json={
            "code": code, "title": title, "starts_at": event["starts_at"], "ends_at": event["ends_at"], "credits": "1"})
        assert response.status_code == 201, response.get_json()
    return event["slug"]


def _faculty(client: FlaskClient, auth: dict[str, str], slug: str) -> dict[str, dict[str, Any]]:
    answer = client.get(f"/api/v1/events/{slug}/faculty", headers=auth)
    assert answer.status_code == 200
    return {item["name"]: item for item in answer.get_json()["items"]}


def _days_ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


SPEAKER_FORM = {"name": "Dr Ada Quinn", "email": "ada@hospital.example", "role": "speaker", "sessions": ["S2"],
                "statement": "disclosed", "company-0": "Siemens Healthineers", "relationship-0": "Consultant",
                "ended_on-0": "", "company-1": "Bayer", "relationship-1": "Speakers' bureau",
                "ended_on-1": _days_ago(30), "mitigation": "Slides peer-reviewed by the planning committee."}


def test_staff_add_a_speaker_and_a_planner_with_errors_shown_in_the_form(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)
    staff = signed_in(registration_app, "society-a", "staff")
    page = staff.get(f"/console/events/{slug}/faculty")
    assert page.status_code == 200 and "No faculty yet." in _text(page)
    assert f'href="/console/events/{slug}/faculty" aria-current="page"' in _text(page)  # in the event's navigation
    assert 'id="sessions-S2"' in _text(page) and 'id="statement-none"' in _text(page)

    # The schema's refusals (no name, a bad address, a row without its nature), the service's (a relationship
    # ended more than 24 months ago) and the form's own (relationships chosen, none listed) each on its field.
    bad = staff.post(f"/console/events/{slug}/faculty", data={
        **SPEAKER_FORM, "name": " ", "email": "not an address", "relationship-1": ""})
    text = _text(bad)
    assert bad.status_code == 422
    for field in ("name", "email", "relationship-1"):
        assert f'id="{field}-error"' in text and f'href="#{field}"' in text, field
    assert 'value="Siemens Healthineers"' in text and 'value="not an address"' in text  # what was typed stays
    old = staff.post(f"/console/events/{slug}/faculty", data={**SPEAKER_FORM, "ended_on-1": _days_ago(800)})
    assert old.status_code == 422 and 'id="ended_on-1-error"' in _text(old) and "more than 24 months ago" in _text(old)
    empty = staff.post(f"/console/events/{slug}/faculty", data={
        "name": "Dr Cy Late", "role": "speaker", "statement": "disclosed"})
    assert empty.status_code == 422 and 'id="statement-error"' in _text(empty)
    planner_with_session = staff.post(f"/console/events/{slug}/faculty", data={
        "name": "Prof Ben Ode", "role": "planner", "sessions": ["S1"], "statement": "none"})
    assert planner_with_session.status_code == 422 and 'id="sessions-error"' in _text(planner_with_session)
    assert _faculty(client, auth, slug) == {}

    added = staff.post(f"/console/events/{slug}/faculty", data=SPEAKER_FORM)
    assert added.status_code == 303 and added.headers["Location"] == f"/console/events/{slug}/faculty"
    assert staff.post(f"/console/events/{slug}/faculty", data={
        "name": "Prof Ben Ode", "role": "planner", "statement": "none"}).status_code == 303
    listed = _text(staff.get(f"/console/events/{slug}/faculty"))
    assert "Dr Ada Quinn added to the faculty." in listed
    assert "Siemens Healthineers: Consultant (ongoing)" in listed and f"Bayer: Speakers' bureau (ended {_days_ago(30)})" \
        in listed.replace("&#39;", "'")
    people = _faculty(client, auth, slug)
    ada = people["Dr Ada Quinn"]
    assert (ada["status"], ada["sessions"], ada["disclosed_by"]) == ("disclosed", ["S2"], "organiser")
    assert [(d["company"], d["relationship"], d["ended_on"]) for d in ada["disclosures"]] == [
        ("Siemens Healthineers", "Consultant", None), ("Bayer", "Speakers' bureau", _days_ago(30))]
    assert ada["mitigation"] == "Slides peer-reviewed by the planning committee."
    assert (people["Prof Ben Ode"]["status"], people["Prof Ben Ode"]["role"]) == ("none", "planner")


def test_staff_edit_keeps_an_attested_statement_and_remove_takes_the_person_off(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)
    staff = signed_in(registration_app, "society-a", "staff")
    assert staff.post(f"/console/events/{slug}/faculty", data=SPEAKER_FORM).status_code == 303
    ada = _faculty(client, auth, slug)["Dr Ada Quinn"]
    edit_path = f"/console/events/{slug}/faculty/{ada['id']}/edit"
    form = _text(staff.get(edit_path))
    assert 'value="Dr Ada Quinn"' in form and 'value="Siemens Healthineers"' in form
    assert re.search(r'id="statement-disclosed" name="statement" value="disclosed" checked', form)

    # The same statement saved with another name and sessions: still the organiser's, same moment.
    renamed = staff.post(edit_path, data={**SPEAKER_FORM, "name": "Dr Ada Quinn-Berg", "sessions": ["S1", "S2"]})
    assert renamed.status_code == 303
    after = _faculty(client, auth, slug)["Dr Ada Quinn-Berg"]
    assert after["sessions"] == ["S1", "S2"] and after["disclosed_at"] == ada["disclosed_at"]

    refused = staff.post(edit_path, data={**SPEAKER_FORM, "role": "director"})
    assert refused.status_code == 422 and 'id="role-error"' in _text(refused)

    # The statement changed to none: the relationships go.
    none = {key: value for key, value in SPEAKER_FORM.items() if not key[:-2].endswith(("company", "relationship",
                                                                                      "ended_on"))}
    assert staff.post(edit_path, data={**none, "statement": "none"}).status_code == 303
    after = _faculty(client, auth, slug)["Dr Ada Quinn"]
    assert (after["status"], after["disclosures"]) == ("none", [])

    removed = staff.post(f"/console/events/{slug}/faculty/{ada['id']}/remove")
    assert removed.status_code == 303
    assert "Dr Ada Quinn removed from the faculty." in _text(staff.get(removed.headers["Location"]))
    assert _faculty(client, auth, slug) == {}
    assert staff.get(edit_path).status_code == 404


def _link_mails(app: Flask) -> list[dict[str, Any]]:
    with app.extensions["suite_db"].session_scope() as session:
        return [row.body for row in session.scalars(select(Outbox).order_by(Outbox.id))
                if row.body.get("template") == "faculty_disclosure_request"]


def test_staff_send_the_disclosure_link_or_make_one_to_pass_on(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)
    staff = signed_in(registration_app, "society-a", "staff")
    for data in ({"name": "Dr Ada Quinn", "email": "ada@hospital.example", "role": "speaker", "sessions": ["S2"]},
                 {"name": "Dr Cy Late", "role": "speaker", "sessions": ["S1"]}):
        assert staff.post(f"/console/events/{slug}/faculty", data={**data, "statement": "pending"}).status_code == 303
    people = _faculty(client, auth, slug)
    page = _text(staff.get(f"/console/events/{slug}/faculty"))
    assert 'aria-label="Email the disclosure link to Dr Ada Quinn"' in page
    assert 'aria-label="Make a disclosure link for Dr Cy Late"' in page

    sent = staff.post(f"/console/events/{slug}/faculty/{people['Dr Ada Quinn']['id']}/disclosure-link",
                      data={"send": "yes"})
    assert sent.status_code == 303
    assert "on its way to Dr Ada Quinn (ada@hospital.example)" in _text(staff.get(sent.headers["Location"]))
    mails = _link_mails(registration_app)
    assert len(mails) == 1 and mails[0]["to"] == "ada@hospital.example"
    url = mails[0]["context"]["faculty"]["url"]
    assert "/disclosure/fd_" in url and client.get(url[url.index("/disclosure/"):]).status_code == 200

    shown = staff.post(f"/console/events/{slug}/faculty/{people['Dr Cy Late']['id']}/disclosure-link",
                       data={"send": "no"})
    assert shown.status_code == 200 and shown.headers["Cache-Control"] == "private, no-store"
    link = re.search(r"<code>([^<]*/disclosure/fd_[^<]+)</code>", _text(shown))
    assert link and client.get(link.group(1)[link.group(1).index("/disclosure/"):]).status_code == 200
    assert len(_link_mails(registration_app)) == 1  # no mail for a link passed on by hand

    no_address = staff.post(f"/console/events/{slug}/faculty/{people['Dr Cy Late']['id']}/disclosure-link",
                            data={"send": "yes"})
    assert "This person has no email address" in _text(staff.get(no_address.headers["Location"]))
    assert len(_link_mails(registration_app)) == 1


def test_viewers_read_the_faculty_and_are_refused_every_change(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)
    staff = signed_in(registration_app, "society-a", "staff")
    assert staff.post(f"/console/events/{slug}/faculty", data=SPEAKER_FORM).status_code == 303
    ada = _faculty(client, auth, slug)["Dr Ada Quinn"]
    viewer = signed_in(registration_app, "society-a", "viewer")
    page = _text(viewer.get(f"/console/events/{slug}/faculty"))
    assert "Dr Ada Quinn" in page and "Siemens Healthineers: Consultant" in page
    assert "Add a speaker or planner" not in page and "disclosure-link" not in page and "/edit" not in page
    base = f"/console/events/{slug}/faculty"
    for method, path, data in (("POST", base, SPEAKER_FORM), ("GET", f"{base}/{ada['id']}/edit", None),
                               ("POST", f"{base}/{ada['id']}/edit", {**SPEAKER_FORM, "name": "Changed"}),
                               ("POST", f"{base}/{ada['id']}/remove", None),
                               ("POST", f"{base}/{ada['id']}/disclosure-link", {"send": "yes"})):
        assert viewer.open(path, method=method, data=data).status_code == 403, path
    assert list(_faculty(client, auth, slug)) == ["Dr Ada Quinn"] and not _link_mails(registration_app)
    other = signed_in(registration_app, "society-b", "owner")
    assert other.get(base).status_code == 404 and other.get(f"{base}/{ada['id']}/edit").status_code == 404
