"""Notifications service: every email of the suite, queued durably and sent once."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from suite_common.app import create_service_app
from suite_common.audit import init_audit
from suite_common.branding import RemoteBranding, init_branding
from suite_common.cli import RoundRobin, register_worker_cli
from suite_common.client import introspecting_resolver
from suite_common.events import init_event_lookup, registration_lookup
from suite_common.privacy import privacy_blueprint
from suite_common.retention import PeriodicPurge, register_purge_cli
from suite_common.settings import Settings

from .services.sender import Sender


def create_app(settings: Settings | None = None) -> Flask:
    from .models import SeenSignature

    settings = settings or Settings.from_env("notifications")
    app, api, database = create_service_app(
        __name__, settings, "Notifications API", "Messages: queued, sent over SMTP once, with retries.",
        introspecting_resolver(settings), Path(__file__).parent / "migrations", SeenSignature,
    )
    init_event_lookup(app, registration_lookup(settings))
    branding = RemoteBranding.from_settings(settings)
    init_branding(app, branding)

    from .blueprints import internal_api, organiser_api
    from .models import AuditEntry as _AuditEntry
    from .services import privacy

    api.register_blueprint(init_audit(app, _AuditEntry))
    api.register_blueprint(internal_api.blp)
    api.register_blueprint(organiser_api.blp)
    api.register_blueprint(privacy_blueprint(privacy.export, privacy.erase))

    register_worker_cli(app, lambda: RoundRobin(Sender(database, settings.smtp, branding=branding.branding,
                                                       logo=branding.logo),
                                                PeriodicPurge(app, database, privacy.purge)),
                        "the SMTP sender and the retention purge")
    register_purge_cli(app, database, privacy.purge)
    return app
