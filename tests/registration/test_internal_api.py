"""Registration's internal API, as certificates reads it: signed calls only, scoped to the organisation."""
from __future__ import annotations

import json

from flask.testing import FlaskClient

from suite_common.auth import sign
from tests.support.factories import create_event, sign_up


def _get(client: FlaskClient, path: str, service: str = "certificates"):  # type: ignore[no-untyped-def]
    headers = sign(service, f"dev-insecure-{service}-key", "GET", path, b"")
    return client.get(path, headers=headers)


def _organisation_id(client: FlaskClient, auth: dict[str, str]) -> int:
    return client.get("/api/v1/organisation", headers=auth).get_json()["id"]


def test_attendees_lists_confirmed_registrations_with_sessions_and_tickets(client, auth, other_token) -> None:
    event = create_event(client, auth, capacity=2)
    client.post(f"/api/v1/events/{event['slug']}/sessions", headers=auth, json={
        "code": "S1", "title": "Opening", "starts_at": event["starts_at"], "ends_at": event["ends_at"],
        "credits": "1.5"})
    people = [sign_up(client, event["slug"]) for _ in range(3)]
    org = _organisation_id(client, auth)
    path = f"/internal/v1/events/{event['slug']}/attendees?organisation_id={org}"
    page = _get(client, path).get_json()
    assert page["event"]["sessions"][0]["credits"] == "1.50"
    assert [item["id"] for item in page["items"]] == [people[0]["id"], people[1]["id"]]
    assert all(item["ticket_code"].startswith("T") and len(item["ticket_code"]) == 25 for item in page["items"])
    everyone = _get(client, path + "&status=all").get_json()["items"]
    assert len(everyone) == 3

    other_org = _organisation_id(client, {"Authorization": f"Bearer {other_token}"})
    assert _get(client, f"/internal/v1/events/{event['slug']}/attendees?organisation_id={other_org}").status_code == 404
    assert client.get(path).status_code == 401
    assert _get(client, path, service="notifications").status_code == 403


def test_a_ticket_names_its_registration_and_its_status(client, auth) -> None:
    event = create_event(client, auth)
    person = sign_up(client, event["slug"])
    org = _organisation_id(client, auth)
    code = _get(client, f"/internal/v1/events/{event['slug']}/attendees?organisation_id={org}").get_json()[
        "items"][0]["ticket_code"]
    ticket = _get(client, f"/internal/v1/tickets/{code}").get_json()
    assert (ticket["id"], ticket["status"], ticket["event"], ticket["organisation_id"]) == (
        person["id"], "confirmed", event["slug"], org)
    assert _get(client, "/internal/v1/tickets/TNOTATICKET").status_code == 404
    assert json.loads(_get(client, "/internal/v1/tickets/..%2F..").data)["error"]["code"] == "not_found"
