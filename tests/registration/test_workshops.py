"""Workshops: chosen at sign-up, at their own price, within their own capacity."""
from __future__ import annotations

from tests.support.factories import create_event, signup_payload


def _workshop(client, auth, slug: str, event: dict, code: str, capacity: int, amount: int = 0) -> None:  # type: ignore[no-untyped-def]
    response = client.post(f"/api/v1/events/{slug}/sessions", headers=auth, json={
        "code": code, "title": f"Hands-on {code}", "starts_at": event["starts_at"], "ends_at": event["ends_at"],
        "credits": "1", "capacity": capacity, "is_workshop": True, "amount": amount})
    assert response.status_code == 201, response.get_json()


def test_a_full_workshop_refuses_the_whole_sign_up_and_a_cancellation_frees_its_seat(client, auth) -> None:
    event = create_event(client, auth, capacity=10)
    slug = event["slug"]
    _workshop(client, auth, slug, event, "W1", capacity=1)
    first = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(workshops=["W1"]))
    assert first.status_code == 201 and first.get_json()["status"] == "confirmed"
    second = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(workshops=["W1"]))
    assert second.status_code == 422
    assert second.get_json()["error"]["fields"]["workshops"] == ["Hands-on W1 is full."]
    details = client.get(f"/api/v1/events/{slug}", headers=auth).get_json()
    assert details["seats_taken"] == 1, "the refused sign-up took no event seat either"
    assert details["sessions"][0]["seats_taken"] == 1
    assert client.get(f"/api/v1/registrations/{first.get_json()['id']}", headers=auth).get_json()["workshops"] == ["W1"]

    client.post(f"/api/v1/registrations/{first.get_json()['id']}/cancel", headers=auth)
    third = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(workshops=["W1"]))
    assert third.status_code == 201


def test_workshop_prices_add_to_the_rate_and_unknown_workshops_are_refused(client, auth) -> None:
    event = create_event(client, auth, capacity=10)
    slug = event["slug"]
    _workshop(client, auth, slug, event, "W1", capacity=5, amount=12000)
    _workshop(client, auth, slug, event, "W2", capacity=5, amount=8000)
    response = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(workshops=["W1", "W2"]))
    body = response.get_json()
    assert response.status_code == 201 and (body["status"], body["amount_due"]) == ("pending_payment", 20000)
    unknown = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(workshops=["W9"]))
    assert unknown.status_code == 422 and "W9" in unknown.get_json()["error"]["fields"]["workshops"][0]


def test_a_waitlisted_sign_up_cannot_hold_workshop_seats(client, auth) -> None:
    event = create_event(client, auth, capacity=0)
    _workshop(client, auth, event["slug"], event, "W1", capacity=5)
    refused = client.post(f"/api/v1/events/{event['slug']}/registrations", json=signup_payload(workshops=["W1"]))
    assert refused.status_code == 422 and "waiting list" in refused.get_json()["error"]["fields"]["workshops"][0]
    joined = client.post(f"/api/v1/events/{event['slug']}/registrations", json=signup_payload())
    assert joined.get_json()["status"] == "waitlisted"
