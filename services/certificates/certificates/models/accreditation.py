from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint
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
    evaluation_questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # Asked once per session the participant attended (ECR practice: an evaluation per session and one overall).
    session_questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    signatory_name: Mapped[str] = mapped_column(String(200))
    signatory_title: Mapped[str] = mapped_column(String(200))
    organisation_name: Mapped[str] = mapped_column(String(200))
    logo_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    signature_png: Mapped[bytes | None] = mapped_column(LargeBinary)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # The credit rules live in the event's credit systems (``credit_systems``, a backref of CreditSystem,
    # in order), and only there; what readers of one system need is read from the first.

    @property
    def first_system(self) -> Any:
        """The event's primary credit system: a session's plain ``credits`` are in it."""
        return self.credit_systems[0]

    @property
    def evaluation_required(self) -> bool:
        """The participant's page asks for the evaluation when any system needs it."""
        return any(system.evaluation_required for system in self.credit_systems)
