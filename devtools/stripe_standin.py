"""A local stand-in for the Stripe API: for development (``make run``) and the tests, NEVER for production.

Nothing in development or CI may reach Stripe, yet the registration service must run the very code
it runs against Stripe: the real ``stripe`` library, configured with

    stripe.StripeClient(api_key, base_addresses={"api": "http://127.0.0.1:12111"})

and ``client.v1.checkout.sessions.create(params={...}, options={"idempotency_key": ...})`` and so
on. So this server speaks the part of Stripe's v1 API the suite uses, on plain HTTP on loopback:
form-encoded requests with Bearer auth (any ``sk_test_...`` key), JSON responses in Stripe's object
shapes, errors in Stripe's ``{"error": {...}}`` shape with the status codes that make the library
raise the matching exception, and ``Idempotency-Key`` honoured as Stripe does. It serves a checkout
page at each session's ``url`` whose Pay button pays, and it delivers signed webhook events exactly
as Stripe signs them (``Stripe-Signature: t=...,v1=...``), with retries.

API (under ``/v1``; parameters Stripe does not document for the pinned library version are refused):
  POST /v1/checkout/sessions                   mode=payment, line_items with price_data; see create_session
  GET  /v1/checkout/sessions/{id}
  POST /v1/checkout/sessions/{id}/expire       only while open
  POST /v1/refunds                             payment_intent or charge, amount (partial), reason, metadata
  GET  /v1/refunds/{id}, /v1/payment_intents/{id}, /v1/charges/{id}, /v1/events/{id}
  ``expand`` works for checkout.session: payment_intent, line_items; payment_intent: latest_charge;
  charge: payment_intent, refunds; refund: charge, payment_intent (and chains, e.g.
  ``payment_intent.latest_charge``).

Checkout page: ``GET /pay/{id}`` shows the items, the total and a Pay button; ``POST /pay/{id}``
pays (form field ``outcome=async_pending`` for a delayed payment method), sends
``checkout.session.completed`` and redirects (303) to ``success_url``.

Test controls (only the stand-in has them; JSON in and out, no authentication):
  GET  /_standin/events                           every event, oldest first, with its delivery attempts and
                                                  state (pending, sending, retrying, held, delivered, failed,
                                                  not_subscribed); ``?type=`` filters
  POST /_standin/events/{evt_id}/redeliver        send the same event (same id, same body) again
  GET|POST /_standin/webhook                      ``{"url": ..., "enabled_events": ["*"]}``: the endpoint
  POST /_standin/hold                             queue deliveries instead of sending them
  POST /_standin/release                          send what was held, ``{"order": [evt ids]}`` first
  POST /_standin/checkout/sessions/{id}/pay       as the Pay button; ``{"outcome": "paid"|"async_pending"}``
  POST /_standin/checkout/sessions/{id}/async     ``{"succeeded": true|false}``: settle a delayed payment
  POST /_standin/checkout/sessions/{id}/expire-now  expire as if time ran out
  POST /_standin/clock                            ``{"advance_seconds": N}``: move the stand-in's clock on

Events emitted: checkout.session.completed, checkout.session.async_payment_succeeded,
checkout.session.async_payment_failed, checkout.session.expired, charge.refunded, refund.created.
Stripe sends more (payment_intent.*, charge.succeeded); the suite does not listen to them.

State lives in memory and is gone when the process stops. ``python -m devtools.stripe_standin``
runs it until SIGTERM/SIGINT; tests run ``StripeStandin`` in-process.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import hmac
import itertools
import json
import logging
import os
import re
import secrets
import signal
import string
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import requests
import stripe
from flask import Flask, Request, Response, redirect, render_template, request
from jinja2 import DictLoader
from stripe.params import (
    ChargeRetrieveParams,
    EventRetrieveParams,
    PaymentIntentRetrieveParams,
    RefundCreateParams,
    RefundRetrieveParams,
)
from stripe.params.checkout import (
    SessionCreateParams,
    SessionCreateParamsInvoiceCreation,
    SessionCreateParamsLineItem,
    SessionCreateParamsLineItemPriceData,
    SessionCreateParamsLineItemPriceDataProductData,
    SessionCreateParamsPaymentIntentData,
    SessionExpireParams,
    SessionRetrieveParams,
)
from werkzeug.serving import BaseWSGIServer, make_server

from devtools.command_line import env, host_port

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:12111"
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8001/webhooks/stripe"
DEFAULT_WEBHOOK_SECRET = "whsec_dev_standin"
API_VERSION = stripe.api_version  # the version the pinned library speaks; events carry it

# Stripe retries for days; a dev tool should give up within about half a minute.
RETRY_DELAYS = (0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0)  # seconds before attempts 2..8
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DELIVERY_TIMEOUT = 10.0
EXPIRY_POLL = 0.25  # how often the expiry thread looks for open sessions past expires_at

MIN_EXPIRY = 30 * 60  # Stripe: expires_at 30 minutes to 24 hours after creation
MAX_EXPIRY = 24 * 60 * 60
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")
OUTCOMES = ("paid", "async_pending")

_ZERO_DECIMAL = frozenset({"bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd",
                           "vuv", "xaf", "xof", "xpf"})
_THREE_DECIMAL = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})
# Stripe's minimum charge per settlement currency, in minor units (checkout refuses less).
_MINIMUM_AMOUNT = {
    "usd": 50, "eur": 50, "gbp": 30, "chf": 50, "cad": 50, "aud": 50, "nzd": 50, "sgd": 50, "jpy": 50,
    "dkk": 250, "nok": 300, "sek": 300, "pln": 200, "czk": 1500, "huf": 17500, "ron": 200, "bgn": 100,
    "hkd": 400, "mxn": 1000, "brl": 50, "inr": 50, "aed": 200, "thb": 1000, "myr": 200,
}
_ALPHANUMERIC = string.ascii_letters + string.digits
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

StripeDict = dict[str, Any]


# --- Stripe's errors and parameters ---------------------------------------------------------

class StripeError(Exception):
    """An API error as Stripe reports it; the status code picks the library's exception class.

    ``saved``: whether an idempotent request keeps this outcome. Stripe saves a result only once the
    endpoint started executing; a request refused by parameter validation may be retried with the
    same key and corrected parameters.
    """

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 code: str | None = None, param: str | None = None, saved: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.saved = saved

    def body(self) -> StripeDict:
        error: StripeDict = {"message": self.message, "type": self.type}
        if self.code:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param:
            error["param"] = self.param
        return {"error": error}


def _accepted(params_type: type) -> frozenset[str]:
    """The parameter names Stripe documents for the pinned API version, read from the library's own types."""
    def keys(typed_dict: Any) -> frozenset[str]:
        return frozenset(typed_dict.__required_keys__ | typed_dict.__optional_keys__)
    return keys(params_type) - keys(stripe.RequestOptions)


_SESSION_CREATE = _accepted(SessionCreateParams)
_LINE_ITEM = _accepted(SessionCreateParamsLineItem)
_PRICE_DATA = _accepted(SessionCreateParamsLineItemPriceData)
_PRODUCT_DATA = _accepted(SessionCreateParamsLineItemPriceDataProductData)
_INVOICE_CREATION = _accepted(SessionCreateParamsInvoiceCreation)
_PAYMENT_INTENT_DATA = _accepted(SessionCreateParamsPaymentIntentData)

