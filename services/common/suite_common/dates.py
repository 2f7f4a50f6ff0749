"""Dates as attendees read them, in the event's own time zone, and retention periods in years."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo


def event_dates(starts_at: dt.datetime, ends_at: dt.datetime, timezone: str) -> str:
    """'4 March 2027', '4–5 March 2027', '30 March – 2 April 2027' or across years in full."""
    zone = ZoneInfo(timezone)
    start, end = starts_at.astimezone(zone).date(), ends_at.astimezone(zone).date()
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
