from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class Member(Base):
    """One line of an organisation's member list, which member rates are checked against.

    A member is known by email, by member number, or by both; each is unique within the
    organisation (several members may lack one of them: NULLs never collide).
    """

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("organisation_id", "email_normalised"),
        UniqueConstraint("organisation_id", "member_number"),
        CheckConstraint("email_normalised IS NOT NULL OR member_number IS NOT NULL", name="email_or_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    # Lower-cased, as sign-up compares emails.
    email_normalised: Mapped[str | None] = mapped_column(String(254))
    # Trimmed and upper-cased, so "m-1234" on the form matches "M-1234" on the list.
    member_number: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