_FORM_KEY = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")


def decode_form(pairs: Iterable[tuple[str, str]]) -> StripeDict:
    """Stripe's bracket notation (``line_items[0][price_data][currency]=eur``) as nested dicts and lists."""
    root: StripeDict = {}
    for key, value in pairs:
        match = _FORM_KEY.fullmatch(key)
        if not match:
            raise StripeError(400, f"Invalid parameter name: {key}", code="parameter_unknown", param=key)
        parts = [match[1], *re.findall(r"\[([^\[\]]*)\]", match[2])]
        node = root
        for depth, part in enumerate(parts):
            part = part or str(len(node))  # "expand[]=x": append
            if depth == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise StripeError(400, f"Invalid hash: {key}", param=key)
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise StripeError(400, f"Invalid hash: {key}", param=key)
                node = child
    return _listify(root)


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {key: _listify(child) for key, child in value.items()}
    if items and all(key.isdigit() for key in items):
        return [items[key] for key in sorted(items, key=int)]
    return items


def _reject_unknown(params: StripeDict, accepted: frozenset[str], prefix: str = "") -> None:
    for name in params:
        if name not in accepted:
            path = f"{prefix}[{name}]" if prefix else name
            raise StripeError(400, f"Received unknown parameter: {path}", code="parameter_unknown", param=path)


def _required(params: StripeDict, name: str, prefix: str = "") -> Any:
    path = f"{prefix}[{name}]" if prefix else name
    value = params.get(name)
    if value is None or value == "":
        raise StripeError(400, f"Missing required param: {path}.", code="parameter_missing", param=path)
    return value


def _string(value: Any, param: str, max_length: int = 5000) -> str:
    if not isinstance(value, str):
        raise StripeError(400, f"Invalid string: {value!r}", code="parameter_invalid_string", param=param)
    if len(value) > max_length:
        raise StripeError(400, f"Invalid string: {value[:20]}...; must be at most {max_length} characters",
                          code="parameter_invalid_string", param=param)
    return value


def _integer(value: Any, param: str) -> int:
    if not isinstance(value, str) or not re.fullmatch(r"-?\d+", value):
        raise StripeError(400, f"Invalid integer: {value}", code="parameter_invalid_integer", param=param)
    return int(value)


def _boolean(value: Any, param: str) -> bool:
    if value not in ("true", "false"):
        raise StripeError(400, f"Invalid boolean: {value}", param=param)
    return value == "true"


def _hash(value: Any, param: str) -> StripeDict:
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise StripeError(400, "Invalid object", param=param)
    return value


def _array(value: Any, param: str) -> list[Any]:
    if not isinstance(value, list):
        raise StripeError(400, "Invalid array", param=param)
    return value


def _metadata(value: Any, param: str = "metadata") -> dict[str, str]:
    """Stripe's limits: 50 keys of at most 40 characters, string values of at most 500."""
    metadata = _hash(value, param)
    if len(metadata) > 50:
        raise StripeError(400, "Invalid metadata: metadata can have at most 50 keys", param=param)
    for key, item in metadata.items():
        if len(key) > 40:
            raise StripeError(400, f"Invalid metadata: key {key!r} is longer than 40 characters", param=param)
        if not isinstance(item, str) or len(item) > 500:
            raise StripeError(400, f"Invalid metadata: the value of {key!r} must be a string of at most "
                                   "500 characters", param=f"{param}[{key}]")
    return {key: item for key, item in metadata.items() if item != ""}  # "" unsets a key, as in Stripe


def _url(value: Any, param: str) -> str:
    text = _string(value, param)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise StripeError(400, "Not a valid URL", code="url_invalid", param=param)
    return text


def _currency(value: Any, param: str) -> str:
    text = _string(value, param).lower()
    if not re.fullmatch(r"[a-z]{3}", text):
        raise StripeError(400, f"Invalid currency: {text}.", param=param)
    return text


def format_amount(amount: int, currency: str) -> str:
    """Minor units as people read them, e.g. ``45000, "eur"`` -> ``"450.00 EUR"``."""
    exponent = 0 if currency in _ZERO_DECIMAL else 3 if currency in _THREE_DECIMAL else 2
    return f"{Decimal(amount).scaleb(-exponent):,.{exponent}f} {currency.upper()}"


def _new_id(prefix: str, length: int = 24) -> str:
    return prefix + "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def signature_header(payload: str, secret: str, timestamp: int) -> str:
    """``Stripe-Signature`` as Stripe makes it: HMAC-SHA256 of ``"{t}.{body}"`` keyed with the whole secret."""
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


# --- webhook delivery -----------------------------------------------------------------------

@dataclasses.dataclass
class Attempt:
    """One POST of an event to the endpoint, kept so tests can see what was tried."""

    at: float  # unix time
    url: str
    status: int | None  # None: no HTTP answer (connection refused, timeout)
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclasses.dataclass
class EventRecord:
    event: StripeDict
    payload: str  # serialised once: a redelivery sends the very same body
    attempts: list[Attempt] = dataclasses.field(default_factory=list)
    outcome: str = "pending"  # once out of the queue: delivered, failed or not_subscribed


@dataclasses.dataclass
class _Delivery:
    record: EventRecord
    seq: int  # order among due deliveries: creation order, or the order a release asked for
    due: float  # time.monotonic()
    tries: int = 0


