"""What every service's application factory starts with."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, Response
from werkzeug.middleware.proxy_fix import ProxyFix

from .api import SuiteApi, init_api
from .auth import SeenSignatureMixin, TokenResolver, init_replay_guard
from .cli import register_db_cli
from .db import Database, end_request
from .errors import register_error_handlers
from .health import blueprint as health_blueprint
from .i18n import init_i18n
from .identity import identity_blueprint
from .logs import configure_logging, init_request_logging
from .routing import SlugConverter, TextConverter, install_converters, slug_parameter, text_parameter
from .security import init_security_headers
from .settings import Settings

MAX_REQUEST_BYTES = 16 * 1024 * 1024


class SuiteFlask(Flask):
    """Flask whose requests end their unit of work (commit or roll back) as the response leaves the
    view, before any after-request hook: hooks run in the reverse order of their registration,
    which services extend after start-up, so no hook could be sure to run first."""

    def process_response(self, response: Response) -> Response:
        return super().process_response(end_request(response))


def create_service_app(
    import_name: str, settings: Settings, title: str, description: str, token_resolver: TokenResolver,
    migrations: Path, seen_signatures: type[SeenSignatureMixin], form_targets: tuple[str, ...] = (),
) -> tuple[Flask, SuiteApi, Database]:
    configure_logging(settings.service, settings.log_level)
    # One stylesheet and static folder for every service's pages.
    app = SuiteFlask(import_name, static_folder=str(Path(__file__).parent / "static"))
    install_converters(app)
    if settings.trusted_proxies:
        # Behind that many reverse proxies, the client's address (rate limits, logs) and scheme (HSTS)
        # come from their X-Forwarded-* headers; without proxies those headers are anyone's to forge.
        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
    )
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["suite_settings"] = settings
    app.extensions["suite_token_resolver"] = token_resolver
    settings.ensure_var_dir()
    database = Database(settings.database_url)
    database.init_app(app)
    init_replay_guard(app, database.engine, seen_signatures)
    init_request_logging(app)
    init_security_headers(app, settings.public_base_url.startswith("https://"), form_targets)
    register_error_handlers(app)
    init_i18n(app, Path(app.root_path) / "translations")
    api = init_api(app, title, description)
    api.register_converter(SlugConverter, slug_parameter)
    api.register_converter(TextConverter, text_parameter)
    app.register_blueprint(health_blueprint)
    # Browsers ask for /favicon.ico whatever the page links; one icon for the whole suite.
    app.add_url_rule("/favicon.ico", "favicon", lambda: app.send_static_file("favicon.ico"))
    api.register_blueprint(identity_blueprint())
    register_db_cli(app, migrations)
    return app, api, database
