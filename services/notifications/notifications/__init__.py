"""Notifications service: every email of the suite, queued durably and sent once."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from suite_common.app import create_service_app
from suite_common.audit import init_audit
from suite_common.cli import RoundRobin, register_worker_cli
from suite_common.client import introspecting_resolver
from suite_common.privacy import privacy_blueprint
from suite_common.retention import PeriodicPurge, register_purge_cli
from suite_common.settings import Settings

from .services.sender import Sender, SmtpSettings


def smtp_settings() -> SmtpSettings:
    env = os.environ
    return SmtpSettings(
        host=env.get("SMTP_HOST", "127.0.0.1"),
        port=int(env.get("SMTP_PORT", "1025")),
        username=env.get("SMTP_USERNAME") or None,
        password=env.get("SMTP_PASSWORD") or None,
        starttls=env.get("SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
        mail_from=env.get("MAIL_FROM", "Imaging Events <no-reply@localhost>"),
        lease_seconds=float(env.get("SENDER_LEASE_SECONDS", "120")),
    )


def create_app(settings: Settings | None = None) -> Flask:
    from .models import SeenSignature

    settings = settings or Settings.from_env("notifications")
    app, api, database = create_service_app(
        __name__, settings, "Notifications API", "Messages: queued, sent over SMTP once, with retries.",
        introspecting_resolver(settings), Path(__file__).parent / "migrations", SeenSignature,
    )
    app.config["MAIL_DOMAIN"] = os.environ.get("MAIL_DOMAIN") or "imaging-events.local"

    from .blueprints import internal_api, organiser_api
    from .models import AuditEntry as _AuditEntry
    from .services import privacy

    api.register_blueprint(init_audit(app, _AuditEntry))
    api.register_blueprint(internal_api.blp)
    api.register_blueprint(organiser_api.blp)
    api.register_blueprint(privacy_blueprint(privacy.export, privacy.erase))

    register_worker_cli(app, lambda: RoundRobin(Sender(database, smtp_settings()),
                                                PeriodicPurge(app, database, privacy.purge)),
                        "the SMTP sender and the retention purge")
    register_purge_cli(app, database, privacy.purge)
    return app
