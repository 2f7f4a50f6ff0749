"""Faculty of an event (speakers and planners) and their financial relationships.

ACCME Standard 3 (and EACCME alike) asks the provider to collect, from everyone who controls the
content of an accredited activity, every financial relationship with an ineligible company over the
prior 24 months, to mitigate the relevant ones, and to tell learners before the activity starts.
A person's statement is one of three: not received yet (``pending``), none (``none``), or the
relationships listed (``disclosed``).
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Date, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite_common.db import UTCDateTime, utcnow

from .base import Base
from .event import Event, EventSession


class FacultyRole(enum.StrEnum):
    """Speakers present sessions; planners shape the whole event (committee, course directors)."""

    SPEAKER = "speaker"
    PLANNER = "planner"


class DisclosureStatus(enum.StrEnum):
    PENDING = "pending"
    NONE = "none"
    DISCLOSED = "disclosed"


faculty_sessions = Table(
    "faculty_sessions", Base.metadata,
    Column("faculty_id", ForeignKey("faculty_members.id", ondelete="CASCADE"), primary_key=True),
    Column("session_id", ForeignKey("event_sessions.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class FacultyMember(Base):
    """One person of an event's faculty, with their disclosure statement.

    The speaker's personal link is kept as the SHA-256 hash of its 256-bit secret (like sign-in
    links): a copy of the database opens no one's form. A new link replaces the previous one."""

    __tablename__ = "faculty_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    # suite_common.emails.loose_email_key: how a privacy request finds the person.
    email_key: Mapped[str | None] = mapped_column(String(254), index=True)
    # Named apart from a registration's status, which only the lifecycle module writes.
    disclosure_status: Mapped[str] = mapped_column("status", String(10), default=DisclosureStatus.PENDING)
    # The organiser's note on how relevant relationships were mitigated (e.g. content peer-reviewed).
    mitigation: Mapped[str | None] = mapped_column(Text)
    disclosed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # "organiser" (entered on their behalf) or "speaker" (through the personal link, attested).
    disclosed_by: Mapped[str | None] = mapped_column(String(10))
    attested_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    link_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    link_created_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    event: Mapped[Event] = relationship()
    sessions: Mapped[list[EventSession]] = relationship(secondary=faculty_sessions, order_by=EventSession.starts_at)
    relationships: Mapped[list[FinancialRelationship]] = relationship(
        back_populates="faculty", cascade="all, delete-orphan", order_by="FinancialRelationship.id")

    @property
    def session_codes(self) -> list[str]:
        return [item.code for item in self.sessions]

    @property
    def has_none(self) -> bool:
        return self.disclosure_status == DisclosureStatus.NONE


class FinancialRelationship(Base):
    """A relationship with an ineligible company (one whose business is producing, marketing or
    selling health-care products), ongoing or ended within the last 24 months."""

    __tablename__ = "financial_relationships"

    id: Mapped[int] = mapped_column(primary_key=True)
    faculty_id: Mapped[int] = mapped_column(ForeignKey("faculty_members.id", ondelete="CASCADE"), index=True)
    company: Mapped[str] = mapped_column(String(200))
    # The nature of the relationship: consultant, speakers' bureau, research grant, stock, employee...
    nature: Mapped[str] = mapped_column(String(200))
    # None: ongoing.
    ended_on: Mapped[dt.date | None] = mapped_column(Date)

    faculty: Mapped[FacultyMember] = relationship(back_populates="relationships")

    @property
    def ended(self) -> bool:
        return self.ended_on is not None
