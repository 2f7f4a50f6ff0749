"""Database engine and sessions (SQLAlchemy 2.x), for PostgreSQL and SQLite alike.

Unit of work: a request's session is committed once, by ``end_request`` as the response
leaves the view, with whatever ``on_request_end`` participants (the audit log) add to it; an
error response (4xx, 5xx) or an exception rolls it back. A job commits once per batch with
``session_scope``. Nothing else commits or rolls back: a service that expects a constraint to
refuse a row flushes (or inserts with ``insert_once``) so the refusal surfaces where it can be
answered, and keeps a refusal from spoiling the rest with a savepoint (``begin_nested``).

Locking rule for every service: a transaction that changes a shared counter
(seats, invoice numbers, code uses) takes that row's lock with its first write
(a conditional ``UPDATE``), so concurrent workers queue on the row instead of
reading a stale value. On SQLite every transaction starts with ``BEGIN IMMEDIATE``,
which serialises writers for the whole file and gives the same guarantee.
"""
from __future__ import annotations

import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g
from sqlalchemy import DateTime, MetaData, create_engine, event, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from .errors import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores aware datetimes as UTC and always returns them aware, on every backend."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


def make_engine(url: str, idle_ping_seconds: float = 10.0, **kwargs: Any) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            # Let SQLAlchemy, not pysqlite, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()
            # SQLite's lower() folds ASCII only; searches that must ignore case in every script use this.
            dbapi_connection.create_function("unicode_lower", 1, _unicode_lower, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine, idle_ping_seconds)
    return engine


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Pessimistic disconnect handling at a fraction of ``pool_pre_ping``'s cost: a pooled connection
    idle for ``idle_seconds`` or more (the database may have restarted, a proxy may have dropped it)
    is pinged when checked out, and replaced if the ping fails; one in steady use is not pinged, which
    saves a round trip on each of a sign-up's two checkouts (the request's and the rate limiter's).
    A restart while connections are busy fails the statements in flight, and SQLAlchemy then
    replaces every connection of the pool."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
            dbapi_connection.rollback()
        except Exception as exc:  # whatever the driver raises for a dead connection: the pool takes a new one
            raise DisconnectionError("the pooled connection did not answer its ping") from exc


def is_postgresql(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) else session_or_engine
    return bind.dialect.name == "postgresql"


def insert_ignoring_conflicts(session: Session, model: type[Any], key: Sequence[str] | None = None) -> Any:
    """``INSERT ... ON CONFLICT (key) DO NOTHING`` (any unique index without ``key``), without values:
    they are passed to ``execute``, so the statement is built and compiled once per model, not
    coerced value by value on every call (a sign-up's inserts are on its hot path)."""
    return _insert_ignoring(postgresql if is_postgresql(session) else sqlite, model,
                            tuple(key) if key is not None else None)


@functools.cache
def _insert_ignoring(dialect: Any, model: type[Any], key: tuple[str, ...] | None) -> Any:
    statement = dialect.insert(model)
    if key is None:
        return statement.on_conflict_do_nothing()
    return statement.on_conflict_do_nothing(index_elements=[getattr(model, name) for name in key])


def insert_once(session: Session, model: type[T], values: Mapping[str, Any], key: Sequence[str], *,
                for_update: bool = False) -> tuple[T, bool]:
    """The row whose ``key`` columns (a unique constraint) hold ``values``': inserted now, or the one
    that exists; returns ``(row, inserted)``. The suite's one way to insert a row once.

    One ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` on PostgreSQL and SQLite: no savepoint, no
    ``IntegrityError`` to catch, no SELECT-then-INSERT race. On PostgreSQL an insert of the same key by
    a concurrent transaction makes this one wait for it; once it committed, the row is read here (each
    statement of READ COMMITTED sees what committed before it). SQLite's write lock serialises the
    rest. ``for_update`` locks the existing row. Python-side column defaults apply as with ``add``."""
    row = session.scalar(insert_ignoring_conflicts(session, model, key).returning(model), dict(values))
    if row is not None:
        return row, True
    existing = select(model).where(*(getattr(model, name) == values[name] for name in key))
    found = session.scalar(existing.with_for_update() if for_update else existing)
    if found is None:  # deleted between the two statements: a conflict the caller cannot resolve
        raise IntegrityError("insert_once", dict(values), Exception(f"{model.__name__} row vanished"))
    return found, False


