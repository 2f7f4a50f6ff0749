"""The people who run an organisation's events in the console, their sign-in links and sessions.

No password is stored: a person signs in with a one-time link mailed to them. Links and sessions
are stored as SHA-256 hashes of their 256-bit secrets, like API tokens, so a copy of the database
signs no one in.
"""
from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class Role(enum.StrEnum):
    """What a person may do: viewers read, staff run events, owners also manage people and tokens."""

    OWNER = "owner"
    STAFF = "staff"
    VIEWER = "viewer"


ROLE_RANK = {Role.VIEWER: 0, Role.STAFF: 1, Role.OWNER: 2}


class OrganiserAccount(Base):
    """A person of one organisation; the same email may belong to several organisations."""

    __tablename__ = "organiser_accounts"
    __table_args__ = (UniqueConstraint("organisation_id", "email_key", name="uq_organiser_accounts_email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    # suite_common.emails.email_key: how a typed address finds the person.
    email_key: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_signed_in_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    sessions: Mapped[list[ConsoleSession]] = relationship(back_populates="account", cascade="all, delete-orphan")
    links: Mapped[list[SignInLink]] = relationship(back_populates="account", cascade="all, delete-orphan")


class SignInLink(Base):
    """A one-time sign-in link: valid for 15 minutes, spent by its first use."""

    __tablename__ = "sign_in_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("organiser_accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    account: Mapped[OrganiserAccount] = relationship(back_populates="links")


class ConsoleSession(Base):
    """A signed-in browser. Its secret lives in an HttpOnly cookie and also serves as the bearer
    credential with which the console calls the other services' organiser APIs for this person."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expiry", "last_seen_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("organiser_accounts.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    account: Mapped[OrganiserAccount] = relationship(back_populates="sessions")
