"""Card payment through Stripe Checkout, and what Stripe's webhooks change.

The same code talks to Stripe and to the local stand-in: only ``STRIPE_API_BASE``
differs. Calls that change money at Stripe (refunds, expiring a session) go through
the outbox with an idempotency key, so they are made once even if Stripe or we fail
half-way. Webhook events are applied once (their ids are stored in the transaction
that applies them) and only when the transition is valid from the current state:
Stripe delivers events more than once and in any order.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import requests
import stripe
from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from suite_common.db import insert_once, utcnow
from suite_common.outbox import enqueue
from suite_common.settings import StripeKeys
from suite_common.webhooks import SignedInTheFuture, refuse_future

from ..models import Outbox, Registration, RegistrationStatus, StripeEvent
from . import capacity, lifecycle, notify, pricing, receipts
from .urls import manage_url

log = logging.getLogger(__name__)

def _settings() -> StripeKeys:
    return current_app.extensions["suite_settings"].stripe


def new_stripe_client(keys: StripeKeys) -> stripe.StripeClient:
    options: dict[str, Any] = {"max_network_retries": 2}
    if keys.api_base:
        options["base_addresses"] = {"api": keys.api_base}
    return stripe.StripeClient(keys.api_key, **options)


def stripe_client() -> stripe.StripeClient:
    if "stripe_client" not in current_app.extensions:
        current_app.extensions["stripe_client"] = new_stripe_client(_settings())
    return current_app.extensions["stripe_client"]


def opens_checkout(registration: Registration) -> bool:
    """Whether ``payment_url`` would call Stripe to create the registration's Checkout Session."""
    return (registration.status == RegistrationStatus.PENDING_PAYMENT
            and not (registration.payment_url and registration.checkout_session_id))


def ensure_checkout(session: Session, registration: Registration) -> str:
    """The Checkout Session URL for a registration awaiting card payment, created once per hold."""
    if registration.payment_url and registration.checkout_session_id:
        return registration.payment_url
    # Nothing is changed before Stripe answers: a failure leaves the registration as it was.
    hold_end = lifecycle.checkout_hold_end(registration, utcnow())
    url = manage_url(registration)
    created = stripe_client().v1.checkout.sessions.create(params={
        "mode": "payment",
        "line_items": [{"quantity": 1, "price_data": {
            "currency": registration.currency.lower(), "unit_amount": pricing.amount_to_pay(registration),
            "product_data": {"name": f"{registration.event.title}: {registration.rate.name}"}}}],
        "client_reference_id": registration.reference,
        "metadata": {"registration": registration.reference, "event": registration.event.slug},
        "customer_email": registration.email,
        "success_url": f"{url}?paid=1",
        "cancel_url": url,
        "expires_at": int(hold_end.timestamp()),
    }, options={"idempotency_key": f"checkout:{registration.reference}:{int(hold_end.timestamp())}"})
    lifecycle.checkout_opened(registration, created.id, created.url, hold_end)
    session.flush()
    return created.url or url


def payment_url(session: Session, registration: Registration) -> str | None:
    """Where the attendee pays: Stripe's page, or ours that tries again if Stripe could not be reached."""
    if registration.status != RegistrationStatus.PENDING_PAYMENT:
        return None
    try:
        return ensure_checkout(session, registration)
    except stripe.StripeError:
        log.warning("checkout session not created yet", extra={"registration": registration.id})
        return f"{manage_url(registration)}/pay"


# --- webhooks -------------------------------------------------------------------------


class BadSignature(Exception):
    """The body was not signed by Stripe with our endpoint secret."""


def verify(payload: bytes, signature: str) -> dict[str, Any]:
    """The event as plain JSON, once the stripe library has checked that Stripe signed this body
    (not too long ago) and we have checked that it was not signed in the future."""
    try:
        stripe.Webhook.construct_event(payload, signature, _settings().webhook_secret)
        refuse_future(_signed_at(signature))
        return json.loads(payload)
    except SignedInTheFuture as exc:
        raise BadSignature(str(exc)) from exc
    except (ValueError, stripe.SignatureVerificationError) as exc:
        raise BadSignature("The Stripe signature does not match this body.") from exc


def _signed_at(signature: str) -> int:
    """The ``t=`` of a Stripe-Signature header (``t=1700000000,v1=...``) the library has accepted."""
    items = dict(item.partition("=")[::2] for item in signature.split(","))
    return int(items["t"])


def apply_event(session: Session, event: dict[str, Any]) -> str:
    """Applies one event once; returns what happened, for the log and the response."""
    _, first_time = insert_once(session, StripeEvent, {"id": event["id"], "type": event["type"]}, key=("id",))
    if not first_time:
        return "duplicate"
    obj = event["data"]["object"]
    handlers = {
        "checkout.session.completed": checkout_completed,
        "checkout.session.async_payment_succeeded": _paid,
        "checkout.session.async_payment_failed": checkout_released,
        "checkout.session.expired": checkout_released,
        "charge.refunded": _refunded,
    }
    handler = handlers.get(event["type"])
    if handler is None:
        return "ignored"
    return handler(session, obj)


