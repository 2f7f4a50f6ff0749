"""An event's Zoom webinar, made by us when the organiser has none yet."""
from __future__ import annotations

from sqlalchemy.orm import Session

from suite_common.db import Database
from suite_common.errors import ApiError
from suite_common.settings import Settings

from ...models import Event
from .. import events as event_service
from .client import ZoomError
from .connection import ZoomNotConnected, client_for


def create_webinar(database: Database, settings: Settings, event: Event) -> str:
    """Creates a webinar at Zoom with the event's title, start, length and time zone, registration
    required and registrants approved automatically; returns its ID for the event's ``zoom_webinar_id``.
    The caller has committed its transaction first: this calls Zoom."""
    duration = max(int((event.ends_at - event.starts_at).total_seconds() // 60), 1)
    return client_for(database, settings, event.organisation_id).create_webinar(
        event.title, event.starts_at, duration, event.timezone)


def create_and_link(session: Session, database: Database, settings: Settings, event: Event) -> str:
    """The event's webinar created at Zoom and linked, so confirmed registrations become its registrants:
    what the API's ``POST /events/{slug}/zoom-webinar`` and the console's button both do, with the same
    refusals (409 already linked or Zoom not connected, 502 Zoom refused; nothing changed). The view has
    called ``commit_before_calling_out`` (the event is read as loaded, no transaction is held over Zoom)."""
    if event.zoom_webinar_id:
        raise ApiError(409, "conflict", "This event has a Zoom webinar already.",
                       {"zoom_webinar_id": [event.zoom_webinar_id]})
    try:
        webinar_id = create_webinar(database, settings, event)
    except ZoomNotConnected:
        raise ApiError(409, "zoom_not_connected",
                       "Zoom is not connected: an owner connects the organisation's Zoom app first "
                       "(PUT /api/v1/organisation/integrations/zoom, or Zoom in the console).") from None
    except ZoomError as exc:
        raise ApiError(502, "zoom_failed", f"Zoom did not create the webinar: {exc}") from None
    event_service.update_event(session, event, {"zoom_webinar_id": webinar_id})
    return webinar_id
