"""Absolute links that leave the service (in mails, API answers, calendar files)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from suite_common import dates
from suite_common.auth import participant_token

from ..models import Event, Registration


def public_base() -> str:
    return current_app.extensions["suite_settings"].public_base_url


def public_domain() -> str:
    return urlsplit(public_base()).hostname or "localhost"


def manage_url(registration: Registration) -> str:
    return f"{public_base()}/r/{registration.manage_token}"


def sign_in_url(secret: str) -> str:
    """A one-time console sign-in link, as the sign-in mail and the CLI give it."""
    return f"{public_base()}/console/sign-in/{secret}"


def participant_url(registration: Registration) -> str:
    """The attendee's page at certificates (evaluation, certificate), signed with our service key."""
    settings = current_app.extensions["suite_settings"]
    token = participant_token(settings.own_signing_key, registration.event.slug, registration.id)
    return f"{settings.certificates_public_url}/events/{registration.event.slug}/participants/{token}"


def event_dates(event: Event) -> str:
    return dates.event_dates(event.starts_at, event.ends_at, event.timezone)
