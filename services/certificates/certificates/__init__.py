"""Certificates service: attendance, credit rules, PDF certificates, verification."""
from __future__ import annotations

from pathlib import Path

from flask import Flask

from suite_common.app import create_service_app
from suite_common.audit import init_audit
from suite_common.branding import RemoteBranding, init_branding
from suite_common.cli import RoundRobin, register_worker_cli
from suite_common.client import introspecting_resolver
from suite_common.events import init_event_lookup, registration_lookup
from suite_common.forms import init_csrf
from suite_common.outbox import dispatcher_for
from suite_common.privacy import privacy_blueprint
from suite_common.ratelimit import init_rate_limits
from suite_common.retention import PeriodicPurge, register_purge_cli
from suite_common.settings import Settings


def create_app(settings: Settings | None = None) -> Flask:
    from .models import SeenSignature

    settings = settings or Settings.from_env("certificates")
    app, api, database = create_service_app(
        __name__, settings, "Certificates API", "Attendance, credits, certificates and their verification.",
        introspecting_resolver(settings), Path(__file__).parent / "migrations", SeenSignature,
    )
    init_event_lookup(app, registration_lookup(settings))
    init_csrf(app)
    init_branding(app, RemoteBranding.from_settings(settings))

    from .blueprints import accreditor_reports, internal_api, organiser_api, public
    from .models import AuditEntry as _AuditEntry
    from .models import Outbox, RateLimitCounter
    from .services import privacy
    from .services.issuing import JobRunner

    api.register_blueprint(init_audit(app, _AuditEntry))
    api.register_blueprint(organiser_api.blp)
    api.register_blueprint(internal_api.blp)
    api.register_blueprint(accreditor_reports.blp)
    api.register_blueprint(privacy_blueprint(privacy.export, privacy.erase))
    app.register_blueprint(public.blp)
    from .blueprints import transcripts as transcript_pages
    app.register_blueprint(transcript_pages.blp)
    from .blueprints import credentials as credential_pages
    api.register_blueprint(credential_pages.api)
    app.register_blueprint(credential_pages.pages)
    # Verification codes are printed and short: every request counts, and an unknown code also uses up
    # the failed-lookup budget shared with the certificate and participant links.
    init_rate_limits(app, database.engine, RateLimitCounter,
                     lookups={"public.verify": settings.rate_limits.verification,
                              "credentials.credential_by_code": settings.rate_limits.verification,
                              "credentials.verify_page": settings.rate_limits.verification,
                              "verify_api.verify": settings.rate_limits.verification},
                     # each transcript request may send a mail: limited like a console sign-in mail
                     sign_ins=("transcripts.request_form",))
    register_worker_cli(
        app, lambda: RoundRobin(dispatcher_for(database, settings, Outbox), JobRunner(app, database),
                                PeriodicPurge(app, database, privacy.purge)),
        "the outbox dispatcher, the certificate jobs and the retention purge")
    register_purge_cli(app, database, privacy.purge)
    _register_demo_cli(app, settings)
    from .cli import register_keys_cli
    register_keys_cli(app)
    return app


def _register_demo_cli(app: Flask, settings: Settings) -> None:
    import click

    @app.cli.command("seed-demo")
    @click.option("--token-file", type=click.Path(path_type=Path, exists=True), required=True,
                  help="the demo organisation's token, as registration's seed-demo wrote it")
    def seed_demo(token_file: Path) -> None:
        """The demo congress's accreditation, presence codes and its participant's attendance, once (run after
        registration's seed-demo, with registration running: the organisation is the token's)."""
        from suite_common.db import get_db

        from .demo import seed

        organisation = introspecting_resolver(settings)(token_file.read_text().strip())
        if organisation is None:
            raise click.ClickException("The token in the token file is not known to registration.")
        with get_db().session_scope() as session:
            click.echo(f"Demo accreditation: {seed(session, organisation.id, organisation.name)}")
            from .services import signing_keys
            click.echo(f"Credential signing key: {signing_keys.kid(signing_keys.current(session, organisation.id))}")
