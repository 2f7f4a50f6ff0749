"""A registration's lifecycle (services/lifecycle.py), transition by transition: the status, the hold,
the timestamps, the seats, the mails it returns, and what it does when it is not valid from the
current state (a webhook that comes twice, an organiser's second click)."""
from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from registration.models import DiscountCode, Event, Outbox, Registration
from registration.schemas.events import DiscountCodeInput, EventInput, RateInput
from registration.schemas.registrations import SignUpInput
from registration.services import capacity, events, lifecycle, organisations, pricing, signup
from registration.services.lifecycle import MIN_HOLD, Transition, TransitionRefused
from suite_common.outbox import OutboxRow
from tests.support.factories import event_payload, signup_payload

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
LATER = NOW + dt.timedelta(minutes=5)
PRICE = 30000


@pytest.fixture
def org_id(db_session: Session) -> int:
    return organisations.get_or_create_organisation(db_session, "society-a", "Society A").id


def new_event(session: Session, org_id: int, amount: int = 0, approval: bool = False, **overrides: Any) -> Event:
    event = events.create_event(session, org_id, EventInput().load(event_payload(kind="conference", **overrides)))
    events.add_rate(session, event, RateInput().load({
        "code": "standard", "name": "Standard", "amount": amount, "currency": "EUR", "category": "other",
        "requires_approval": approval}))
    return event


def join(session: Session, event: Event, **overrides: Any) -> Registration:
    data = SignUpInput().load(signup_payload(rate="standard", **overrides))
    return signup.sign_up(session, event, data, now=NOW).registration


def seats(session: Session, event: Event) -> int:
    return session.scalar(select(Event.seats_taken).where(Event.id == event.id))


def code_uses(session: Session) -> int:
    return session.scalar(select(DiscountCode.uses))


def kinds(mails: list[OutboxRow], *people: Registration) -> list[str]:
    """The mails' outbox keys without the registration's reference: what is said to whom, in order."""
    names = {f"reg:{person.reference}:": f"{i}:" for i, person in enumerate(people)}
    found = []
    for mail in mails:
        key = mail["idempotency_key"]
        for prefix, name in names.items():
            key = key.replace(prefix, name)
        found.append(key)
    return found


def hold(event: Event, at: dt.datetime) -> dt.datetime:
    return at + max(dt.timedelta(minutes=event.seat_hold_minutes), MIN_HOLD)


# --- the hold rule ------------------------------------------------------------------------


@pytest.mark.parametrize("minutes, held", [(30, 31), (45, 45), (1440, 1440)])
def test_a_hold_is_the_events_but_never_shorter_than_stripes_checkout_minimum(db_session, org_id, minutes, held):
    event = new_event(db_session, org_id, amount=PRICE, seat_hold_minutes=minutes)
    assert lifecycle.hold_until(event, NOW) == NOW + dt.timedelta(minutes=held)
    person = join(db_session, event)
    assert (person.status, person.hold_expires_at) == ("pending_payment", NOW + dt.timedelta(minutes=held))


def test_a_seat_from_the_waiting_list_is_held_by_the_same_rule_as_at_sign_up(db_session, org_id):
    event = new_event(db_session, org_id, amount=PRICE, capacity=0, seat_hold_minutes=30)
    waiting = join(db_session, event)
    capacity.set_capacity(db_session, event, 1)
    moved = lifecycle.promote(db_session, event.id, LATER)
    assert moved.promoted == [waiting]
    assert (waiting.status, waiting.hold_expires_at, waiting.updated_at) == ("pending_payment", LATER + MIN_HOLD, LATER)
    assert kinds(moved.mails, waiting) == ["0:registration_promoted"], "no ticket or reminders before payment"


def test_a_checkout_renews_an_old_hold_to_the_minimum_only_once_stripe_answered(db_session, org_id):
    event = new_event(db_session, org_id, amount=PRICE, seat_hold_minutes=30)
    person = join(db_session, event)
    late = NOW + dt.timedelta(minutes=25)
    end = lifecycle.checkout_hold_end(person, late)
    assert end == late + MIN_HOLD and person.hold_expires_at == NOW + MIN_HOLD, "nothing changed before Stripe answers"
    lifecycle.checkout_opened(person, "cs_test_1", "https://checkout.example/cs_test_1", end)
    assert (person.checkout_session_id, person.hold_expires_at) == ("cs_test_1", end)
    assert lifecycle.checkout_hold_end(person, NOW) == end, "a hold longer than the minimum is kept"


# --- sign-up ------------------------------------------------------------------------------


