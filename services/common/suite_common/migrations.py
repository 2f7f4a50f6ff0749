"""Alembic, the same way for every service: each service keeps its own
``migrations/`` folder and version table, and calls these helpers."""
from __future__ import annotations

from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from .db import make_engine


def alembic_config(script_location: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["database_url"] = database_url
    return config


def upgrade(script_location: Path, database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(script_location, database_url), revision)


def run_migrations(target_metadata: MetaData) -> None:
    """Body of every service's ``env.py`` (online mode only: we always have a database)."""
    url = context.config.attributes["database_url"]
    engine = make_engine(url)
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch mode rebuilds a table (copy, drop, rename); with foreign keys enforced SQLite refuses
            # to drop a table other rows refer to, so a migration that passed on an empty database
            # failed on one with data. Alembic's documented remedy: keys off while migrating. The
            # PRAGMA only takes effect outside a transaction, so it goes to the driver's connection
            # before SQLAlchemy begins one; the connection is discarded afterwards (engine.dispose).
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
