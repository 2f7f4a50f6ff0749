"""The local Stripe stand-in, driven by the real ``stripe`` library as the registration service drives it.

Webhooks go to a small werkzeug server in the test and are checked with ``stripe.Webhook.construct_event``,
exactly as ``/webhooks/stripe`` checks them.
"""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests
import stripe
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from devtools.stripe_standin import StripeStandin

SECRET = "whsec_test_standin_secret"
SUCCESS_URL = "http://127.0.0.1:8001/r/tok?paid={CHECKOUT_SESSION_ID}"
CANCEL_URL = "http://127.0.0.1:8001/events/imaging-2027/register"


@dataclass
class Delivery:
    body: bytes
    signature: str

    def event(self, secret: str = SECRET) -> stripe.Event:
        return stripe.Webhook.construct_event(self.body, self.signature, secret)


class Receiver:
    """A webhook endpoint: records every POST and answers with the statuses queued in ``statuses`` (then 200)."""

    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.statuses: list[int] = []
        self._cond = threading.Condition()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/webhooks/stripe"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @Request.application
    def _app(self, request: Request) -> Response:
        with self._cond:
            self.deliveries.append(Delivery(request.get_data(), request.headers.get("Stripe-Signature", "")))
            status = self.statuses.pop(0) if self.statuses else 200
            self._cond.notify_all()
        return Response("", status=status)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Delivery]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.deliveries) >= count, timeout):
                raise AssertionError(f"expected {count} deliveries, got {len(self.deliveries)}")
            return list(self.deliveries)

    def types(self) -> list[str]:
        with self._cond:
            return [json.loads(delivery.body)["type"] for delivery in self.deliveries]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def standin(receiver: Receiver) -> Iterator[StripeStandin]:
    with StripeStandin(webhook_url=receiver.url, webhook_secret=SECRET) as running:
        yield running


@pytest.fixture
def client(standin: StripeStandin) -> stripe.StripeClient:
    return stripe.StripeClient("sk_test_standin", base_addresses={"api": standin.url})


def session_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {"price_data": {"currency": "eur", "unit_amount": 45000,
                            "product_data": {"name": "Imaging 2027 — member rate"}}, "quantity": 1},
            {"price_data": {"currency": "eur", "unit_amount": 7500,
                            "product_data": {"name": "Workshop: cardiac MRI"}}, "quantity": 2},
        ],
        "client_reference_id": "REG-7Q2",
        "metadata": {"registration": "REG-7Q2", "event": "imaging-2027"},
        "customer_email": "ada.lovelace@example.org",
        "success_url": SUCCESS_URL,
        "cancel_url": CANCEL_URL,
        "expires_at": int(time.time()) + 3600,
        "invoice_creation": {"enabled": True},
    }
    params.update(overrides)
    return params


def control(standin: StripeStandin, path: str, body: dict[str, Any] | None = None) -> Any:
    response = requests.post(f"{standin.url}/_standin{path}", json=body or {}, timeout=10)
    assert response.status_code < 300, response.text
    return response.json()


def listed(standin: StripeStandin) -> list[dict[str, Any]]:
    return requests.get(f"{standin.url}/_standin/events", timeout=10).json()["data"]


def paid_session(client: stripe.StripeClient, standin: StripeStandin, receiver: Receiver) -> stripe.checkout.Session:
    session = client.v1.checkout.sessions.create(params=session_params())
    control(standin, f"/checkout/sessions/{session.id}/pay")
    receiver.wait_for(1)
    return client.v1.checkout.sessions.retrieve(session.id)


# --- checkout sessions ----------------------------------------------------------------------

def test_create_returns_an_open_checkout_session(client: stripe.StripeClient, standin: StripeStandin) -> None:
    params = session_params()
    session = client.v1.checkout.sessions.create(params=params, options={"idempotency_key": "reg-REG-7Q2"})

    assert isinstance(session, stripe.checkout.Session)
    assert session.id.startswith("cs_test_")
    assert session.object == "checkout.session"
    assert session.url == f"{standin.url}/pay/{session.id}"
    assert (session.amount_total, session.amount_subtotal, session.currency) == (60000, 60000, "eur")
    assert (session.status, session.payment_status, session.payment_intent) == ("open", "unpaid", None)
    assert session.livemode is False and session.mode == "payment"
    assert session.expires_at == params["expires_at"]
    assert abs(session.created - time.time()) < 5
    assert session.metadata.to_dict() == {"registration": "REG-7Q2", "event": "imaging-2027"}
    assert session.client_reference_id == "REG-7Q2"
    assert session.customer_email == "ada.lovelace@example.org"
    assert session.invoice_creation is not None and session.invoice_creation.enabled is True
    assert client.v1.checkout.sessions.retrieve(session.id).to_dict() == session.to_dict()


