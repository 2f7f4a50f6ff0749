"""Absolute links that leave the service (in mails, API answers, calendar files)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app

from ..models import Registration


def public_base() -> str:
    return current_app.extensions["suite_settings"].public_base_url


def public_domain() -> str:
    return urlsplit(public_base()).hostname or "localhost"


def manage_url(registration: Registration) -> str:
    return f"{public_base()}/r/{registration.manage_token}"
