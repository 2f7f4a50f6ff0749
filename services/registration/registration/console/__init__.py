"""The organiser console: the back office at ``/console/``, in the browser, for people who do not use curl.

Served by registration, the service that owns organisations, people and their sign-in, so the
console is one origin with one cookie, one CSRF token and one navigation. Registration's own
pages call its service functions directly, exactly as its API views do; the pages about
messages, attendance, accreditation and certificates call the notifications and certificates
organiser APIs over HTTP (``remote``) with the signed-in person's session as the bearer
credential: those services keep their data and rules to themselves, and apply the person's role
as they would a token's. No business rule lives in a console view.

Every route declares the least role it needs (``route``); the role matrix test reads
``REQUIRED_ROLES`` beside the URL map, so no page ships without that decision.
"""
from __future__ import annotations

# The page modules add their routes to ``blp`` on import.
from . import account, accreditation, branding, credit_systems, events, faculty, messages, people, roster, zoom  # noqa: E402,F401
from .core import REQUIRED_ROLES, blp

__all__ = ["REQUIRED_ROLES", "blp"]
