"""Building events and sign-ups through the public API, as organisers and attendees do."""
from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from flask.testing import FlaskClient

_counter = itertools.count(1)


def iso(days: float = 0, hours: float = 0) -> str:
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(days=days, hours=hours)
    return moment.replace(microsecond=0).isoformat()


def event_payload(**overrides: Any) -> dict[str, Any]:
    payload = {
        "slug": f"webinar-{next(_counter)}",
        "title": "AI in chest CT",
        "kind": "webinar",
        "starts_at": iso(days=10),
        "ends_at": iso(days=10, hours=2),
        "timezone": "Europe/Vienna",
        "capacity": 10,
        "currency": "EUR",
        "join_url": "https://zoom.us/j/123",
    }
    payload.update(overrides)
    return payload


def create_event(client: FlaskClient, auth: dict[str, str], rate: str | None = "free", **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/events", json=event_payload(**overrides), headers=auth)
    assert response.status_code == 201, response.get_json()
    event = response.get_json()
    if rate:
        response = client.post(f"/api/v1/events/{event['slug']}/rates", headers=auth, json={
            "code": rate, "name": "Free", "amount": 0, "currency": event["currency"], "category": "other"})
        assert response.status_code == 201, response.get_json()
    return event


def signup_payload(**overrides: Any) -> dict[str, Any]:
    n = next(_counter)
    payload = {"email": f"person{n}@hospital.example", "given_name": "Zoë", "family_name": f"Łukasiewicz-{n}",
               "rate": "free", "consent": True}
    payload.update(overrides)
    return payload


def sign_up(client: FlaskClient, slug: str, **overrides: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()
