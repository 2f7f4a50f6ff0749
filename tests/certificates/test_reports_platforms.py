"""Attendance reports beyond Zoom and Teams in English and German (issue 12, "Reports from more platforms"):
Zoom's waiting room, Excel workbooks (GoTo Webinar), Webex, localised headers, Teams lists without emails.

Each fixture states the minutes it should give, counted by hand from its rows (Vienna, UTC+1 in March)."""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from certificates.services import reports
from certificates.services.attendance import _match, _unique_names
from certificates.services.registry import Person
from certificates.services.reports import (
    GOTO_WEBINAR,
    NOT_A_REPORT,
    TEAMS,
    WEBEX,
    ZOOM_MEETING,
    ZOOM_WEBINAR,
    AttendanceRow,
    ParsedReport,
    ReportError,
    name_key,
    parse_report,
)

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


# --- localised Zoom and Teams exports --------------------------------------------------------
# Dates such as 05/03/2026 are 5 March in every one of these: a localised header means day first.

@pytest.mark.parametrize(("name", "expected"), [
    # Sanne waited 17:58-18:01 (skipped), then 18:01-18:40 and 18:45:30-19:30.
    ("zoom_meeting_participants_nl.csv", {"e.devries@umcg.example.nl": 96, "s.bakker@amc.example.nl": 39 + 44.5}),
    ("zoom_meeting_participants_fr.csv", {"c.lefevre@chu-lille.example.fr": 96,
                                          "elodie.martin@aphp.example.fr": 30 + 50}),
    # Íñigo was only in the waiting room.
    ("zoom_meeting_participants_es.csv", {"l.fernandez@hospitalclinic.example.es": 96, "ja.munoz@sermas.example.es": 75}),
    ("zoom_meeting_participants_it.csv", {"m.bianchi@policlinico.example.it": 96, "g.esposito@aou.example.it": 85}),
    ("zoom_meeting_participants_pt.csv", {"j.pereira@chuc.example.pt": 96, "ines.goncalves@hsj.example.pt": 60}),
])
def test_zoom_meeting_participants_in_other_languages(name: str, expected: dict[str, float]) -> None:
    report = fixture(name)
    assert report.format == ZOOM_MEETING
    assert minutes(report) == expected
    assert report.rows[0].join == utc(16, 55)  # 17:55 in Vienna on 5 March, not 3 May


def test_localised_waiting_room_and_yes_no() -> None:
    assert fixture("zoom_meeting_participants_nl.csv").skipped == [(6, "in the waiting room (In wachtkamer = Ja)")]
    assert fixture("zoom_meeting_participants_es.csv").skipped == [
        (7, "in the waiting room (En la sala de espera = Sí)")]


@pytest.mark.parametrize(("name", "email", "expected", "first_join"), [
    ("teams_attendance_nl.csv", "p.jansen@lumc.example.nl", 50 + 30, utc(17)),  # activities: a 10-minute gap
    ("teams_attendance_fr.csv", "m.girard@chu.example.fr", 78, utc(17, 2)),
    ("teams_attendance_es.csv", "c.ruiz@hvn.example.es", 75, utc(17)),
    ("teams_attendance_it.csv", "f.romano@asl.example.it", 45 + 40, utc(17)),
    ("teams_attendance_pt.csv", "r.costa@hsm.example.pt", 60, utc(17)),
])
def test_teams_reports_in_other_languages(name: str, email: str, expected: float, first_join: datetime) -> None:
    report = fixture(name)
    assert report.format == TEAMS
    assert minutes(report) == {email: expected}
    assert report.rows[0].join == first_join
    assert report.metadata["actual_start_utc"] == "2026-03-05T16:58:00+00:00"
    assert report.metadata["topic"]


def test_a_localised_header_does_not_override_the_files_own_dates() -> None:
    data = (b"Naam (oorspronkelijke naam),E-mailadres gebruiker,Tijd van deelname,Tijd van vertrek\n"
            b"A,a@example.nl,03/25/2026 09:00 AM,03/25/2026 10:00 AM\n")
    assert parse_report(data, VIENNA).rows[0].join == utc(8, day=25)


