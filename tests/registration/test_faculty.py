"""Faculty and disclosures (ACCME Standard 3): the organiser's API, the internal API that certificates
reads for its summary report, the speaker's personal link, and what learners see before the start."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registration.models import Event, Outbox
from suite_common.auth import sign
from tests.support.factories import create_event, iso


def _event_with_sessions(client: FlaskClient, auth: dict[str, str]) -> dict[str, Any]:
    event = create_event(client, auth)
    for code, title in (("S1", "Opening"), ("S2", "Deep learning in chest CT")):
        response = client.post(f"/api/v1/events/{event['slug']}/sessions", headers=auth, json={
            "code": code, "title": title, "starts_at": event["starts_at"], "ends_at": event["ends_at"],
            "credits": "1"})
        assert response.status_code == 201, response.get_json()
    return event


def _days_ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC).date() - dt.timedelta(days=days)).isoformat()


SPEAKER = {"name": "Dr Ada Quinn", "role": "speaker", "email": "ada@hospital.example", "sessions": ["S2"],
           "disclosures": [{"company": "Siemens Healthineers", "relationship": "Consultant"},
                           {"company": "Bayer", "relationship": "Speakers' bureau", "ended_on": None}],
           "mitigation": "Slides peer-reviewed by the planning committee."}


def _add(client: FlaskClient, auth: dict[str, str], slug: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1/events/{slug}/faculty", headers=auth, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _internal(client: FlaskClient, slug: str, organisation_id: int):  # type: ignore[no-untyped-def]
    path = f"/internal/v1/events/{slug}/faculty?organisation_id={organisation_id}"
    return client.get(path, headers=sign("certificates", "dev-insecure-certificates-key", "GET", path, b""))


def test_organiser_adds_speakers_and_planners_and_certificates_reads_them(
        client: FlaskClient, auth: dict[str, str]) -> None:
    event = _event_with_sessions(client, auth)
    slug = event["slug"]
    speaker = _add(client, auth, slug, SPEAKER)
    assert (speaker["status"], speaker["none"], speaker["sessions"]) == ("disclosed", False, ["S2"])
    assert [d["company"] for d in speaker["disclosures"]] == ["Siemens Healthineers", "Bayer"]
    assert speaker["disclosed_by"] == "organiser"
    planner = _add(client, auth, slug, {"name": "Prof Ben Ode", "role": "planner", "none": True})
    assert (planner["status"], planner["none"], planner["disclosures"]) == ("none", True, [])
    pending = _add(client, auth, slug, {"name": "Dr Cy Late", "role": "speaker", "sessions": ["S1", "S2"]})
    assert (pending["status"], pending["disclosed_at"]) == ("pending", None)

    organisation_id = client.get("/api/v1/organisation", headers=auth).get_json()["id"]
    answer = _internal(client, slug, organisation_id)
    assert answer.status_code == 200, answer.get_json()
    items = {item["name"]: item for item in answer.get_json()["items"]}
    assert items["Dr Ada Quinn"] == {
        "name": "Dr Ada Quinn", "role": "speaker", "sessions": ["S2"], "status": "disclosed", "none": False,
        "disclosures": [{"company": "Siemens Healthineers", "relationship": "Consultant", "ended_on": None},
                        {"company": "Bayer", "relationship": "Speakers' bureau", "ended_on": None}],
        "mitigation": "Slides peer-reviewed by the planning committee."}
    assert (items["Prof Ben Ode"]["role"], items["Prof Ben Ode"]["none"]) == ("planner", True)
    assert items["Dr Cy Late"]["sessions"] == ["S1", "S2"] and items["Dr Cy Late"]["none"] is False
    assert "email" not in items["Dr Ada Quinn"]
    assert _internal(client, slug, organisation_id + 1).status_code == 404
    assert client.get(f"/internal/v1/events/{slug}/faculty?organisation_id={organisation_id}").status_code == 401


def test_patch_replaces_the_statement_and_delete_removes_the_person(client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)["slug"]
    speaker = _add(client, auth, slug, SPEAKER)
    url = f"/api/v1/events/{slug}/faculty/{speaker['id']}"
    changed = client.patch(url, headers=auth, json={"none": True, "sessions": ["S1"]})
    assert changed.status_code == 200, changed.get_json()
    body = changed.get_json()
    assert (body["status"], body["disclosures"], body["sessions"], body["mitigation"]) == (
        "none", [], ["S1"], SPEAKER["mitigation"])
    ended = _days_ago(100)
    changed = client.patch(url, headers=auth, json={"disclosures": [
        {"company": "GE HealthCare", "relationship": "Research grant", "ended_on": ended}]}).get_json()
    assert (changed["status"], changed["disclosures"]) == (
        "disclosed", [{"company": "GE HealthCare", "relationship": "Research grant", "ended": True, "ended_on": ended}])
    listed = client.get(f"/api/v1/events/{slug}/faculty", headers=auth).get_json()["items"]
    assert [item["id"] for item in listed] == [speaker["id"]]
    assert client.delete(url, headers=auth).status_code == 204
    assert client.get(url, headers=auth).status_code == 404
    assert client.get(f"/api/v1/events/{slug}/faculty", headers=auth).get_json()["items"] == []


def test_refusals_name_the_field(client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)["slug"]
    cases = [
        ({**SPEAKER, "none": True}, "none"),
        ({**SPEAKER, "sessions": ["NOPE"]}, "sessions"),
        ({"name": "Prof Ben Ode", "role": "planner", "sessions": ["S1"]}, "sessions"),
        ({"name": "X", "role": "chair"}, "role"),
        ({"name": " ", "role": "speaker"}, "name"),
        ({**SPEAKER, "disclosures": [{"company": "Bayer", "relationship": "Stock", "ended_on": _days_ago(800)}]},
         "disclosures"),
        ({**SPEAKER, "disclosures": [{"company": "Bayer", "relationship": "Stock", "ended_on": _days_ago(-3)}]},
         "disclosures"),
        ({**SPEAKER, "disclosures": [{"company": "", "relationship": "Stock"}]}, "disclosures"),
        ({**SPEAKER, "email": "not an address"}, "email"),
    ]
    for body, field in cases:
        response = client.post(f"/api/v1/events/{slug}/faculty", headers=auth, json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in response.get_json()["error"]["fields"], (body, response.get_json())
    assert client.get(f"/api/v1/events/{slug}/faculty", headers=auth).get_json()["items"] == []


def test_another_organisations_event_and_faculty_are_404(
        client: FlaskClient, auth: dict[str, str], other_token: str) -> None:
    slug = _event_with_sessions(client, auth)["slug"]
    speaker = _add(client, auth, slug, SPEAKER)
    other = {"Authorization": f"Bearer {other_token}"}
    theirs = create_event(client, other)["slug"]
    assert client.get(f"/api/v1/events/{slug}/faculty", headers=other).status_code == 404
    assert client.post(f"/api/v1/events/{slug}/faculty", headers=other, json=SPEAKER).status_code == 404
    for method in ("get", "patch", "delete"):
        kwargs = {"json": {"name": "Taken"}} if method == "patch" else {}
        assert getattr(client, method)(f"/api/v1/events/{slug}/faculty/{speaker['id']}", headers=other,
                                       **kwargs).status_code == 404
        # the right id under the other organisation's own event is no way in either
        assert getattr(client, method)(f"/api/v1/events/{theirs}/faculty/{speaker['id']}", headers=other,
                                       **kwargs).status_code == 404
    assert client.post(f"/api/v1/events/{slug}/faculty/{speaker['id']}/disclosure-link", headers=other,
                       json={}).status_code == 404
    assert client.get(f"/api/v1/events/{slug}/faculty/{speaker['id']}", headers=auth).get_json()["name"] == "Dr Ada Quinn"
    assert client.get(f"/api/v1/events/{slug}/faculty/99999999999", headers=auth).status_code == 404


def _outbox_mails(app: Flask, template: str) -> list[dict[str, Any]]:
    with app.extensions["suite_db"].session_scope() as session:
        return [row.body for row in session.scalars(select(Outbox).order_by(Outbox.id))
                if row.body and row.body.get("template") == template]


def _form(secret_url: str) -> str:
    """The form's path on this test client, from the absolute link the organiser gets."""
    return "/" + secret_url.split("://", 1)[1].split("/", 1)[1]