def test_initial_state_of_a_sign_up(db_session, org_id):
    free, paid = new_event(db_session, org_id), new_event(db_session, org_id, amount=PRICE)
    approval = new_event(db_session, org_id, approval=True)
    assert lifecycle.initial_state(free, free.rates[0], True, 0, NOW) == ("confirmed", None)
    assert lifecycle.initial_state(paid, paid.rates[0], True, PRICE, NOW) == ("pending_payment", hold(paid, NOW))
    assert lifecycle.initial_state(paid, paid.rates[0], False, PRICE, NOW) == ("waitlisted", None)
    assert lifecycle.initial_state(approval, approval.rates[0], False, 0, NOW) == ("pending_approval", None)


def test_sign_up_mails_by_outcome(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    confirmed, waiting = join(db_session, event), join(db_session, event)
    assert kinds(lifecycle.signed_up(confirmed, None, NOW, None), confirmed)[:2] == [
        "0:registration_confirmed", "0:reminder:7d:v0"]
    assert lifecycle.signed_up(confirmed, None, NOW, [{"idempotency_key": "built"}]) == [{"idempotency_key": "built"}]
    assert kinds(lifecycle.signed_up(waiting, 1, NOW, None), waiting) == ["0:waitlisted"]
    pending = join(db_session, new_event(db_session, org_id, approval=True))
    assert kinds(lifecycle.signed_up(pending, None, NOW, None), pending) == ["0:approval_pending"]


# --- the organiser's decision -------------------------------------------------------------


@pytest.mark.parametrize("amount, room, status, then", [
    (0, 1, "confirmed", "registration_confirmed"),
    (PRICE, 1, "pending_payment", None),
    (0, 0, "waitlisted", "waitlisted"),
])
def test_approve_takes_a_seat_as_a_sign_up_would(db_session, org_id, amount, room, status, then):
    event = new_event(db_session, org_id, amount=amount, approval=True, capacity=room)
    person = join(db_session, event)
    assert (person.status, seats(db_session, event)) == ("pending_approval", 0)

    approved = lifecycle.approve(db_session, person, LATER)
    assert (person.status, person.approved_at, person.updated_at) == (status, LATER, LATER)
    assert person.hold_expires_at == (hold(event, LATER) if status == "pending_payment" else None)
    assert seats(db_session, event) == room
    said = kinds(approved.mails, person)
    assert said[0] == "0:approval_granted"
    assert said[1:2] == ([f"0:{then}"] if then else [])


def test_approve_or_reject_twice_is_refused_and_changes_nothing(db_session, org_id):
    event = new_event(db_session, org_id, approval=True)
    person = join(db_session, event)
    lifecycle.approve(db_session, person, LATER)
    for decide in (lambda: lifecycle.approve(db_session, person, LATER),
                   lambda: lifecycle.reject(db_session, person, "late", LATER)):
        with pytest.raises(TransitionRefused) as refused:
            decide()
        assert (refused.value.code, refused.value.fields) == ("conflict", {"status": ["confirmed"]})
    assert (person.status, person.rejected_at, seats(db_session, event)) == ("confirmed", None, 1)


def test_reject_cancels_gives_back_the_discount_use_and_says_why(db_session, org_id):
    event = new_event(db_session, org_id, approval=True)
    pricing.add_code(db_session, event, DiscountCodeInput().load({"code": "ONCE", "percent_off": 10, "max_uses": 1}))
    person = join(db_session, event, discount_code="ONCE")
    assert code_uses(db_session) == 1

    rejected = lifecycle.reject(db_session, person, "No proof of training", LATER)
    assert (person.status, person.cancelled_at, person.rejected_at, person.rejection_reason) == (
        "cancelled", LATER, LATER, "No proof of training")
    assert (code_uses(db_session), seats(db_session, event)) == (0, 0)
    assert kinds(rejected.mails, person) == ["0:approval_rejected"]
    assert rejected.mails[0]["body"]["context"]["approval"] == {"reason": "No proof of training"}


# --- the waiting list ---------------------------------------------------------------------


def test_promote_fills_free_seats_in_arrival_order_and_stops_when_full(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    first, second, third = (join(db_session, event) for _ in range(3))
    assert lifecycle.promote(db_session, event.id, LATER).promoted == []

    moved = lifecycle.change_capacity(db_session, event, 2, LATER)
    assert moved.promoted == [second] and (second.status, second.updated_at) == ("confirmed", LATER)
    assert third.status == "waitlisted" and event.seats_taken == 2
    assert kinds(moved.mails, second)[:2] == ["0:registration_promoted", "0:reminder:7d:v0"]
    assert lifecycle.change_capacity(db_session, event, 1, LATER).promoted == [], "a smaller capacity takes nothing"
    assert [p.status for p in (first, second, third)] == ["confirmed", "confirmed", "waitlisted"]


# --- holds ----------------------------------------------------------------------------------


def held_event(session: Session, org_id: int, **overrides: Any) -> tuple[Event, Registration, Registration]:
    """A one-seat paid event with a discount code: one person holds the seat (with the code), one waits."""
    event = new_event(session, org_id, amount=PRICE, capacity=1, **overrides)
    pricing.add_code(session, event, DiscountCodeInput().load({"code": "SAVE", "percent_off": 10, "max_uses": 1}))
    holder = join(session, event, discount_code="SAVE")
    waiting = join(session, event)
    holder.checkout_session_id = "cs_holder"
    return event, holder, waiting


def test_a_checkout_that_ended_releases_the_hold_once_and_the_seat_goes_to_the_waiting_list(db_session, org_id):
    event, holder, waiting = held_event(db_session, org_id)
    assert lifecycle.checkout_ended(db_session, holder, "cs_other", LATER) is None, "another checkout's event"

    released = lifecycle.checkout_ended(db_session, holder, "cs_holder", LATER)
    assert (holder.status, holder.cancelled_by, holder.cancelled_at, holder.updated_at) == (
        "cancelled", "hold_expired", LATER, LATER)
    assert released.promoted == [waiting] and waiting.status == "pending_payment"
    assert (seats(db_session, event), code_uses(db_session)) == (1, 0), "the seat moved on, the code's use came back"
    said = kinds(released.mails, holder, waiting)
    assert said[0] == "0:cancelled:hold_expired" and said[-1] == "1:registration_promoted"
    assert "cancel:0:reminder:1d:v0" in said

    assert lifecycle.checkout_ended(db_session, holder, "cs_holder", LATER) is None, "the webhook came twice"


def test_a_hold_without_checkout_is_released_only_once_it_ran_out(db_session, org_id):
    event, holder, _waiting = held_event(db_session, org_id)
    holder.checkout_session_id = None
    assert lifecycle.hold_ran_out(db_session, holder, holder.hold_expires_at) is None, "not yet over"
    assert lifecycle.hold_ran_out(db_session, holder, holder.hold_expires_at + dt.timedelta(seconds=1)) is not None
    assert holder.cancelled_by == "hold_expired"
    with_checkout = join(db_session, event)  # waits
    with_checkout.checkout_session_id = "cs_2"
    assert lifecycle.hold_ran_out(db_session, with_checkout, NOW + dt.timedelta(days=1)) is None, "not held"


def test_an_open_invoice_keeps_its_seat_without_a_hold_and_no_release_takes_it(db_session, org_id):
    event, holder, _waiting = held_event(db_session, org_id)
    lifecycle.hold_for_invoice(holder, LATER)
    assert (holder.status, holder.payment_method, holder.hold_expires_at, holder.updated_at) == (
        "pending_payment", "invoice", None, LATER)
    assert lifecycle.checkout_ended(db_session, holder, "cs_holder", LATER) is None
    assert lifecycle.hold_ran_out(db_session, holder, NOW + dt.timedelta(days=30)) is None
    assert seats(db_session, event) == 1


# --- payment --------------------------------------------------------------------------------


def test_pay_confirms_with_a_receipt_once(db_session, org_id):
    event, holder, _waiting = held_event(db_session, org_id)
    paid = lifecycle.pay(db_session, holder, holder.amount_due, "pi_1", LATER)
    assert (holder.status, holder.paid_at, holder.amount_paid, holder.payment_intent_id) == (
        "confirmed", LATER, holder.amount_due, "pi_1")
    assert holder.receipt_number and paid.refund == 0
    assert kinds(paid.mails, holder)[:2] == ["0:paid", "0:registration_confirmed"]
    assert seats(db_session, event) == 1
    assert lifecycle.pay(db_session, holder, holder.amount_due, "pi_1", LATER) is None, "the webhook came twice"


def test_a_payment_after_the_hold_was_released_takes_the_seat_again_if_it_is_free(db_session, org_id):
    event = new_event(db_session, org_id, amount=PRICE, capacity=1)
    person = join(db_session, event)
    person.checkout_session_id = "cs_1"
    lifecycle.checkout_ended(db_session, person, "cs_1", LATER)
    assert seats(db_session, event) == 0

    paid = lifecycle.pay(db_session, person, PRICE, "pi_1", LATER)
    assert (person.status, person.cancelled_at, person.cancelled_by) == ("confirmed", None, None)
    assert seats(db_session, event) == 1 and paid.refund == 0


def test_a_payment_whose_seat_went_to_someone_else_is_refunded_in_full_and_takes_nothing(db_session, org_id):
    event, holder, waiting = held_event(db_session, org_id)
    lifecycle.checkout_ended(db_session, holder, "cs_holder", LATER)
    assert waiting.status == "pending_payment"

    paid = lifecycle.pay(db_session, holder, holder.amount_due, "pi_late", LATER)
    assert (holder.status, holder.cancelled_at, holder.paid_at) == ("refunded", LATER, LATER)
    assert paid.refund == holder.amount_due == 27000
    assert kinds(paid.mails, holder) == ["0:cancelled:paid_too_late"]
    assert paid.mails[0]["body"]["context"]["refund"] == {"amount": "€270.00"}
    assert (seats(db_session, event), code_uses(db_session)) == (1, 0)


def test_confirm_by_invoice_once_and_only_for_an_open_invoice(db_session, org_id):
    event, holder, _waiting = held_event(db_session, org_id)
    with pytest.raises(TransitionRefused) as refused:
        lifecycle.confirm_by_invoice(holder, LATER)
    assert refused.value.code == "not_invoiced" and holder.status == "pending_payment"

    lifecycle.hold_for_invoice(holder, NOW)
    holder.invoice_number = "I-2026-0001"
    confirmed = lifecycle.confirm_by_invoice(holder, LATER)
    assert (holder.status, holder.paid_at, holder.amount_paid, holder.updated_at) == (
        "confirmed", LATER, holder.amount_due, LATER)
    assert kinds(confirmed.mails, holder)[:2] == ["0:paid", "0:registration_confirmed"]
    assert confirmed.mails[0]["body"]["context"]["payment"]["receipt_number"] == "I-2026-0001"
    assert lifecycle.confirm_by_invoice(holder, LATER) is None, "marked paid twice"
    assert seats(db_session, event) == 1

    with pytest.raises(TransitionRefused) as refused:
        lifecycle.hold_for_invoice(holder, LATER)
    assert refused.value.code == "not_awaiting_payment"


# --- cancelling ---------------------------------------------------------------------------


def test_cancel_gives_the_seat_to_the_waiting_list_once(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    person, waiting = join(db_session, event), join(db_session, event)
    cancelled = lifecycle.cancel(db_session, person, LATER)
    assert (person.status, person.cancelled_by, person.cancelled_at, person.updated_at) == (
        "cancelled", "request", LATER, LATER)
    assert cancelled.promoted == [waiting] and waiting.status == "confirmed"
    assert cancelled.refund == 0 and seats(db_session, event) == 1
    said = kinds(cancelled.mails, person, waiting)
    assert said[0] == "0:cancelled" and "cancel:0:reminder:7d:v0" in said and "1:registration_promoted" in said
    assert lifecycle.cancel(db_session, person, LATER) is None, "cancelled already"


def test_cancel_while_waiting_frees_no_seat_and_sends_no_calendar_cancellation(db_session, org_id):
    event = new_event(db_session, org_id, capacity=0)
    waiting = join(db_session, event)
    cancelled = lifecycle.cancel(db_session, waiting, LATER)
    assert (waiting.status, cancelled.promoted, seats(db_session, event)) == ("cancelled", [], 0)
    assert kinds(cancelled.mails, waiting) == ["0:cancelled"]
    assert cancelled.mails[0]["body"]["attachments"] == []


@pytest.mark.parametrize("policy, status, refund", [
    ({}, "refunded", PRICE),  # no policy: refunded in full
    ({"refund_full_until": (NOW + dt.timedelta(days=1)).isoformat(), "cancellation_fee": 2500}, "refunded", 27500),
    ({"refund_full_until": (NOW - dt.timedelta(days=2)).isoformat(),
      "refund_partial_until": (NOW - dt.timedelta(days=1)).isoformat()}, "cancelled", 0),
])
def test_cancelling_a_paid_seat_refunds_what_the_policy_gives(db_session, org_id, policy, status, refund):
    event = new_event(db_session, org_id, amount=PRICE, **policy)
    person = join(db_session, event)
    lifecycle.pay(db_session, person, PRICE, "pi_1", NOW)
    cancelled = lifecycle.cancel(db_session, person, LATER)
    assert (person.status, cancelled.refund, seats(db_session, event)) == (status, refund, 0)
    amount = cancelled.mails[0]["body"]["context"]["refund"]["amount"]
    assert amount == (f"€{refund / 100:.2f}" if refund else None)


def test_only_the_lifecycle_assigns_a_status(db_session, org_id):
    """The rule of this module, as the code stands: no other module of the service writes ``.status =``."""
    import pathlib
    import re

    import registration
    root = pathlib.Path(registration.__file__).parent
    writers = {path.relative_to(root).as_posix() for path in root.rglob("*.py")
               if "migrations" not in path.parts and re.search(r"\.status\s*=[^=]", path.read_text())}
    assert writers == {"services/lifecycle.py"}


def test_a_transition_is_a_value_its_caller_queues(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    person = join(db_session, event)
    before = db_session.scalar(select(Outbox.id).order_by(Outbox.id.desc()).limit(1))
    cancelled = lifecycle.cancel(db_session, person, LATER)
    assert isinstance(cancelled, Transition) and cancelled.mails
    assert db_session.scalar(select(Outbox.id).order_by(Outbox.id.desc()).limit(1)) == before, "nothing queued yet"