# --- Webex -----------------------------------------------------------------------------------

def test_webex_meeting_attendee_report_utf16_tabs() -> None:
    report = fixture("webex_meeting_attendees.csv")
    assert report.format == WEBEX
    # Katarzyna: 17:59-18:41 and 18:44-19:31 (two devices one after the other); Oluwaseun 18:15-19:00.
    assert minutes(report) == {"k.nowak@wum.example.pl": 42 + 47, "o.adeyemi@nhs.example.uk": 45}
    assert report.rows[0].join == utc(16, 59)
    assert report.skipped == [(5, "no email")]  # a phone dial-in


def test_webex_webinar_attendee_columns() -> None:
    data = (b"Attendee Name,Attendee Email,Join Time,Leave Time,Attendance Duration (min)\n"
            b"Mei Tanaka,mei.tanaka@example.jp,2026-03-05 18:00:00,2026-03-05 19:10:00,70\n")
    report = parse_report(data, VIENNA)
    assert (report.format, minutes(report)) == (WEBEX, {"mei.tanaka@example.jp": 70})
    assert report.rows[0].name == "Mei Tanaka"


# --- Excel workbooks: GoTo Webinar and the other layouts ---------------------------------------

def workbook(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOTO_HEADER = ["Attended", "Interest Rating", "First Name", "Last Name", "Email Address", "Registration Date",
               "Join Time", "Leave Time", "Time in Session", "Time Zone", "Country/Region"]
GOTO_REPORT = [
    ["Attendee Report:", "Cardiac CT for Beginners"],
    ["Report Generated:", "03/06/2026 09:12 AM CET"],
    [],
    ["Webinar ID", "Actual Start Date/Time", "Actual Duration (minutes)", "# Registered", "# Attended"],
    ["123-456-789", "03/05/2026 05:57 PM CET", "96", "4", "3"],
    [],
    ["Attendee Details"],
    GOTO_HEADER,
    ["Yes", 71, "Mateus", "Oliveira", "m.oliveira@example.br", "02/28/2026 10:00 AM CET",
     "03/05/2026 05:59 PM CET", "03/05/2026 07:30 PM CET", "1 hour 31 minutes", "Europe/Vienna", "Brazil"],
    ["Yes", 55, "Emma", "Schmidt", "emma.schmidt@example.de", "03/01/2026 08:00 AM CET",
     datetime(2026, 3, 5, 18, 10), datetime(2026, 3, 5, 18, 50), "40 minutes", "GMT+01:00", "Germany"],
    ["Yes", 55, "Emma", "Schmidt", "emma.schmidt@example.de", "03/01/2026 08:00 AM CET",
     datetime(2026, 3, 5, 18, 55), datetime(2026, 3, 5, 19, 25), "30 minutes", "GMT+01:00", "Germany"],
    ["No", None, "Liam", "Murphy", "liam.murphy@example.ie", "03/02/2026 11:30 AM CET", None, None, None, None,
     "Ireland"],
    [],
    ["Staff Details"],
    ["Attended", "Interest Rating", "First Name", "Last Name", "Email Address", "Join Time", "Leave Time"],
    ["Yes", None, "Organiser", "Society", "webinars@imaging-society.example", "03/05/2026 05:57 PM CET",
     "03/05/2026 07:33 PM CET"],
]


def test_goto_webinar_attendee_report_as_xlsx() -> None:
    report = parse_report(workbook(GOTO_REPORT), VIENNA)
    assert report.format == GOTO_WEBINAR
    # Mateus 17:59-19:30 (91 min); Emma 18:10-18:50 and 18:55-19:25 (Excel's own dates); staff not read.
    assert minutes(report) == {"m.oliveira@example.br": 91, "emma.schmidt@example.de": 40 + 30}
    assert [row.line for row in report.rows] == [9, 10, 11]  # Excel's row numbers
    assert report.rows[0].name == "Mateus Oliveira"
    assert report.rows[0].join == utc(16, 59)
    assert report.skipped == [(12, "did not attend (Attended = No)")]
    assert report.metadata["topic"] == "Cardiac CT for Beginners"


def test_goto_time_zone_column_and_suffix_are_read_when_they_are_unambiguous() -> None:
    rows = [GOTO_HEADER, ["Yes", 50, "A", "B", "a@example.org", "", "03/05/2026 12:00 PM", "03/05/2026 01:00 PM",
                          "60 minutes", "America/New_York", "US"],
            ["Yes", 50, "C", "D", "c@example.org", "", "03/05/2026 05:00 PM UTC", "03/05/2026 06:00 PM GMT+01:00",
             "60 minutes", "", "UK"]]
    report = parse_report(workbook(rows), VIENNA)
    assert [(row.join, row.leave) for row in report.rows] == [(utc(17), utc(18)), (utc(17), utc(17))]


def test_a_zoom_report_saved_as_xlsx_reads_as_the_csv() -> None:
    text = (FIXTURES / "zoom_webinar_attendee.csv").read_text(encoding="utf-8-sig")
    rows = [next(csv.reader([line])) if line else [] for line in text.splitlines()]
    from_xlsx = parse_report(workbook(rows), VIENNA)
    from_csv = fixture("zoom_webinar_attendee.csv")
    assert from_xlsx.format == from_csv.format == ZOOM_WEBINAR
    assert [(r.line, r.email, r.join, r.leave) for r in from_xlsx.rows] == \
        [(r.line, r.email, r.join, r.leave) for r in from_csv.rows]


def error_of(data: bytes) -> ReportError:
    with pytest.raises(ReportError) as caught:
        parse_report(data, VIENNA)
    return caught.value


def test_files_that_are_neither_csv_nor_xlsx_are_refused_clearly() -> None:
    assert error_of(b"PK\x03\x04 broken zip").reason == (
        f"{NOT_A_REPORT}: the file looks like a ZIP archive (.xlsx) but is damaged")
    other_zip = io.BytesIO()
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    assert error_of(other_zip.getvalue()).reason == f"{NOT_A_REPORT}: a ZIP archive that is not an Excel .xlsx workbook"
    assert error_of(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)).reason == (
        f"{NOT_A_REPORT}: an Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV")
    assert error_of(b"%PDF-1.7\n\x00\x01\x02 binary").reason.startswith(f"{NOT_A_REPORT}: the file is neither CSV text")


