"""A seat held for a card payment: giving it back when the hold runs out, and taking it again
for a payment that arrived late. Releasing gives back everything the sign-up took: the event
seat, workshop seats and the discount code's use (see ``hold_sweeper`` for holds without a webhook).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Registration, RegistrationStatus, RegistrationWorkshop
from . import capacity, notify, pricing


class _Unavailable(Exception):
    """Something the late payment needs is gone: undo what was taken."""


def release(session: Session, registration: Registration, now: dt.datetime) -> list[Registration]:
    """Cancels a held registration and gives its seats to the waiting list; returns who moved up.

    The caller holds the event lock and has checked that the hold is still there.
    """
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.cancelled_by = "hold_expired"
    registration.updated_at = now
    if registration.discount_code_id is not None:
        pricing.release_use(session, registration.discount_code_id)
    session.flush()
    notify.cancelled(session, registration, held_seat=True, reason="hold_expired")
    return give_back_seats(session, registration, now)


def give_back_seats(session: Session, registration: Registration, now: dt.datetime) -> list[Registration]:
    """The event seat and workshop seats a registration no longer holds go to the waiting list, whose
    people are told; returns who moved up. The caller holds the event lock."""
    capacity.release_workshop_seats(session, registration.id)
    capacity.release_seat(session, registration.event_id)
    promoted = capacity.promote_waitlisted(session, registration.event_id)
    for person in promoted:
        notify.confirmed(session, person, now)
    return promoted


def reseat(session: Session, registration: Registration) -> bool:
    """Takes back, for a payment that arrived after its hold was released, everything the hold had:
    the event seat, its workshops and its discount use. All or nothing; the caller holds the event lock."""
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
