"""Which events an organiser's token may act on, for the services that do not own events.

Registration owns events; certificates and notifications keep rows keyed by an event's slug
and organisation, which exist only once something happened there. Looking only at those rows,
another organisation's event (or a slug nobody uses) would answer 200 with an empty list, or
accept a template for an event that is not the organiser's. So every organiser route keyed by
an event's slug asks registration first (``organiser_event_required``), and another
organisation's event is a 404, indistinguishable from a missing one, as in registration.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import quote

from flask import Flask, current_app, g

from .auth import current_organisation, organiser_required
from .client import UNREACHABLE, ServiceClient
from .errors import ApiError, not_found
from .settings import Settings

F = TypeVar("F", bound=Callable[..., Any])
# (organisation id, slug) -> the event as registration's internal API describes it, or None.
EventLookup = Callable[[int, str], dict[str, Any] | None]


def registration_lookup(settings: Settings) -> EventLookup:
    """Asks registration's internal API, signed as this service."""
    client = ServiceClient(settings.registration_url, settings.service, settings.own_signing_key, timeout=10.0)

    def lookup(organisation_id: int, slug: str) -> dict[str, Any] | None:
        response = client.read(f"/internal/v1/events/{quote(slug, safe='')}", {"organisation_id": organisation_id})
        if response.status_code == 404:
            return None
        if response.status_code != 200:  # registration refused our question: nothing to act on
            raise ApiError(503, "unavailable", UNREACHABLE)
        data: dict[str, Any] = response.json()
        return data

    return lookup


def init_event_lookup(app: Flask, lookup: EventLookup) -> None:
    app.extensions["suite_event_lookup"] = lookup


def owned_event(organisation_id: int, slug: str) -> dict[str, Any]:
    """The organisation's event ``slug``, or a 404 when it has none of that slug. Asked once per
    request: the route's check and the service code that needs the event share the answer."""
    answers: dict[tuple[int, str], dict[str, Any] | None] = g.setdefault("suite_owned_events", {})
    key = (organisation_id, slug)
    if key not in answers:
        lookup: EventLookup = current_app.extensions["suite_event_lookup"]
        answers[key] = lookup(organisation_id, slug)
    found = answers[key]
    if found is None:
        raise not_found("event")
    return found


def organiser_event_required(view: F) -> F:
    """``organiser_required`` for a route keyed by an event's ``slug``: once the token is known,
    a 404 unless its organisation owns the event."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        owned_event(current_organisation().id, kwargs["slug"])
        return view(*args, **kwargs)

    return organiser_required(wrapper)  # type: ignore[return-value]
