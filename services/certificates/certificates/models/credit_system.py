from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from suite_common.db import UTCDateTime

from .accreditation import Accreditation
from .base import Base


class CreditSystem(Base):
    """One credit system of an event (ECMEC, a national register's points...), with its own rules and
    statement. The first (position 0) is the event's primary one: a session's plain ``credits`` are
    in it, and the Accreditation row mirrors its rules for readers that know one system only."""

    __tablename__ = "credit_systems"
    __table_args__ = (UniqueConstraint("accreditation_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    accreditation_id: Mapped[int] = mapped_column(ForeignKey("accreditations.id"), index=True)
    position: Mapped[int] = mapped_column()
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text)
    credit_mode: Mapped[str] = mapped_column(String(20))
    credit_step: Mapped[Decimal] = mapped_column(Numeric(6, 2))
    min_session_share: Mapped[Decimal] = mapped_column(Numeric(5, 4))
    max_credits: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    max_credits_per_day: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    daily_caps: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    evaluation_required: Mapped[bool] = mapped_column(default=False)
    claim_required: Mapped[bool] = mapped_column(default=False)
    presence_codes_required: Mapped[int] = mapped_column(default=0)
    claim_closes_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # What the system's body needs to credit a learner ([{"kind", "label", "required", "consent_text"}]):
    # asked on the participant's page (services/identifiers.py), reported in the accreditor reports.
    identifiers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    # A backref, so the rules' own model needs no change: ``accreditation.credit_systems`` in order.
    accreditation: Mapped[Accreditation] = relationship(backref=backref(
        "credit_systems", order_by="CreditSystem.position", cascade="all, delete-orphan"))