def test_idempotency_key_replays_the_first_answer_and_refuses_other_parameters(client: stripe.StripeClient) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "reg-REG-7Q2"}
    first = client.v1.checkout.sessions.create(params=session_params(), options=options)
    again = client.v1.checkout.sessions.create(params=session_params(expires_at=first.expires_at), options=options)

    assert again.id == first.id
    assert again.last_response is not None and first.last_response is not None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.last_response.headers
    with pytest.raises(stripe.IdempotencyError) as different:
        client.v1.checkout.sessions.create(params=session_params(expires_at=first.expires_at,
                                                                 metadata={"registration": "REG-OTHER"}),
                                           options=options)
    assert different.value.http_status == 400
    with pytest.raises(stripe.IdempotencyError, match="same endpoint"):
        client.v1.refunds.create(params={"payment_intent": "pi_x"}, options=options)


def test_a_request_refused_by_validation_is_not_saved_under_its_key(client: stripe.StripeClient) -> None:
    options: stripe.RequestOptions = {"idempotency_key": "reg-REG-8AA"}
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + 60), options=options)

    session = client.v1.checkout.sessions.create(params=session_params(), options=options)  # corrected: accepted
    assert session.status == "open"


@pytest.mark.parametrize("ahead", [0, 29 * 60, 24 * 3600 + 60])
def test_expires_at_must_be_30_minutes_to_24_hours_ahead(client: stripe.StripeClient, ahead: int) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + ahead))
    assert refused.value.http_status == 400
    assert refused.value.param == "expires_at"
    assert "expires_at" in refused.value.user_message


@pytest.mark.parametrize("ahead", [30 * 60 + 5, 24 * 3600 - 5])
def test_expires_at_at_the_limits_is_accepted(client: stripe.StripeClient, ahead: int) -> None:
    expires_at = int(time.time()) + ahead
    assert client.v1.checkout.sessions.create(params=session_params(expires_at=expires_at)).expires_at == expires_at