class _Webhooks:
    """Sends events from one worker thread: first attempts in order of creation, retries with backoff.

    A delivery that keeps failing does not hold back the ones after it (nor does Stripe's), so a
    receiver that was down sees events out of order, as it would in production.
    """

    def __init__(self, lock: threading.Condition, url: str, secret: str) -> None:
        self._lock = lock
        self.url = url
        self.secret = secret
        self.enabled_events: list[str] = ["*"]
        self.held = False
        self._queue: list[_Delivery] = []
        self._in_flight: _Delivery | None = None
        self._seq = itertools.count()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._http = requests.Session()
        self._http.trust_env = False  # a proxy from the environment must not swallow loopback deliveries

    def start(self) -> None:
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="stripe-standin-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    # called with the lock held

    def subscribed(self, event_type: str) -> bool:
        return "*" in self.enabled_events or event_type in self.enabled_events

    def enqueue(self, record: EventRecord) -> None:
        self._queue.append(_Delivery(record, next(self._seq), time.monotonic()))
        self._lock.notify_all()

    def release(self, order: list[str]) -> None:
        """Send what is held, the events named in ``order`` first and in that order, then the rest."""
        queued_ids = {delivery.record.event["id"] for delivery in self._queue}
        missing = [event_id for event_id in order if event_id not in queued_ids]
        if missing:
            raise StripeError(400, f"Not waiting for delivery: {', '.join(missing)}", param="order")
        rank = {event_id: index for index, event_id in enumerate(order)}
        ordered = sorted(self._queue, key=lambda d: (rank.get(d.record.event["id"], len(rank)), d.seq))
        for delivery in ordered:
            delivery.seq = next(self._seq)
        self.held = False
        self._lock.notify_all()

    def state(self, record: EventRecord) -> str:
        if self._in_flight is not None and self._in_flight.record is record:
            return "sending"
        if any(delivery.record is record for delivery in self._queue):
            return "held" if self.held else "retrying" if record.attempts else "pending"
        return record.outcome

    def busy(self) -> bool:
        return self._in_flight is not None or (bool(self._queue) and not self.held)

    # the worker

    def _take(self) -> tuple[_Delivery | None, float | None]:
        """The next delivery to send now, else how long to wait (None: until notified)."""
        if self.held or not self._queue:
            return None, None
        now = time.monotonic()
        due = [delivery for delivery in self._queue if delivery.due <= now]
        if not due:
            return None, min(delivery.due for delivery in self._queue) - now
        delivery = min(due, key=lambda d: d.seq)
        self._queue.remove(delivery)
        self._in_flight = delivery
        return delivery, None

    def _run(self) -> None:
        while True:
            with self._lock:
                while True:
                    if self._stopping:
                        return
                    delivery, wait = self._take()
                    if delivery is not None:
                        break
                    self._lock.wait(wait)
                url, secret = self.url, self.secret
            attempt = self._post(url, secret, delivery.record)
            with self._lock:
                self._in_flight = None
                delivery.record.attempts.append(attempt)
                delivery.tries += 1
                if attempt.ok:
                    delivery.record.outcome = "delivered"
                elif delivery.tries >= MAX_ATTEMPTS:
                    delivery.record.outcome = "failed"
                else:
                    delivery.due = time.monotonic() + RETRY_DELAYS[delivery.tries - 1]
                    self._queue.append(delivery)
                self._lock.notify_all()

    def _post(self, url: str, secret: str, record: EventRecord) -> Attempt:
        event = record.event
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            # Signed at each attempt with the current real time, as Stripe does: receivers check its age.
            "Stripe-Signature": signature_header(record.payload, secret, int(time.time())),
        }
        try:
            response = self._http.post(url, data=record.payload.encode(), headers=headers,
                                       timeout=DELIVERY_TIMEOUT, allow_redirects=False)
        except requests.RequestException as exc:
            log.warning("webhook %s %s -> %s: %s", event["id"], event["type"], url, exc)
            return Attempt(time.time(), url, None, f"{type(exc).__name__}: {exc}")
        status = response.status_code
        log.info("webhook %s %s -> %s: HTTP %s", event["id"], event["type"], url, status)
        return Attempt(time.time(), url, status, None if 200 <= status < 300 else f"HTTP {status}")


# --- the account: objects and what changes them ---------------------------------------------

@dataclasses.dataclass
class _Call:
    """Who asked: events caused by an API request name it, as Stripe's ``event.request`` does."""

    request_id: str | None = None
    idempotency_key: str | None = None

    def as_event_request(self) -> StripeDict:
        return {"id": self.request_id, "idempotency_key": self.idempotency_key}


_AUTOMATIC = _Call()  # the customer on the checkout page, or time passing


@dataclasses.dataclass
class _SessionExtras:
    """What a Checkout Session keeps but does not show: its items and what goes onto its PaymentIntent."""

    line_items: list[StripeDict]
    intent_metadata: dict[str, str]
    intent_description: str | None


@dataclasses.dataclass
class _Saved:
    endpoint: str
    params: list[tuple[str, str]]
    status: int
    body: StripeDict
    request_id: str


# Which fields each object type can expand, and into what.
_EXPANDABLE: dict[str, dict[str, str]] = {
    "checkout.session": {"payment_intent": "payment_intent", "line_items": "list"},
    "payment_intent": {"latest_charge": "charge"},
    "charge": {"payment_intent": "payment_intent", "refunds": "list"},
    "refund": {"charge": "charge", "payment_intent": "payment_intent"},
}