def test_a_speaker_states_their_disclosure_through_their_link_until_the_event_starts(
        registration_app: Flask, client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)["slug"]
    speaker = _add(client, auth, slug, {"name": "Dr Cy Late", "role": "speaker", "email": "cy@hospital.example",
                                        "sessions": ["S1"], "mitigation": "Reviewed by the chair."})
    link_url = f"/api/v1/events/{slug}/faculty/{speaker['id']}/disclosure-link"
    first = client.post(link_url, headers=auth, json={"send": True})
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["sent_to"] == "cy@hospital.example"
    mails = _outbox_mails(registration_app, "faculty_disclosure_request")
    assert [(m["to"], m["context"]["faculty"]["url"]) for m in mails] == [("cy@hospital.example", first.get_json()["url"])]
    second = client.post(link_url, headers=auth, json={}).get_json()
    assert second["sent_to"] is None and second["url"] != first.get_json()["url"]
    assert len(_outbox_mails(registration_app, "faculty_disclosure_request")) == 1
    assert client.get(_form(first.get_json()["url"])).status_code == 404  # replaced by the second link
    form = _form(second["url"])
    page = client.get(form)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    assert "Dr Cy Late" in page.get_data(as_text=True) and "Opening" in page.get_data(as_text=True)

    unattested = client.post(form, data={"statement": "relationships", "company-0": "Bayer",
                                         "relationship-0": "Consultant"})
    assert unattested.status_code == 422 and 'id="attest-error"' in unattested.get_data(as_text=True)
    missing_nature = client.post(form, data={"statement": "relationships", "company-0": "Bayer", "attest": "yes"})
    assert missing_nature.status_code == 422 and 'id="relationship-0-error"' in missing_nature.get_data(as_text=True)
    assert client.get(f"/api/v1/events/{slug}/faculty/{speaker['id']}", headers=auth).get_json()["status"] == "pending"

    ended = _days_ago(30)
    saved = client.post(form, data={"statement": "relationships", "company-0": "Bayer", "relationship-0": "Consultant",
                                    "company-1": "Philips", "relationship-1": "Research grant",
                                    "ended_on-1": ended, "attest": "yes"})
    assert saved.status_code == 303
    record = client.get(f"/api/v1/events/{slug}/faculty/{speaker['id']}", headers=auth).get_json()
    assert (record["status"], record["disclosed_by"], record["mitigation"]) == (
        "disclosed", "speaker", "Reviewed by the chair.")
    assert record["attested_at"] is not None
    assert [(d["company"], d["relationship"], d["ended_on"]) for d in record["disclosures"]] == [
        ("Bayer", "Consultant", None), ("Philips", "Research grant", ended)]
    again = client.get(form).get_data(as_text=True)  # reopened: what is on record, to correct
    assert 'value="Philips"' in again

    assert client.post(form, data={"statement": "none", "attest": "yes"}).status_code == 303
    assert client.get(f"/api/v1/events/{slug}/faculty/{speaker['id']}", headers=auth).get_json()["none"] is True

    moved = client.patch(f"/api/v1/events/{slug}", headers=auth, json={"starts_at": iso(hours=-1)})
    assert moved.status_code == 200, moved.get_json()
    closed = client.post(form, data={"statement": "relationships", "company-0": "Bayer",
                                     "relationship-0": "Consultant", "attest": "yes"})
    assert closed.status_code == 409
    assert client.get(f"/api/v1/events/{slug}/faculty/{speaker['id']}", headers=auth).get_json()["none"] is True
    assert client.post(link_url, headers=auth, json={}).status_code == 409
    assert client.get("/disclosure/fd_not-a-real-link").status_code == 404


