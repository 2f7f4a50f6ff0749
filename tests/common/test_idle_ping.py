"""Pooled PostgreSQL connections are pinged only after sitting idle (suite_common.db.make_engine):
one that died while idle (a database restart, a dropped proxy connection) is replaced at checkout,
and one in steady use costs no extra round trip."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from suite_common.db import make_engine
from tests.support.databases import BACKENDS

# Only PostgreSQL pools connections to a server that can drop them.
POSTGRESQL = [b for b in BACKENDS if b == "postgresql"]


def _backend_pid(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def _terminate(database_url: str, pid: int) -> None:
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            assert connection.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        admin.dispose()


@pytest.fixture
def pool(database_url: str) -> Iterator[Callable[[float], Engine]]:
    """Engines as the services make them, with the idle time after which a connection is pinged."""
    engines: list[Engine] = []

    def make(idle_ping_seconds: float) -> Engine:
        engines.append(make_engine(database_url, idle_ping_seconds=idle_ping_seconds))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


@pytest.mark.parametrize("database_url", POSTGRESQL, indirect=True)
def test_a_connection_that_died_while_idle_is_replaced_at_checkout(database_url: str, pool) -> None:
    engine = pool(0)
    first = _backend_pid(engine)
    _terminate(database_url, first)
    assert _backend_pid(engine) != first  # the ping failed, the pool connected anew


@pytest.mark.parametrize("database_url", POSTGRESQL, indirect=True)
def test_a_connection_in_steady_use_is_not_pinged(database_url: str, pool) -> None:
    engine = pool(3600)
    first = _backend_pid(engine)
    assert _backend_pid(engine) == first
    # Not pinged: a connection killed in the meantime is found dead by the statement itself.
    _terminate(database_url, first)
    with pytest.raises(OperationalError):
        _backend_pid(engine)
