"""Notifications service: every email of the suite, queued durably and sent once."""
from __future__ import annotations

from pathlib import Path

from flask import Flask
from suite_common.app import create_service_app
from suite_common.client import introspecting_resolver
from suite_common.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("notifications")
    app, _api, _database = create_service_app(
        __name__, settings, "Notifications API", "Messages: queued, sent over SMTP once, with retries.",
        introspecting_resolver(settings), Path(__file__).parent / "migrations",
    )
    return app