def test_sending_a_link_needs_an_email(client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)["slug"]
    planner = _add(client, auth, slug, {"name": "Prof Ben Ode", "role": "planner"})
    refused = client.post(f"/api/v1/events/{slug}/faculty/{planner['id']}/disclosure-link", headers=auth,
                          json={"send": True})
    assert refused.status_code == 422 and "send" in refused.get_json()["error"]["fields"]


def test_learners_read_every_statement_on_the_event_page_before_the_start(
        client: FlaskClient, auth: dict[str, str]) -> None:
    slug = _event_with_sessions(client, auth)["slug"]
    _add(client, auth, slug, SPEAKER)
    _add(client, auth, slug, {"name": "Prof Ben Ode", "role": "planner", "none": True})
    _add(client, auth, slug, {"name": "Dr Cy Late", "role": "speaker", "sessions": ["S1"]})
    page = client.get(f"/events/{slug}")
    assert page.status_code == 200
    text = " ".join(page.get_data(as_text=True).split())
    assert "Faculty and disclosures" in text
    assert "Dr Ada Quinn</strong>, speaker: Deep learning in chest CT" in text
    assert "Siemens Healthineers: Consultant" in text and "Bayer: Speakers&#39; bureau" in text
    assert "All relevant financial relationships have been mitigated." in text
    assert "Prof Ben Ode has no relevant financial relationships with ineligible companies." in text
    assert "Dr Cy Late</strong>, speaker: Opening. Disclosure not yet received." in text
    assert SPEAKER["mitigation"] not in text and "ada@hospital.example" not in text


