"""Paying for a conference seat with the real stripe library against the local stand-in:
checkout, signed webhooks (repeated, out of order, late, forged, wrong amount), receipts, refunds."""
from __future__ import annotations

import collections
import hashlib
import hmac
import html
import itertools
import json
import re
import time
from email.message import EmailMessage
from typing import Any

import pytest
import requests

from devtools.smtp_sink import SmtpSink
from devtools.stripe_standin import StripeStandin
from tests.support.factories import iso
from tests.support.mail import eventually
from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

SECRET = "whsec_test_payments"
STRIPE_AUTH = {"Authorization": "Bearer sk_test_checker"}
_congresses = itertools.count(1)


def signed_post(endpoint: str, event: dict[str, Any], secret: str = SECRET) -> requests.Response:
    """Posts an event signed exactly as Stripe signs: HMAC-SHA256 over "<timestamp>.<body>"."""
    body = json.dumps(event)
    stamp = int(time.time())
    signature = hmac.new(secret.encode(), f"{stamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return requests.post(endpoint, data=body, headers={"Stripe-Signature": f"t={stamp},v1={signature}",
                                                       "Content-Type": "application/json"})


def event_of(kind: str, obj: dict[str, Any], n: int) -> dict[str, Any]:
    return {"id": f"evt_test_{kind}_{n}", "object": "event", "type": kind, "api_version": "2026-10-28.endive",
            "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None}, "data": {"object": obj}}


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """One stack, stand-in and sink for the module; each test has its own organisation and event (``world``)."""
    var = tmp_path_factory.mktemp("payments")
    with SmtpSink(var / "mail") as sink, StripeStandin(webhook_secret=SECRET) as stripe_standin, running_stack(
        var, SMTP_PORT=str(sink.port), STRIPE_API_BASE=stripe_standin.url, STRIPE_WEBHOOK_SECRET=SECRET,
    ) as stack:
        registration = url(stack, "registration")
        requests.post(f"{stripe_standin.url}/_standin/webhook",
                      json={"url": f"{registration}/webhooks/stripe"}).raise_for_status()
        yield stack, stripe_standin, sink, registration


@pytest.fixture
def world(suite):  # type: ignore[no-untyped-def]
    """A new organisation with a congress of its own, and an empty sink (``mail_to`` reads only a
    test's own people's mail: another test's may still arrive)."""
    stack, stripe_standin, sink, registration = suite
    slug = f"congress-{next(_congresses)}"
    sink.clear()
    auth = {"Authorization": f"Bearer {stack.create_token(slug)}"}
    requests.put(f"{registration}/api/v1/organisation/billing", headers=auth, json={
        "legal_name": "European Society of Imaging Informatics", "address": "Am Gestade 1\n1010 Wien\nAustria",
        "vat_number": "ATU12345678", "billing_email": "office@esii.example",
        "bank_details": "ESII, Erste Bank\nIBAN AT61 1904 3002 3457 3201\nBIC GIBAATWW"}).raise_for_status()
    created = requests.post(f"{registration}/api/v1/events", headers=auth, json={
        "slug": slug, "title": "Congress of Imaging Informatics", "kind": "conference",
        "starts_at": iso(days=40), "ends_at": iso(days=41), "timezone": "Europe/Vienna", "capacity": 2,
        "currency": "EUR", "venue": "Vienna", "vat_rate": "20", "prices_include_vat": True,
        "refund_full_until": iso(days=30), "cancellation_fee": 2500, "allows_invoice": True,
        "invoice_due_days": 30})
    assert created.status_code == 201, created.text
    for rate in ({"code": "member", "name": "Member", "amount": 45000, "category": "member",
                  "requires_membership": False},
                 {"code": "non-member", "name": "Non-member", "amount": 60000, "category": "non_member"}):
        requests.post(f"{registration}/api/v1/events/{slug}/rates", headers=auth,
                      json={**rate, "currency": "EUR"}).raise_for_status()
    requests.post(f"{registration}/api/v1/events/{slug}/discount-codes", headers=auth, json={
        "code": "RAD10", "percent_off": 10, "max_uses": 1, "rates": ["member"]}).raise_for_status()
    return stack, stripe_standin, sink, registration, auth, slug


def mail_to(sink: SmtpSink, address: str, count: int) -> list[EmailMessage]:
    """The mail to ``address``, once ``count`` have arrived."""
    def arrived() -> list[EmailMessage] | None:
        mails = [m for m in sink.messages() if m["To"] == address]
        return mails if len(mails) >= count else None

    return eventually(arrived, timeout=30)


def sign_up(registration: str, slug: str, email: str, **extra: Any) -> dict[str, Any]:
    response = requests.post(f"{registration}/api/v1/events/{slug}/registrations", json={
        "email": email, "given_name": "Zoë", "family_name": "Łukasiewicz", "rate": "member", "consent": True, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def status_of(registration: str, auth: dict[str, str], reg_id: int) -> dict[str, Any]:
    return requests.get(f"{registration}/api/v1/registrations/{reg_id}", headers=auth).json()


def checkout_session(stripe_standin: StripeStandin, payment_url: str) -> dict[str, Any]:
    session_id = payment_url.rstrip("/").rsplit("/", 1)[-1]
    return requests.get(f"{stripe_standin.url}/v1/checkout/sessions/{session_id}", headers=STRIPE_AUTH).json()


def test_paid_sign_up_with_discount_webhooks_applied_once_receipt_and_refund(world) -> None:  # type: ignore[no-untyped-def]
    stack, stripe_standin, sink, registration, auth, slug = world
    zoe = sign_up(registration, slug, "zoe@szpital.example", discount_code="rad10")
    assert (zoe["status"], zoe["amount_due"], zoe["currency"]) == ("pending_payment", 40500, "EUR")
    checkout = checkout_session(stripe_standin, zoe["payment_url"])
    assert (checkout["amount_total"], checkout["client_reference_id"]) == (40500, zoe["reference"])
    assert checkout["expires_at"] - time.time() > 30 * 60

    # The code had one use: nobody else gets it, however they ask.
    refused = requests.post(f"{registration}/api/v1/events/{slug}/registrations", json={
        "email": "other@h.example", "given_name": "A", "family_name": "B", "rate": "member", "consent": True,
        "discount_code": "RAD10"})
    assert refused.status_code == 422 and "discount_code" in refused.json()["error"]["fields"]

    # A forged webhook changes nothing.
    forged = signed_post(f"{registration}/webhooks/stripe", event_of(
        "checkout.session.completed", {**checkout, "payment_status": "paid", "status": "complete"}, 1),
        secret="whsec_wrong")
    assert forged.status_code == 400 and forged.json()["error"]["code"] == "bad_signature"
    assert status_of(registration, auth, zoe["id"])["status"] == "pending_payment"

    # Pay on the stand-in's checkout page, as the attendee's browser does.
    page = requests.get(zoe["payment_url"])
    assert page.status_code == 200 and "405.00" in page.text
    paid = requests.post(zoe["payment_url"], allow_redirects=False)
    assert paid.status_code == 303 and paid.headers["Location"].startswith(zoe["manage_url"])
    eventually(lambda: status_of(registration, auth, zoe["id"])["status"] == "confirmed")

    # The same event delivered three times changes state once and mails once.
    completed = next(e for e in requests.get(f"{stripe_standin.url}/_standin/events",
                                             params={"type": "checkout.session.completed"}).json()["data"]
                     if e["event"]["data"]["object"]["id"] == checkout["id"])  # the stand-in is the module's
    for _ in range(2):
        requests.post(f"{stripe_standin.url}/_standin/events/{completed['event']['id']}/redeliver").raise_for_status()
    stripe_standin.wait_idle()
    mails = mail_to(sink, "zoe@szpital.example", 2)
    time.sleep(1.5)
    subjects = collections.Counter(m["Subject"] for m in mail_to(sink, "zoe@szpital.example", 2))
    assert subjects["Payment received: Congress of Imaging Informatics"] == 1
    assert subjects["Registration confirmed: Congress of Imaging Informatics"] == 1
    assert any(m["To"] == "zoe@szpital.example" for m in mails)

    person = status_of(registration, auth, zoe["id"])
    assert (person["amount_paid"], person["receipt_number"]) == (40500, person["receipt_number"])
    receipt = requests.get(f"{zoe['manage_url']}/receipt.pdf")
    assert receipt.headers["Content-Type"] == "application/pdf"
    text = " ".join(pdf_text(receipt.content).split())
    for expected in (person["receipt_number"], "ATU12345678", "Zoë Łukasiewicz", "337.50", "67.50", "405.00"):
        assert expected in text, expected

    # Cancelling before the full-refund date refunds all but the fee, through Stripe.
    cancelled = requests.post(f"{registration}/api/v1/registrations/{zoe['id']}/cancel", headers=auth).json()
    assert cancelled["status"] == "refunded"
    eventually(lambda: status_of(registration, auth, zoe["id"])["amount_refunded"] == 40500 - 2500, timeout=30)

    # Someone who cancelled and then pays in a tab still open gets the money back, not the seat.
    third = sign_up(registration, slug, "third@h.example", rate="non-member")
    requests.post(f"{registration}/api/v1/registrations/{third['id']}/cancel", headers=auth).raise_for_status()
    third_checkout = checkout_session(stripe_standin, third["payment_url"])
    eventually(lambda: checkout_session(stripe_standin, f"/{third_checkout['id']}")["status"] == "expired",
               timeout=30)  # the cancellation closed the checkout page
    paid_anyway = {**third_checkout, "status": "complete", "payment_status": "paid", "payment_intent": "pi_test_x"}
    outcome = signed_post(f"{registration}/webhooks/stripe", event_of("checkout.session.completed", paid_anyway, 9))
    assert outcome.json()["outcome"] == "paid too late, no seat: refunded"



def test_expired_hold_releases_the_seat_and_a_late_payment_is_confirmed_or_refunded(world) -> None:  # type: ignore[no-untyped-def]
    stack, stripe_standin, sink, registration, auth, slug = world
    first = sign_up(registration, slug, "first@h.example")
    second = sign_up(registration, slug, "second@h.example")
    waiting = sign_up(registration, slug, "waiting@h.example")
    assert [first["status"], second["status"], waiting["status"]] == ["pending_payment", "pending_payment",
                                                                       "waitlisted"]

    # The first hold runs out: the seat goes to the waiting list, whose person now pays in turn.
    first_session = checkout_session(stripe_standin, first["payment_url"])["id"]
    requests.post(f"{stripe_standin.url}/_standin/checkout/sessions/{first_session}/expire-now").raise_for_status()
    eventually(lambda: status_of(registration, auth, first["id"])["status"] == "cancelled")
    assert status_of(registration, auth, waiting["id"])["status"] == "pending_payment"

    # Out of order: "expired" arrives before "completed" for the second person, and nobody is waiting:
    # the late payment takes the freed seat and is confirmed.
    second_checkout = checkout_session(stripe_standin, second["payment_url"])
    expired = {**second_checkout, "status": "expired"}
    assert signed_post(f"{registration}/webhooks/stripe",
                       event_of("checkout.session.expired", expired, 2)).json()["outcome"] == "hold released"
    paid = {**second_checkout, "status": "complete", "payment_status": "paid", "payment_intent": "pi_test_late"}
    outcome = signed_post(f"{registration}/webhooks/stripe", event_of("checkout.session.completed", paid, 3))
    assert outcome.json()["outcome"] == "confirmed"
    assert status_of(registration, auth, second["id"])["status"] == "confirmed"

    # The same for the first person, whose seat went to someone else: refunded, never oversold.
    late = {**checkout_session(stripe_standin, first["payment_url"]), "status": "complete",
            "payment_status": "paid", "payment_intent": "pi_test_too_late"}
    outcome = signed_post(f"{registration}/webhooks/stripe", event_of("checkout.session.completed", late, 4))
    assert outcome.json()["outcome"] == "paid too late, no seat: refunded"
    assert status_of(registration, auth, first["id"])["status"] == "refunded"
    event = requests.get(f"{registration}/api/v1/events/{slug}", headers=auth).json()
    assert event["seats_taken"] == 2

    # A payment for another amount than asked is not applied.
    # The promoted person pays from their page, which opens a Checkout Session for the new hold.
    to_checkout = requests.get(f"{waiting['manage_url']}/pay", allow_redirects=False)
    assert to_checkout.status_code == 303 and to_checkout.headers["Location"].startswith(stripe_standin.url)
    wrong = {**checkout_session(stripe_standin, to_checkout.headers["Location"]), "status": "complete",
             "payment_status": "paid", "amount_total": 100, "payment_intent": "pi_test_wrong"}
    outcome = signed_post(f"{registration}/webhooks/stripe", event_of("checkout.session.completed", wrong, 5))
    assert outcome.json()["outcome"] == "amount mismatch: not applied"
    assert status_of(registration, auth, waiting["id"])["status"] == "pending_payment"


def test_payment_by_invoice_keeps_the_seat_until_marked_paid_and_a_refund_issues_a_credit_note(world) -> None:  # type: ignore[no-untyped-def]
    stack, stripe_standin, sink, registration, auth, slug = world
    person = sign_up(registration, slug, "radiology@klinikum.example")
    assert person["status"] == "pending_payment" and person["payment_url"]
    invoiced = requests.post(f"{registration}/api/v1/registrations/{person['id']}/invoice", headers=auth, json={
        "name": "Universitätsklinikum Köln, Institut für Radiologie", "address": "Kerpener Str. 62\n50937 Köln",
        "vat_number": "DE123456789", "purchase_order": "PO-2027-0815"})
    assert invoiced.status_code == 201, invoiced.text
    body = invoiced.json()
    assert (body["status"], body["payment_method"]) == ("pending_payment", "invoice")
    assert body["hold_expires_at"] is None and body["invoice_number"].startswith("I")
    again = requests.post(f"{registration}/api/v1/registrations/{person['id']}/invoice", headers=auth, json={
        "name": "Other", "address": "Elsewhere"})
    assert again.json()["invoice_number"] == body["invoice_number"]

    # The card checkout opened at sign-up is expired, and its expiry does not release the seat.
    session_id = checkout_session(stripe_standin, person["payment_url"])["id"]
    eventually(lambda: checkout_session(stripe_standin, f"/{session_id}")["status"] == "expired", timeout=30)
    stripe_standin.wait_idle()
    assert status_of(registration, auth, person["id"])["status"] == "pending_payment"

    text = " ".join(pdf_text(requests.get(f"{person['manage_url']}/invoice.pdf").content).split())
    for expected in (body["invoice_number"], "PO-2027-0815", "DE123456789", "IBAN AT61", "Universitätsklinikum Köln"):
        assert expected in text, expected
    open_list = requests.get(f"{registration}/api/v1/events/{slug}/invoices", headers=auth).json()["items"]
    assert [i["invoice_number"] for i in open_list] == [body["invoice_number"]]
    assert requests.get(f"{registration}/api/v1/events/{slug}/invoices", headers=auth,
                        params={"overdue": "true"}).json()["items"] == []

    paid = requests.post(f"{registration}/api/v1/registrations/{person['id']}/mark-paid", headers=auth).json()
    assert (paid["status"], paid["amount_paid"]) == ("confirmed", 45000)
    subjects = {m["Subject"] for m in mail_to(sink, "radiology@klinikum.example", 3)}
    assert {f"Invoice {body['invoice_number']}: Congress of Imaging Informatics",
            "Payment received: Congress of Imaging Informatics"} <= subjects

    cancelled = requests.post(f"{registration}/api/v1/registrations/{person['id']}/cancel", headers=auth).json()
    assert cancelled["status"] == "refunded"
    credit = " ".join(pdf_text(requests.get(f"{person['manage_url']}/credit-note.pdf").content).split())
    assert body["invoice_number"] in credit and "425.00" in credit  # 450.00 paid, 25.00 fee kept


def review_total(registration: str, slug: str, **fields: str) -> str:
    """The Total row of the sign-up's review step, as a browser without JavaScript gets it (CSRF and all)."""
    browser = requests.Session()
    page = browser.get(f"{registration}/events/{slug}/register").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the sign-up form has no CSRF token"
    review = browser.post(f"{registration}/events/{slug}/register/review", data={
        "csrf_token": token.group(1), "form_key": "vat-review", "given_name": "Zoë", "family_name": "Łukasiewicz",
        "email": "review@h.example", "rate": "member", "consent": "yes", **fields})
    assert review.status_code == 200, review.text
    total = re.search(r'<tr[^>]*id="line-total"[^>]*>(.*?)</tr>', review.text, re.S)
    assert total, "no total on the review step"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", total.group(1))).split())


def test_prices_excluding_vat_are_charged_received_refunded_and_counted_with_their_vat(world) -> None:  # type: ignore[no-untyped-def]
    stack, stripe_standin, sink, registration, auth, slug = world
    patched = requests.patch(f"{registration}/api/v1/events/{slug}", headers=auth,
                             json={"vat_rate": "10", "prices_include_vat": False})
    assert patched.status_code == 200, patched.text
    # Member 450.00, RAD10 takes 45.00: 405.00 net, 40.50 VAT, 445.50 to pay everywhere.
    assert review_total(registration, slug, discount_code="RAD10") == "Total €445.50"
    zoe = sign_up(registration, slug, "net@h.example", discount_code="RAD10")
    assert (zoe["status"], zoe["amount_due"]) == ("pending_payment", 44550)
    checkout = checkout_session(stripe_standin, zoe["payment_url"])
    assert checkout["amount_total"] == 44550

    # Stripe saying it took the net amount is not a payment of this registration.
    short = {**checkout, "status": "complete", "payment_status": "paid", "amount_total": 40500,
             "payment_intent": "pi_test_net_only"}
    outcome = signed_post(f"{registration}/webhooks/stripe", event_of("checkout.session.completed", short, 31))
    assert outcome.json()["outcome"] == "amount mismatch: not applied"
    assert status_of(registration, auth, zoe["id"])["status"] == "pending_payment"

    assert "445.50" in requests.get(zoe["payment_url"]).text
    requests.post(zoe["payment_url"], allow_redirects=False).raise_for_status()
    eventually(lambda: status_of(registration, auth, zoe["id"])["status"] == "confirmed")
    person = status_of(registration, auth, zoe["id"])
    assert (person["amount_due"], person["amount_paid"]) == (44550, 44550)
    receipt = " ".join(pdf_text(requests.get(f"{zoe['manage_url']}/receipt.pdf").content).split())
    for expected in ("450.00", "-45.00", "405.00", "40.50", "445.50"):
        assert expected in receipt, expected
    roster_csv = requests.get(f"{registration}/api/v1/events/{slug}/registrations", headers=auth,
                              params={"format": "csv"}).text
    assert ",44550,44550,0,EUR," in roster_csv, roster_csv

    # Before the full-refund date: all that was paid, VAT included, less the 25.00 fee; the credit note says so.
    cancelled = requests.post(f"{registration}/api/v1/registrations/{zoe['id']}/cancel", headers=auth).json()
    assert cancelled["status"] == "refunded"
    # amount_refunded is Stripe's figure (its charge.refunded webhook): Stripe gave back 420.50.
    eventually(lambda: status_of(registration, auth, zoe["id"])["amount_refunded"] == 44550 - 2500, timeout=30)
    credit = " ".join(pdf_text(requests.get(f"{zoe['manage_url']}/credit-note.pdf").content).split())
    assert "420.50" in credit and "462.55" not in credit  # not 420.50 plus VAT again
