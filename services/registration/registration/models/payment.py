from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class StripeEvent(Base):
    """A webhook event already applied: Stripe delivers events more than once."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DocumentCounter(Base):
    """The next number of a document series; taken with a row lock, so numbers have no gaps or twins."""

    __tablename__ = "document_counters"

    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Document(Base):
    """An issued receipt, invoice or credit note; its content is frozen so it renders the same forever."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("organisation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(40))
    # The lines' sum as priced (net when they exclude VAT); ``receipts.total_of`` is the total printed.
    amount: Mapped[int] = mapped_column()
    currency: Mapped[str] = mapped_column(String(3))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
