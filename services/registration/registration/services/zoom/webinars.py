"""An event's Zoom webinar, made by us when the organiser has none yet."""
from __future__ import annotations

from suite_common.db import Database
from suite_common.settings import Settings

from ...models import Event
from .connection import client_for


def create_webinar(database: Database, settings: Settings, event: Event) -> str:
    """Creates a webinar at Zoom with the event's title, start, length and time zone, registration
    required and registrants approved automatically; returns its ID for the event's ``zoom_webinar_id``.
    The caller has committed its transaction first: this calls Zoom."""
    duration = max(int((event.ends_at - event.starts_at).total_seconds() // 60), 1)
    return client_for(database, settings, event.organisation_id).create_webinar(
        event.title, event.starts_at, duration, event.timezone)
