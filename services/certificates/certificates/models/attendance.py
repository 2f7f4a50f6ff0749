from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class AttendanceReport(Base):
    """An uploaded webinar attendance report; the same file twice is recognised by its digest."""

    __tablename__ = "attendance_reports"
    __table_args__ = (UniqueConstraint("organisation_id", "event_slug", "digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    digest: Mapped[str] = mapped_column(String(64))
    format: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    rows_read: Mapped[int] = mapped_column()
    matched: Mapped[int] = mapped_column()
    unmatched_rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    skipped_rows: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    report_metadata: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    uploaded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Where the attendance came from, for the organiser: "upload" (a file) or "zoom-api" (Zoom's participants
    # report, fetched by registration), with what it was fetched for ("webinar 81234567890") and when. A new
    # fetch for the same reference replaces the report it fetched before.
    source: Mapped[str] = mapped_column(String(20), default="upload", server_default="upload")
    source_reference: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AttendanceInterval(Base):
    """A stretch of confirmed presence: a report row, or derived from a check-in."""

    __tablename__ = "attendance_intervals"
    __table_args__ = (Index("ix_attendance_event_registration", "organisation_id", "event_slug", "registration_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column()
    email: Mapped[str] = mapped_column(String(254))
    starts_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    source: Mapped[str] = mapped_column(String(80))
    session_code: Mapped[str | None] = mapped_column(String(40))
    report_id: Mapped[int | None] = mapped_column(ForeignKey("attendance_reports.id"))
    check_in_id: Mapped[int | None] = mapped_column(ForeignKey("check_ins.id", ondelete="CASCADE"))


class CheckIn(Base):
    """A door scan: for a whole day (session_code "") or one session. Scanning again changes nothing."""

    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("organisation_id", "event_slug", "registration_id", "day", "session_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column()
    email: Mapped[str] = mapped_column(String(254))
    day: Mapped[dt.date] = mapped_column(Date)
    session_code: Mapped[str] = mapped_column(String(40), default="")
    checked_in_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    checked_out_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Evaluation(Base):
    """The participant's evaluation (feedback form), or the organiser's record that it was done elsewhere.

    One row per person for the overall evaluation (session_code "") and one per session they rated.
    "" rather than NULL for the overall one, as in CheckIn: NULLs never conflict in a unique
    constraint on PostgreSQL, so a NULL key would let two overall evaluations of one person in."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("organisation_id", "event_slug", "registration_id", "session_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column()
    session_code: Mapped[str] = mapped_column(String(40), default="", server_default="")
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_by: Mapped[str] = mapped_column(String(20))
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
