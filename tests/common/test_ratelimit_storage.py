"""The rate-limit counters in the database: one count for every process, atomic under concurrency,
windows that expire, and reads that never wait for the request's own open transaction."""
from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from suite_common.db import make_engine, new_metadata
from suite_common.ratelimit import SCHEME, DatabaseStorage, RateLimitCounterMixin
from tests.support.databases import fresh_database


class Base(DeclarativeBase):
    metadata = new_metadata()


class Counter(RateLimitCounterMixin, Base):
    """A service's counters table, as each service declares it."""


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    with fresh_database(backend, tmp_path, "ratelimit") as url:
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        try:
            yield engine
        finally:
            engine.dispose()


def test_counts_hits_and_reports_the_window(engine: Engine) -> None:
    storage = storage_from_string(f"{SCHEME}://", engine=engine, table=Counter.__table__)
    assert isinstance(storage, DatabaseStorage) and storage.check()
    limiter = FixedWindowRateLimiter(storage)
    limit = parse("3/minute")
    assert [limiter.hit(limit, "127.0.0.2", "verify") for _ in range(5)] == [True, True, True, False, False]
    assert limiter.hit(limit, "127.0.0.3", "verify")  # another client has its own count
    reset, remaining = limiter.get_window_stats(limit, "127.0.0.2", "verify")
    assert remaining == 0 and time.time() < reset <= time.time() + 60
    storage.clear(limit.key_for("127.0.0.2", "verify"))
    assert limiter.hit(limit, "127.0.0.2", "verify")
    assert storage.reset() == 2


def test_an_expired_window_starts_again(engine: Engine) -> None:
    storage = DatabaseStorage(engine=engine, table=Counter.__table__)
    assert storage.incr("k", 60) == 1 and storage.incr("k", 60) == 2
    with engine.begin() as connection:
        connection.execute(text("UPDATE rate_limit_counters SET expires_at = :past"), {"past": time.time() - 1})
    assert storage.get("k") == 0
    assert storage.get_expiry("k") == pytest.approx(time.time(), abs=5)
    assert storage.incr("k", 60) == 1
    assert storage.get_expiry("k") == pytest.approx(time.time() + 60, abs=5)


def test_concurrent_hits_are_all_counted(engine: Engine) -> None:
    storage = DatabaseStorage(engine=engine, table=Counter.__table__)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: storage.incr("busy", 60), range(80)))
    assert sorted(results) == list(range(1, 81))
    assert storage.get("busy") == 80


def test_reads_do_not_wait_for_an_open_write_transaction(engine: Engine) -> None:
    """After the view, the limiter reads its counters while the request's transaction is still open."""
    storage = DatabaseStorage(engine=engine, table=Counter.__table__)
    storage.incr("k", 60)
    with engine.begin() as busy:
        busy.execute(text("UPDATE rate_limit_counters SET count = count WHERE key = 'k'"))
        started = time.monotonic()
        assert storage.get("k") == 1 and storage.get_expiry("k") > time.time()
        assert time.monotonic() - started < 2
