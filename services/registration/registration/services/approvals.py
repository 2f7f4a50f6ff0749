"""The organiser's decision on a sign-up at a rate that requires approval (e.g. a trainee rate).

Until the decision the registration is ``pending_approval``: it holds no seat and is not on
the waiting list, so approving takes a seat exactly as a sign-up does, under the event lock.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from suite_common.db import utcnow

from ..models import Registration
from . import capacity, lifecycle, notify


def approve(session: Session, registration: Registration, now: dt.datetime | None = None) -> Registration:
    """Approves and takes a seat (``lifecycle.approve``). The caller commits (and then creates the
    Checkout Session)."""
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    notify.queue(session, lifecycle.approve(session, registration, now or utcnow()).mails)
    return registration


def reject(session: Session, registration: Registration, reason: str | None,
           now: dt.datetime | None = None) -> Registration:
    """Rejects: the registration is cancelled (it held no seat) and the attendee is told why."""
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    notify.queue(session, lifecycle.reject(session, registration, reason, now or utcnow()).mails)
    return registration
