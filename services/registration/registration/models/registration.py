from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite_common.db import UTCDateTime, utcnow
from suite_common.names import full_name

from .base import Base
from .event import Event, Rate, RegistrationWorkshop


class RegistrationStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    # Waits for the organiser's decision (a rate that requires approval): no seat, not on the waiting list.
    PENDING_APPROVAL = "pending_approval"

    @property
    def holds_seat(self) -> bool:
        return self in (RegistrationStatus.CONFIRMED, RegistrationStatus.PENDING_PAYMENT)

    @property
    def ended(self) -> bool:
        return self in (RegistrationStatus.CANCELLED, RegistrationStatus.REFUNDED)


ENDED = (RegistrationStatus.CANCELLED, RegistrationStatus.REFUNDED)
# Registrations that still count: one per email and event.
LIVE = "status NOT IN ('cancelled', 'refunded')"


class Registration(Base):
    """One person's sign-up for one event."""

    __tablename__ = "registrations"
    __table_args__ = (
        # One live registration per email and event; a cancelled one may sign up again.
        Index(
            "uq_registrations_event_email_live", "event_id", "email_normalised", unique=True,
            postgresql_where=text(LIVE), sqlite_where=text(LIVE),
        ),
        Index("uq_registrations_event_idempotency_key", "event_id", "idempotency_key", unique=True),
        Index("ix_registrations_event_status_id", "event_id", "status", "id"),
        Index("ix_registrations_event_updated", "event_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    rate_id: Mapped[int] = mapped_column(ForeignKey("rates.id"))
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    manage_token: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20))
    email: Mapped[str] = mapped_column(String(254))
    email_normalised: Mapped[str] = mapped_column(String(254))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    # Printed "family given" (王 芳) rather than "given family": the person's choice, by default from the
    # script of the name (see suite_common.names).
    family_name_first: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The attendee's language (en, nl, de, fr; suite_common.i18n): of the sign-up's pages or its JSON
    # "language", used for every later mail and document.
    language: Mapped[str] = mapped_column(String(5), default="en", server_default="en")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    amount_paid: Mapped[int] = mapped_column(default=0)
    currency: Mapped[str] = mapped_column(String(3))
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    consent_version: Mapped[str] = mapped_column(String(64))
    # Separate, optional consent to announcements (news about the event); None means no.
    announcements_consent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Shown as a QR code to be scanned at the door; valid while the registration is confirmed.
    ticket_code: Mapped[str] = mapped_column(String(40), unique=True)
    # Reaches only the unsubscribe page: a forwarded announcement must not open the registration.
    unsubscribe_token: Mapped[str] = mapped_column(String(64), unique=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    request_fingerprint: Mapped[str | None] = mapped_column(String(64))
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # "hold_expired" when the seat lapsed unpaid (a late payment may still take a free seat);
    # "request" when the attendee or organiser cancelled (a late payment is refunded).
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    # The member number given at sign-up, as typed; the member list is checked when signing up only.
    member_number: Mapped[str | None] = mapped_column(String(64))
    # The organiser's decision on a rate that requires approval.
    approved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rejected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[str | None] = mapped_column(Text)
    # Money, in minor units of ``currency``. ``amount_due``: the rate after its discount plus the workshops, as
    # the event prices them, so NET when the event's prices exclude VAT; what is charged is
    # ``pricing.amount_to_pay`` (VAT included). ``amount_paid`` and ``amount_refunded``: money that moved,
    # VAT included.
    amount_due: Mapped[int] = mapped_column(default=0)
    discount_code_id: Mapped[int | None] = mapped_column(ForeignKey("discount_codes.id"))
    payment_method: Mapped[str | None] = mapped_column(String(20))
    checkout_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    payment_url: Mapped[str | None] = mapped_column(String(1000))
    payment_intent_id: Mapped[str | None] = mapped_column(String(255))
    hold_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    amount_refunded: Mapped[int] = mapped_column(default=0)
    receipt_number: Mapped[str | None] = mapped_column(String(40))
    # Payment by invoice: the institution's billing details, the invoice and when it is due.
    billing: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    invoice_number: Mapped[str | None] = mapped_column(String(40))
    invoice_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def full_name(self) -> str:
        """The name as printed (badges, receipts, mails, certificates), in the person's order."""
        return full_name(self.given_name, self.family_name, self.family_name_first)

    event: Mapped[Event] = relationship()
    workshops: Mapped[list[RegistrationWorkshop]] = relationship(order_by="RegistrationWorkshop.session_id")
    rate: Mapped[Rate] = relationship()
