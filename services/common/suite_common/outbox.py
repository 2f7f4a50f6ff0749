"""The transactional outbox, used by every service that asks another one to act.

A service writes the request it must make (for example "send this message") into
its own database, in the same transaction as the state change that causes it. The
dispatcher then delivers it over HTTP with the row's idempotency key, retrying with
exponential backoff while the other service is unreachable. A row is delivered at
least once and the receiver applies each key once: together, exactly once.

Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (so several
replicas never take the same row) and under SQLite's write lock otherwise; a claim
is a lease, so rows claimed by a dispatcher that died are taken up again.
"""
from __future__ import annotations

import datetime as dt
import logging
import random
import threading
from collections.abc import Iterable
from typing import Any, NotRequired, TypedDict

import requests
from sqlalchemy import JSON, Index, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, declared_attr, mapped_column

from .client import ServiceClient
from .db import Database, UTCDateTime, insert_many_once, is_postgresql, utcnow
from .settings import Settings

log = logging.getLogger(__name__)

LEASE = dt.timedelta(seconds=60)
MAX_BACKOFF_SECONDS = 300


class OutboxMixin:
    """Columns of an outbox table; a service declares ``class Outbox(OutboxMixin, Base)``."""

    __tablename__ = "outbox"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Index, ...]:  # noqa: N805 - a new Index per service's table
        return (Index("ix_outbox_due", "delivered_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    target: Mapped[str] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(500))
    body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


def enqueue(session: Session, model: type[OutboxMixin], target: str, method: str, path: str,
            idempotency_key: str, body: dict[str, Any] | None = None) -> None:
    """Adds a request to the outbox of the current transaction; the same key twice is kept once
    (the first request stays, a later one under the same key is dropped without a word)."""
    enqueue_many(session, model, [OutboxRow(target=target, method=method, path=path,
                                            idempotency_key=idempotency_key, body=body)])


class OutboxRow(TypedDict):
    """One request for ``enqueue_many``: the arguments of ``enqueue``, as a dict."""

    target: str
    method: str
    path: str
    idempotency_key: str
    body: NotRequired[dict[str, Any] | None]


def enqueue_many(session: Session, model: type[OutboxMixin], rows: Iterable[OutboxRow]) -> None:
    """``enqueue`` for several requests in one statement, without a SELECT per key.

    One ``INSERT ... ON CONFLICT DO NOTHING`` (``insert_many_once``, PostgreSQL and SQLite): a key
    already in the outbox (committed, flushed, or pending in this session: the insert flushes first)
    or repeated in ``rows`` keeps its first request. On PostgreSQL a key being inserted by a
    concurrent transaction makes this one wait for it, then skip the row.
    """
    now = utcnow()
    insert_many_once(session, model, [
        {"idempotency_key": row["idempotency_key"], "target": row["target"], "method": row["method"],
         "path": row["path"], "body": row.get("body"), "attempts": 0, "next_attempt_at": now, "created_at": now}
        for row in rows], key=("idempotency_key",))


def retry_after(response: Any) -> dt.timedelta | None:
    """A 429's or 503's ``Retry-After`` in seconds (RFC 9110), capped at a day; None without one."""
    value = (getattr(response, "headers", None) or {}).get("Retry-After", "")
    if response.status_code not in (429, 503) or not str(value).strip().isdigit():
        return None
    return dt.timedelta(seconds=min(int(value), 24 * 3600))


def backoff(attempts: int) -> dt.timedelta:
    """Exponential backoff with full jitter, capped, so a recovering service is not stampeded."""
    ceiling = min(MAX_BACKOFF_SECONDS, 2 ** min(attempts, 16))
    return dt.timedelta(seconds=random.uniform(ceiling / 2, ceiling))


class Dispatcher:
    """Delivers due outbox rows; ``run_once`` is one pass; the worker's RoundRobin repeats it until stopped."""

    def __init__(self, database: Database, model: type[OutboxMixin], clients: dict[str, ServiceClient],
                 batch_size: int = 50) -> None:
        self.database = database
        self.model = model
        self.clients = clients
        self.batch_size = batch_size
        self.stopping = threading.Event()

    def _claim(self) -> list[tuple[int, str]]:
        model = self.model
        now = utcnow()
        with self.database.session_scope() as session:
            query = (
                select(model)
                .where(model.delivered_at.is_(None), model.next_attempt_at <= now,
                       (model.claimed_until.is_(None)) | (model.claimed_until < now))
                .order_by(model.id)
                .limit(self.batch_size)
            )
            if is_postgresql(session):
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            for row in rows:
                row.claimed_until = now + LEASE
            return [(row.id, row.target) for row in rows]

    def _deliver(self, row_id: int) -> bool | None:
        """True when delivered (or refused for good), False to retry later, None when the target is down."""
        with self.database.session_scope() as session:
            row = session.get(self.model, row_id)
            if row is None or row.delivered_at is not None:
                return True
            target, method, path, body, key = row.target, row.method, row.path, row.body, row.idempotency_key
        outcome: bool | None
        error = None
        not_before: dt.timedelta | None = None
        try:
            response = self.clients[target].request(method, path, json=body, idempotency_key=key)
            if response.status_code < 300:
                outcome = True
            elif 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                # Retrying will not change the answer: record it loudly and move on.
                outcome = True
                error = f"refused with {response.status_code}: {response.text[:500]}"
                log.error("outbox request refused", extra={"outbox_id": row_id, "status": response.status_code})
            else:
                outcome = False
                error = f"HTTP {response.status_code}"
                not_before = retry_after(response)
        except requests.RequestException as exc:
            outcome = None
            error = f"{type(exc).__name__}: {target} unreachable"
        with self.database.session_scope() as session:
            row = session.get(self.model, row_id)
            row.attempts += 1
            row.last_error = error
            row.claimed_until = None
            if outcome:
                row.delivered_at = utcnow()
            else:
                # Never before the other side's Retry-After (a rate limit: sooner is refused again).
                row.next_attempt_at = utcnow() + max(backoff(row.attempts), not_before or dt.timedelta(0))
        return outcome

    def _release(self, row_ids: list[int]) -> None:
        with self.database.session_scope() as session:
            session.execute(update(self.model).where(self.model.id.in_(row_ids)).values(claimed_until=None))

    def _postpone(self, row_ids: list[int]) -> None:
        """Rows for a target that is down wait a moment, so rows for other targets get their turn."""
        if row_ids:
            with self.database.session_scope() as session:
                session.execute(update(self.model).where(self.model.id.in_(row_ids))
                                .values(claimed_until=None, next_attempt_at=utcnow() + backoff(1)))

    def run_once(self) -> int:
        """Delivers what is due now; returns how many rows were delivered.

        A target that does not answer is tried once per pass; its other rows wait, and the
        rows for other targets (mails, Stripe) go on."""
        delivered = 0
        claimed = self._claim()
        down: set[str] = set()
        waiting: list[int] = []
        for index, (row_id, target) in enumerate(claimed):
            if self.stopping.is_set():
                self._release([row for row, _target in claimed[index:]])
                break
            if target in down:
                waiting.append(row_id)
                continue
            outcome = self._deliver(row_id)
            if outcome is None:
                down.add(target)
                continue
            delivered += outcome
        self._postpone(waiting)
        return delivered


def dispatcher_for(database: Database, settings: Settings, model: type[OutboxMixin]) -> Dispatcher:
    """The dispatcher of a service's outbox, with a client per service it may call."""
    clients = {
        "notifications": ServiceClient(settings.notifications_url, settings.service, settings.own_signing_key,
                                       retries=0),
        "registration": ServiceClient(settings.registration_url, settings.service, settings.own_signing_key,
                                      retries=0),
    }
    return Dispatcher(database, model, clients)
