"""Every service's migrations build its schema from an empty database, on SQLite and PostgreSQL,
and the result matches the models exactly (so no change to a model ships without its migration)."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from suite_common.db import make_engine
from suite_common.migrations import upgrade
from tests.support.databases import fresh_database

SERVICES = ("registration", "notifications", "certificates")


@pytest.mark.parametrize("service", SERVICES)
def test_migrations_run_from_empty_and_match_the_models(service: str, backend: str, tmp_path: Path) -> None:
    package = importlib.import_module(service)
    metadata = importlib.import_module(f"{service}.models").Base.metadata
    with fresh_database(backend, tmp_path, service) as url:
        upgrade(Path(package.__file__).parent / "migrations", url)
        upgrade(Path(package.__file__).parent / "migrations", url)  # a second run changes nothing
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert context.get_current_revision() is not None
                assert compare_metadata(context, metadata) == []
        finally:
            engine.dispose()
