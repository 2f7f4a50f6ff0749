"""Commands every service has."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app

from .migrations import upgrade


def register_db_cli(app: Flask, migrations: Path) -> None:
    @app.cli.group("db")
    def db() -> None:
        """Database migrations."""

    @db.command("upgrade")
    def db_upgrade() -> None:
        """Bring the database to the newest schema (Alembic)."""
        settings = current_app.extensions["suite_settings"]
        settings.ensure_var_dir()
        upgrade(migrations, settings.database_url)
        click.echo(f"{settings.service}: database up to date")
