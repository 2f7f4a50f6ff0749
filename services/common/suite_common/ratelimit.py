"""Rate limits on what strangers can reach: sign-ups, and URLs that carry a secret.

Who is limited, and how:

- **Sign-ups** (the HTML form's POST and the JSON API share one count per client address).
  Society web sites post their members' sign-ups from one server address, so this limit is
  generous (``SIGNUP_RATE_LIMIT``); it stops a flood, not a busy web site.
- **Secret links** (every route with a ``<token>`` in its URL, and the ``lookups`` a service
  names, such as ``/verify/<code>``): a generous limit on all requests (``TOKEN_RATE_LIMIT``),
  which bounds the PDFs one address can make us render, and a tight one on *failed* lookups
  (``TOKEN_FAILURE_RATE_LIMIT``): a 404 on such a URL counts, and once an address has used up
  its failures it gets 429 on every secret link until the window ends. Guessing needs failures;
  people opening their own pages do not fail. Their responses also carry ``Cache-Control:
  no-store``, so no browser or proxy cache keeps a page that only the link's holder may see.

A refusal is 429 with ``Retry-After`` (seconds), the suite's JSON error body on JSON routes
and an HTML page on pages. Limits are ``limits`` strings ("120/minute;2000/hour"), read from the
environment at start-up; ``RATELIMIT_ENABLED=false`` switches them off.

The counters live in the service's own database (one atomic upsert per hit, on SQLite and
PostgreSQL alike): counters kept in each process's memory would let a client make the limit
times the number of gunicorn workers and replicas. ``RATELIMIT_STORAGE_URI`` (e.g.
``redis://...``) takes precedence when set. Behind a reverse proxy, set ``TRUSTED_PROXIES`` so
the client address is the real one (see ``app``).
"""
from __future__ import annotations

import functools
import random
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from flask import Flask, Response, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from limits.storage import Storage
from sqlalchemy import Float, Select, String, Table, bindparam, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from .errors import handle_http_exception

SCHEME = "suite-database"
SLOW_DOWN = "Too many requests from your address; wait for the time in Retry-After and try again."


