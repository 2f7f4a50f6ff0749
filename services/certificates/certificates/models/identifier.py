from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class LearnerIdentifier(Base):
    """An identifier a credit system's body needs to credit one learner (a US board ID with month and day of
    birth, an EFN, a BIG or GMC number, a free text), as the participant gave it on their page, with the
    consent they gave for it: the text they agreed to, its version (a digest of that text) and when.

    Kept in this service only and handed out only to the event's organiser (the accreditor reports) and,
    in the privacy export, to the person. One row per person, event, system and kind: giving it again
    replaces it; giving it empty withdraws it (the row is deleted)."""

    __tablename__ = "learner_identifiers"
    __table_args__ = (
        UniqueConstraint("organisation_id", "event_slug", "registration_id", "system_code", "kind"),
        Index("ix_learner_identifiers_email", "organisation_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    registration_id: Mapped[int] = mapped_column()
    # The address the registration had when the identifier was given: the privacy export and erasure find it.
    email: Mapped[str] = mapped_column(String(254))
    system_code: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(200))
    # abim_pars only: the certifying board (ACCME's abbreviation) and the month and day of birth.
    board: Mapped[str | None] = mapped_column(String(20))
    birth_month: Mapped[int | None] = mapped_column()
    birth_day: Mapped[int | None] = mapped_column()
    consent_text: Mapped[str] = mapped_column(Text)
    consent_version: Mapped[str] = mapped_column(String(16))
    consented_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
