"""Creating and changing events, their sessions and rates."""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
from decimal import Decimal
from typing import Any

from flask_babel import gettext
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload

from suite_common.db import insert_once, utcnow
from suite_common.errors import ApiError, not_found, validation_error

from ..models import Event, EventSession, Rate
from ..schemas.common import SLUG_PATTERN
from . import lifecycle, notify
from .zoom import registrants as zoom_registrants

DEFAULT_CONSENT_TEXT = (
    "I agree that the organiser stores the details I enter to handle my registration, "
    "to send me messages about this event, and to issue my attendance certificate."
)


def consent_version(text: str) -> str:
    """Consent is recorded against the exact text shown, identified by its digest."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def get_event(session: Session, organisation_id: int, slug: str) -> Event:
    """Another organisation's event is indistinguishable from a missing one."""
    event = None
    if SLUG_PATTERN.match(slug):
        event = session.scalar(select(Event).where(Event.slug == slug, Event.organisation_id == organisation_id))
    if event is None:
        raise not_found("event")
    return event


def get_public_event(session: Session, slug: str) -> Event:
    # A string that cannot be a slug is not looked up: PostgreSQL refuses e.g. NUL in a query.
    event = session.execute(_public_event(), {"slug": slug}).unique().scalar_one_or_none() \
        if SLUG_PATTERN.match(slug) else None
    if event is None:
        raise not_found("event")
    return event


@functools.cache
def _public_event() -> Select[tuple[Event]]:
    """Built once (every page and sign-up of an event runs it), with the rates in the same query:
    all of them read the rates."""
    return select(Event).options(joinedload(Event.rates)).where(Event.slug == bindparam("slug"))


def list_events(session: Session, organisation_id: int) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.organisation_id == organisation_id).order_by(Event.starts_at)))


def upcoming_events(session: Session, now: dt.datetime, limit: int = 50) -> list[Event]:
    return list(session.scalars(select(Event).where(Event.ends_at > now).order_by(Event.starts_at).limit(limit)))


def create_event(session: Session, organisation_id: int, data: dict[str, Any]) -> Event:
    data = dict(data)
    data.setdefault("consent_text", DEFAULT_CONSENT_TEXT)
    event, created = insert_once(session, Event, {**data, "organisation_id": organisation_id, "seats_taken": 0},
                                 key=("slug",))
    if not created:  # slugs are unique suite-wide: another organisation's event may hold it
        raise ApiError(409, "conflict", "An event with this slug already exists.", {"slug": ["Already in use."]})
    return event


# Changing one of these changes the calendar entry: attendees get an update and reminders move.
MOVING_FIELDS = ("starts_at", "ends_at", "timezone", "venue", "join_url")


def update_event(session: Session, event: Event, changes: dict[str, Any]) -> Event:
    merged = {key: getattr(event, key) for key in ("starts_at", "ends_at", "registration_opens_at",
                                                   "registration_closes_at")}
    merged.update({k: v for k, v in changes.items() if k in merged})
    if merged["ends_at"] <= merged["starts_at"]:
        raise validation_error({"ends_at": ["The event must end after it starts."]})
    opens, closes = merged["registration_opens_at"], merged["registration_closes_at"]
    if opens and closes and closes <= opens:
        raise validation_error({"registration_closes_at": ["Registration must close after it opens."]})
    moved = any(k in changes and changes[k] != getattr(event, k) for k in MOVING_FIELDS)
    # Another webinar (or none): registrants follow, and attendees get their new personal link.
    relinked = "zoom_webinar_id" in changes and changes["zoom_webinar_id"] != event.zoom_webinar_id
    for key, value in changes.items():
        if key != "capacity":
            setattr(event, key, value)
    now = utcnow()
    if moved:
        event.sequence += 1
        session.flush()
        notify.event_moved(session, event, event.sequence - 1, now)
    if relinked:
        session.flush()
        zoom_registrants.relink_event(session, event)
    if "capacity" in changes and changes["capacity"] != event.capacity:
        notify.queue(session, lifecycle.change_capacity(session, event, changes["capacity"], now).mails)
    session.flush()
    return event


def _session_credits(credits: Decimal | dict[str, Decimal]) -> dict[str, Any]:
    """A plain decimal is the event's first credit system's; credits by system say every system's, and
    the first named stands in ``credits`` for pages that show one figure."""
    if isinstance(credits, dict):
        return {"credits": next(iter(credits.values()), Decimal(0)),
                "credits_by_system": {code: str(amount) for code, amount in credits.items()}}
    return {"credits": credits, "credits_by_system": None}


def add_session(session: Session, event: Event, data: dict[str, Any]) -> EventSession:
    if data["starts_at"] < event.starts_at or data["ends_at"] > event.ends_at:
        raise validation_error({"starts_at": ["The session must lie within the event's start and end."]})
    values = {**data, **_session_credits(data["credits"]), "event_id": event.id}
    item, created = insert_once(session, EventSession, values, key=("event_id", "code"))
    if not created:
        raise ApiError(409, "conflict", "A session with this code already exists.", {"code": ["Already in use."]})
    session.expire(event, ["sessions"])  # read again with the new one when next used
    return item


def get_session_of(event: Event, code: str) -> EventSession:
    found = next((item for item in event.sessions if item.code == code), None)
    if found is None:
        raise not_found("session")
    return found


def update_session(session: Session, item: EventSession, changes: dict[str, Any]) -> EventSession:
    """Partial update of a session. Its seats already taken stay valid: a workshop with sign-ups stays a
    workshop, and its capacity stays at least the seats taken."""
    starts_at, ends_at = changes.get("starts_at", item.starts_at), changes.get("ends_at", item.ends_at)
    if ends_at <= starts_at:
        raise validation_error({"ends_at": ["The session must end after it starts."]})
    if starts_at < item.event.starts_at or ends_at > item.event.ends_at:
        raise validation_error({"starts_at": ["The session must lie within the event's start and end."]})
    if item.seats_taken and changes.get("is_workshop", item.is_workshop) != item.is_workshop:
        raise validation_error({"is_workshop": ["People hold seats in this workshop; it stays a workshop."]})
    capacity = changes.get("capacity", item.capacity)
    if capacity is not None and capacity < item.seats_taken:
        raise validation_error({"capacity": [f"{item.seats_taken} seats are taken; the capacity cannot be lower."]})
    if "credits" in changes:
        changes = {**changes, **_session_credits(changes["credits"])}
    for key, value in changes.items():
        setattr(item, key, value)
    session.flush()
    return item


def add_rate(session: Session, event: Event, data: dict[str, Any]) -> Rate:
    if data["currency"] != event.currency:
        raise validation_error({"currency": [f"Rates of this event are in {event.currency}."]})
    rate, created = insert_once(session, Rate, Rate.with_defaults({**data, "event_id": event.id}),
                                key=("event_id", "code"))
    if not created:
        raise ApiError(409, "conflict", "A rate with this code already exists.", {"code": ["Already in use."]})
    session.expire(event, ["rates"])  # read again with the new one when next used
    return rate


def rates_on_offer(event: Event, now: dt.datetime) -> list[Rate]:
    return [rate for rate in event.rates if rate.on_offer(now)]


def registration_window_refusal(event: Event, now: dt.datetime) -> str | None:
    """Why sign-up is not possible right now, or None when it is."""
    if event.registration_opens_at and now < event.registration_opens_at:
        return gettext("Registration has not opened yet.")
    closes = event.registration_closes_at or event.ends_at
    if now >= closes:
        return gettext("Registration for this event is closed.")
    return None