def _registration_for(session: Session, obj: Any) -> Registration | None:
    metadata = obj.get("metadata") or {}
    reference = metadata.get("registration") or obj.get("client_reference_id")
    if not reference:
        return None
    return session.scalar(select(Registration).where(Registration.reference == reference))


def checkout_completed(session: Session, obj: Any) -> str:
    if obj.get("payment_status") != "paid":
        return "awaiting asynchronous payment"
    return _paid(session, obj)


def _paid(session: Session, obj: Any) -> str:
    registration = _registration_for(session, obj)
    if registration is None:
        return "unknown registration"
    if obj.get("amount_total") != pricing.amount_to_pay(registration) or (obj.get("currency") or "").upper() != registration.currency:
        log.error("payment amount does not match", extra={"registration": registration.id})
        return "amount mismatch: not applied"
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    paid = lifecycle.pay(session, registration, obj["amount_total"], obj.get("payment_intent"), utcnow())
    if paid is None:
        return "already paid"
    refund(session, registration, paid.refund, "the seat went to someone else before payment")
    notify.queue(session, paid.mails)
    if registration.status == RegistrationStatus.REFUNDED:
        return "paid too late, no seat: refunded"
    return "confirmed"


def checkout_released(session: Session, obj: Any) -> str:
    """Expired or failed: the held seats go back (to the waiting list), unless the payment came first."""
    registration = _registration_for(session, obj)
    if registration is None:
        return "unknown registration"
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    released = lifecycle.checkout_ended(session, registration, obj.get("id"), utcnow())
    if released is None:
        return "nothing held"
    notify.queue(session, released.mails)
    return "hold released"


def _refunded(session: Session, obj: Any) -> str:
    intent = obj.get("payment_intent")
    registration = session.scalar(select(Registration).where(Registration.payment_intent_id == intent)) \
        if intent else None
    if registration is None:
        return "unknown payment"
    # The charge's cumulative amount: the largest wins, whatever order concurrent deliveries commit in
    # (a conditional UPDATE, not read-compare-write, which would let a smaller amount commit last).
    refunded = int(obj.get("amount_refunded") or 0)
    session.execute(update(Registration)
                    .where(Registration.id == registration.id, Registration.amount_refunded < refunded)
                    .values(amount_refunded=refunded, updated_at=utcnow())
                    .execution_options(synchronize_session=False))
    return "refund recorded"


def expire_checkout(session: Session, registration: Registration) -> None:
    """Closes the Stripe checkout page of a registration that no longer pays by card (through the outbox)."""
    if registration.checkout_session_id and registration.paid_at is None:
        path = f"/v1/checkout/sessions/{registration.checkout_session_id}/expire"
        enqueue(session, Outbox, "stripe", "POST", path, f"expire:{registration.checkout_session_id}")


def refund(session: Session, registration: Registration, amount: int, reason: str) -> None:
    """Asks Stripe for a refund through the outbox: made once, retried while Stripe cannot be reached."""
    if amount <= 0:
        return
    receipts.issue_credit_note(session, registration, amount, utcnow())
    if not registration.payment_intent_id:
        return  # paid by bank transfer: the organiser transfers the money back; the credit note records it
    key = f"refund:{registration.reference}:{registration.amount_refunded + amount}"
    enqueue(session, Outbox, "stripe", "POST", "/v1/refunds", key, {
        "payment_intent": registration.payment_intent_id, "amount": amount, "reason": "requested_by_customer",
        "metadata": {"registration": registration.reference, "why": reason[:400]}})


class StripeTarget:
    """Lets the outbox dispatcher call Stripe like a service: ``request`` answers with a status code."""

    def __init__(self, keys: StripeKeys) -> None:
        self.client = new_stripe_client(keys)

    def request(self, method: str, path: str, *, json: Any = None, params: Any = None,
                idempotency_key: str | None = None, timeout: float | None = None) -> _Answer:
        options = {"idempotency_key": idempotency_key} if idempotency_key else {}
        try:
            if path == "/v1/refunds":
                self.client.v1.refunds.create(params=json, options=options)
            elif path.startswith("/v1/checkout/sessions/") and path.endswith("/expire"):
                self.client.v1.checkout.sessions.expire(path.split("/")[4], options=options)
            else:
                return _Answer(400, f"no such Stripe call: {method} {path}")
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise requests.ConnectionError(str(exc)) from exc
        except stripe.StripeError as exc:
            status = exc.http_status or 500
            if status >= 500:
                raise requests.ConnectionError(str(exc)) from exc
            return _Answer(status, str(exc))
        return _Answer(200, "")


@dataclass(frozen=True)
class _Answer:
    status_code: int
    text: str
