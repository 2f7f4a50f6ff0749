"""Calendar files (RFC 5545) for a registration, built with the icalendar library.

Written in the registration's language: the description through the catalog, and SUMMARY and
DESCRIPTION carry RFC 5545's LANGUAGE parameter (section 3.2.10) so a calendar knows what it shows.
"""
from __future__ import annotations

from flask_babel import gettext
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from suite_common.db import utcnow
from suite_common.i18n import DEFAULT_LANGUAGE, in_language

from ..models import Registration
from .zoom.registrants import personal_join_url

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
    language = registration.language or DEFAULT_LANGUAGE
    entry.add("summary", event.title, parameters={"LANGUAGE": language})
    entry.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    join_url = personal_join_url(registration) or event.join_url
    location = join_url if event.kind == "webinar" and join_url else event.venue
    if location:
        entry.add("location", location)
    with in_language(language):
        description = gettext("Your registration %(reference)s. Manage it at %(url)s",
                              reference=registration.reference, url=manage_url)
    entry.add("description", description, parameters={"LANGUAGE": language})
    entry.add("url", manage_url)
    calendar.add_component(entry)
    return calendar.to_ical()