def test_privacy_export_lists_a_speakers_disclosures_and_erasure_takes_their_address_and_link(
        monkeypatch: pytest.MonkeyPatch, client: FlaskClient, auth: dict[str, str], other_token: str) -> None:
    monkeypatch.setattr("registration.services.privacy._peer",  # registration's own part is under test
                        lambda name, path, organisation_id, email: {"data": {}, "kept": []})
    slug = _event_with_sessions(client, auth)["slug"]
    speaker = _add(client, auth, slug, SPEAKER)
    link = client.post(f"/api/v1/events/{slug}/faculty/{speaker['id']}/disclosure-link", headers=auth,
                       json={}).get_json()["url"]
    exported = client.get("/api/v1/privacy/export", headers=auth, query_string={"email": "ADA@hospital.example"})
    assert exported.status_code == 200, exported.get_json()
    [record] = exported.get_json()["registration"]["faculty"]
    assert (record["event"], record["name"], record["email"], record["sessions"]) == (
        slug, "Dr Ada Quinn", "ada@hospital.example", ["S2"])
    assert [d["company"] for d in record["disclosures"]] == ["Siemens Healthineers", "Bayer"]
    theirs = client.get("/api/v1/privacy/export", headers={"Authorization": f"Bearer {other_token}"},
                        query_string={"email": "ada@hospital.example"}).get_json()
    assert theirs["registration"]["faculty"] == []

    erased = client.post("/api/v1/privacy/erase", headers=auth, json={"email": "ada@hospital.example"})
    assert erased.status_code == 200, erased.get_json()
    assert any("disclosure statement" in item["what"] for item in erased.get_json()["kept"])
    assert client.get(_form(link)).status_code == 404
    after = client.get(f"/api/v1/events/{slug}/faculty/{speaker['id']}", headers=auth).get_json()
    assert (after["email"], after["name"], after["status"]) == (None, "Dr Ada Quinn", "disclosed")
    assert client.get("/api/v1/privacy/export", headers=auth,
                      query_string={"email": "ada@hospital.example"}).get_json()["registration"]["faculty"] == []


def test_the_demo_congress_shows_its_faculty_and_a_second_seed_adds_none(
        registration_app: Flask, client: FlaskClient) -> None:
    from registration import demo
    from registration.services import organisations

    for _run in range(2):
        with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
            organisation = organisations.get_or_create_organisation(session, "demo", "Demo")
            if session.scalar(select(Event.id).where(Event.slug == demo.CONFERENCE)) is None:
                demo._seed_events(session, organisation.id)
            demo._seed_faculty(session)
    text = " ".join(client.get(f"/events/{demo.CONFERENCE}").get_data(as_text=True).split())
    assert text.count("</strong>, speaker") == 2 and text.count("</strong>, planner") == 1
    assert "Siemens Healthineers: Consultant" in text
    assert "Prof. Dr. Lena Hoffmann has no relevant financial relationships" in text
