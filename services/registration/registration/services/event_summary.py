"""What an organiser reads about their events at a glance: registrations by status, revenue, discount codes.

Read-only figures for the console's event list and overview; the roster (``services.roster``) is
where single registrations are read.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import DiscountCode, Event, Registration, RegistrationStatus

# The status groups the console counts; a refunded registration is a cancelled one that got money back.
COUNTED_GROUPS: dict[str, tuple[RegistrationStatus, ...]] = {
    "confirmed": (RegistrationStatus.CONFIRMED,),
    "waitlisted": (RegistrationStatus.WAITLISTED,),
    "pending_payment": (RegistrationStatus.PENDING_PAYMENT,),
    "pending_approval": (RegistrationStatus.PENDING_APPROVAL,),
    "cancelled": (RegistrationStatus.CANCELLED, RegistrationStatus.REFUNDED),
}
_GROUP_OF_STATUS = {status.value: group for group, statuses in COUNTED_GROUPS.items() for status in statuses}


@dataclass
class EventCounts:
    """One event's registrations per status group, and the money kept: paid minus refunded, per currency
    (minor units; registrations are in the event's currency, so normally one entry)."""

    by_group: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTED_GROUPS, 0))
    revenue: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.by_group.values())


def event_counts(session: Session, organisation_id: int, event_id: int | None = None) -> dict[int, EventCounts]:
    """Counts and revenue of every event of the organisation (or of one event), by event id, in one
    grouped query; an event without registrations is absent (read it as ``EventCounts()``)."""
    query = (
        select(Registration.event_id, Registration.status, Registration.currency, func.count(),
               func.coalesce(func.sum(Registration.amount_paid - Registration.amount_refunded), 0))
        .join(Event, Event.id == Registration.event_id)
        .where(Event.organisation_id == organisation_id)
        .group_by(Registration.event_id, Registration.status, Registration.currency)
    )
    if event_id is not None:
        query = query.where(Registration.event_id == event_id)
    counts: dict[int, EventCounts] = defaultdict(EventCounts)
    for found_event_id, status, currency, number, kept in session.execute(query):
        figures = counts[found_event_id]
        group = _GROUP_OF_STATUS.get(status)
        if group is not None:
            figures.by_group[group] += number
        if kept:
            figures.revenue[currency] = figures.revenue.get(currency, 0) + int(kept)
    return dict(counts)


def discount_codes(session: Session, event: Event) -> list[DiscountCode]:
    """The event's discount codes, as the organiser created them (oldest first), with their uses."""
    return list(session.scalars(select(DiscountCode).where(DiscountCode.event_id == event.id).order_by(DiscountCode.id)))
