"""A registration's lifecycle: the only code that assigns its status (as Indico's ``update_state``).

::

    sign-up ──► pending_approval ──approve──► (a seat is granted, or waitlisted)
       │              └──reject──► cancelled
       ├──► waitlisted ──promote──► (a seat is granted)
       └──► a seat is granted: confirmed (free, or paid), or pending_payment with a hold
    pending_payment ──pay / confirm_by_invoice──► confirmed
    pending_payment ──hold released (checkout ended, or the hold ran out)──► cancelled (hold_expired)
    cancelled (hold_expired) ──pay, late──► confirmed if its seats are free again, else refunded
    any live status ──cancel──► cancelled, or refunded when the event's policy gives money back

Each transition sets the status, the hold (``hold_expires_at``), the timestamps and the seats
(through ``capacity``), checks first that it is valid from the current state, and returns a
``Transition``: the mails to queue (``notify.queue``), who moved up from the waiting list, and the
money to give back. The caller owns the rest: it holds the event lock (``capacity.lock_event``)
and has refreshed the registration under it, and it makes the calls to Stripe (``payments``).

Webhooks arrive twice and out of order, so a transition that is no longer valid is a no-op
(``None``) where a webhook or a retry can ask for it, and ``TransitionRefused`` where a person
asked for it and must be told.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.outbox import OutboxRow

from ..models import Event, Rate, Registration, RegistrationStatus, RegistrationWorkshop
from . import capacity, notify, pricing, receipts
from .zoom import registrants as zoom_registrants

# A card hold becomes the Checkout Session's ``expires_at``, and Stripe refuses a session that
# expires less than 30 minutes after it is created: no hold is shorter, with a minute's margin.
MIN_HOLD = dt.timedelta(minutes=31)


class TransitionRefused(Exception):
    """A person asked for a transition that is not valid from the registration's current state
    (the app answers 409 with ``code``, ``message`` and ``fields``)."""

    def __init__(self, code: str, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.fields = fields


@dataclass
class Transition:
    """What a transition leaves for its caller to do, in the same transaction."""

    # The outbox rows to queue: the mails, and for a Zoom-linked event the registrant's sync
    # (a confirmation of such an event is the sync, which sends the mails: ``notify.confirmation``).
    mails: list[OutboxRow] = field(default_factory=list)
    promoted: list[Registration] = field(default_factory=list)
    # What to pay back (``payments.refund``), in minor units of the registration's currency.
    refund: int = 0


def hold_until(event: Event, now: dt.datetime) -> dt.datetime:
    """The end of a seat held for card payment that starts now: the event's hold, at least ``MIN_HOLD``."""
    return now + max(dt.timedelta(minutes=event.seat_hold_minutes), MIN_HOLD)


def _seat_state(event: Event, amount_due: int, paid: bool, now: dt.datetime
                ) -> tuple[RegistrationStatus, dt.datetime | None]:
    """A seat was taken: held for payment while something is due and unpaid, else confirmed."""
    if amount_due > 0 and not paid:
        return RegistrationStatus.PENDING_PAYMENT, hold_until(event, now)
    return RegistrationStatus.CONFIRMED, None


def _grant_seat(registration: Registration, now: dt.datetime) -> None:
    """The registration has just taken a seat (the caller's ``capacity.take_seat``)."""
    registration.status, registration.hold_expires_at = _seat_state(
        registration.event, registration.amount_due, registration.paid_at is not None, now)
    registration.updated_at = now


# --- sign-up ----------------------------------------------------------------------------


def initial_state(event: Event, rate: Rate, seated: bool, amount_due: int, now: dt.datetime
                  ) -> tuple[RegistrationStatus, dt.datetime | None]:
    """The status and hold a new registration is inserted with, after ``seated`` told whether it took a seat."""
    if rate.requires_approval:
        return RegistrationStatus.PENDING_APPROVAL, None
    if not seated:
        return RegistrationStatus.WAITLISTED, None
    return _seat_state(event, amount_due, False, now)


def likely_confirmation(fields: dict[str, Any], event: Event, rate: Rate, now: dt.datetime
                        ) -> list[OutboxRow] | None:
    """The confirmation a sign-up will very likely send (a free seat at a free rate, as the event was
    read), built before the event lock so that its CPU is not spent while others wait; None otherwise."""
    looks_free = event.capacity is None or event.seats_taken < event.capacity
    if rate.requires_approval or fields["amount_due"] > 0 or not looks_free:
        return None
    registration = Registration(**fields, status=RegistrationStatus.CONFIRMED, event=event, rate=rate)
    return notify.confirmation(registration, now)


def signed_up(registration: Registration, position: int | None, now: dt.datetime,
              confirmation: list[OutboxRow] | None) -> list[OutboxRow]:
    """The mails of a new registration; ``confirmation`` from ``likely_confirmation`` if it was built."""
    if registration.status == RegistrationStatus.CONFIRMED and confirmation is not None:
        return confirmation
    if registration.status == RegistrationStatus.PENDING_APPROVAL:
        return notify.approval_pending(registration)
    return notify.signed_up(registration, position, now)


# --- the organiser's decision -------------------------------------------------------------


def _not_pending(registration: Registration, verb: str) -> TransitionRefused:
    status = registration.status.replace("_", " ")
    return TransitionRefused("conflict", f"Only a registration awaiting approval can be {verb}; this one is {status}.",
                             {"status": [registration.status]})


def approve(session: Session, registration: Registration, now: dt.datetime) -> Transition:
    """Takes a seat as a sign-up does: free → confirmed, paid → pending_payment with a hold,
    full → waitlisted; the attendee hears of the approval, then what a sign-up would have said."""
    if registration.status != RegistrationStatus.PENDING_APPROVAL:
        raise _not_pending(registration, "approved")
    if capacity.take_seat(session, registration.event_id):
        _grant_seat(registration, now)
    else:
        registration.status = RegistrationStatus.WAITLISTED
        registration.updated_at = now
    registration.approved_at = now
    position = capacity.waitlist_position(session, registration)
    return Transition(mails=[*notify.approval_granted(registration), *notify.signed_up(registration, position, now)])


def reject(session: Session, registration: Registration, reason: str | None, now: dt.datetime) -> Transition:
    """Cancelled with the reason; it held no seat, but gives back the discount code use it claimed."""
    if registration.status != RegistrationStatus.PENDING_APPROVAL:
        raise _not_pending(registration, "rejected")
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = registration.rejected_at = registration.updated_at = now
    registration.rejection_reason = reason or None
    if registration.discount_code_id is not None:
        pricing.release_use(session, registration.discount_code_id)
    return Transition(mails=notify.approval_rejected(registration, reason or None))


# --- the waiting list ---------------------------------------------------------------------


def promote(session: Session, event_id: int, now: dt.datetime) -> Transition:
    """Gives free seats to the waiting list in arrival order; each promoted person is told."""
    moved = Transition()
    while True:
        first = session.scalar(
            select(Registration)
            .where(Registration.event_id == event_id, Registration.status == RegistrationStatus.WAITLISTED)
            .order_by(Registration.id)
            .limit(1)
        )
        if first is None or not capacity.take_seat(session, event_id):
            return moved
        _grant_seat(first, now)
        session.flush()
        moved.promoted.append(first)
        moved.mails += notify.confirmed(first, now)


def change_capacity(session: Session, event: Event, new_capacity: int | None, now: dt.datetime) -> Transition:
    """A larger capacity fills from the waiting list; a smaller one takes no seat away."""
    capacity.set_capacity(session, event, new_capacity)
    moved = promote(session, event.id, now)
    session.refresh(event)  # the capacity and seats as the conditional UPDATEs left them
    return moved


def _give_back_seats(session: Session, registration: Registration, now: dt.datetime) -> Transition:
    """The event seat and workshop seats a registration no longer holds go to the waiting list."""
    capacity.release_workshop_seats(session, registration.id)
    capacity.release_seat(session, registration.event_id)
    return promote(session, registration.event_id, now)


# --- holds and payment ------------------------------------------------------------------


def held_for_card(registration: Registration) -> bool:
    """A seat held for a card payment (an open invoice keeps its seat without a hold)."""
    return registration.status == RegistrationStatus.PENDING_PAYMENT and registration.payment_method != "invoice"


def checkout_hold_end(registration: Registration, now: dt.datetime) -> dt.datetime:
    """The end of the hold, and the ``expires_at``, of a Checkout Session created now: a hold that
    began a while ago (a seat from the waiting list, a retry after Stripe could not be reached) is
    renewed to ``MIN_HOLD``, once (the session, once made, is reused)."""
    assert registration.hold_expires_at is not None
    return max(registration.hold_expires_at, now + MIN_HOLD)


def checkout_opened(registration: Registration, checkout_session_id: str, url: str | None,
                    hold_end: dt.datetime) -> None:
    """Stripe created the Checkout Session that ends the hold at ``hold_end`` (``checkout_hold_end``)."""
    registration.checkout_session_id = checkout_session_id
    registration.payment_url = url
    registration.hold_expires_at = hold_end


def checkout_ended(session: Session, registration: Registration, checkout_session_id: str | None,
                   now: dt.datetime) -> Transition | None:
    """Stripe says the Checkout Session expired or its payment failed: the hold is released, unless
    it is already over (paid, invoiced, released) or belongs to another Checkout Session."""
    if not held_for_card(registration) or registration.checkout_session_id != checkout_session_id:
        return None
    return _release_hold(session, registration, now)


def hold_ran_out(session: Session, registration: Registration, now: dt.datetime) -> Transition | None:
    """A hold without a Checkout Session (its attendee never went to pay) ran out: released. None when
    it was paid, invoiced or sent to checkout meanwhile, or has not run out."""
    if (not held_for_card(registration) or registration.checkout_session_id or registration.hold_expires_at is None
            or registration.hold_expires_at >= now):
        return None
    return _release_hold(session, registration, now)