def insert_many_once(session: Session, model: type[Any], rows: Iterable[Mapping[str, Any]],
                     key: Sequence[str]) -> None:
    """``insert_once`` for many rows in one statement, where the caller needs no row back: a key that
    exists (or repeats in ``rows``: the first one is kept) is skipped."""
    unique: dict[tuple[Any, ...], Mapping[str, Any]] = {}
    for row in rows:
        unique.setdefault(tuple(row[name] for name in key), row)
    if unique:
        session.execute(insert_ignoring_conflicts(session, model, key), list(unique.values()))


RequestEndHook = Callable[[Response], None]


class Database:
    """One engine and session factory per process; one session, and one commit, per request."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.session_factory = sessionmaker(self.engine, expire_on_commit=False)
        self.request_end_hooks: list[RequestEndHook] = []

    def init_app(self, app: Flask) -> None:
        app.extensions["suite_db"] = self
        app.teardown_appcontext(self._remove_session)

    def on_request_end(self, hook: RequestEndHook) -> None:
        """``hook(response)`` may add rows to the request's session (``get_session()``) just before it
        commits, after the view's work was rolled back for a refusal; it runs for every response under 500."""
        self.request_end_hooks.append(hook)

    @staticmethod
    def _remove_session(_exc: BaseException | None) -> None:
        close_session()

    @contextmanager
    def session_scope(self) -> Iterator[Session]:
        """The unit of work outside a request (a CLI command, one batch of a job): commits once on
        success, rolls back on any exception."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return True
        except Exception:  # readiness reports any database failure as "not ready"
            return False


def get_db() -> Database:
    return current_app.extensions["suite_db"]


def close_session() -> None:
    """Ends the current request's session now, not at teardown; whatever it did not commit is dropped."""
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


def get_session() -> Session:
    """The current request's session, created on first use."""
    if "db_session" not in g:
        g.db_session = get_db().session_factory()
    return g.db_session



def commit_before_calling_out() -> None:
    """Commits the request's work so far, for a view about to call an outside service (Stripe):
    a transaction kept open over a network call would hold its locks (an event's seat row on
    PostgreSQL, the whole database on SQLite) for as long as the other side takes. What the view
    records of the answer is the request's second, short unit of work, committed by ``end_request``.
    Views only: a service never commits."""
    if "db_session" in g:
        g.db_session.commit()


CONFLICT = "This conflicts with a change made at the same moment; nothing was changed. Reload and try again."
FAILED = "Something went wrong on our side; nothing was changed."


def end_request(response: Response) -> Response:
    """Ends the request's unit of work: commits once if the response says the request succeeded
    (status under 400), otherwise rolls back. Runs before every after-request hook (see
    ``app.SuiteFlask``), so the status they log and the transaction they may wait for are final.

    Streamed responses (CSV) are committed here too, before their body is read: their generator
    reads in a transaction of its own. A commit that fails answers 409 (a constraint, e.g. a
    concurrent duplicate) or 500 instead of the view's response, and nothing of it is kept; a
    service that expects a constraint to refuse flushes itself and answers better."""
    try:
        if response.status_code >= 400 and "db_session" in g:
            g.db_session.rollback()
        if response.status_code < 500:
            for hook in get_db().request_end_hooks:
                hook(response)
        if "db_session" in g:
            g.db_session.commit()
    except Exception as exc:  # the response must say that nothing was kept
        if "db_session" in g:
            g.db_session.rollback()
        if isinstance(exc, IntegrityError):
            log.warning("request refused at commit: %s", exc.orig)
            error = ApiError(409, "conflict", CONFLICT)
        else:
            log.exception("request's unit of work not committed")
            error = ApiError(500, "internal_error", FAILED)
        return current_app.make_response(current_app.handle_user_exception(error))
    return response
