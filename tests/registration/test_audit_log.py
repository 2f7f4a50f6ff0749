"""Organiser actions and exports of personal data are recorded: who, when, what; per organisation."""
from __future__ import annotations

from tests.support.factories import create_event, sign_up


def test_changes_and_personal_data_exports_are_in_the_audit_log(client, auth, other_token) -> None:
    event = create_event(client, auth)
    client.patch(f"/api/v1/events/{event['slug']}", headers=auth, json={"title": "Renamed"})
    person = sign_up(client, event["slug"])  # an attendee, not an organiser: not audited
    client.get(f"/api/v1/events/{event['slug']}/registrations?format=csv", headers=auth).get_data()
    client.post(f"/api/v1/registrations/{person['id']}/cancel", headers=auth)
    client.get("/api/v1/events", headers=auth)  # reading the list of events changes nothing: not audited

    entries = client.get("/api/v1/audit", headers=auth).get_json()["items"]
    done = [(e["method"], e["route"], e["status"]) for e in reversed(entries)]
    assert done == [
        ("POST", "/api/v1/events", 201),
        ("POST", "/api/v1/events/<slug:slug>/rates", 201),
        ("PATCH", "/api/v1/events/<slug:slug>", 200),
        ("GET", "/api/v1/events/<slug:slug>/registrations", 200),
        ("POST", "/api/v1/registrations/<int(max=2147483647):registration_id>/cancel", 200),
    ]
    assert entries[0]["target"] == {"registration_id": person["id"]}
    assert all(e["actor"].startswith("token ") and e["actor"].endswith("(tests)") for e in entries)
    assert all(e["request_id"] for e in entries)
    assert client.get("/api/v1/audit", headers={"Authorization": f"Bearer {other_token}"}).get_json()["items"] == []
    assert client.get("/api/v1/audit").status_code == 401
