from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class Event(Base):
    """A conference or webinar.

    ``seats_taken`` counts registrations that hold a seat; it only ever changes
    through the conditional UPDATE in ``services.capacity``, so the database, not
    Python, decides who gets the last seat.
    """

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("capacity IS NULL OR capacity >= 0", name="capacity_not_negative"),
        CheckConstraint("seats_taken >= 0", name="seats_taken_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Public pages address events by slug alone (/events/{slug}), so slugs are unique suite-wide.
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int | None] = mapped_column()
    seats_taken: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    venue: Mapped[str | None] = mapped_column(String(300))
    join_url: Mapped[str | None] = mapped_column(String(500))
    # The Zoom webinar whose registrants the confirmed registrations become (services/zoom/registrants.py).
    zoom_webinar_id: Mapped[str | None] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(Text)
    # The organiser's own texts in other languages, {"nl": {"title": ..., "description": ...}}, shown on
    # the attendee's pages in that language (suite_common.i18n.localized); what is missing stays as written.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict, server_default="{}")
    registration_opens_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    registration_closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    consent_text: Mapped[str] = mapped_column(Text)
    # Prices: VAT percentage and whether rate amounts include it.
    vat_rate: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal("0"))
    prices_include_vat: Mapped[bool] = mapped_column(default=True)
    # How long a seat waits for its card payment (Stripe needs at least 30 minutes).
    seat_hold_minutes: Mapped[int] = mapped_column(default=30)
    # Cancellation policy: full refund until the first date, a percentage until the second, then none;
    # a fee (minor units) is kept from any refund.
    refund_full_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refund_partial_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    refund_partial_percent: Mapped[int] = mapped_column(default=0)
    cancellation_fee: Mapped[int] = mapped_column(default=0)
    # Institutions may pay by invoice (bank transfer) instead of card; payable within this many days.
    allows_invoice: Mapped[bool] = mapped_column(default=False)
    invoice_due_days: Mapped[int] = mapped_column(default=30)
    # Bumped whenever time or place changes, so calendar entries update instead of duplicating.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    sessions: Mapped[list[EventSession]] = relationship(back_populates="event", order_by="EventSession.starts_at")
    rates: Mapped[list[Rate]] = relationship(back_populates="event", order_by="Rate.id")


class EventSession(Base):
    """A programme slot with its accredited credits (CME hours)."""

    __tablename__ = "event_sessions"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int | None] = mapped_column()
    credits: Mapped[Decimal] = mapped_column(Numeric(6, 2), default=Decimal("0"))
    # Credits per credit system ({"ECMEC": "1.5", "NVVTG": "1"}) when given so: then authoritative for
    # every system (a system left out gives none); None means ``credits``, in the event's first system.
    credits_by_system: Mapped[dict[str, str] | None] = mapped_column(JSON)
    # A workshop is chosen at sign-up, at its own price, within its own capacity; its seats,
    # like the event's, change only through conditional UPDATEs (services.capacity).
    is_workshop: Mapped[bool] = mapped_column(default=False)
    amount: Mapped[int] = mapped_column(default=0)
    seats_taken: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[Event] = relationship(back_populates="sessions")


class RegistrationWorkshop(Base):
    """A workshop seat held by a registration."""

    __tablename__ = "registration_workshops"
    __table_args__ = (UniqueConstraint("registration_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("event_sessions.id"), index=True)
    amount: Mapped[int] = mapped_column(default=0)

    session: Mapped[EventSession] = relationship()


class Rate(Base):
    """A price category; amount in minor units of ``currency`` (0 is free)."""

    __tablename__ = "rates"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    # The rate's name in other languages, {"nl": {"name": ...}}, as the event's translations.
    translations: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, default=dict, server_default="{}")
    amount: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    category: Mapped[str] = mapped_column(String(20))
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Only people on the organisation's member list (by email or member number) may choose it.
    requires_membership: Mapped[bool] = mapped_column(default=False)
    # The organiser approves each sign-up first (e.g. proof of training status); it holds no seat until then.
    requires_approval: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    event: Mapped[Event] = relationship(back_populates="rates")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**self.with_defaults(kwargs))

    @staticmethod
    def with_defaults(values: dict[str, Any]) -> dict[str, Any]:
        """What the category usually means, unless the organiser says otherwise (also for a Core insert)."""
        return {"requires_membership": values.get("category") == "member",
                "requires_approval": values.get("category") == "trainee", **values}

    def on_offer(self, now: dt.datetime) -> bool:
        return self.valid_until is None or now < self.valid_until


class DiscountCode(Base):
    """A code that lowers the price; ``uses`` only changes through a conditional UPDATE, so
    a code with one use left is never used twice, however many sign-ups race for it."""

    __tablename__ = "discount_codes"
    __table_args__ = (
        UniqueConstraint("event_id", "code"),
        CheckConstraint("max_uses IS NULL OR uses <= max_uses", name="uses_within_limit"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    percent_off: Mapped[int | None] = mapped_column()
    amount_off: Mapped[int | None] = mapped_column()
    max_uses: Mapped[int | None] = mapped_column()
    uses: Mapped[int] = mapped_column(default=0)
    valid_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rates: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
