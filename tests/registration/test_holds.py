"""Seat holds for card payments: what a released hold gives back, what a late payment takes again,
and the sweep of holds that no webhook will end (promoted attendees who never open the payment
page, checkouts whose webhooks were lost)."""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from devtools.stripe_standin import StripeStandin
from registration.models import DiscountCode, Event, EventSession, Outbox, Registration
from registration.services import payments
from registration.services.hold_sweeper import HoldSweeper
from suite_common.db import utcnow
from suite_common.settings import STRIPE_STANDIN_KEY, STRIPE_STANDIN_WEBHOOK_SECRET, StripeKeys
from tests.support.factories import create_event, signup_payload

STRIPE_AUTH = {"Authorization": f"Bearer {STRIPE_STANDIN_KEY}"}


@pytest.fixture
def standin(registration_app: Flask) -> Iterator[StripeStandin]:
    """The app talks to a stand-in of its own whose webhooks are held back, as if lost."""
    with StripeStandin() as running:
        requests.post(f"{running.url}/_standin/hold").raise_for_status()
        settings = registration_app.extensions["suite_settings"]
        registration_app.extensions["suite_settings"] = dataclasses.replace(
            settings, stripe=StripeKeys(STRIPE_STANDIN_KEY, STRIPE_STANDIN_WEBHOOK_SECRET, running.url))
        registration_app.extensions.pop("stripe_client", None)
        yield running


def paid_event(client: FlaskClient, auth: dict[str, str], capacity: int, workshop_capacity: int = 1) -> dict[str, Any]:
    event = create_event(client, auth, rate=None, kind="conference", capacity=capacity)
    slug = event["slug"]
    for path, body in ((f"/api/v1/events/{slug}/rates", {"code": "standard", "name": "Standard", "amount": 30000,
                                                          "currency": "EUR", "category": "non_member"}),
                       (f"/api/v1/events/{slug}/sessions", {
                           "code": "W1", "title": "Hands-on PET/CT", "starts_at": event["starts_at"],
                           "ends_at": event["ends_at"], "credits": "1", "capacity": workshop_capacity,
                           "is_workshop": True, "amount": 5000}),
                       (f"/api/v1/events/{slug}/discount-codes", {"code": "SAVE", "percent_off": 10, "max_uses": 1})):
        response = client.post(path, headers=auth, json=body)
        assert response.status_code == 201, response.get_json()
    return event


def join(client: FlaskClient, slug: str, **extra: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(rate="standard", **extra))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def counts(app: Flask, slug: str) -> tuple[int, int, int]:
    """Seats taken in the event, in its workshop, and uses of its discount code."""
    with app.extensions["suite_db"].session_scope() as session:
        event = session.scalar(select(Event).where(Event.slug == slug))
        workshop = session.scalar(select(EventSession.seats_taken).where(EventSession.event_id == event.id))
        uses = session.scalar(select(DiscountCode.uses).where(DiscountCode.event_id == event.id))
        return event.seats_taken, workshop, uses


def record(app: Flask, registration_id: int) -> Registration:
    with app.extensions["suite_db"].session_scope() as session:
        found = session.get(Registration, registration_id)
        session.expunge(found)
        return found


def cancellation_mails(app: Flask, registration: Registration) -> dict[str, Any]:
    """The "registration cancelled" mails queued for a registration, by outbox key: the reason each gives."""
    with app.extensions["suite_db"].session_scope() as session:
        rows = session.scalars(select(Outbox).where(Outbox.idempotency_key.startswith(
            f"reg:{registration.reference}:cancelled")))
        return {row.idempotency_key: (row.body["context"]["cancellation"]["reason"],
                                      row.body["context"]["refund"]["amount"]) for row in rows}


def webhook(app: Flask, handler: Any, registration: Registration, **fields: Any) -> str:
    """Applies a checkout event to the registration, as the webhook endpoint would."""
    obj = {"id": registration.checkout_session_id, "object": "checkout.session",
           "metadata": {"registration": registration.reference}, "client_reference_id": registration.reference,
           **fields}
    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        return handler(session, obj)


def paid_fields(registration: Registration) -> dict[str, Any]:
    return {"status": "complete", "payment_status": "paid", "amount_total": registration.amount_due,
            "currency": registration.currency.lower(), "payment_intent": f"pi_late_{registration.id}"}


def sweep(app: Flask, after: dt.timedelta) -> int:
    return HoldSweeper(app, app.extensions["suite_db"], interval=0).run_once(now=utcnow() + after)


