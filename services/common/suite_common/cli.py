"""Commands every service has."""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

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


class Worker(Protocol):
    stopping: threading.Event

    def run_forever(self) -> None: ...


def register_worker_cli(app: Flask, build: Callable[[], Worker], what: str) -> None:
    """``flask --app <service> worker``: the service's background loop, for production and ``make run``.

    SIGTERM and SIGINT let the current item finish, then the loop ends.
    """

    @app.cli.command("worker", help=f"Run {what} until stopped.")
    def worker() -> None:
        runner = build()
        signal.signal(signal.SIGTERM, lambda *_: runner.stopping.set())
        signal.signal(signal.SIGINT, lambda *_: runner.stopping.set())
        click.echo(f"{current_app.extensions['suite_settings'].service}: {what} running", err=True)
        runner.run_forever()


class RoundRobin:
    """Several loops in one process, taking turns; one stop signal ends them all."""

    def __init__(self, *workers: Any) -> None:
        self.workers = workers
        self.stopping = threading.Event()
        for worker in workers:
            worker.stopping = self.stopping

    def run_forever(self, idle_seconds: float = 0.5) -> None:
        while not self.stopping.is_set():
            busy = 0
            for worker in self.workers:
                try:
                    busy += worker.run_once()
                except Exception:  # one failing loop must not stop the others; logged, retried next turn
                    logging.getLogger(__name__).exception("worker pass failed")
            if not busy:
                self.stopping.wait(idle_seconds)
