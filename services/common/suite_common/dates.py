"""Dates as attendees read them, in the event's own time zone, and retention periods in years."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from babel.dates import format_interval


def event_dates(starts_at: dt.datetime, ends_at: dt.datetime, timezone: str, language: str = "en") -> str:
    """'4 March 2027', '4–5 March 2027', '30 March – 2 April 2027' or across years in full; in another
    language as its locale writes such a range (CLDR's interval formats: '4.–5. März 2027', '4-5 mars 2027')."""
    zone = ZoneInfo(timezone)
    start, end = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
    if language != "en":
        return format_interval(start, end, "yMMMMd", locale=language)
    if start == end:
        return f"{start.day} {start:%B %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {start:%B %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%B} – {end.day} {end:%B %Y}"
    return f"{start.day} {start:%B %Y} – {end.day} {end:%B %Y}"


def add_years(moment: dt.datetime, years: int) -> dt.datetime:
    """The same day and time ``years`` later (earlier when negative); 29 February becomes the 28th."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)
