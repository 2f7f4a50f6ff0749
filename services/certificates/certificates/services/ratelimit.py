"""Rate-limit counters in the service's own database, for Flask-Limiter.

Counters kept in each process's memory would let a client make the limit times the number of
gunicorn workers and replicas; verification codes must not be enumerable, so every process
counts in one place. Without Redis at hand, that place is our database: one atomic upsert per
hit, on SQLite and PostgreSQL alike. ``RATELIMIT_STORAGE_URI`` (e.g. ``redis://...``) still
takes precedence when set.
"""
from __future__ import annotations

import random
import sqlite3
import time
from typing import Any

from limits.storage import Storage
from sqlalchemy import Select, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ..models import RateLimitCounter

SCHEME = "suite-database"
_table = RateLimitCounter.__table__


class DatabaseStorage(Storage):
    """A ``limits`` storage for the fixed-window strategy (``incr``/``get``/``get_expiry``)."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, engine: Engine | None = None,
                 **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if engine is None:
            raise ValueError("DatabaseStorage needs the service's engine (storage_options={'engine': ...})")
        self.engine = engine

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        statement = insert(_table).values(key=key, count=amount, expires_at=now + expiry)
        expired = _table.c.expires_at <= now
        statement = statement.on_conflict_do_update(index_elements=[_table.c.key], set_={
            "count": case((expired, statement.excluded.count), else_=_table.c.count + statement.excluded.count),
            "expires_at": case((expired, statement.excluded.expires_at), else_=_table.c.expires_at),
        }).returning(_table.c.count)
        with self.engine.begin() as connection:
            count = connection.execute(statement).scalar_one()
            if random.random() < 0.01:  # noqa: S311 - housekeeping, not security
                connection.execute(delete(_table).where(_table.c.expires_at <= now))
        return int(count)

    def get(self, key: str) -> int:
        count = self._read(select(_table.c.count).where(_table.c.key == key, _table.c.expires_at > time.time()))
        return int(count or 0)

    def get_expiry(self, key: str) -> float:
        expires = self._read(select(_table.c.expires_at).where(_table.c.key == key))
        now = time.time()
        return float(expires) if expires is not None and expires > now else now

    def check(self) -> bool:
        try:
            self._read(select(func.count()).select_from(_table))
        except SQLAlchemyError:
            return False
        return True

    def _read(self, statement: Select[Any]) -> Any:
        """The first column of the first row. The limiter reads after the view too (the X-RateLimit headers),
        while the request's own transaction is still open; the suite begins SQLite transactions IMMEDIATE, so
        a read through the engine would wait for that very transaction. On SQLite the read therefore runs
        on the raw connection in autocommit (isolation_level None), which under WAL takes no lock."""
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
            return connection.execute(delete(_table)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(_table).where(_table.c.key == key))
