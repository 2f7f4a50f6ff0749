"""An organisation's Zoom connection and the Zoom webinar registrant of each registration (issue 15)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from suite_common.db import UTCDateTime, utcnow

from .base import Base
from .registration import Registration


class ZoomConnection(Base):
    """A Zoom Server-to-Server OAuth app of one organisation (services/zoom/connection.py).

    The client secret, the webhook secret token and the cached access token are stored encrypted
    (suite_common.secretbox) and leave this table only decrypted in memory, for a call to Zoom or a
    webhook's signature. The access token is cached here, not per process, so every worker and
    replica reuses one token until it expires (Zoom's account_credentials tokens live an hour).
    """

    __tablename__ = "zoom_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), unique=True)
    # Zoom's account ID: webhooks carry it (payload.account_id), and it finds the organisation.
    account_id: Mapped[str] = mapped_column(String(100), index=True)
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[str] = mapped_column(Text)
    webhook_secret_token_encrypted: Mapped[str] = mapped_column(Text)
    access_token_encrypted: Mapped[str | None] = mapped_column(Text)
    access_token_expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ZoomRegistrant(Base):
    """The Zoom webinar registrant that a registration became (services/zoom/registrants.py).

    One row per registration, written only by the outbox's Zoom sync: ``registrant_id`` is stored
    the moment Zoom answers, so a retried sync never adds a second registrant. ``join_url`` is the
    attendee's personal link; ``given_name``/``family_name`` are the names Zoom holds, so a name
    correction is seen as a difference to push. ``cancelled_at`` is set once Zoom cancelled it.
    """

    __tablename__ = "zoom_registrants"

    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"),
                                                 primary_key=True)
    webinar_id: Mapped[str] = mapped_column(String(30))
    registrant_id: Mapped[str] = mapped_column(String(100), index=True)
    join_url: Mapped[str] = mapped_column(String(1000))
    given_name: Mapped[str] = mapped_column(String(200))
    family_name: Mapped[str] = mapped_column(String(200))
    # Bumped when the personal link changed after mails with the earlier one were scheduled (a name
    # correction re-adds the registrant; an event linked to Zoom after its sign-ups): the reminders'
    # keys carry it, so the earlier reminders are cancelled and new ones scheduled (services/notify.py).
    link_version: Mapped[int] = mapped_column(default=0)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    # ``registration.zoom_registrant``: the personal join link where pages, mails and the roster show it.
    registration: Mapped[Registration] = relationship(
        backref=backref("zoom_registrant", uselist=False, passive_deletes=True))