def test_unknown_parameters_are_refused_as_stripe_refuses_them(client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as top:
        client.v1.checkout.sessions.create(params=session_params(customer_emial="x@example.org"))
    assert (top.value.code, top.value.param) == ("parameter_unknown", "customer_emial")

    items = session_params()["line_items"]
    items[1]["price_data"]["unit_amout"] = 100
    with pytest.raises(stripe.InvalidRequestError) as nested:
        client.v1.checkout.sessions.create(params=session_params(line_items=items))
    assert nested.value.param == "line_items[1][price_data][unit_amout]"

    # The API version stripe 16.1.0 speaks has no payment_method_types on create; its replacement works.
    with pytest.raises(stripe.InvalidRequestError, match="payment_method_types"):
        client.v1.checkout.sessions.create(params=session_params(payment_method_types=["card"]))
    session = client.v1.checkout.sessions.create(params=session_params(allowed_payment_method_types=["card"]))
    assert session.payment_method_types == ["card"]


def test_missing_and_invalid_parameters(client: stripe.StripeClient) -> None:
    params = session_params()
    del params["line_items"][0]["price_data"]["currency"]
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.checkout.sessions.create(params=params)
    assert (missing.value.code, missing.value.param) == ("parameter_missing", "line_items[0][price_data][currency]")

    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.checkout.sessions.create(params=session_params(line_items=[
            {"price_data": {"currency": "eur", "unit_amount": 20, "product_data": {"name": "Too cheap"}},
             "quantity": 1}]))
    assert small.value.code == "amount_too_small"

    with pytest.raises(stripe.InvalidRequestError) as email:
        client.v1.checkout.sessions.create(params=session_params(customer_email="not an address"))
    assert (email.value.code, email.value.param) == ("email_invalid", "customer_email")


def test_api_key_must_be_a_test_secret_key(standin: StripeStandin) -> None:
    response = requests.post(f"{standin.url}/v1/checkout/sessions", data={"mode": "payment"}, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "API key" in response.json()["error"]["message"]

    for key in ("sk_live_123456789012", "pk_test_123456789012", "sk_test_"):
        with pytest.raises(stripe.AuthenticationError):
            stripe.StripeClient(key, base_addresses={"api": standin.url}).v1.checkout.sessions.retrieve("cs_test_x")

    curl_style = requests.get(f"{standin.url}/v1/checkout/sessions/cs_test_x", auth=("sk_test_abc", ""), timeout=10)
    assert curl_style.status_code == 404 and curl_style.json()["error"]["code"] == "resource_missing"


def test_retrieve_unknown_session_is_404(client: stripe.StripeClient, standin: StripeStandin) -> None:
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.checkout.sessions.retrieve("cs_test_nope")
    assert (unknown.value.http_status, unknown.value.code) == (404, "resource_missing")

    response = requests.get(f"{standin.url}/v1/customers", auth=("sk_test_abc", ""), timeout=10)
    assert response.status_code == 404 and "Unrecognized request URL" in response.json()["error"]["message"]


def test_expire_an_open_session(client: stripe.StripeClient, receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())

    expired = client.v1.checkout.sessions.expire(session.id, options={"idempotency_key": "expire-1"})

    assert (expired.status, expired.url, expired.payment_status) == ("expired", None, "unpaid")
    [delivery] = receiver.wait_for(1)
    event = delivery.event()
    assert event.type == "checkout.session.expired"
    assert event.data.object.id == session.id and event.data.object.status == "expired"
    assert event.request is not None and event.request.idempotency_key == "expire-1"
    assert event.request.id == expired.last_response.request_id
    with pytest.raises(stripe.InvalidRequestError, match=r"status of `expired`"):
        client.v1.checkout.sessions.expire(session.id)


# --- paying and webhooks --------------------------------------------------------------------

def test_paying_delivers_a_signed_checkout_session_completed(client: stripe.StripeClient, standin: StripeStandin,
                                                             receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())

    control(standin, f"/checkout/sessions/{session.id}/pay")

    [delivery] = receiver.wait_for(1)
    assert re.fullmatch(r"t=(\d+),v1=[0-9a-f]{64}", delivery.signature)
    assert abs(int(delivery.signature[2:12]) - time.time()) < 10
    event = delivery.event()
    assert isinstance(event, stripe.Event)
    assert event.id.startswith("evt_") and event.object == "event"
    assert (event.type, event.livemode, event.pending_webhooks) == ("checkout.session.completed", False, 1)
    assert event.api_version == stripe.api_version
    assert event.request is not None and event.request.id is None
    completed = event.data.object
    assert isinstance(completed, stripe.checkout.Session)
    assert (completed.id, completed.status, completed.payment_status) == (session.id, "complete", "paid")
    assert completed.client_reference_id == "REG-7Q2" and completed.metadata["registration"] == "REG-7Q2"
    assert (completed.amount_total, completed.currency) == (60000, "eur")
    assert completed.customer_details is not None and completed.customer_details.email == "ada.lovelace@example.org"

    retrieved = client.v1.checkout.sessions.retrieve(session.id)
    assert retrieved.payment_intent == completed.payment_intent and retrieved.url is None
    intent = client.v1.payment_intents.retrieve(str(retrieved.payment_intent))
    assert isinstance(intent, stripe.PaymentIntent)
    assert (intent.status, intent.amount, intent.amount_received, intent.currency) == ("succeeded", 60000, 60000, "eur")
    charge = client.v1.charges.retrieve(str(intent.latest_charge))
    assert isinstance(charge, stripe.Charge)
    assert (charge.amount, charge.amount_refunded, charge.refunded, charge.paid) == (60000, 0, False, True)
    assert charge.payment_intent == intent.id
    assert client.v1.events.retrieve(event.id).to_dict() == event.to_dict()


def test_signature_does_not_verify_with_another_secret_or_another_body(
        client: stripe.StripeClient, receiver: Receiver, standin: StripeStandin) -> None:
    paid_session(client, standin, receiver)
    [delivery] = receiver.deliveries

    with pytest.raises(stripe.SignatureVerificationError):
        delivery.event("whsec_someone_else")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(delivery.body.replace(b"60000", b"6000"), delivery.signature, SECRET)
    with pytest.raises(stripe.SignatureVerificationError):  # re-serialised JSON is not what was signed
        stripe.Webhook.construct_event(json.dumps(json.loads(delivery.body)), delivery.signature, SECRET)


def test_expand_nests_the_related_objects(client: stripe.StripeClient, standin: StripeStandin,
                                          receiver: Receiver) -> None:
    session = paid_session(client, standin, receiver)

    expanded = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["line_items", "payment_intent.latest_charge"]})

    assert expanded.line_items is not None
    assert [(item.description, item.quantity, item.amount_total) for item in expanded.line_items.data] == [
        ("Imaging 2027 — member rate", 1, 45000), ("Workshop: cardiac MRI", 2, 15000)]
    intent = expanded.payment_intent
    assert isinstance(intent, stripe.PaymentIntent) and isinstance(intent.latest_charge, stripe.Charge)
    with pytest.raises(stripe.InvalidRequestError, match="cannot be expanded"):
        client.v1.checkout.sessions.retrieve(session.id, params={"expand": ["customer_email"]})


