"""Money under concurrency, across gunicorn workers, on SQLite and PostgreSQL: a discount code's last
use goes to exactly one of 50 racing sign-ups, the last seat is held by exactly one of 20 paid
sign-ups and stays one seat when its payment lands (even when Stripe's event arrives many times at
once), and receipt and invoice numbers issued concurrently run without gaps or duplicates.

One stack (registration under gunicorn with 4 workers, its outbox worker, and the in-process
Stripe stand-in delivering signed webhooks to it) serves the whole module, per backend.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
import requests
from sqlalchemy import create_engine, text, update

from devtools.stripe_standin import StripeStandin, signature_header
from registration.models import Registration
from tests.support.databases import BACKENDS, fresh_database
from tests.support.factories import iso
from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

SECRET = "whsec_test_payment_concurrency"
TIMEOUT = 60
MEMBERS = 200
T = TypeVar("T")


def email(n: int) -> str:
    return f"radiologist{n}@hospital.example"


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The conftest's ``backend``, at module scope: one stack per backend serves every test here."""
    return request.param


@dataclass
class World:
    base: str
    standin: StripeStandin
    database_url: str
    stack: Any

    def organiser(self) -> dict[str, str]:
        """A new organisation for each test (document numbers run per organisation), whose member list
        has everyone ``sign_up`` signs up: the member rate is for members only."""
        auth = {"Authorization": f"Bearer {self.stack.create_token(f'society-{uuid.uuid4().hex[:8]}')}"}
        members = "email,name\n" + "".join(f"{email(n)},Ana Núñez {n}\n" for n in range(MEMBERS))
        response = requests.put(f"{self.base}/api/v1/members", headers=auth, timeout=TIMEOUT,
                                files={"file": ("members.csv", members.encode(), "text/csv")})
        assert response.status_code == 200, response.text
        return auth

    def paid_event(self, auth: dict[str, str], capacity: int | None, **extra: Any) -> str:
        slug = f"congress-{uuid.uuid4().hex[:8]}"
        response = requests.post(f"{self.base}/api/v1/events", headers=auth, timeout=TIMEOUT, json={
            "slug": slug, "title": "European Congress of Imaging Informatics", "kind": "conference",
            "starts_at": iso(days=40), "ends_at": iso(days=42), "timezone": "Europe/Vienna", "capacity": capacity,
            "currency": "EUR", "venue": "Vienna", "vat_rate": "20", "prices_include_vat": True, **extra})
        assert response.status_code == 201, response.text
        response = requests.post(f"{self.base}/api/v1/events/{slug}/rates", headers=auth, timeout=TIMEOUT, json={
            "code": "member", "name": "Member", "amount": 45000, "currency": "EUR", "category": "member"})
        assert response.status_code == 201, response.text
        return slug

    def sign_up(self, slug: str, n: int, **extra: Any) -> requests.Response:
        return requests.post(f"{self.base}/api/v1/events/{slug}/registrations", timeout=TIMEOUT, json={
            "email": email(n), "given_name": "Ana", "family_name": f"Núñez {n}",
            "rate": "member", "consent": True, **extra})

    def roster(self, auth: dict[str, str], slug: str) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = requests.get(f"{self.base}/api/v1/events/{slug}/registrations", headers=auth, timeout=TIMEOUT,
                                params={"limit": 1000, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            items += page.json()["items"]
            cursor = page.json()["next_cursor"]
            if not cursor:
                return items

    def event(self, auth: dict[str, str], slug: str) -> dict[str, Any]:
        return requests.get(f"{self.base}/api/v1/events/{slug}", headers=auth, timeout=TIMEOUT).json()

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.standin.url}{path}", timeout=TIMEOUT, **kwargs)
        assert response.status_code < 300, response.text
        return response.json()

    def deliver(self, event: dict[str, Any]) -> requests.Response:
        """Posts a Stripe event to the webhook endpoint, signed as the stand-in (and Stripe) sign it."""
        body = json.dumps(event)
        return requests.post(f"{self.base}/webhooks/stripe", data=body, timeout=TIMEOUT, headers={
            "Stripe-Signature": signature_header(body, SECRET, int(time.time())),
            "Content-Type": "application/json"})

    def set_hold(self, registration_id: int, until: dt.datetime) -> None:
        engine = create_engine(self.database_url)
        try:
            with engine.begin() as conn:
                conn.execute(update(Registration).where(Registration.id == registration_id)
                             .values(hold_expires_at=until))
        finally:
            engine.dispose()

    def scalar(self, sql: str, **params: Any) -> Any:
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.execute(text(sql), params).scalar_one()
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def world(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp(f"payments-{backend}")
    with fresh_database(backend, tmp, "registration") as database_url, \
            StripeStandin(webhook_secret=SECRET) as standin, \
            running_stack(tmp, {"registration": database_url}, workers=4, services=("registration",),
                          STRIPE_API_BASE=standin.url, STRIPE_WEBHOOK_SECRET=SECRET) as stack:
        base = url(stack, "registration")
        requests.post(f"{standin.url}/_standin/webhook", json={"url": f"{base}/webhooks/stripe"},
                      timeout=TIMEOUT).raise_for_status()
        yield World(base, standin, database_url, stack)


def at_once(function: Callable[[int], T], count: int) -> list[T]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(function, range(count)))


def session_id(payment_url: str) -> str:
    return payment_url.rstrip("/").rsplit("/", 1)[-1]


def test_a_discount_codes_last_use_goes_to_exactly_one_of_50_concurrent_sign_ups(world: World) -> None:
    auth = world.organiser()
    slug = world.paid_event(auth, capacity=None)
    response = requests.post(f"{world.base}/api/v1/events/{slug}/discount-codes", headers=auth, timeout=TIMEOUT,
                             json={"code": "RAD20", "percent_off": 20, "max_uses": 3, "rates": ["member"]})
    assert response.status_code == 201, response.text
    # Two of its three uses are taken first: one is left for the race.
    for n in (1, 2):
        early = world.sign_up(slug, n, discount_code="rad20")
        assert early.status_code == 201 and early.json()["amount_due"] == 36000, early.text

    responses = at_once(lambda n: world.sign_up(slug, 100 + n, discount_code="RAD20"), 50)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 422: 49}, {s: [r.text for r in responses if r.status_code == s][:2] for s in statuses}
    winner = next(r.json() for r in responses if r.status_code == 201)
    assert (winner["status"], winner["amount_due"], winner["currency"]) == ("pending_payment", 36000, "EUR")
    assert winner["payment_url"].startswith(world.standin.url)
    checkout = world.control("GET", f"/v1/checkout/sessions/{session_id(winner['payment_url'])}",
                             headers={"Authorization": "Bearer sk_test_checker"})
    assert checkout["amount_total"] == 36000
    for refused in (r for r in responses if r.status_code == 422):
        error = refused.json()["error"]
        assert (error["code"], list(error["fields"])) == ("validation_error", ["discount_code"]), error
        assert "used up" in error["fields"]["discount_code"][0]

    # The roster: the three who got the code at the reduced price, nobody else stored.
    roster = world.roster(auth, slug)
    assert sorted(item["amount_due"] for item in roster) == [36000, 36000, 36000]
    assert sum(item["id"] == winner["id"] for item in roster) == 1
    assert world.event(auth, slug)["seats_taken"] == 3
    assert world.scalar("SELECT uses FROM discount_codes WHERE code = 'RAD20'") == 3

    # Those refused can still register at the full price.
    full = world.sign_up(slug, 100 + next(i for i, r in enumerate(responses) if r.status_code == 422))
    assert full.status_code == 201 and full.json()["amount_due"] == 45000, full.text


