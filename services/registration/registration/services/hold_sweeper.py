"""Holds that no webhook will end.

A hold normally ends with Stripe's ``checkout.session.expired`` webhook. Two kinds never get one:
a seat offered to someone promoted from the waiting list (or approved) who never opens the payment
page, so no Checkout Session exists; and a checkout whose webhooks were lost (Stripe gives up after
three days of failed deliveries). The sweeper releases the first kind when the hold runs out, and
after a grace period asks Stripe what became of the second, applying the answer through the same
handlers as the webhook, which lock, check the current state and apply once.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

import stripe
from flask import Flask
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from suite_common.db import Database, utcnow

from ..models import Registration, RegistrationStatus
from . import capacity, lifecycle, notify, payments

log = logging.getLogger(__name__)

# Stripe expires a session at its ``expires_at`` and delivers the webhook within minutes; only a
# hold this long past its end is taken as one whose webhook will not come.
WEBHOOK_GRACE = dt.timedelta(hours=1)
BATCH = 100


def expired_holds(session: Session, now: dt.datetime) -> list[int]:
    """Registrations whose hold ran out without a webhook to end it (see the module docstring)."""
    return list(session.scalars(
        select(Registration.id)
        .where(Registration.status == RegistrationStatus.PENDING_PAYMENT,
               Registration.payment_method.is_distinct_from("invoice"),
               Registration.hold_expires_at.is_not(None),
               or_((Registration.checkout_session_id.is_(None)) & (Registration.hold_expires_at < now),
                   Registration.hold_expires_at < now - WEBHOOK_GRACE))
        .order_by(Registration.hold_expires_at)
        .limit(BATCH)))


def settle(session: Session, registration_id: int, now: dt.datetime) -> str:
    """Ends one expired hold; returns what happened. Stripe is asked before the event lock is taken."""
    registration = session.get(Registration, registration_id)
    if registration is None:
        return "gone"
    checkout = _checkout_as_stripe_sees_it(registration.checkout_session_id) \
        if registration.checkout_session_id else None
    if checkout is not None:
        if checkout.get("status") == "complete":
            return payments.checkout_completed(session, checkout)
        return payments.checkout_released(session, checkout)
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    released = lifecycle.hold_ran_out(session, registration, now)
    if released is None:
        return "nothing held"  # paid, invoiced or sent to checkout meanwhile
    notify.queue(session, released.mails)
    return "hold released"


def _checkout_as_stripe_sees_it(checkout_session_id: str) -> dict[str, Any]:
    """The Checkout Session, expired first if it is somehow still open after its hold."""
    client = payments.stripe_client()
    found = client.v1.checkout.sessions.retrieve(checkout_session_id)
    if found.status == "open":
        found = client.v1.checkout.sessions.expire(checkout_session_id,
                                                   options={"idempotency_key": f"expire:{checkout_session_id}"})
    return found.to_dict()


class HoldSweeper:
    """The worker loop's turn for expired holds: looks every ``interval`` seconds, one transaction per hold."""

    def __init__(self, app: Flask, database: Database, interval: float = 60.0) -> None:
        self.app = app
        self.database = database
        self.interval = interval
        self.stopping = threading.Event()
        self._next = 0.0

    def run_once(self, now: dt.datetime | None = None) -> int:
        if time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + self.interval
        now = now or utcnow()
        settled = 0
        with self.app.app_context():
            with self.database.session_scope() as session:
                due = expired_holds(session, now)
            for registration_id in due:
                try:
                    with self.database.session_scope() as session:
                        outcome = settle(session, registration_id, now)
                except stripe.StripeError:
                    log.warning("could not ask Stripe about an expired hold; next pass retries",
                                extra={"registration": registration_id})
                    continue
                log.info("expired hold: %s", outcome, extra={"registration": registration_id})
                settled += 1
        return settled