def test_failed_deliveries_are_retried(client: stripe.StripeClient, standin: StripeStandin,
                                       receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    session = client.v1.checkout.sessions.create(params=session_params())

    control(standin, f"/checkout/sessions/{session.id}/pay")

    deliveries = receiver.wait_for(3)
    assert len({delivery.event().id for delivery in deliveries}) == 1
    standin.wait_idle()
    [record] = listed(standin)
    assert (record["state"], record["attempts"], record["last_status"]) == ("delivered", 3, 200)
    assert [attempt["status"] for attempt in record["deliveries"]] == [500, 503, 200]


def test_redeliver_sends_the_same_event_again(client: stripe.StripeClient, standin: StripeStandin,
                                              receiver: Receiver) -> None:
    paid_session(client, standin, receiver)
    first = receiver.deliveries[0].event()

    control(standin, f"/events/{first.id}/redeliver")

    second = receiver.wait_for(2)[1]
    assert second.event().id == first.id
    assert second.body == receiver.deliveries[0].body
    standin.wait_idle()
    assert listed(standin)[0]["attempts"] == 2


def test_held_events_are_released_in_the_order_asked(client: stripe.StripeClient, standin: StripeStandin,
                                                     receiver: Receiver) -> None:
    control(standin, "/hold")
    first = client.v1.checkout.sessions.create(params=session_params())
    second = client.v1.checkout.sessions.create(params=session_params())
    control(standin, f"/checkout/sessions/{first.id}/pay")
    client.v1.checkout.sessions.expire(second.id)
    time.sleep(0.3)
    assert receiver.deliveries == []
    held = listed(standin)
    assert [(item["type"], item["state"]) for item in held] == [
        ("checkout.session.completed", "held"), ("checkout.session.expired", "held")]

    control(standin, "/release", {"order": [held[1]["id"], held[0]["id"]]})

    assert [delivery.event().id for delivery in receiver.wait_for(2)] == [held[1]["id"], held[0]["id"]]


def test_webhook_endpoint_and_its_events_can_be_changed(client: stripe.StripeClient, standin: StripeStandin,
                                                         receiver: Receiver) -> None:
    with Receiver() as other:
        settings = control(standin, "/webhook", {"url": other.url, "enabled_events": ["checkout.session.completed"]})
        assert settings == {"url": other.url, "enabled_events": ["checkout.session.completed"]}
        session = client.v1.checkout.sessions.create(params=session_params())
        control(standin, f"/checkout/sessions/{session.id}/pay")
        client.v1.refunds.create(params={"payment_intent": str(client.v1.checkout.sessions.retrieve(
            session.id).payment_intent)})
        standin.wait_idle()

        assert [delivery.event().data.object.id for delivery in other.deliveries] == [session.id]
        assert receiver.deliveries == []
    states = {item["type"]: item["state"] for item in listed(standin)}
    assert states == {"checkout.session.completed": "delivered", "charge.refunded": "not_subscribed",
                      "refund.created": "not_subscribed"}
    only = requests.get(f"{standin.url}/_standin/events", params={"type": "refund.created"}, timeout=10).json()
    assert [item["type"] for item in only["data"]] == ["refund.created"]


# --- refunds --------------------------------------------------------------------------------

def test_partial_then_full_refund(client: stripe.StripeClient, standin: StripeStandin, receiver: Receiver) -> None:
    session = paid_session(client, standin, receiver)
    intent_id = str(session.payment_intent)

    partial = client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 20000, "reason": "requested_by_customer",
                "metadata": {"registration": "REG-7Q2"}},
        options={"idempotency_key": "refund-REG-7Q2-1"})
    replayed = client.v1.refunds.create(
        params={"payment_intent": intent_id, "amount": 20000, "reason": "requested_by_customer",
                "metadata": {"registration": "REG-7Q2"}},
        options={"idempotency_key": "refund-REG-7Q2-1"})
    rest = client.v1.refunds.create(params={"payment_intent": intent_id})

    assert isinstance(partial, stripe.Refund) and partial.id.startswith("re_")
    assert (partial.amount, partial.status, partial.currency, partial.reason) == (
        20000, "succeeded", "eur", "requested_by_customer")
    assert partial.payment_intent == intent_id and partial.metadata.to_dict() == {"registration": "REG-7Q2"}
    assert replayed.id == partial.id
    assert rest.amount == 40000
    charge = client.v1.charges.retrieve(str(partial.charge))
    assert (charge.amount_refunded, charge.refunded) == (60000, True)
    assert client.v1.refunds.retrieve(rest.id).amount == 40000

    receiver.wait_for(5)
    refunded = [delivery.event() for delivery in receiver.deliveries if delivery.event().type == "charge.refunded"]
    assert [(e.data.object.amount_refunded, e.data.object.refunded) for e in refunded] == [(20000, False), (60000, True)]
    assert refunded[0].data.previous_attributes.to_dict() == {"amount_refunded": 0}
    assert refunded[1].data.previous_attributes.to_dict() == {"amount_refunded": 20000, "refunded": False}
    assert receiver.types().count("refund.created") == 2