def test_the_last_seat_with_payments_in_flight_is_held_once_and_confirmed_once(world: World) -> None:
    auth = world.organiser()
    slug = world.paid_event(auth, capacity=1)

    responses = at_once(lambda n: world.sign_up(slug, n), 20)

    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses if r.status_code != 201]
    results = [r.json() for r in responses]
    holding = [r for r in results if r["status"] == "pending_payment"]
    waiting = sorted((r for r in results if r["status"] == "waitlisted"), key=lambda r: r["id"])
    assert (len(holding), len(waiting)) == (1, 19)
    assert holding[0]["payment_url"] and all(r["payment_url"] is None for r in waiting)
    assert [r["waitlist_position"] for r in waiting] == list(range(1, 20))
    assert world.event(auth, slug)["seats_taken"] == 1

    # The holder pays while Stripe's deliveries are held back; then the same completed event lands
    # ten times at once (Stripe retries, two endpoints' worth of redeliveries), and once more from
    # the stand-in's own queue.
    checkout = session_id(holding[0]["payment_url"])
    world.control("POST", "/_standin/hold")
    try:
        world.control("POST", f"/_standin/checkout/sessions/{checkout}/pay", json={"outcome": "paid"})
        completed = [e["event"] for e in world.control("GET", "/_standin/events",
                                                       params={"type": "checkout.session.completed"})["data"]
                     if e["event"]["data"]["object"]["id"] == checkout]
        assert len(completed) == 1
        deliveries = at_once(lambda _: world.deliver(completed[0]), 10)
    finally:
        world.control("POST", "/_standin/release", json={})
    world.standin.wait_idle(timeout=30)

    assert [d.status_code for d in deliveries] == [200] * 10, [d.text for d in deliveries]
    outcomes = Counter(d.json()["outcome"] for d in deliveries)
    assert outcomes["confirmed"] == 1 and set(outcomes) <= {"confirmed", "duplicate"}, outcomes
    roster = {item["id"]: item for item in world.roster(auth, slug)}
    holder = roster[holding[0]["id"]]
    assert (holder["status"], holder["amount_paid"], holder["payment_method"]) == ("confirmed", 45000, "card")
    assert holder["receipt_number"]
    assert Counter(item["status"] for item in roster.values()) == {"confirmed": 1, "waitlisted": 19}
    assert world.event(auth, slug)["seats_taken"] == 1
    assert world.scalar("SELECT COUNT(*) FROM documents WHERE registration_id = :id AND kind = 'receipt'",
                        id=holding[0]["id"]) == 1


