"""Zoom webhooks received, and the participants-report fetches they schedule (issue 15)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class ZoomWebhookEvent(Base):
    """A Zoom webhook already applied: Zoom retries deliveries it saw no 200 for, so one event may come twice.
    Zoom's events carry no id; ``key`` is the event's name with the webinar instance's uuid (one ending per
    instance), else with its ``event_ts``."""

    __tablename__ = "zoom_webhook_events"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    event: Mapped[str] = mapped_column(String(100))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ZoomReportFetch(Base):
    """A durable job: fetch a webinar's participants report and hand it to certificates as attendance.

    Made by ``webinar.ended`` (due some minutes later: Zoom fills the report after the end) or by an
    organiser. The worker claims due rows with ``FOR UPDATE SKIP LOCKED`` and a lease, as the outbox does,
    so replicas never run one fetch twice at once and a worker that died leaves it to the next. ``outcome``
    holds counts only (rows read, matched, skipped), never a participant's name or address."""

    __tablename__ = "zoom_report_fetches"
    __table_args__ = (Index("ix_zoom_report_fetches_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    webinar_id: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(20))  # webinar.ended or by hand
    status: Mapped[str] = mapped_column(String(20), default="queued")  # queued, done, failed
    attempts: Mapped[int] = mapped_column(default=0)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
