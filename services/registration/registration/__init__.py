"""Registration service: events, sign-ups, capacity and waiting lists, the roster."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import segno
from flask import Flask
from flask_babel import gettext, lazy_gettext
from markupsafe import Markup

from suite_common.app import create_service_app
from suite_common.audit import init_audit
from suite_common.branding import init_branding
from suite_common.cli import RoundRobin, register_worker_cli
from suite_common.db import get_session
from suite_common.errors import ApiError
from suite_common.forms import init_csrf
from suite_common.i18n import format_money as format_money_in_locale
from suite_common.i18n import format_span
from suite_common.outbox import dispatcher_for
from suite_common.ratelimit import init_rate_limits
from suite_common.retention import PeriodicPurge, register_purge_cli
from suite_common.settings import Settings

from .models import RateLimitCounter, SeenSignature
from .services import pricing
from .services.branding import DatabaseBranding
from .services.hold_sweeper import HoldSweeper
from .services.lifecycle import TransitionRefused
from .services.money import format_money
from .services.organisations import resolve_token
from .services.payments import StripeTarget
from .services.zoom import registrants as zoom_registrants
from .services.zoom.attendance import ReportFetcher

# Lazy: shown in the language of the page that shows them (the console's pages are always English).
STATUS_LABELS = {"confirmed": lazy_gettext("Confirmed"), "waitlisted": lazy_gettext("On the waiting list"),
                 "cancelled": lazy_gettext("Cancelled"), "pending_payment": lazy_gettext("Awaiting payment"),
                 "refunded": lazy_gettext("Cancelled and refunded"),
                 "pending_approval": lazy_gettext("Awaiting the organiser's approval")}


def _resolve_token(token: str):  # type: ignore[no-untyped-def]
    return resolve_token(get_session(), token)


def local_time(value: dt.datetime | None, timezone: str) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %Y, %H:%M")


def event_when(event: Any) -> str:
    """'Mon 01 Mar 2027, 09:00 – 17:30 (Europe/Vienna)', naming the end day only when it differs."""
    zone = ZoneInfo(event.timezone)
    start, end = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
    end_text = end.strftime("%H:%M") if end.date() == start.date() else local_time(event.ends_at, event.timezone)
    return f"{local_time(event.starts_at, event.timezone)} – {end_text} ({event.timezone})"


def qr_svg(text: str) -> Markup:
    """An inline SVG QR code (vector, no image request, nothing for the CSP to allow)."""
    return Markup(segno.make(text, micro=False).svg_inline(scale=5, border=2, title="Ticket QR code"))


def money(amount: int, currency: str) -> str:
    return "free" if amount == 0 else format_money(amount, currency)


def price(amount: int, currency: str) -> str:
    """A price on the attendee's pages, in their language: "free", "gratis", "€ 150,00"."""
    return gettext("free") if amount == 0 else format_money_in_locale(amount, currency)


def event_span(event: Any) -> str:
    """When the event is, in the page's language and the event's time zone (named)."""
    return f"{format_span(event.starts_at, event.ends_at, event.timezone)} ({event.timezone})"


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env("registration")
    app, api, database = create_service_app(
        __name__, settings, "Registration API",
        "Events, sessions, rates, sign-ups, waiting lists and the organiser's roster.", _resolve_token,
        Path(__file__).parent / "migrations", SeenSignature, form_targets=(settings.stripe.checkout_origin,),
    )
    init_csrf(app)
    # A transition not valid from the registration's state (the lifecycle's domain error) is a 409.
    app.register_error_handler(TransitionRefused, lambda e: app.handle_user_exception(
        ApiError(409, e.code, e.message, e.fields)))

    from .blueprints import (
        faculty,
        integrations,
        internal_api,
        invoices,
        mail_links,
        organiser_api,
        pages,
        privacy,
        public_api,
        webhooks,
        zoom_attendance,
    )
    from .models import AuditEntry

    api.register_blueprint(init_audit(app, AuditEntry))

    for blueprint in (organiser_api.blp, invoices.api, faculty.api, privacy.blp, public_api.blp, internal_api.blp,
                      zoom_attendance.api, integrations.blp):
        api.register_blueprint(blueprint)
    app.register_blueprint(pages.blp)
    init_branding(app, DatabaseBranding())
    app.register_blueprint(mail_links.blp)
    app.register_blueprint(webhooks.blp)
    app.register_blueprint(invoices.pages)
    app.register_blueprint(faculty.pages)
    from . import console

    app.register_blueprint(console.blp)
    init_rate_limits(app, database.engine, RateLimitCounter,
                     signups=("pages.register", "pages.review_signup", "public_api.register"),
                     sign_ins=("console.sign_in",))
    app.add_template_filter(local_time, "local")
    app.add_template_filter(money, "money")
    app.add_template_filter(event_when, "when")
    app.add_template_filter(qr_svg, "qr_svg")
    app.add_template_filter(zoom_registrants.personal_join_url, "personal_join_url")
    app.add_template_filter(lambda rate: f"{rate.normalize():f}%", "vat_percent")
    app.add_template_filter(lambda s: STATUS_LABELS.get(s, s), "status_label")
    app.add_template_filter(price, "price")
    app.add_template_filter(pricing.amount_to_pay, "to_pay")
    app.add_template_filter(event_span, "l10n_when")

    from .cli import register_cli
    from .models import Outbox
    from .services import privacy as privacy_service

    register_cli(app)

    def background_work() -> RoundRobin:
        dispatcher = dispatcher_for(database, settings, Outbox)
        dispatcher.clients["stripe"] = StripeTarget(settings.stripe)
        dispatcher.clients[zoom_registrants.TARGET] = zoom_registrants.ZoomTarget(database, settings)
        return RoundRobin(dispatcher, HoldSweeper(app, database), ReportFetcher(app, database, settings),
                          PeriodicPurge(app, database, privacy_service.purge))

    register_worker_cli(app, background_work, "the outbox dispatcher (mails, Stripe refunds, Zoom registrants), the sweep of "
                                              "expired seat holds and the retention purge")
    register_purge_cli(app, database, privacy_service.purge)
    return app