def test_receipt_and_invoice_numbers_issued_concurrently_are_gapless_and_unique(world: World) -> None:
    # One organisation, two events: the event locks do not queue the two events' documents, only the
    # organisation's counter row does (and both series start in the race, so the row is created in it).
    auth = world.organiser()
    slugs = [world.paid_event(auth, capacity=100, allows_invoice=True, invoice_due_days=30) for _ in range(2)]
    year = dt.datetime.now(dt.UTC).year

    signups = at_once(lambda n: world.sign_up(slugs[n % 2], n), 60)
    assert [r.status_code for r in signups] == [201] * 60, [r.text for r in signups if r.status_code != 201]
    people = [r.json() for r in signups]
    assert {p["status"] for p in people} == {"pending_payment"}
    card, invoiced = people[:30], people[30:]  # 15 of each per event

    # 30 card payments, paid at the stand-in while its deliveries are held; then their completed
    # events are delivered all at once, so 30 receipts are numbered concurrently; and 30 invoices to
    # institutions are issued at the same time.
    def invoice(n: int) -> requests.Response:
        return requests.post(f"{world.base}/api/v1/registrations/{invoiced[n]['id']}/invoice", headers=auth,
                             timeout=TIMEOUT, json={"name": f"Klinikum {n}", "address": "Kerpener Str. 62\n50937 Köln",
                                                    "vat_number": "DE123456789", "purchase_order": f"PO-{n}"})

    world.control("POST", "/_standin/hold")
    try:
        at_once(lambda n: world.control("POST", f"/_standin/checkout/sessions/{session_id(card[n]['payment_url'])}"
                                                "/pay", json={}), 30)
        sessions = {session_id(p["payment_url"]) for p in card}
        completed = [e["event"] for e in world.control("GET", "/_standin/events",
                                                       params={"type": "checkout.session.completed"})["data"]
                     if e["event"]["data"]["object"]["id"] in sessions]
        assert len(completed) == 30
        answers = at_once(lambda n: world.deliver(completed[n // 2]) if n % 2 == 0 else invoice(n // 2), 60)
    finally:
        world.control("POST", "/_standin/release", json={})  # the stand-in's own deliveries: replays, no-ops
    deliveries, invoices = answers[0::2], answers[1::2]
    assert [d.status_code for d in deliveries] == [200] * 30, [d.text for d in deliveries if d.status_code != 200]
    assert Counter(d.json()["outcome"] for d in deliveries) == {"confirmed": 30}
    assert [r.status_code for r in invoices] == [201] * 30, [r.text for r in invoices if r.status_code != 201]

    expected_receipts = [f"R{year}-{n:06d}" for n in range(1, 31)]
    expected_invoices = [f"I{year}-{n:06d}" for n in range(1, 31)]
    assert sorted(r.json()["invoice_number"] for r in invoices) == expected_invoices

    roster = {item["id"]: item for slug in slugs for item in world.roster(auth, slug)}
    paid = [roster[p["id"]] for p in card]
    assert {(p["status"], p["amount_paid"], p["invoice_number"]) for p in paid} == {("confirmed", 45000, None)}
    assert sorted(p["receipt_number"] for p in paid) == expected_receipts
    billed = [roster[p["id"]] for p in invoiced]
    assert {(p["status"], p["payment_method"], p["receipt_number"]) for p in billed} == {
        ("pending_payment", "invoice", None)}
    assert sorted(p["invoice_number"] for p in billed) == expected_invoices

    # The stand-in's own (late) deliveries of the same events were replays: nothing changed.
    world.standin.wait_idle(timeout=30)
    replays = [e for e in world.control("GET", "/_standin/events", params={"type": "checkout.session.completed"})["data"]
               if e["event"]["data"]["object"]["id"] in sessions]
    assert {(e["state"], e["last_status"]) for e in replays} == {("delivered", 200)}
    roster = {item["id"]: item for slug in slugs for item in world.roster(auth, slug)}
    assert Counter(item["status"] for item in roster.values()) == {"confirmed": 30, "pending_payment": 30}
    assert [world.event(auth, slug)["seats_taken"] for slug in slugs] == [30, 30]
    organisation = world.scalar("SELECT organisation_id FROM events WHERE slug = :slug", slug=slugs[0])
    for kind in ("receipt", "invoice"):
        assert world.scalar("SELECT COUNT(*) FROM documents WHERE organisation_id = :org AND kind = :kind",
                            org=organisation, kind=kind) == 30
        assert world.scalar("SELECT last_value FROM document_counters WHERE organisation_id = :org AND kind = :kind",
                            org=organisation, kind=kind) == 30


def test_an_invoice_asked_for_several_times_at_once_is_issued_once_to_one_institution(world: World) -> None:
    """A double-clicked "request invoice" (or an organiser's retry racing the attendee's request)."""
    auth = world.organiser()
    slug = world.paid_event(auth, capacity=10, allows_invoice=True)
    person = world.sign_up(slug, 1).json()

    def invoice(n: int) -> requests.Response:
        return requests.post(f"{world.base}/api/v1/registrations/{person['id']}/invoice", headers=auth,
                             timeout=TIMEOUT, json={"name": f"Institution {n}", "address": f"Street {n}\nCity",
                                                    "purchase_order": f"PO-{n}"})

    answers = at_once(invoice, 8)
    assert [r.status_code for r in answers] == [201] * 8, [r.text for r in answers]
    year = dt.datetime.now(dt.UTC).year
    assert {r.json()["invoice_number"] for r in answers} == {f"I{year}-000001"}
    assert world.scalar("SELECT COUNT(*) FROM documents WHERE registration_id = :id", id=person["id"]) == 1

    # The institution on record is the one the invoice was made out to.
    listed = requests.get(f"{world.base}/api/v1/events/{slug}/invoices", headers=auth, timeout=TIMEOUT).json()["items"]
    assert len(listed) == 1
    text = " ".join(pdf_text(requests.get(f"{person['manage_url']}/invoice.pdf", timeout=TIMEOUT).content).split())
    billing = listed[0]["billing"]
    assert billing["name"] in text and billing["purchase_order"] in text, (billing, text)


def test_refund_events_arriving_at_once_leave_the_largest_refunded_amount(world: World) -> None:
    """``charge.refunded`` carries the charge's cumulative amount_refunded; deliveries race and come in any order."""
    auth = world.organiser()
    slug = world.paid_event(auth, capacity=10)
    person = world.sign_up(slug, 1).json()
    checkout = world.control("POST", f"/_standin/checkout/sessions/{session_id(person['payment_url'])}/pay", json={})
    world.standin.wait_idle(timeout=30)
    assert world.roster(auth, slug)[0]["status"] == "confirmed"

    steps = 40
    events = [{
        "id": f"evt_refund_{uuid.uuid4().hex}", "object": "event", "type": "charge.refunded",
        "api_version": "2026-10-28.endive", "created": int(time.time()), "livemode": False, "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": {"id": "ch_test_refunds", "object": "charge", "amount": 45000,
                            "amount_refunded": 1500 * (n + 1), "refunded": n + 1 == steps, "currency": "eur",
                            "payment_intent": checkout["payment_intent"]}},
    } for n in range(steps)]
    random.shuffle(events)

    answers = at_once(lambda n: world.deliver(events[n]), steps)

    assert Counter(a.json()["outcome"] for a in answers) == {"refund recorded": steps}
    assert world.roster(auth, slug)[0]["amount_refunded"] == 1500 * steps


def test_a_seat_freed_by_an_expired_hold_goes_to_the_waiting_list_whose_first_person_can_still_pay(
        world: World) -> None:
    auth = world.organiser()
    slug = world.paid_event(auth, capacity=1)
    results = [r.json() for r in at_once(lambda n: world.sign_up(slug, n), 10)]
    [holder] = [r for r in results if r["status"] == "pending_payment"]
    first_waiting = min((r for r in results if r["status"] == "waitlisted"), key=lambda r: r["id"])

    # The holder never pays: Stripe expires the session, the seat goes to the first on the waiting list.
    world.control("POST", f"/_standin/checkout/sessions/{session_id(holder['payment_url'])}/expire-now")
    world.standin.wait_idle(timeout=30)
    roster = {item["id"]: item for item in world.roster(auth, slug)}
    assert roster[holder["id"]]["status"] == "cancelled"
    promoted = roster[first_waiting["id"]]
    assert promoted["status"] == "pending_payment" and promoted["hold_expires_at"]
    assert Counter(item["status"] for item in roster.values()) == {"cancelled": 1, "pending_payment": 1,
                                                                   "waitlisted": 8}
    assert world.event(auth, slug)["seats_taken"] == 1

    # They read the mail and click "Pay" eleven minutes later, when 20 minutes of their hold are left
    # (time moved on in the database: the hold began earlier). Stripe refuses a Checkout Session that
    # expires within 30 minutes, so the hold is renewed to that minimum when they come to pay.
    world.set_hold(first_waiting["id"], dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20))
    to_checkout = requests.get(f"{first_waiting['manage_url']}/pay", allow_redirects=False, timeout=TIMEOUT)
    assert to_checkout.status_code == 303
    assert to_checkout.headers["Location"].startswith(f"{world.standin.url}/pay/cs_test_"), (
        "the promoted attendee is not sent to pay: " + to_checkout.headers["Location"])
    checkout = world.control("GET", f"/v1/checkout/sessions/{session_id(to_checkout.headers['Location'])}",
                             headers={"Authorization": "Bearer sk_test_checker"})
    assert checkout["expires_at"] - time.time() > 30 * 60
    world.control("POST", f"/_standin/checkout/sessions/{checkout['id']}/pay", json={})
    world.standin.wait_idle(timeout=30)

    roster = {item["id"]: item for item in world.roster(auth, slug)}
    assert (roster[first_waiting["id"]]["status"], roster[first_waiting["id"]]["amount_paid"]) == ("confirmed", 45000)
    assert Counter(item["status"] for item in roster.values()) == {"cancelled": 1, "confirmed": 1, "waitlisted": 8}
    assert world.event(auth, slug)["seats_taken"] == 1