def _release_hold(session: Session, registration: Registration, now: dt.datetime) -> Transition:
    """Cancelled as ``hold_expired`` (a late payment may take the seats again), giving back everything
    the sign-up took: the event seat, workshop seats and the discount code's use."""
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = registration.updated_at = now
    registration.cancelled_by = "hold_expired"
    if registration.discount_code_id is not None:
        pricing.release_use(session, registration.discount_code_id)
    mails = notify.cancelled(registration, held_seat=True, reason="hold_expired")
    moved = _give_back_seats(session, registration, now)
    return Transition(mails=mails + moved.mails, promoted=moved.promoted)


def pay(session: Session, registration: Registration, amount: int, payment_intent: str | None,
        now: dt.datetime) -> Transition | None:
    """A card payment arrived: confirmed with a receipt, or, when its seats are gone (the hold was
    released and they went to someone else, or the registration was cancelled), refunded. None if
    it was paid already (the webhook came again)."""
    if registration.paid_at is not None or registration.status == RegistrationStatus.CONFIRMED:
        return None
    registration.paid_at = registration.updated_at = now
    registration.payment_intent_id = payment_intent
    registration.amount_paid = amount
    if registration.status == RegistrationStatus.PENDING_PAYMENT:
        seated = True
    elif registration.cancelled_by == "hold_expired":
        seated = _reseat(session, registration)
    else:
        seated = False  # they cancelled, then paid in a tab still open: the money goes back
    if not seated:
        registration.status = RegistrationStatus.REFUNDED
        registration.cancelled_at = now
        return Transition(refund=amount, mails=notify.cancelled(
            registration, held_seat=False, reason="paid_too_late",
            refund_amount=notify.money(amount, registration)))
    registration.status = RegistrationStatus.CONFIRMED
    registration.cancelled_at = registration.cancelled_by = None  # a released hold taken again
    receipt = receipts.issue_receipt(session, registration, now)
    return Transition(mails=notify.paid(registration, receipt.number, now))


class _Unavailable(Exception):
    """Something a late payment needs is gone: undo what was taken."""


def _reseat(session: Session, registration: Registration) -> bool:
    """Takes back, for a payment that arrived after its hold was released, everything the hold had:
    the event seat, its workshops and its discount use. All or nothing."""
    workshops = session.scalars(select(RegistrationWorkshop.session_id)
                                .where(RegistrationWorkshop.registration_id == registration.id)
                                .order_by(RegistrationWorkshop.session_id)).all()  # one lock order: by id
    try:
        with session.begin_nested():
            if not capacity.take_seat(session, registration.event_id):
                raise _Unavailable
            for workshop_id in workshops:
                if not capacity.take_workshop_seat(session, workshop_id):
                    raise _Unavailable
            if registration.discount_code_id is not None and not pricing.try_claim_use(
                    session, registration.discount_code_id):
                raise _Unavailable
    except _Unavailable:
        return False
    return True


def hold_for_invoice(registration: Registration, now: dt.datetime) -> None:
    """An invoice is being issued: the seat stays, without a hold, until the organiser marks it paid."""
    if registration.status != RegistrationStatus.PENDING_PAYMENT:
        raise TransitionRefused("not_awaiting_payment", "Only a registration awaiting payment can be invoiced.")
    registration.payment_method = "invoice"
    registration.hold_expires_at = None
    registration.updated_at = now


def confirm_by_invoice(registration: Registration, now: dt.datetime) -> Transition | None:
    """The bank transfer for an open invoice arrived; None if it was marked paid already."""
    if registration.paid_at is not None:
        return None
    if registration.status != RegistrationStatus.PENDING_PAYMENT or registration.payment_method != "invoice":
        raise TransitionRefused("not_invoiced", "Only a registration with an open invoice can be marked paid.")
    registration.status = RegistrationStatus.CONFIRMED
    registration.paid_at = registration.updated_at = now
    registration.amount_paid = pricing.amount_to_pay(registration)  # the invoice's total, VAT included
    return Transition(mails=notify.paid(registration, registration.invoice_number or "", now))


# --- cancelling ---------------------------------------------------------------------------


def cancel(session: Session, registration: Registration, now: dt.datetime) -> Transition | None:
    """The attendee (or the organiser) cancels: refunded with what the event's policy gives back,
    else cancelled; a seat goes to the waiting list. None if it had ended already."""
    status = RegistrationStatus(registration.status)
    if status.ended:
        return None
    refund = pricing.refund_on_cancel(registration, now)
    registration.status = RegistrationStatus.REFUNDED if refund else RegistrationStatus.CANCELLED
    registration.cancelled_at = registration.updated_at = now
    registration.cancelled_by = "request"
    if registration.discount_code_id is not None and registration.paid_at is None:
        pricing.release_use(session, registration.discount_code_id)
    mails = notify.cancelled(registration, status.holds_seat,
                             refund_amount=notify.money(refund, registration) if refund else None)
    if status == RegistrationStatus.CONFIRMED and zoom_registrants.zoom_linked(registration.event):
        mails.append(zoom_registrants.sync_row(registration, "changed"))  # cancels the Zoom registrant
    if not status.holds_seat:
        return Transition(mails=mails, refund=refund)
    moved = _give_back_seats(session, registration, now)
    return Transition(mails=mails + moved.mails, promoted=moved.promoted, refund=refund)