class RateLimitCounterMixin:
    """Columns of the counters table; a service declares ``class RateLimitCounter(RateLimitCounterMixin, Base)``."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    count: Mapped[int] = mapped_column()
    expires_at: Mapped[float] = mapped_column(Float, index=True, comment="seconds since the epoch")


def _failed_lookup(response: Response) -> bool:
    return response.status_code == 404


def init_rate_limits(app: Flask, engine: Engine, counters: type[RateLimitCounterMixin], *,
                     signups: Iterable[str] = (), lookups: dict[str, str] | None = None,
                     sign_ins: Iterable[str] = ()) -> Limiter:
    """Limits ``signups`` (endpoint names, POST only), every route with a ``<token>``, ``lookups``
    (endpoint: its own limit on all requests, plus the failed-lookup limit), and ``sign_ins``
    (requests for a console sign-in mail, POST only).

    Call it after every blueprint is registered: the limits wrap the registered view functions
    (a decorator applied to a module's function after a blueprint took it would never run).
    """
    limits = app.extensions["suite_settings"].rate_limits
    app.config["RATELIMIT_ENABLED"] = limits.enabled
    storage_uri = limits.storage_uri or f"{SCHEME}://"
    options = {"engine": engine, "table": counters.__table__} if storage_uri.startswith(SCHEME) else {}
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri, storage_options=options,
                      in_memory_fallback_enabled=True, headers_enabled=False)

    signup = limiter.shared_limit(limits.signup, scope="signup", methods=["POST"])
    token_links = limiter.shared_limit(limits.token_links, scope="secret-links")
    token_failures = limiter.shared_limit(limits.token_failures, scope="failed-lookups", deduct_when=_failed_lookup)
    guarded: dict[str, list[Any]] = {endpoint: [signup] for endpoint in signups}
    sign_in = limiter.shared_limit(limits.sign_in, scope="sign-in", methods=["POST"])
    for endpoint in sign_ins:
        guarded.setdefault(endpoint, []).append(sign_in)
    token_endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if "token" in rule.arguments}
    for endpoint in token_endpoints:
        guarded.setdefault(endpoint, []).extend([token_links, token_failures])
    secret_links = token_endpoints | set(lookups or {})
    for endpoint, limit in (lookups or {}).items():
        guarded.setdefault(endpoint, []).extend([limiter.limit(limit), token_failures])
    for endpoint, decorators in guarded.items():
        view = app.view_functions[endpoint]
        for decorate in decorators:
            view = decorate(view)
        app.view_functions[endpoint] = view

    @app.after_request
    def _not_stored(response: Response) -> Response:
        """Whatever a secret link answers (the page, a PDF, a 404) is stored by no cache: a shared
        computer's browser history or a proxy would otherwise hand it to the next person."""
        if request.endpoint in secret_links and "no-store" not in response.headers.get("Cache-Control", ""):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(RateLimitExceeded)
    def _too_many(error: RateLimitExceeded) -> Response:
        error.description = SLOW_DOWN
        response = handle_http_exception(error)
        breached = limiter.current_limit
        retry_after = breached.reset_at - time.time() if breached else 60
        response.headers["Retry-After"] = str(max(1, int(retry_after)))
        return response

    return limiter


class DatabaseStorage(Storage):
    """A ``limits`` storage for the fixed-window strategy (``incr``/``get``/``get_expiry``)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, engine: Engine | None = None,
                 table: Table | None = None, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if engine is None or table is None:
            raise ValueError("DatabaseStorage needs the service's engine and counters table "
                             "(storage_options={'engine': ..., 'table': ...})")
        self.engine = engine
        self.table = table

    @functools.cached_property
    def _counting(self) -> Any:
        """The upsert that counts a hit, built once: a window that ran out starts again at this hit."""
        table = self.table
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table).values(key=bindparam("key"), count=bindparam("count"),
                                         expires_at=bindparam("expires_at"))
        expired = table.c.expires_at <= bindparam("now")
        return statement.on_conflict_do_update(index_elements=[table.c.key], set_={
            "count": case((expired, statement.excluded.count), else_=table.c.count + statement.excluded.count),
            "expires_at": case((expired, statement.excluded.expires_at), else_=table.c.expires_at),
        }).returning(table.c.count)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        table = self.table
        parameters = {"key": key, "count": amount, "expires_at": now + expiry, "now": now}
        # One statement, atomic by itself: on PostgreSQL it runs in autocommit, without the BEGIN and
        # COMMIT round trips of a transaction (every sign-up and secret link pays for this count).
        # SQLite keeps the transaction: the suite begins its transactions IMMEDIATE itself.
        options = {"isolation_level": "AUTOCOMMIT"} if self.engine.dialect.name == "postgresql" else {}
        with self.engine.connect().execution_options(**options) as connection:
            count = connection.execute(self._counting, parameters).scalar_one()
            if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
                connection.execute(delete(table).where(table.c.expires_at <= now))
            connection.commit()
        return int(count)

    def get(self, key: str) -> int:
        count = self._read(select(self.table.c.count).where(self.table.c.key == key,
                                                            self.table.c.expires_at > time.time()))
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        expires = self._read(select(self.table.c.expires_at).where(self.table.c.key == key))
        now = time.time()
        return float(expires) if expires is not None and expires > now else now

    def check(self) -> bool:
        try:
            self._read(select(func.count()).select_from(self.table))
        except SQLAlchemyError:
            return False
        return True

    def _read(self, statement: Select[Any]) -> Any:
        """The first column of the first row. The limiter reads after the view too (conditional
        deductions, the breached window), while the request's own transaction may still be open;
        the suite begins SQLite transactions IMMEDIATE, so a read through the engine would wait for
        that very transaction. On SQLite the read therefore runs on the raw connection in
        autocommit (isolation_level None), which under WAL takes no lock."""
        if self.engine.dialect.name != "sqlite":
            with self.engine.connect() as connection:
                return connection.execute(statement).scalar()
        compiled = statement.compile(dialect=self.engine.dialect)
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            try:
                cursor.execute(str(compiled), [compiled.params[name] for name in compiled.positiontup or ()])
                row = cursor.fetchone()
            finally:
                cursor.close()
        except sqlite3.Error as exc:
            raise OperationalError(str(compiled), None, exc) from exc
        finally:
            raw.close()
        return row[0] if row else None

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(self.table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(self.table).where(self.table.c.key == key))