def test_a_workbook_whose_parts_are_broken_is_a_report_error() -> None:
    broken = io.BytesIO()
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("xl/workbook.xml", "<not-a-workbook")
    assert error_of(broken.getvalue()).reason.startswith("the Excel workbook cannot be read (")


def test_a_workbook_without_a_report_and_an_empty_workbook() -> None:
    assert error_of(workbook([["Name", "Score"], ["A", 1]])).reason.startswith(f"{NOT_A_REPORT}: the workbook's")
    assert error_of(workbook([])).reason == "the file is empty"


def test_a_huge_sheet_is_refused_at_the_row_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "XLSX_MAX_ROWS", 5)
    rows = [GOTO_HEADER] + [["Yes", 1, "A", str(n), f"a{n}@example.org", "", "2026-03-05 18:00",
                             "2026-03-05 19:00"] for n in range(10)]
    assert (error_of(workbook(rows)).line, error_of(workbook(rows)).reason) == (6, "the sheet has more than 5 rows")


def test_a_workbook_that_unpacks_too_far_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "XLSX_MAX_UNPACKED_BYTES", 1000)
    assert error_of(workbook(GOTO_REPORT)).reason.startswith("the workbook unpacks to more than")


def test_only_the_columns_within_the_bound_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reports, "XLSX_MAX_COLUMNS", 3)
    wide = [["Name", "Email", "Join Time", "Leave Time"], ["A", "a@example.org", "2026-03-05 18:00", "2026-03-05 19:00"]]
    assert error_of(workbook(wide)).reason.startswith(f"{NOT_A_REPORT}: the workbook's")


