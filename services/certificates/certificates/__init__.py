"""Certificates service: attendance, credit rules, PDF certificates, verification."""
from __future__ import annotations

import os
from pathlib import Path

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from suite_common.app import create_service_app
from suite_common.audit import init_audit
from suite_common.cli import RoundRobin, register_worker_cli
from suite_common.client import introspecting_resolver
from suite_common.forms import init_csrf
from suite_common.outbox import dispatcher_for
from suite_common.privacy import privacy_blueprint
from suite_common.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("certificates")
    app, api, database = create_service_app(
        __name__, settings, "Certificates API", "Attendance, credits, certificates and their verification.",
        introspecting_resolver(settings), Path(__file__).parent / "migrations",
    )
    init_csrf(app)
    app.config["RATELIMIT_HEADERS_ENABLED"] = True
    from .services import ratelimit

    # Counted in the database (or RATELIMIT_STORAGE_URI), so the limit holds across workers and replicas.
    storage_uri = os.environ.get("RATELIMIT_STORAGE_URI") or f"{ratelimit.SCHEME}://"
    limiter = Limiter(get_remote_address, app=app, storage_uri=storage_uri, in_memory_fallback_enabled=True,
                      storage_options={"engine": database.engine} if storage_uri.startswith(ratelimit.SCHEME) else {})

    from .blueprints import organiser_api, public
    from .models import AuditEntry as _AuditEntry
    from .models import Outbox
    from .services import privacy
    from .services.issuing import JobRunner

    api.register_blueprint(init_audit(app, _AuditEntry))
    api.register_blueprint(organiser_api.blp)
    api.register_blueprint(privacy_blueprint(privacy.export, privacy.erase))
    app.register_blueprint(public.blp)
    # The limits wrap the registered views: a decorator applied to the module's functions after the
    # blueprint took them would never run.
    slow_down = "Too many requests from your address; wait for the time in Retry-After and try again."
    limited = {"public.verify": limiter.limit(os.environ.get("VERIFY_RATE_LIMIT") or "60/minute",
                                              error_message=slow_down),
               "public.participant": limiter.limit("30/minute", methods=["POST"], error_message=slow_down)}
    for endpoint, limit in limited.items():
        app.view_functions[endpoint] = limit(app.view_functions[endpoint])
    register_worker_cli(
        app, lambda: RoundRobin(dispatcher_for(database, settings, Outbox), JobRunner(app, database)),
        "the outbox dispatcher and the certificate jobs")
    return app
