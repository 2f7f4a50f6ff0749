from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class Accreditation(Base):
    """An event's credit rules and certificate text, set by its organiser.

    Events belong to registration; here they are addressed by organisation and slug.
    """

    __tablename__ = "accreditations"
    __table_args__ = (UniqueConstraint("organisation_id", "event_slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    event_slug: Mapped[str] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(String(200))
    credit_unit: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    credit_mode: Mapped[str] = mapped_column(String(20))
    credit_step: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    min_session_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    max_credits: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    max_credits_per_day: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    daily_caps: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    evaluation_required: Mapped[bool] = mapped_column(default=False)
    evaluation_questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Asked once per session the participant attended (ECR practice: an evaluation per session and one overall).
    session_questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    signatory_name: Mapped[str] = mapped_column(String(200))
    signatory_title: Mapped[str] = mapped_column(String(200))
    organisation_name: Mapped[str] = mapped_column(String(200))
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
