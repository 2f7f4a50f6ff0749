"""Retention: what a service deletes or anonymises once nobody may keep it any longer.

Each service's ``services/privacy.py`` says what expires there (``purge``) and anonymises through
the same code as a person's erasure. This module holds the purges every service shares (delivered
outbox rows, signatures and rate-limit counters whose window has passed), the command
``flask --app <service> purge``, and the worker's turn that runs the purge every
``PURGE_INTERVAL_HOURS``; the periods are settings (``suite_common.settings.RetentionPeriods``).
A purge is idempotent: running it twice, or on two replicas at once, purges once.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable

import click
from flask import Flask, current_app
from sqlalchemy import delete
from sqlalchemy.orm import Session

from .db import Database, utcnow
from .outbox import OutboxMixin
from .settings import RetentionPeriods

log = logging.getLogger(__name__)


# A service's purge: what it removed, by kind, in the session's transaction.
Purge = Callable[[Session, dt.datetime, RetentionPeriods], dict[str, int]]


def purge_delivered_outbox(session: Session, model: type[OutboxMixin], before: dt.datetime) -> int:
    return session.execute(delete(model).where(model.delivered_at.is_not(None), model.delivered_at < before)
                           ).rowcount


def purge_expired(session: Session, model: type, now: dt.datetime) -> int:
    """Rows of a table with an ``expires_at`` in seconds since the epoch (seen signatures, rate-limit
    counters) whose time has passed; the tables guard against nothing after that."""
    return session.execute(delete(model).where(model.expires_at < now.timestamp())).rowcount  # type: ignore[attr-defined]


def run_purge(database: Database, purge: Purge, now: dt.datetime | None = None,
              periods: RetentionPeriods | None = None) -> dict[str, int]:
    with database.session_scope() as session:
        return purge(session, now or utcnow(), periods or current_app.extensions["suite_settings"].retention)


def register_purge_cli(app: Flask, database: Database, purge: Purge) -> None:
    @app.cli.command("purge")
    def purge_command() -> None:
        """Delete or anonymise what is past its retention period; prints what, as JSON."""
        click.echo(json.dumps(run_purge(database, purge), sort_keys=True))


class PeriodicPurge:
    """The worker loop's turn for retention: a purge at start, then every ``PURGE_INTERVAL_HOURS``."""

    def __init__(self, app: Flask, database: Database, purge: Purge) -> None:
        self.app = app
        self.database = database
        self.purge = purge
        self.interval = app.extensions["suite_settings"].retention.purge_interval.total_seconds()
        self.stopping = threading.Event()
        self._next = 0.0

    def run_once(self) -> int:
        """Never busy: the loop need not hurry back for the next purge."""
        if time.monotonic() < self._next:
            return 0
        self._next = time.monotonic() + self.interval
        with self.app.app_context():
            purged = run_purge(self.database, self.purge)
        log.info("retention purge", extra={"purged": purged})
        return 0