class _Account:
    """The stand-in's one test-mode account. Callers hold ``lock`` around every method."""

    def __init__(self, lock: threading.Condition, webhooks: _Webhooks) -> None:
        self.lock = lock
        self.webhooks = webhooks
        self.public_url = ""
        self.clock_offset = 0
        self.sessions: dict[str, StripeDict] = {}
        self.extras: dict[str, _SessionExtras] = {}
        self.payment_intents: dict[str, StripeDict] = {}
        self.charges: dict[str, StripeDict] = {}
        self.refunds: dict[str, StripeDict] = {}
        self.events: dict[str, EventRecord] = {}
        self.idempotent: dict[tuple[str, str], _Saved] = {}

    def now(self) -> int:
        return int(time.time()) + self.clock_offset

    def emit(self, event_type: str, obj: StripeDict, call: _Call = _AUTOMATIC,
             previous: StripeDict | None = None) -> None:
        subscribed = self.webhooks.subscribed(event_type)
        data: StripeDict = {"object": copy.deepcopy(obj)}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {
            "id": _new_id("evt_"), "object": "event", "api_version": API_VERSION, "created": self.now(),
            "data": data, "livemode": False, "pending_webhooks": 1 if subscribed else 0,
            "request": call.as_event_request(), "type": event_type,
        }
        # Pretty-printed like Stripe's: a receiver that verifies re-serialised JSON instead of the raw body fails.
        record = EventRecord(event, json.dumps(event, indent=2))
        self.events[event["id"]] = record
        if subscribed:
            self.webhooks.enqueue(record)
        else:
            record.outcome = "not_subscribed"

    def find(self, kind: str, object_id: str, param: str, status: int = 404) -> StripeDict:
        table = {"checkout.session": self.sessions, "payment_intent": self.payment_intents,
                 "charge": self.charges, "refund": self.refunds}[kind]
        found = table.get(object_id)
        if found is None:
            raise StripeError(status, f"No such {kind}: '{object_id}'", code="resource_missing", param=param)
        return found

    # checkout sessions

    def create_session(self, params: StripeDict) -> StripeDict:
        mode = _required(params, "mode")
        if mode != "payment":
            raise StripeError(400, f"The Stripe stand-in only implements mode=payment, not {mode!r}.", param="mode")
        items = _array(_required(params, "line_items"), "line_items")
        line_items = [self._line_item(item, f"line_items[{index}]") for index, item in enumerate(items)]
        currency = line_items[0]["currency"]
        if any(item["currency"] != currency for item in line_items):
            raise StripeError(400, "All line items must use the same currency.", param="line_items")
        total = sum(item["amount_total"] for item in line_items)
        minimum = _MINIMUM_AMOUNT.get(currency, 0)
        if total < minimum:
            raise StripeError(400, "The Checkout Session's total amount due must add up to at least "
                                   f"{format_amount(minimum, currency)}", code="amount_too_small")

        now = self.now()
        expires_at = now + MAX_EXPIRY
        if "expires_at" in params:
            expires_at = _integer(params["expires_at"], "expires_at")
            if expires_at < now + MIN_EXPIRY:
                raise StripeError(400, "The `expires_at` timestamp must be at least 30 minutes from Checkout "
                                       "Session creation.", param="expires_at")
            if expires_at > now + MAX_EXPIRY:
                raise StripeError(400, "The `expires_at` timestamp must be less than 24 hours from Checkout "
                                       "Session creation.", param="expires_at")
        customer_email = None
        if params.get("customer_email"):
            customer_email = _string(params["customer_email"], "customer_email", 800)
            if not _EMAIL.fullmatch(customer_email):
                raise StripeError(400, f"Invalid email address: {customer_email}", code="email_invalid",
                                  param="customer_email")
        client_reference_id = None
        if params.get("client_reference_id"):
            client_reference_id = _string(params["client_reference_id"], "client_reference_id", 200)
        success_url = _url(params["success_url"], "success_url") if params.get("success_url") else None
        cancel_url = _url(params["cancel_url"], "cancel_url") if params.get("cancel_url") else None
        metadata = _metadata(params.get("metadata", {}))
        invoice_creation = self._invoice_creation(params.get("invoice_creation"))
        intent_data = _hash(params.get("payment_intent_data", {}), "payment_intent_data")
        _reject_unknown(intent_data, _PAYMENT_INTENT_DATA, "payment_intent_data")
        allowed_types = [
            _string(value, f"allowed_payment_method_types[{index}]")
            for index, value in enumerate(_array(params.get("allowed_payment_method_types", []),
                                                 "allowed_payment_method_types"))
        ]
        locale = _string(params["locale"], "locale") if params.get("locale") else None

        session_id = _new_id("cs_test_", 58)
        session: StripeDict = {
            "id": session_id, "object": "checkout.session",
            "after_expiration": None, "allow_promotion_codes": None,
            "allowed_payment_method_types": allowed_types or None,
            "amount_subtotal": total, "amount_total": total,
            "automatic_tax": {"enabled": False, "liability": None, "status": None},
            "billing_address_collection": None, "cancel_url": cancel_url,
            "client_reference_id": client_reference_id, "client_secret": None,
            "consent": None, "consent_collection": None, "created": now, "currency": currency,
            "custom_fields": [], "custom_text": {"after_submit": None, "shipping_address": None,
                                                 "submit": None, "terms_of_service_acceptance": None},
            "customer": None, "customer_creation": "if_required", "customer_details": None,
            "customer_email": customer_email, "discounts": [], "expires_at": expires_at,
            "invoice": None, "invoice_creation": invoice_creation, "livemode": False, "locale": locale,
            "metadata": metadata, "mode": "payment", "payment_intent": None, "payment_link": None,
            "payment_method_collection": "if_required", "payment_method_configuration_details": None,
            "payment_method_options": {}, "payment_method_types": allowed_types or ["card"],
            "payment_status": "unpaid", "phone_number_collection": {"enabled": False},
            "recovered_from": None, "saved_payment_method_options": None, "setup_intent": None,
            "shipping_address_collection": None, "shipping_cost": None, "shipping_options": [],
            "status": "open", "submit_type": None, "subscription": None, "success_url": success_url,
            "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            "ui_mode": "hosted", "url": f"{self.public_url}/pay/{session_id}",
        }
        self.sessions[session_id] = session
        self.extras[session_id] = _SessionExtras(
            line_items=line_items,
            intent_metadata=_metadata(intent_data.get("metadata", {}), "payment_intent_data[metadata]"),
            intent_description=(_string(intent_data["description"], "payment_intent_data[description]")
                                if intent_data.get("description") else None),
        )
        return session

    def _line_item(self, value: Any, prefix: str) -> StripeDict:
        """One ``line_items[i]`` as Stripe's ``item`` object; only ad-hoc prices (``price_data``) exist here."""
        item = _hash(value, prefix)
        _reject_unknown(item, _LINE_ITEM, prefix)
        if item.get("price"):
            raise StripeError(400, f"No such price: '{item['price']}'", code="resource_missing",
                              param=f"{prefix}[price]")
        price_data = _hash(_required(item, "price_data", prefix), f"{prefix}[price_data]")
        _reject_unknown(price_data, _PRICE_DATA, f"{prefix}[price_data]")
        if price_data.get("product"):
            raise StripeError(400, f"No such product: '{price_data['product']}'", code="resource_missing",
                              param=f"{prefix}[price_data][product]")
        currency = _currency(_required(price_data, "currency", f"{prefix}[price_data]"),
                             f"{prefix}[price_data][currency]")
        unit_amount = _integer(_required(price_data, "unit_amount", f"{prefix}[price_data]"),
                               f"{prefix}[price_data][unit_amount]")
        if unit_amount < 0:
            raise StripeError(400, "Invalid non-negative integer", code="parameter_invalid_integer",
                              param=f"{prefix}[price_data][unit_amount]")
        product_data = _hash(_required(price_data, "product_data", f"{prefix}[price_data]"),
                             f"{prefix}[price_data][product_data]")
        _reject_unknown(product_data, _PRODUCT_DATA, f"{prefix}[price_data][product_data]")
        name = _string(_required(product_data, "name", f"{prefix}[price_data][product_data]"),
                       f"{prefix}[price_data][product_data][name]")
        quantity = _integer(_required(item, "quantity", prefix), f"{prefix}[quantity]")
        if quantity < 1:
            raise StripeError(400, "This value must be greater than or equal to 1.", param=f"{prefix}[quantity]")
        amount = unit_amount * quantity
        created = self.now()
        return {
            "id": _new_id("li_"), "object": "item", "amount_discount": 0, "amount_subtotal": amount,
            "amount_tax": 0, "amount_total": amount, "currency": currency, "description": name,
            "price": {
                "id": _new_id("price_"), "object": "price", "active": False, "billing_scheme": "per_unit",
                "created": created, "currency": currency, "livemode": False, "lookup_key": None,
                "metadata": {}, "nickname": None, "product": _new_id("prod_", 14), "recurring": None,
                "tax_behavior": "unspecified", "tiers_mode": None, "transform_quantity": None,
                "type": "one_time", "unit_amount": unit_amount, "unit_amount_decimal": str(unit_amount),
            },
            "quantity": quantity,
        }

    def _invoice_creation(self, value: Any) -> StripeDict:
        """Accepted and shown as Stripe shows it; the stand-in issues no invoice (``invoice`` stays null)."""
        settings = _hash(value if value is not None else {}, "invoice_creation")
        _reject_unknown(settings, _INVOICE_CREATION, "invoice_creation")
        enabled = False
        if settings:
            enabled = _boolean(_required(settings, "enabled", "invoice_creation"), "invoice_creation[enabled]")
        invoice_data = _hash(settings.get("invoice_data", {}), "invoice_creation[invoice_data]")
        return {"enabled": enabled, "invoice_data": {
            "account_tax_ids": None, "custom_fields": None,
            "description": invoice_data.get("description"), "footer": invoice_data.get("footer"),
            "issuer": None,
            "metadata": _metadata(invoice_data.get("metadata", {}), "invoice_creation[invoice_data][metadata]"),
            "rendering_options": None,
        }}

    def expire_session(self, session_id: str, call: _Call) -> StripeDict:
        session = self.find("checkout.session", session_id, "session")
        if session["status"] != "open":
            raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] can be expired. This '
                                   f"Checkout Session has a status of `{session['status']}`.", saved=True)
        self.expire(session, call)
        return session

    def expire(self, session: StripeDict, call: _Call = _AUTOMATIC) -> None:
        session.update(status="expired", url=None)
        self.emit("checkout.session.expired", session, call)

    def expire_due(self) -> None:
        """Expire open sessions whose time is up: the expiry thread, and anyone about to use a session."""
        now = self.now()
        for session in self.sessions.values():
            if session["status"] == "open" and session["expires_at"] <= now:
                self.expire(session)

    def pay(self, session: StripeDict, outcome: str) -> None:
        """What the customer's Pay does: a PaymentIntent with its charge, then ``checkout.session.completed``.

        ``async_pending`` is a delayed method (a bank debit): the session completes unpaid and the
        money arrives, or not, later (``settle_async``).
        """
        if outcome not in OUTCOMES:
            raise StripeError(400, f"Invalid outcome: must be one of {', '.join(OUTCOMES)}", param="outcome")
        if session["status"] != "open":
            raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] can be paid. This '
                                   f"Checkout Session has a status of `{session['status']}`.")
        pending = outcome == "async_pending"
        extras = self.extras[session["id"]]
        now = self.now()
        amount, currency, email = session["amount_total"], session["currency"], session["customer_email"]
        intent_id, charge_id, method_id = _new_id("pi_"), _new_id("ch_"), _new_id("pm_")
        method_details: StripeDict = (
            {"type": "sepa_debit", "sepa_debit": {"bank_code": "37040044", "country": "DE", "last4": "3000"}}
            if pending else
            {"type": "card", "card": {"brand": "visa", "country": "US", "exp_month": 12,
                                      "exp_year": datetime.now(UTC).year + 3, "funding": "credit",
                                      "last4": "4242", "network": "visa"}}
        )
        self.charges[charge_id] = {
            "id": charge_id, "object": "charge", "amount": amount, "amount_captured": 0 if pending else amount,
            "amount_refunded": 0, "application": None, "application_fee": None, "application_fee_amount": None,
            "balance_transaction": None if pending else _new_id("txn_"),
            "billing_details": {"address": None, "email": email, "name": None, "phone": None},
            "calculated_statement_descriptor": "STRIPE STAND-IN", "captured": not pending, "created": now,
            "currency": currency, "customer": None, "description": extras.intent_description,
            "disputed": False, "failure_balance_transaction": None, "failure_code": None,
            "failure_message": None, "fraud_details": {}, "livemode": False,
            "metadata": dict(extras.intent_metadata), "on_behalf_of": None,
            "outcome": {"network_status": "approved_by_network", "reason": None, "risk_level": "normal",
                        "seller_message": "Payment complete.", "type": "authorized"},
            "paid": not pending, "payment_intent": intent_id, "payment_method": method_id,
            "payment_method_details": method_details, "receipt_email": None, "receipt_number": None,
            "receipt_url": None, "refunded": False, "review": None, "shipping": None, "source": None,
            "source_transfer": None, "statement_descriptor": None, "statement_descriptor_suffix": None,
            "status": "pending" if pending else "succeeded", "transfer_data": None, "transfer_group": None,
        }
        self.payment_intents[intent_id] = {
            "id": intent_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
            "amount_details": {"tip": {}}, "amount_received": 0 if pending else amount, "application": None,
            "application_fee_amount": None, "automatic_payment_methods": None, "canceled_at": None,
            "cancellation_reason": None, "capture_method": "automatic_async",
            "client_secret": f"{intent_id}_secret_{_new_id('', 25)}", "confirmation_method": "automatic",
            "created": now, "currency": currency, "customer": None, "description": extras.intent_description,
            "last_payment_error": None, "latest_charge": charge_id, "livemode": False,
            "metadata": dict(extras.intent_metadata), "next_action": None, "on_behalf_of": None,
            "payment_method": method_id, "payment_method_configuration_details": None,
            "payment_method_options": {}, "payment_method_types": [method_details["type"]], "processing": None,
            "receipt_email": None, "review": None, "setup_future_usage": None, "shipping": None, "source": None,
            "statement_descriptor": None, "statement_descriptor_suffix": None,
            "status": "processing" if pending else "succeeded", "transfer_data": None, "transfer_group": None,
        }
        session.update(
            status="complete", payment_status="unpaid" if pending else "paid", payment_intent=intent_id, url=None,
            customer_details={"address": None, "email": email, "name": None, "phone": None,
                              "tax_exempt": "none", "tax_ids": []},
        )
        self.emit("checkout.session.completed", session)

    def settle_async(self, session: StripeDict, succeeded: bool) -> None:
        """The delayed payment method's outcome: the money arrived, or the debit failed."""
        intent = self.payment_intents.get(session["payment_intent"] or "")
        if intent is None or intent["status"] != "processing":
            raise StripeError(400, "This Checkout Session has no payment awaiting an asynchronous outcome.")
        charge = self.charges[intent["latest_charge"]]
        if succeeded:
            intent.update(status="succeeded", amount_received=intent["amount"])
            charge.update(status="succeeded", paid=True, captured=True, amount_captured=charge["amount"],
                          balance_transaction=_new_id("txn_"))
            session["payment_status"] = "paid"
            self.emit("checkout.session.async_payment_succeeded", session)
        else:
            charge.update(status="failed", failure_code="insufficient_funds",
                          failure_message="The account has insufficient funds to cover this payment.")
            intent.update(status="requires_payment_method", last_payment_error={
                "type": "invalid_request_error", "code": "insufficient_funds", "message": charge["failure_message"],
                "payment_method": {"id": intent["payment_method"]},
            })
            self.emit("checkout.session.async_payment_failed", session)

    # refunds

    def create_refund(self, params: StripeDict, call: _Call) -> StripeDict:
        intent_id, charge_id = params.get("payment_intent"), params.get("charge")
        if not intent_id and not charge_id:
            raise StripeError(400, "One of the following params should be provided for this request: "
                                   "payment_intent or charge.", code="parameter_missing")
        if intent_id:
            intent = self.find("payment_intent", _string(intent_id, "payment_intent"), "payment_intent", 400)
            charge = self.charges.get(intent["latest_charge"] or "")
            if charge_id and charge_id != intent["latest_charge"]:
                raise StripeError(400, f"The charge {charge_id} does not belong to the PaymentIntent {intent_id}.",
                                  param="charge")
        else:
            charge = self.find("charge", _string(charge_id, "charge"), "charge", 400)
        if charge is None or charge["status"] != "succeeded":
            subject = f"This PaymentIntent ({intent_id})" if intent_id else f"The charge {charge_id}"
            raise StripeError(400, f"{subject} does not have a successful charge to refund.", saved=True)
        amount = None
        if params.get("amount") is not None:
            amount = _integer(params["amount"], "amount")
            if amount < 1:
                raise StripeError(400, "Invalid positive integer", code="parameter_invalid_integer", param="amount")
        reason = params.get("reason") or None
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeError(400, "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer",
                              param="reason")
        metadata = _metadata(params.get("metadata", {}))
        remaining = charge["amount"] - charge["amount_refunded"]
        if remaining == 0:
            raise StripeError(400, f"Charge {charge['id']} has already been refunded.",
                              code="charge_already_refunded", saved=True)
        if amount is None:
            amount = remaining
        elif amount > remaining:
            currency = charge["currency"]
            raise StripeError(400, f"Refund amount ({format_amount(amount, currency)}) is greater than unrefunded "
                                   f"amount on charge ({format_amount(remaining, currency)})",
                              code="amount_too_large", param="amount", saved=True)
        refund = {
            "id": _new_id("re_"), "object": "refund", "amount": amount, "balance_transaction": _new_id("txn_"),
            "charge": charge["id"], "created": self.now(), "currency": charge["currency"],
            "destination_details": None, "metadata": metadata, "payment_intent": charge["payment_intent"],
            "reason": reason, "receipt_number": None, "source_transfer_reversal": None, "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        previous: StripeDict = {"amount_refunded": charge["amount_refunded"]}
        charge["amount_refunded"] += amount
        if charge["amount_refunded"] == charge["amount"]:
            charge["refunded"] = True
            previous["refunded"] = False
        self.emit("charge.refunded", charge, call, previous)
        self.emit("refund.created", refund, call)
        return refund

    # expand

    def expand(self, obj: StripeDict, paths: list[str]) -> StripeDict:
        """A copy of ``obj`` with the named ids replaced by their objects (paths checked by ``check_expand``)."""
        result = copy.deepcopy(obj)
        for path in paths:
            self._expand_path(result, path.split("."))
        return result

    def _expand_path(self, obj: StripeDict, segments: list[str]) -> None:
        name, rest = segments[0], segments[1:]
        value = obj.get(name)
        if name == "line_items":
            data = copy.deepcopy(self.extras[obj["id"]].line_items)
            obj[name] = {"object": "list", "data": data, "has_more": False,
                         "url": f"/v1/checkout/sessions/{obj['id']}/line_items"}
        elif name == "refunds":
            data = [copy.deepcopy(r) for r in self.refunds.values() if r["charge"] == obj["id"]]
            obj[name] = {"object": "list", "data": data[::-1], "has_more": False,
                         "url": f"/v1/refunds?charge={obj['id']}"}
        elif isinstance(value, str):
            table = {"pi_": self.payment_intents, "ch_": self.charges, "re_": self.refunds}[value[:3]]
            obj[name] = copy.deepcopy(table[value])
            if rest:
                self._expand_path(obj[name], rest)


def check_expand(object_type: str, value: Any) -> list[str]:
    """The ``expand`` list, refused up front (before anything changes) if a path cannot be expanded."""
    paths = [_string(path, f"expand[{index}]") for index, path in enumerate(_array(value, "expand"))]
    for path in paths:
        current = object_type
        for segment in path.split("."):
            target = _EXPANDABLE.get(current, {}).get(segment)
            if target is None:
                raise StripeError(400, f"This property cannot be expanded ({segment}).", param="expand")
            current = target
    return paths


# --- the HTTP API ---------------------------------------------------------------------------

Handler = Callable[[_Account, StripeDict, _Call, str], StripeDict]


@dataclasses.dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    accepted: frozenset[str]
    object_type: str  # what it returns, for ``expand``


def _retrieve(kind: str, param: str) -> Handler:
    def handler(account: _Account, params: StripeDict, call: _Call, object_id: str) -> StripeDict:
        return account.find(kind, object_id, param)
    return handler


def _retrieve_event(account: _Account, params: StripeDict, call: _Call, event_id: str) -> StripeDict:
    record = account.events.get(event_id)
    if record is None:
        raise StripeError(404, f"No such event: '{event_id}'", code="resource_missing", param="id")
    return record.event


_ROUTES = (
    _Route("POST", re.compile(r"/v1/checkout/sessions"),
           lambda account, params, call, _: account.create_session(params), _SESSION_CREATE,
           "checkout.session"),
    _Route("GET", re.compile(r"/v1/checkout/sessions/([^/]+)"), _retrieve("checkout.session", "session"),
           _accepted(SessionRetrieveParams), "checkout.session"),
    _Route("POST", re.compile(r"/v1/checkout/sessions/([^/]+)/expire"),
           lambda account, params, call, session_id: account.expire_session(session_id, call),
           _accepted(SessionExpireParams), "checkout.session"),
    _Route("POST", re.compile(r"/v1/refunds"), lambda account, params, call, _: account.create_refund(params, call),
           _accepted(RefundCreateParams), "refund"),
    _Route("GET", re.compile(r"/v1/refunds/([^/]+)"), _retrieve("refund", "refund"),
           _accepted(RefundRetrieveParams), "refund"),
    _Route("GET", re.compile(r"/v1/payment_intents/([^/]+)"), _retrieve("payment_intent", "intent"),
           _accepted(PaymentIntentRetrieveParams), "payment_intent"),
    _Route("GET", re.compile(r"/v1/charges/([^/]+)"), _retrieve("charge", "charge"),
           _accepted(ChargeRetrieveParams), "charge"),
    _Route("GET", re.compile(r"/v1/events/([^/]+)"), _retrieve_event, _accepted(EventRetrieveParams), "event"),
)


def _api_key(req: Request) -> str:
    """The secret key from Bearer (what the library sends) or Basic auth (``curl -u sk_test_...:``)."""
    authorization = req.authorization
    key = None
    if authorization is not None and authorization.type == "bearer":
        key = authorization.token
    elif authorization is not None and authorization.type == "basic":
        key = authorization.username
    if not key:
        raise StripeError(401, "You did not provide an API key. You need to provide your API key in the "
                               "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                               "YOUR_SECRET_KEY').")
    if not re.fullmatch(r"sk_test_\w+", key):
        shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key[:3] + "***"
        raise StripeError(401, f"Invalid API Key provided: {shown}. The Stripe stand-in accepts only test-mode "
                               "secret keys (sk_test_...).")
    return key


def _json(status: int, body: StripeDict, headers: dict[str, str]) -> Response:
    return Response(json.dumps(body, indent=2), status=status, mimetype="application/json", headers=headers)


def _handle_api(account: _Account, req: Request) -> Response:
    """One v1 request: auth, routing, parameter checks, idempotency, then the handler under the lock."""
    request_id = _new_id("req_", 14)
    headers = {"Request-Id": request_id, "Stripe-Version": req.headers.get("Stripe-Version") or API_VERSION}
    idempotency_key = req.headers.get("Idempotency-Key") if req.method == "POST" else None
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    try:
        api_key = _api_key(req)
        for route in _ROUTES:
            match = route.pattern.fullmatch(req.path)
            if match and route.method == req.method:
                break
        else:
            raise StripeError(404, f"Unrecognized request URL ({req.method}: {req.path}).")
        pairs = list((req.form if req.method == "POST" else req.args).items(multi=True))
        params = decode_form(pairs)
        _reject_unknown(params, route.accepted)
        expand = check_expand(route.object_type, params.get("expand", []))
        call = _Call(request_id, idempotency_key)
        endpoint = f"{req.method} {req.path}"
        with account.lock:
            saved = account.idempotent.get((api_key, idempotency_key)) if idempotency_key else None
            if saved is not None:
                return _replay(saved, endpoint, sorted(pairs), idempotency_key or "", headers)
            try:
                object_id = match.group(1) if route.pattern.groups else ""
                status, body = 200, account.expand(route.handler(account, params, call, object_id), expand)
            except StripeError as exc:
                if not exc.saved:
                    raise
                status, body = exc.status, exc.body()
            if idempotency_key:
                account.idempotent[(api_key, idempotency_key)] = _Saved(endpoint, sorted(pairs), status,
                                                                        body, request_id)
        return _json(status, body, headers)
    except StripeError as exc:
        return _json(exc.status, exc.body(), headers)


def _replay(saved: _Saved, endpoint: str, pairs: list[tuple[str, str]], key: str,
            headers: dict[str, str]) -> Response:
    """Same key, same request: the first answer again. Same key, another request: Stripe's idempotency_error."""
    if saved.endpoint != endpoint:
        raise StripeError(400, "Keys for idempotent requests can only be used for the same endpoint they were "
                               f"first used for ('{endpoint}' vs '{saved.endpoint}'). Try using a key other than "
                               f"'{key}' if you meant to execute a different request.", type="idempotency_error")
    if saved.params != pairs:
        raise StripeError(400, "Keys for idempotent requests can only be used with the same parameters they were "
                               f"first used with. Try using a key other than '{key}' if you meant to execute a "
                               "different request.", type="idempotency_error")
    headers.update({"Idempotent-Replayed": "true", "Original-Request": saved.request_id,
                    "Request-Id": saved.request_id})
    return _json(saved.status, saved.body, headers)


# --- the checkout page ----------------------------------------------------------------------

_CSS = """\
body { font: 16px/1.45 system-ui, sans-serif; margin: 0; background: #f6f8fa; color: #1a1f36; }
header { background: #635bff; color: #fff; padding: .7rem 1.5rem; display: flex; gap: 1rem; align-items: baseline; }
header .badge { background: #ffd33d; color: #1a1f36; border-radius: 4px; padding: 0 .4rem; font-size: .8rem; }
main { max-width: 34rem; margin: 2rem auto; background: #fff; padding: 1.5rem 2rem; border-radius: 8px;
       box-shadow: 0 1px 3px rgba(0, 0, 0, .12); }
table { width: 100%; border-collapse: collapse; margin: 1rem 0; }
th, td { text-align: left; padding: .35rem 0; border-bottom: 1px solid #e3e8ee; }
td.num, th.num { text-align: right; }
tfoot th, tfoot td { font-weight: 700; border-bottom: 0; }
button { background: #635bff; color: #fff; border: 0; border-radius: 6px; padding: .7rem 2.5rem; font-size: 1rem;
         cursor: pointer; }
.muted { color: #697386; font-size: .9rem; }
.actions form { display: inline; margin-right: 1.5rem; }
"""

_TEMPLATES = {
    "standin/base.html": """\
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{% block title %}{% endblock %} · Stripe stand-in</title>
<style>{{ css|safe }}</style>
</head>
<body>
<header><strong>Stripe stand-in</strong><span class="badge">test mode · development only</span></header>
<main>
{% block main %}{% endblock %}
</main>
</body>
</html>
""",
    "standin/checkout.html": """\
{% extends "standin/base.html" %}
{% block title %}Checkout{% endblock %}
{% block main %}
<h1>Checkout</h1>
<table>
<thead><tr><th>Item</th><th class="num">Quantity</th><th class="num">Amount</th></tr></thead>
<tbody>
{% for item in items %}
<tr><td>{{ item.description }}</td><td class="num">{{ item.quantity }}</td><td class="num">{{ item.amount }}</td></tr>
{% endfor %}
</tbody>
<tfoot><tr><th colspan="2">Total</th><td class="num" id="total">{{ total }}</td></tr></tfoot>
</table>
{% if email %}<p>Email: <strong id="email">{{ email }}</strong></p>{% endif %}
<div class="actions">
<form method="post"><button type="submit" name="outcome" value="paid">Pay</button></form>
{% if cancel_url %}<a href="{{ cancel_url }}">Cancel</a>{% endif %}
</div>
<p class="muted">This page is the local stand-in for Stripe Checkout; no money moves. It expires at {{ expires }}.</p>
{% endblock %}
""",
    "standin/message.html": """\
{% extends "standin/base.html" %}
{% block title %}{{ heading }}{% endblock %}
{% block main %}
<h1>{{ heading }}</h1>
<p>{{ text }}</p>
{% if link %}<p><a href="{{ link }}">Continue</a></p>{% endif %}
{% endblock %}
""",
}


def _success_location(session: StripeDict) -> str | None:
    url = session["success_url"]
    return url.replace("{CHECKOUT_SESSION_ID}", session["id"]) if url else None


def _page(heading: str, text: str, status: int, link: str | None = None) -> tuple[str, int]:
    return render_template("standin/message.html", heading=heading, text=text, link=link, css=_CSS), status


def _checkout_page(account: _Account, session_id: str, req: Request) -> Response | tuple[str, int] | str:
    with account.lock:
        account.expire_due()  # the expiry thread may not have run yet
        session = account.sessions.get(session_id)
        if session is None:
            return _page("Not found", "There is no checkout session at this address.", 404)
        if session["status"] == "expired":
            return _page("Session expired", "This checkout session has expired. Go back and start again.", 410)
        if req.method == "POST":
            if session["status"] == "open":
                try:
                    account.pay(session, req.form.get("outcome", "paid"))
                except StripeError as exc:
                    return _page("Cannot pay", exc.message, 400)
            return redirect(_success_location(session) or req.path, 303)
        if session["status"] == "complete":
            return _page("Payment complete", "This checkout session is complete.", 200, _success_location(session))
        currency = session["currency"]
        items = [{"description": item["description"], "quantity": item["quantity"],
                  "amount": format_amount(item["amount_total"], currency)}
                 for item in account.extras[session_id].line_items]
        expires = datetime.fromtimestamp(session["expires_at"] - account.clock_offset, UTC)
        return render_template("standin/checkout.html", items=items,
                               total=format_amount(session["amount_total"], currency),
                               email=session["customer_email"], cancel_url=session["cancel_url"],
                               expires=expires.strftime("%Y-%m-%d %H:%M UTC"), css=_CSS)


# --- test controls --------------------------------------------------------------------------

def _body(req: Request) -> StripeDict:
    data = req.get_json(silent=True) if req.get_data() else {}
    if not isinstance(data, dict):
        raise StripeError(400, "Expected a JSON object.")
    return data


def _describe(account: _Account, record: EventRecord) -> StripeDict:
    last = record.attempts[-1] if record.attempts else None
    return {
        "id": record.event["id"], "type": record.event["type"], "created": record.event["created"],
        "state": account.webhooks.state(record), "attempts": len(record.attempts),
        "last_status": last.status if last else None, "last_error": last.error if last else None,
        "deliveries": [dataclasses.asdict(attempt) for attempt in record.attempts], "event": record.event,
    }


def _register_controls(app: Flask, account: _Account) -> None:
    webhooks = account.webhooks

    def session_for(session_id: str) -> StripeDict:
        account.expire_due()
        return account.find("checkout.session", session_id, "session")

    @app.get("/_standin/events")
    def events() -> Response:
        with account.lock:
            wanted = request.args.get("type")
            data = [_describe(account, record) for record in account.events.values()
                    if wanted is None or record.event["type"] == wanted]
            return _json(200, {"object": "list", "data": data, "held": webhooks.held, "webhook_url": webhooks.url},
                         {})

    @app.post("/_standin/events/<event_id>/redeliver")
    def redeliver(event_id: str) -> Response:
        with account.lock:
            record = account.events.get(event_id)
            if record is None:
                raise StripeError(404, f"No such event: '{event_id}'", code="resource_missing", param="id")
            webhooks.enqueue(record)
            return _json(202, _describe(account, record), {})

    @app.route("/_standin/webhook", methods=["GET", "POST"])
    def webhook() -> Response:
        with account.lock:
            if request.method == "POST":
                body = _body(request)
                if "url" in body:
                    webhooks.url = _url(body["url"], "url")
                if "enabled_events" in body:
                    enabled = body["enabled_events"]
                    if not isinstance(enabled, list) or not all(isinstance(item, str) for item in enabled):
                        raise StripeError(400, "enabled_events must be a list of event types or ['*'].",
                                          param="enabled_events")
                    webhooks.enabled_events = enabled
            return _json(200, {"url": webhooks.url, "enabled_events": webhooks.enabled_events}, {})

    @app.post("/_standin/hold")
    def hold() -> Response:
        with account.lock:
            webhooks.held = True
            return _json(200, {"held": True}, {})

    @app.post("/_standin/release")
    def release() -> Response:
        order = _body(request).get("order", [])
        if not isinstance(order, list) or not all(isinstance(item, str) for item in order):
            raise StripeError(400, "order must be a list of event ids.", param="order")
        with account.lock:
            webhooks.release(order)
            return _json(200, {"held": False}, {})

    @app.post("/_standin/checkout/sessions/<session_id>/pay")
    def pay(session_id: str) -> Response:
        outcome = _body(request).get("outcome", "paid")
        with account.lock:
            session = session_for(session_id)
            account.pay(session, outcome)
            return _json(200, session, {})

    @app.post("/_standin/checkout/sessions/<session_id>/async")
    def settle(session_id: str) -> Response:
        succeeded = _body(request).get("succeeded")
        if not isinstance(succeeded, bool):
            raise StripeError(400, "succeeded must be true or false.", param="succeeded")
        with account.lock:
            session = session_for(session_id)
            account.settle_async(session, succeeded)
            return _json(200, session, {})

    @app.post("/_standin/checkout/sessions/<session_id>/expire-now")
    def expire_now(session_id: str) -> Response:
        with account.lock:
            session = session_for(session_id)
            if session["status"] != "open":
                raise StripeError(400, f"This Checkout Session has a status of `{session['status']}`, not `open`.")
            account.expire(session)
            return _json(200, session, {})

    @app.post("/_standin/clock")
    def clock() -> Response:
        advance = _body(request).get("advance_seconds", 0)
        if not isinstance(advance, int) or isinstance(advance, bool) or advance < 0:
            raise StripeError(400, "advance_seconds must be a non-negative integer.", param="advance_seconds")
        with account.lock:
            account.clock_offset += advance
            account.lock.notify_all()  # the expiry thread looks again at once
            return _json(200, {"now": account.now(), "offset_seconds": account.clock_offset}, {})


def _create_app(account: _Account) -> Flask:
    app = Flask(__name__, static_folder=None)
    app.jinja_loader = DictLoader(_TEMPLATES)

    @app.route("/v1/<path:_path>", methods=["GET", "POST", "DELETE", "PUT", "PATCH"])
    def api(_path: str) -> Response:
        return _handle_api(account, request)

    @app.route("/pay/<session_id>", methods=["GET", "POST"])
    def checkout(session_id: str) -> Response | tuple[str, int] | str:
        return _checkout_page(account, session_id, request)

    _register_controls(app, account)

    @app.errorhandler(StripeError)
    def stripe_error(exc: StripeError) -> Response:
        return _json(exc.status, exc.body(), {})

    @app.errorhandler(500)
    def internal_error(exc: Exception) -> Response:
        return _json(500, StripeError(500, "The Stripe stand-in failed; see its log.", type="api_error").body(), {})

    @app.after_request
    def _no_sniffing(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return app


# --- the server -----------------------------------------------------------------------------

class StripeStandin:
    """The stand-in served by werkzeug in daemon threads, with its webhook worker and expiry thread.

    ``public_url`` is where browsers reach it (the sessions' ``url``); by default its own address.
    """

    def __init__(self, port: int = 0, webhook_url: str = DEFAULT_WEBHOOK_URL,
                 webhook_secret: str = DEFAULT_WEBHOOK_SECRET, public_url: str | None = None,
                 host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port  # the real port once started when 0 was asked for
        self._public_url = public_url.rstrip("/") if public_url else None
        self._lock = threading.Condition(threading.RLock())
        self._webhooks = _Webhooks(self._lock, webhook_url, webhook_secret)
        self._account = _Account(self._lock, self._webhooks)
        self._server: BaseWSGIServer | None = None
        self._threads: list[threading.Thread] = []
        self._stopping = False

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def public_url(self) -> str:
        return self._public_url or self.url

    @property
    def webhook_url(self) -> str:
        return self._webhooks.url

    @property
    def webhook_secret(self) -> str:
        return self._webhooks.secret

    def start(self) -> StripeStandin:
        if self._server is not None:
            raise RuntimeError("Stripe stand-in already running")
        self._server = make_server(self.host, self.port, _create_app(self._account), threaded=True)
        self.port = self._server.server_port
        self._account.public_url = self.public_url
        self._stopping = False
        self._webhooks.start()
        self._threads = [
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                             name="stripe-standin-http", daemon=True),
            threading.Thread(target=self._expire_sessions, name="stripe-standin-expiry", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._webhooks.stop()
        for thread in self._threads:
            thread.join()
        self._threads = []

    def __enter__(self) -> StripeStandin:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Return once no delivery is under way or due (held ones aside); webhooks are asynchronous."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._webhooks.busy():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"webhook deliveries still under way after {timeout}s")
                self._lock.wait(remaining)

    def _expire_sessions(self) -> None:
        with self._lock:
            while not self._stopping:
                self._account.expire_due()
                self._lock.wait(EXPIRY_POLL)


# --- command line ---------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    registration = env("REGISTRATION_URL", "http://127.0.0.1:8001").rstrip("/")
    parser = argparse.ArgumentParser(description="A local stand-in for the Stripe API, for development and tests "
                                                 "only.")
    parser.add_argument("--listen", type=host_port, metavar="HOST:PORT",
                        default=env("STRIPE_STANDIN_LISTEN", DEFAULT_LISTEN),
                        help=f"listen address (default: $STRIPE_STANDIN_LISTEN or {DEFAULT_LISTEN}; port 0 = any)")
    parser.add_argument("--webhook-url", default=env("STRIPE_WEBHOOK_URL", f"{registration}/webhooks/stripe"),
                        help="where events are delivered (default: $STRIPE_WEBHOOK_URL, else "
                             "$REGISTRATION_URL/webhooks/stripe)")
    parser.add_argument("--webhook-secret", default=env("STRIPE_WEBHOOK_SECRET", DEFAULT_WEBHOOK_SECRET),
                        help=f"signing secret (default: $STRIPE_WEBHOOK_SECRET or {DEFAULT_WEBHOOK_SECRET})")
    parser.add_argument("--public-url", default=os.environ.get("STRIPE_STANDIN_PUBLIC_URL") or None,
                        help="base URL of the checkout pages as browsers reach them (default: "
                             "$STRIPE_STANDIN_PUBLIC_URL, else the listen address)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")

    stopping = threading.Event()

    def _stop(_signum: int, _frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    host, port = args.listen
    standin = StripeStandin(port=port, host=host, webhook_url=args.webhook_url,
                            webhook_secret=args.webhook_secret, public_url=args.public_url).start()
    try:
        print(f"Stripe stand-in  {standin.url}   (development only; never a real payment)", flush=True)
        print(f"webhooks to      {standin.webhook_url}", flush=True)
        while not stopping.wait(0.5):  # a signal may land in a server thread; polling still sees it
            pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
