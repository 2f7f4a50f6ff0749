"""Seats and the waiting list.

The locking rule: every transaction that can change who holds a seat (sign-up,
cancellation, promotion, capacity change) first locks the event row, with
``lock_event`` or ``lock_event_taking_seat``, before it touches any registration
row, and only then takes or gives back seats with the conditional UPDATEs below.
On PostgreSQL the row lock queues concurrent workers and, under READ COMMITTED,
each sees what the previous one committed; one lock order everywhere (the event,
then its workshops by id, then a discount code) means no deadlocks. On SQLite the
transaction already holds the database's write lock (BEGIN IMMEDIATE). Nobody
reads the count in Python and writes it back.
"""
from __future__ import annotations

import functools
from collections.abc import Iterable

from sqlalchemy import Select, Update, bindparam, case, func, or_, select, update
from sqlalchemy.orm import Session

from suite_common.db import is_postgresql

from ..models import Event, EventSession, Registration, RegistrationStatus, RegistrationWorkshop


def lock_event(session: Session, event_id: int) -> None:
    session.execute(select(Event.id).where(Event.id == event_id).with_for_update())


def lock_event_taking_seat(session: Session, event_id: int) -> bool:
    """``lock_event`` then ``take_seat``, in one statement: a sign-up's first write, the start of
    the time others wait for the event. False means the event is full (and is locked all the same).

    On PostgreSQL one ``UPDATE ... SET seats_taken = seats_taken + CASE <free> THEN 1 ELSE 0 END``;
    RETURNING can only show the new count, so the count before comes from a ``FOR UPDATE``
    sub-select in its FROM (the row's latest version, as the UPDATE sees it)."""
    if not is_postgresql(session):
        return take_seat(session, event_id)  # the database's write lock is held since BEGIN IMMEDIATE
    seats_before, seats_after = session.execute(_locking_seat_update(), {"event_id": event_id}).one()
    return seats_after > seats_before


@functools.cache
def _locking_seat_update() -> Update:
    """``lock_event_taking_seat``'s statement, built once: every sign-up runs it."""
    before = (select(Event.id, Event.seats_taken.label("seats_before")).where(Event.id == bindparam("event_id"))
              .with_for_update().subquery("before"))
    free = or_(Event.capacity.is_(None), Event.seats_taken < Event.capacity)
    return (update(Event).where(Event.id == before.c.id)
            .values(seats_taken=Event.seats_taken + case((free, 1), else_=0))
            .returning(before.c.seats_before, Event.seats_taken)
            .execution_options(synchronize_session=False))


def take_seat(session: Session, event_id: int) -> bool:
    """Takes one seat if one is free; False means the event is full."""
    result = session.execute(
        update(Event)
        .where(Event.id == event_id, (Event.capacity.is_(None)) | (Event.seats_taken < Event.capacity))
        .values(seats_taken=Event.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_seat(session: Session, event_id: int) -> None:
    session.execute(
        update(Event)
        .where(Event.id == event_id, Event.seats_taken > 0)
        .values(seats_taken=Event.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def set_capacity(session: Session, event: Event, new_capacity: int | None) -> None:
    """Under the event's lock; ``lifecycle.change_capacity`` then fills freed seats from the waiting list."""
    lock_event(session, event.id)
    session.execute(
        update(Event).where(Event.id == event.id).values(capacity=new_capacity)
        .execution_options(synchronize_session=False)
    )


def waitlist_position(session: Session, registration: Registration) -> int | None:
    if registration.status != RegistrationStatus.WAITLISTED:
        return None
    ahead = session.scalar(_waitlisted_ahead(), {"event_id": registration.event_id, "id": registration.id})
    return int(ahead or 0) + 1


@functools.cache
def _waitlisted_ahead() -> Select[tuple[int]]:
    """Built once: every sign-up to a full event counts its place."""
    return select(func.count()).select_from(Registration).where(
        Registration.event_id == bindparam("event_id"),
        Registration.status == RegistrationStatus.WAITLISTED,
        Registration.id < bindparam("id"),
    )


def take_workshop_seat(session: Session, session_id: int) -> bool:
    """A seat in a workshop, like ``take_seat``; called under the event's lock, in session-id order."""
    result = session.execute(
        update(EventSession)
        .where(EventSession.id == session_id,
               (EventSession.capacity.is_(None)) | (EventSession.seats_taken < EventSession.capacity))
        .values(seats_taken=EventSession.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_workshop_seats(session: Session, registration_id: int) -> None:
    held = select(RegistrationWorkshop.session_id).where(RegistrationWorkshop.registration_id == registration_id)
    _release_workshops(session, held)


def give_back_workshop_seats(session: Session, session_ids: Iterable[int]) -> None:
    """Workshop seats taken earlier in this transaction, by a sign-up that is then refused."""
    _release_workshops(session, list(session_ids))


def _release_workshops(session: Session, session_ids: list[int] | Select[tuple[int]]) -> None:
    session.execute(
        update(EventSession)
        .where(EventSession.id.in_(session_ids), EventSession.seats_taken > 0)
        .values(seats_taken=EventSession.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )
