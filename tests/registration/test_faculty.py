"""Faculty and disclosures (ACCME Standard 3): the organiser's API, the internal API that certificates
reads for its summary report, the speaker's personal link, and what learners see before the start."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask.testing import FlaskClient

from suite_common.auth import sign
from tests.support.factories import create_event


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
