"""Certificates service: attendance, credit rules, PDF certificates, verification."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from suite_common.app import create_service_app
from suite_common.client import introspecting_resolver
from suite_common.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("certificates")
    app, _api, _database = create_service_app(
        __name__, settings, "Certificates API", "Attendance, credits, certificates and their verification.",
        introspecting_resolver(settings), Path(__file__).parent / "migrations",
    )
    return app