# --- Teams lists without emails ----------------------------------------------------------------

def test_the_older_teams_list_pairs_joins_and_leaves_by_name() -> None:
    report = fixture("teams_attendance_list_no_email.csv")
    assert report.format == TEAMS
    assert all(row.email == "" for row in report.rows)
    # Hans 17:59:10-18:40:10 and 18:45-19:30; Zoë never left: until the list's last moment, 19:30;
    # the first Anna Berg 18:01-19:00; the second Anna's join is inside that stretch, her leave has no join.
    assert [(row.line, row.name, row.join, row.leave) for row in report.rows] == [
        (2, "Hans Müller", utc(16, 59, 10), utc(17, 40, 10)),
        (3, "Anna Berg", utc(17, 1), utc(18)),
        (6, "Hans Müller", utc(17, 45), utc(18, 30)),
        (8, "Ｚｏë  ÅNGSTRÖM", utc(17, 30), utc(18, 30)),
    ]
    assert minutes(report) == {"Hans Müller": 41 + 45, "Anna Berg": 59, "Ｚｏë  ÅNGSTRÖM": 60}
    assert report.skipped == [(9, "a leave without a join before it (User Action = Left)")]


def test_a_teams_participants_list_without_an_email_column_keeps_names() -> None:
    data = ("2. Participants\r\nName\tFirst Join\tLast Leave\tRole\r\n"
            "Zoë Ångström\t3/5/26, 6:02 PM\t3/5/26, 7:15 PM\tAttendee\r\n").encode("utf-16")
    report = parse_report(data, VIENNA)
    assert [(row.email, row.name, row.join) for row in report.rows] == [("", "Zoë Ångström", utc(17, 2))]


def test_an_unknown_user_action_fails_the_file() -> None:
    data = "Full Name\tUser Action\tTimestamp\r\nA\tWaved\t3/5/2026, 6:00:00 PM\r\n".encode("utf-16")
    assert (error_of(data).line, error_of(data).reason) == (2, "User Action 'Waved' is neither a join nor a leave")


def person(pid: int, given: str, family: str, email: str) -> Person:
    return Person(id=pid, email=email, given_name=given, family_name=family, status="confirmed", ticket_code=f"T{pid}")


def test_rows_without_email_match_only_a_name_exactly_one_registration_has() -> None:
    people = [person(1, "Hans", "Müller", "hans@example.de"), person(2, "Zoë", "Ångström", "zoe@example.se"),
              person(3, "Anna", "Berg", "anna.berg@one.example"), person(4, "Anna", "Berg", "a.berg@two.example"),
              person(5, "Ines", "Weber", "ines@example.de")]
    by_email = {p.email_key: p for p in people}
    by_name = _unique_names(people)
    report = fixture("teams_attendance_list_no_email.csv")
    matched = {row.line: (m.id if (m := _match(row, by_email, by_name)) else None) for row in report.rows}
    # Zoë in fullwidth capitals with two spaces is Zoë Ångström; two registrations are called Anna Berg: unmatched.
    assert matched == {2: 1, 3: None, 6: 1, 8: 2}
    # "Family, Given" as Teams shows directory names; email first, and a row with an email never matches by name.
    row = AttendanceRow(1, "", "Weber, Ines", utc(17), utc(18))
    assert _match(row, by_email, by_name) == people[4]
    assert _match(AttendanceRow(1, "other@example.org", "Ines Weber", utc(17), utc(18)), by_email, by_name) is None
    assert _match(AttendanceRow(1, "zoe@example.se", "Hans Müller", utc(17), utc(18)), by_email, by_name) == people[1]


def test_name_key_folds_width_case_and_spaces() -> None:
    assert name_key("  ＭÜLLER\u00a0 hans ") == name_key("müller hans") == "müller hans"
    assert name_key("STRASSE") == name_key("Straße")
