"""The organiser's decision on a sign-up at a rate that requires approval (e.g. a trainee rate).

Until the decision the registration is ``pending_approval``: it holds no seat and is not on
the waiting list, so approving takes a seat exactly as a sign-up does, under the event lock.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from suite_common.db import utcnow
from suite_common.errors import ApiError

from ..models import Registration, RegistrationStatus
from . import capacity, notify, payments, pricing


def _not_pending(registration: Registration, verb: str) -> ApiError:
    status = registration.status.replace("_", " ")
    return ApiError(409, "conflict", f"Only a registration awaiting approval can be {verb}; this one is {status}.",
                    {"status": [registration.status]})


def approve(session: Session, registration: Registration, now: dt.datetime | None = None) -> Registration:
    """Approves and takes a seat: free → confirmed, paid → pending_payment with a held seat,
    full → waitlisted. The caller commits (and then creates the Checkout Session)."""
    now = now or utcnow()
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    if registration.status != RegistrationStatus.PENDING_APPROVAL:
        raise _not_pending(registration, "approved")
    if not capacity.take_seat(session, registration.event_id):
        registration.status = RegistrationStatus.WAITLISTED
    elif registration.amount_due > 0:
        registration.status = RegistrationStatus.PENDING_PAYMENT
        registration.hold_expires_at = payments.hold_until(now, registration.event.seat_hold_minutes)
    else:
        registration.status = RegistrationStatus.CONFIRMED
    registration.approved_at = now
    registration.updated_at = now
    session.flush()
    notify.approval_granted(session, registration)
    # Then what a sign-up at this moment would have said: confirmation with ticket, or waiting list.
    notify.signed_up(session, registration, capacity.waitlist_position(session, registration), now)
    return registration


def reject(session: Session, registration: Registration, reason: str | None,
           now: dt.datetime | None = None) -> Registration:
    """Rejects: the registration is cancelled (it held no seat) and the attendee is told why."""
    now = now or utcnow()
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    if registration.status != RegistrationStatus.PENDING_APPROVAL:
        raise _not_pending(registration, "rejected")
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = now
    registration.rejected_at = now
    registration.rejection_reason = reason or None
    registration.updated_at = now
    if registration.discount_code_id is not None:
        pricing.release_use(session, registration.discount_code_id)  # claimed at sign-up, never used
    session.flush()
    notify.approval_rejected(session, registration, reason or None)
    return registration
