"""A Stripe webhook signed too far in the future is refused, and what a secret link answers is
stored by no cache (the attendee's pages, mail links, certificate links)."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devtools.stripe_standin import signature_header
from registration.models import StripeEvent
from tests.support.apps import make_settings
from tests.support.factories import create_event, sign_up


def _post_event(app: Flask, event_id: str, seconds_ahead: int):  # type: ignore[no-untyped-def]
    body = json.dumps({"id": event_id, "object": "event", "type": "customer.created",
                       "data": {"object": {"id": "cus_1", "object": "customer"}}})
    secret = app.extensions["suite_settings"].stripe.webhook_secret
    header = signature_header(body, secret, int(time.time()) + seconds_ahead)
    return app.test_client().post("/webhooks/stripe", data=body, headers={
        "Stripe-Signature": header, "Content-Type": "application/json"})


def _stored(app: Flask, event_id: str) -> bool:
    with app.extensions["suite_db"].session_scope() as session:
        return session.scalar(select(StripeEvent).where(StripeEvent.id == event_id)) is not None


def test_a_webhook_signed_ten_minutes_ahead_is_refused_and_nothing_is_applied(registration_app: Flask) -> None:
    response = _post_event(registration_app, "evt_future", 600)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_signature" and "future" in error["message"]
    assert not _stored(registration_app, "evt_future")


def test_a_webhook_signed_four_minutes_ahead_is_a_clock_difference_and_accepted(registration_app: Flask) -> None:
    response = _post_event(registration_app, "evt_soon", 240)
    assert response.status_code == 200 and response.get_json()["received"] is True
    assert _stored(registration_app, "evt_soon")


def test_a_wrong_signature_keeps_its_own_message(registration_app: Flask) -> None:
    body = json.dumps({"id": "evt_forged", "type": "customer.created", "data": {"object": {}}})
    header = signature_header(body, "whsec_not_ours", int(time.time()))
    response = registration_app.test_client().post("/webhooks/stripe", data=body, headers={"Stripe-Signature": header})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_signature"
    assert "future" not in response.get_json()["error"]["message"]
    assert not _stored(registration_app, "evt_forged")


def test_the_attendee_pages_are_not_stored_by_any_cache(client: FlaskClient, auth: dict[str, str]) -> None:
    event = create_event(client, auth)
    person = sign_up(client, event["slug"])
    page = person["manage_url"].removeprefix("http://registration.test")
    for path in (page, f"{page}/calendar.ics", f"{page}/cancel", f"{page}/invoice"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response.headers["Cache-Control"], path
    # The event's public page is not a secret: caches may keep it.
    assert "no-store" not in client.get(f"/events/{event['slug']}").headers.get("Cache-Control", "")


@pytest.mark.parametrize("service", ["registration", "certificates"])
def test_every_secret_link_of_a_service_answers_no_store_even_when_unknown(service: str, tmp_path: Path) -> None:
    module = __import__(service)
    app = module.create_app(make_settings(service, f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    __import__(f"{service}.models").models.Base.metadata.create_all(app.extensions["suite_db"].engine)
    client = app.test_client()
    links = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments and "GET" in rule.methods]
    assert links
    for rule in links:
        # organisation_id: a transcript link lives under its organisation (/o/7/transcript/<token>).
        path = rule.build({"token": "x" * 43, "slug": "some-event", "kind": "invoice", "organisation_id": 7},
                          append_unknown=False)[1]
        response = client.get(path)
        assert response.status_code == 404, path
        assert response.headers["Cache-Control"] == "no-store", path
    app.extensions["suite_db"].engine.dispose()