def test_refund_beyond_what_remains_is_refused(client: stripe.StripeClient, standin: StripeStandin,
                                               receiver: Receiver) -> None:
    intent_id = str(paid_session(client, standin, receiver).payment_intent)
    client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 50000})

    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": intent_id, "amount": 10001})
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")
    assert "100.01 EUR" in too_much.value.user_message and "100.00 EUR" in too_much.value.user_message

    client.v1.refunds.create(params={"payment_intent": intent_id})
    with pytest.raises(stripe.InvalidRequestError) as already:
        client.v1.refunds.create(params={"payment_intent": intent_id})
    assert already.value.code == "charge_already_refunded"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.refunds.create(params={"payment_intent": "pi_nope"})
    assert unknown.value.code == "resource_missing"


# --- the checkout page ----------------------------------------------------------------------

def test_checkout_page_shows_the_order_and_pay_redirects_to_success_url(
        client: stripe.StripeClient, standin: StripeStandin, receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    assert session.url is not None

    page = requests.get(session.url, timeout=10)
    assert page.status_code == 200
    assert "600.00 EUR" in page.text and "450.00 EUR" in page.text and "150.00 EUR" in page.text
    assert "Workshop: cardiac MRI" in page.text and "ada.lovelace@example.org" in page.text
    assert re.search(r'<form method="post"><button type="submit"[^>]*>Pay</button>', page.text)
    assert f'href="{CANCEL_URL}"' in page.text

    paid = requests.post(session.url, allow_redirects=False, timeout=10)
    assert paid.status_code == 303
    assert paid.headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    assert receiver.wait_for(1)[0].event().type == "checkout.session.completed"

    assert "is complete" in requests.get(session.url, timeout=10).text
    twice = requests.post(session.url, allow_redirects=False, timeout=10)  # a double click pays once
    assert twice.status_code == 303
    standin.wait_idle()
    assert len(listed(standin)) == 1


def test_checkout_page_of_an_expired_session(client: stripe.StripeClient, standin: StripeStandin) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    url = str(session.url)
    client.v1.checkout.sessions.expire(session.id)

    for response in (requests.get(url, timeout=10), requests.post(url, allow_redirects=False, timeout=10)):
        assert response.status_code == 410
        assert "This checkout session has expired" in response.text
    assert requests.get(f"{standin.url}/pay/cs_test_unknown", timeout=10).status_code == 404


# --- delayed payment methods and expiry -----------------------------------------------------

def test_async_payment_succeeds_later(client: stripe.StripeClient, standin: StripeStandin,
                                      receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())

    assert requests.post(str(session.url), data={"outcome": "async_pending"}, allow_redirects=False,
                         timeout=10).status_code == 303
    completed = receiver.wait_for(1)[0].event().data.object
    assert (completed.status, completed.payment_status) == ("complete", "unpaid")
    assert client.v1.payment_intents.retrieve(completed.payment_intent).status == "processing"

    control(standin, f"/checkout/sessions/{session.id}/async", {"succeeded": True})

    succeeded = receiver.wait_for(2)[1].event()
    assert succeeded.type == "checkout.session.async_payment_succeeded"
    assert succeeded.data.object.payment_status == "paid"
    assert client.v1.payment_intents.retrieve(completed.payment_intent).status == "succeeded"


def test_async_payment_fails_later(client: stripe.StripeClient, standin: StripeStandin, receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())
    control(standin, f"/checkout/sessions/{session.id}/pay", {"outcome": "async_pending"})

    control(standin, f"/checkout/sessions/{session.id}/async", {"succeeded": False})

    failed = receiver.wait_for(2)[1].event()
    assert failed.type == "checkout.session.async_payment_failed"
    assert (failed.data.object.status, failed.data.object.payment_status) == ("complete", "unpaid")
    intent = client.v1.payment_intents.retrieve(failed.data.object.payment_intent)
    assert intent.status == "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": intent.id})
    response = requests.post(f"{standin.url}/_standin/checkout/sessions/{session.id}/async",
                             json={"succeeded": True}, timeout=10)
    assert response.status_code == 400


