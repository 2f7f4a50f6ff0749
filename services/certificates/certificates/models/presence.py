from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class PresenceCode(Base):
    """An attendance code the organiser announces during a session; it counts only when entered within
    its window. Unique in the event, so a code entered tells which session it confirms."""

    __tablename__ = "presence_codes"
    __table_args__ = (UniqueConstraint("organisation_id", "event_slug", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    session_code: Mapped[str] = mapped_column(String(40))
    code: Mapped[str] = mapped_column(String(16))
    valid_from: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PresenceConfirmation(Base):
    """One presence check of one person for one session: a code entered in time (check_key
    ``code:<id>``) or a poll answered during the session (``poll:<session>:<poll>``). One row per
    check, so entering a code twice counts once."""

    __tablename__ = "presence_confirmations"
    __table_args__ = (
        UniqueConstraint("organisation_id", "event_slug", "registration_id", "check_key"),
        Index("ix_presence_confirmations_session", "organisation_id", "event_slug", "session_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column()
    session_code: Mapped[str] = mapped_column(String(40))
    check_key: Mapped[str] = mapped_column(String(80))
    source: Mapped[str] = mapped_column(String(80))
    confirmed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PresenceAttempt(Base):
    """Wrong codes a person entered on one day (in the event's time zone): capped, so a participant's
    link cannot be used to try codes until one fits."""

    __tablename__ = "presence_attempts"
    __table_args__ = (UniqueConstraint("organisation_id", "event_slug", "registration_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column()
    day: Mapped[dt.date] = mapped_column(Date)
    wrong: Mapped[int] = mapped_column(default=0)


class Claim(Base):
    """The credits a participant claims in a credit system that requires a claim, with their
    attestation; the certificate prints this, never more than attendance supports."""

    __tablename__ = "claims"
    __table_args__ = (UniqueConstraint("organisation_id", "event_slug", "registration_id", "system_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column()
    system_code: Mapped[str] = mapped_column(String(20))
    credits: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    attestation: Mapped[str] = mapped_column(String(300))
    claimed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
