"""Calendar files (RFC 5545) for a registration, built with the icalendar library."""
from __future__ import annotations

from icalendar import Calendar
from icalendar import Event as CalendarEvent

from suite_common.db import utcnow

from ..models import Registration

PRODID = "-//Imaging Events Suite//Registration//EN"


def calendar_uid(registration: Registration, domain: str) -> str:
    """Stable per registration, so an update replaces the entry instead of adding one."""
    return f"registration-{registration.reference}@{domain}"


def registration_calendar(registration: Registration, domain: str, manage_url: str, cancelled: bool = False) -> bytes:
    event = registration.event
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")
    entry = CalendarEvent()
    entry.add("uid", calendar_uid(registration, domain))
    entry.add("sequence", event.sequence + (1 if cancelled else 0))
    entry.add("dtstamp", utcnow())
    entry.add("dtstart", event.starts_at)
    entry.add("dtend", event.ends_at)
    entry.add("summary", event.title)
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    location = event.join_url if event.kind == "webinar" and event.join_url else event.venue
    if location:
        entry.add("location", location)
    entry.add("description", f"Your registration {registration.reference}. Manage it at {manage_url}")
    entry.add("url", manage_url)
    calendar.add_component(entry)
    return calendar.to_ical()