def test_sessions_expire_when_the_clock_passes_expires_at(client: stripe.StripeClient, standin: StripeStandin,
                                                          receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + 31 * 60))
    later = client.v1.checkout.sessions.create(params=session_params(expires_at=int(time.time()) + 3 * 3600))

    control(standin, "/clock", {"advance_seconds": 32 * 60})

    event = receiver.wait_for(1)[0].event()
    assert (event.type, event.data.object.id) == ("checkout.session.expired", session.id)
    assert event.request is not None and event.request.id is None
    assert client.v1.checkout.sessions.retrieve(session.id).status == "expired"
    assert client.v1.checkout.sessions.retrieve(later.id).status == "open"
    response = requests.post(f"{standin.url}/_standin/checkout/sessions/{session.id}/pay", json={}, timeout=10)
    assert response.status_code == 400


def test_expire_now_sends_the_expired_event(client: stripe.StripeClient, standin: StripeStandin,
                                            receiver: Receiver) -> None:
    session = client.v1.checkout.sessions.create(params=session_params())

    assert control(standin, f"/checkout/sessions/{session.id}/expire-now")["status"] == "expired"

    assert receiver.wait_for(1)[0].event().type == "checkout.session.expired"


# --- the command line -----------------------------------------------------------------------

def test_command_line_runs_until_sigterm(receiver: Receiver) -> None:
    with subprocess.Popen(
        [sys.executable, "-m", "devtools.stripe_standin", "--listen", "127.0.0.1:0", "--webhook-url", receiver.url,
         "--webhook-secret", SECRET],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    ) as process:
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
            assert found, line
            client = stripe.StripeClient("sk_test_cli", base_addresses={"api": found.group(1)})
            session = client.v1.checkout.sessions.create(params=session_params())
            assert session.url == f"{found.group(1)}/pay/{session.id}"
            requests.post(str(session.url), allow_redirects=False, timeout=10)
            assert receiver.wait_for(1)[0].event().data.object.id == session.id
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=10) == 0
        finally:
            if process.poll() is None:  # a failed assertion must not leave it running
                process.kill()