def test_a_released_hold_gives_back_seat_workshop_and_discount_and_a_late_payment_takes_them_again(
        registration_app, client, auth, standin) -> None:
    slug = paid_event(client, auth, capacity=1)["slug"]
    person = join(client, slug, workshops=["W1"], discount_code="SAVE")
    assert person["status"] == "pending_payment"
    assert counts(registration_app, slug) == (1, 1, 1)

    held = record(registration_app, person["id"])
    assert webhook(registration_app, payments.checkout_released, held, status="expired") == "hold released"
    assert counts(registration_app, slug) == (0, 0, 0), "the hold's seat, workshop seat and code use are free again"

    assert webhook(registration_app, payments.checkout_completed, held, **paid_fields(held)) == "confirmed"
    confirmed = record(registration_app, person["id"])
    assert (confirmed.status, confirmed.cancelled_at, confirmed.cancelled_by) == ("confirmed", None, None)
    assert counts(registration_app, slug) == (1, 1, 1)


def test_a_late_payment_whose_workshop_went_to_someone_else_is_refunded_and_takes_nothing(
        registration_app, client, auth, standin) -> None:
    slug = paid_event(client, auth, capacity=5)["slug"]
    first = record(registration_app, join(client, slug, workshops=["W1"], discount_code="SAVE")["id"])
    webhook(registration_app, payments.checkout_released, first, status="expired")
    join(client, slug, workshops=["W1"])  # takes the freed workshop seat
    assert counts(registration_app, slug) == (1, 1, 0)

    outcome = webhook(registration_app, payments.checkout_completed, first, **paid_fields(first))
    assert outcome == "paid too late, no seat: refunded"
    assert record(registration_app, first.id).status == "refunded"
    # Two mails, each saying why: the hold that ran out, then the refund of the payment that came after it.
    reference = first.reference
    assert cancellation_mails(registration_app, first) == {
        f"reg:{reference}:cancelled:hold_expired": ("hold_expired", None),
        f"reg:{reference}:cancelled:paid_too_late": ("paid_too_late", "€320.00")}  # 10% off the rate, not the workshop
    assert counts(registration_app, slug) == (1, 1, 0), "the refused payment left no seat, workshop seat or use taken"


def test_the_sweep_releases_holds_no_webhook_will_end_and_applies_what_stripe_says(
        registration_app, client, auth, standin) -> None:
    slug = paid_event(client, auth, capacity=1)["slug"]
    first = record(registration_app, join(client, slug)["id"])
    second = join(client, slug)
    third = join(client, slug)
    assert (second["status"], third["status"]) == ("waitlisted", "waitlisted")
    checkout = f"{standin.url}/v1/checkout/sessions/{first.checkout_session_id}"

    # Within the hold, and within the grace after it for a checkout whose webhook may still come: nothing.
    assert sweep(registration_app, dt.timedelta(minutes=20)) == 0
    assert sweep(registration_app, dt.timedelta(minutes=50)) == 0
    assert record(registration_app, first.id).status == "pending_payment"

    # Long past it, with the webhook lost: Stripe is asked, the open session expired, the seat released.
    assert sweep(registration_app, dt.timedelta(hours=2)) == 1
    assert requests.get(checkout, headers=STRIPE_AUTH).json()["status"] == "expired"
    assert record(registration_app, first.id).cancelled_by == "hold_expired"
    promoted = record(registration_app, second["id"])
    assert promoted.status == "pending_payment" and promoted.checkout_session_id is None

    # The promoted person never opens the payment page: no checkout exists, the hold simply runs out.
    assert sweep(registration_app, dt.timedelta(minutes=20)) == 0
    assert sweep(registration_app, dt.timedelta(hours=2)) == 1
    assert record(registration_app, second["id"]).cancelled_by == "hold_expired"
    last = record(registration_app, third["id"])
    assert last.status == "pending_payment"
    # Promoted by the sweep that ran "two hours from now": the hold starts then (31 minutes, Stripe's minimum).
    assert last.hold_expires_at > utcnow() + dt.timedelta(hours=2, minutes=30)

    # The last one pays at Stripe, but the webhook is lost: the sweep learns it from Stripe and confirms.
    pay_url = client.get(f"/r/{last.manage_token}/pay").headers["Location"]
    session_id = pay_url.rstrip("/").rsplit("/", 1)[-1]
    requests.post(f"{standin.url}/_standin/checkout/sessions/{session_id}/pay").raise_for_status()
    assert sweep(registration_app, dt.timedelta(hours=3)) == 0, "within the grace after the hold"
    assert sweep(registration_app, dt.timedelta(hours=4)) == 1
    assert record(registration_app, third["id"]).status == "confirmed"
    assert counts(registration_app, slug)[0] == 1
    assert sweep(registration_app, dt.timedelta(hours=4)) == 0, "nothing is left to sweep, nothing is done twice"
