from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class Certificate(Base):
    """One current certificate per person and event. Re-issuing (a corrected name, new attendance)
    keeps the code and download token and adds a revision, so printed QR codes stay valid. A revoked
    certificate stays revoked for good; if the person qualifies again on new evidence, they get a
    new certificate with a new code."""

    __tablename__ = "certificates"
    __table_args__ = (
        Index("uq_certificates_current", "organisation_id", "event_slug", "registration_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column()
    email: Mapped[str] = mapped_column(String(254))
    participant: Mapped[str] = mapped_column(String(210))
    credits: Mapped[Decimal] = mapped_column(Numeric(6, 2))  # the event's first credit system's
    # Credits printed in each credit system ({"ECMEC": "1.5"}); a system that prints nothing is left out.
    credits_by_system: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    # What attendance supports in each system that requires a claim, printed or not.
    supported_by_system: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    download_token: Mapped[str] = mapped_column(String(64), unique=True)
    revision: Mapped[int] = mapped_column(default=1)
    # Everything printed on the certificate, frozen at issue: later rule changes do not alter it.
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class CertificateRevision(Base):
    """What a certificate said before each re-issue."""

    __tablename__ = "certificate_revisions"
    __table_args__ = (UniqueConstraint("certificate_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id"))
    revision: Mapped[int] = mapped_column()
    participant: Mapped[str] = mapped_column(String(210))
    credits: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class IssueJob(Base):
    """Issuing an event's certificates in the background; claimed with a lease, so a job whose
    worker died is taken up again, and safe to run twice (one certificate per person)."""

    __tablename__ = "issue_jobs"
    __table_args__ = (Index("ix_issue_jobs_status", "status", "claimed_until"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    total: Mapped[int] = mapped_column(default=0)
    processed: Mapped[int] = mapped_column(default=0)
    issued: Mapped[int] = mapped_column(default=0)
    reissued: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    not_eligible: Mapped[int] = mapped_column(default=0)
    # Registration ids are processed in order; a resumed job continues after this one.
    last_registration_id: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
