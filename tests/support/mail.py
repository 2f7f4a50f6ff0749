"""Helpers for tests that follow mail from a service to the SMTP sink."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import requests

from devtools.stack import Stack
from suite_common.client import ServiceClient
from tests.support.stack import url

WEBINAR_CONTEXT: dict[str, Any] = {
    "event": {"title": "Webinar: Lesion tracking", "kind": "webinar", "slug": "w", "timezone": "Europe/Vienna",
              "starts": "Thu 04 Mar 2027, 18:00", "ends": "19:30", "venue": None, "join_url": "https://zoom.us/j/1",
              "url": "http://registration.test/events/w"},
    "attendee": {"given_name": "Zoë", "family_name": "Παπαδόπουλος"},
    "registration": {"reference": "R1", "status": "confirmed", "rate": "Free", "manage_url": "http://r.test/r/t",
                     "waitlist_position": None},
    "ticket": {"code": "T23456789ABCDEFGHJKLMNPQR"},
}


def as_registration(stack: Stack) -> ServiceClient:
    """A client of notifications' internal API, signed as registration (with the development key)."""
    return ServiceClient(url(stack, "notifications"), "registration", "dev-insecure-registration-key", retries=0)


def queue_message(client: ServiceClient, key: str, to: str, organisation_id: int = 1) -> dict[str, Any]:
    response = client.post("/internal/v1/messages", json={
        "idempotency_key": key, "template": "registration_confirmed", "to": to, "context": WEBINAR_CONTEXT,
        "organisation_id": organisation_id, "event": "w"})
    assert response.status_code == 202, response.text
    return response.json()


def messages(stack: Stack, token: str, **filters: str) -> list[dict[str, Any]]:
    response = requests.get(f"{url(stack, 'notifications')}/api/v1/messages",
                            params={"limit": 1000, **filters}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def eventually(check: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2) -> Any:
    """Polls until ``check`` returns something truthy; fails with the last value otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        time.sleep(interval)
