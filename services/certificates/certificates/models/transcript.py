"""Links to a learner's transcript: who asked (by email key), for which organisation, until when."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class TranscriptLink(Base):
    """A mailed link that lists the certificates of one email key at one organisation.

    Stored as the SHA-256 hash of its 256-bit secret (like organiser tokens): a copy of the
    database opens no one's transcript. The email key, not the address, is kept: it is what
    certificates are matched by, and the link says nothing else about the person."""

    __tablename__ = "transcript_links"
    __table_args__ = (Index("ix_transcript_links_expiry", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
