"""Attendance reports beyond Zoom and Teams in English and German (issue 12, "Reports from more platforms"):
Zoom's waiting room, Excel workbooks (GoTo Webinar), Webex, localised headers, Teams lists without emails.

Each fixture states the minutes it should give, counted by hand from its rows (Vienna, UTC+1 in March)."""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from certificates.services.reports import ZOOM_MEETING, ParsedReport, parse_report

FIXTURES = Path(__file__).parent / "fixtures"
VIENNA = "Europe/Vienna"


def utc(hour: int, minute: int = 0, second: int = 0, day: int = 5, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def fixture(name: str, timezone: str = VIENNA) -> ParsedReport:
    return parse_report((FIXTURES / name).read_bytes(), timezone)


def minutes(report: ParsedReport) -> dict[str, float]:
    """Minutes per email (or per name for rows without one), summed over rows as the file gives them."""
    found: dict[str, float] = {}
    for row in report.rows:
        key = row.email or row.name
        found[key] = found.get(key, 0) + (row.leave - row.join).total_seconds() / 60
    return found


# --- Zoom's waiting room ---------------------------------------------------------------------

def test_waiting_room_rows_are_skipped_with_the_reason() -> None:
    report = fixture("zoom_meeting_waiting_room.csv")
    assert report.format == ZOOM_MEETING
    # Ana waited 17:58-18:02 and was admitted until 19:30 (88 min); Piet was never admitted.
    assert minutes(report) == {"host@imaging-society.example": 96, "ana.silva@hospital.example.pt": 88}
    assert report.skipped == [(3, "in the waiting room (In Waiting Room = Yes)"),
                              (5, "in the waiting room (In Waiting Room = Yes)")]
    assert [(row.join, row.leave) for row in report.rows if row.name == "Ana Silva"] == [(utc(17, 2), utc(18, 30))]


def test_an_existing_zoom_export_with_in_waiting_room_no_still_counts() -> None:
    report = fixture("zoom_meeting_participants.csv")
    assert len(report.rows) == 4 and report.skipped == [(9, "no email")]
