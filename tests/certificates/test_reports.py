"""Attendance report parsing against realistic exports from Zoom and Teams, and against broken ones."""
from __future__ import annotations

import codecs
import hashlib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from certificates.services.credits import Interval, Rules, Session, compute_credits
from certificates.services.reports import (
    NOT_A_REPORT,
    TEAMS,
    ZOOM_MEETING,
    ZOOM_WEBINAR,
    ParsedReport,
    ReportError,
    parse_report,
)

FIXTURES = Path(__file__).parent / "fixtures"
VIENNA = "Europe/Vienna"


def utc(hour: int, minute: int = 0, second: int = 0, day: int = 5, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


def fixture(name: str, timezone: str = VIENNA) -> ParsedReport:
    return parse_report((FIXTURES / name).read_bytes(), timezone)


def spans(report: ParsedReport, email: str) -> list[tuple[datetime, datetime]]:
    return [(row.join, row.leave) for row in report.rows if row.email == email]


def error_of(data: bytes, timezone: str = VIENNA) -> ReportError:
    with pytest.raises(ReportError) as caught:
        parse_report(data, timezone)
    return caught.value


def meeting_csv(*rows: str, header: str = "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest") -> bytes:
    return "\n".join([header, *rows]).encode()


# --- Zoom webinar attendee report ---------------------------------------------------------

def test_zoom_webinar_reads_only_attendee_details_in_utc() -> None:
    report = fixture("zoom_webinar_attendee.csv")
    assert report.format == ZOOM_WEBINAR
    assert [row.line for row in report.rows] == [13, 14, 15, 16, 17, 18, 19, 21]
    emails = {row.email for row in report.rows}
    assert "webinars@imaging-society.example" not in emails  # host
    assert "a.kowalska@uni-krakow.example" not in emails  # panelist
    first = report.rows[0]
    # 08:58:30 AM in Vienna in winter (UTC+1) is 07:58:30 UTC
    assert (first.email, first.name, first.join, first.leave) == (
        "hans.mueller@klinikum-nord.example", "Müller, Hans", utc(7, 58, 30), utc(10, 1, 12))


def test_zoom_webinar_keeps_each_rejoin_as_its_own_row() -> None:
    assert spans(fixture("zoom_webinar_attendee.csv"), "lucja.wisniewska@szpital.example") == [
        (utc(8, 1, 5), utc(8, 40)), (utc(8, 42, 10), utc(9, 15, 30)), (utc(9, 16), utc(10, 0))]


def test_zoom_webinar_keeps_overlapping_rows_from_two_devices() -> None:
    assert spans(fixture("zoom_webinar_attendee.csv"), "g.papadopoulos@iatriko.example.gr") == [
        (utc(7, 59), utc(10, 0, 5)), (utc(8, 30), utc(9, 5))]


def test_zoom_webinar_names_in_any_script_and_emails_normalised() -> None:
    report = fixture("zoom_webinar_attendee.csv")
    names = {row.line: row.name for row in report.rows}
    assert (names[17], names[18]) == ("Γιώργος Παπαδόπουλος", "Γιώργος Παπαδόπουλος (iPhone)")
    assert names[19] == "王芳 (Wang Fang)"
    names = {row.email: row.name for row in report.rows}
    assert names["f.celik@example.org"] == "François Çelik"  # was "  F.Celik@Example.ORG "


def test_zoom_webinar_twelve_hour_clock_past_noon() -> None:
    assert spans(fixture("zoom_webinar_attendee.csv"), "f.celik@example.org") == [(utc(9, 50), utc(11, 5))]


def test_zoom_webinar_skips_attended_no() -> None:
    assert fixture("zoom_webinar_attendee.csv").skipped == [(20, "did not attend (Attended = No)")]


def test_zoom_webinar_metadata() -> None:
    metadata = fixture("zoom_webinar_attendee.csv").metadata
    assert metadata["topic"] == "Radiomics in Clinical Practice: From Features to Decisions"
    assert metadata["webinar_id"] == "812 3456 7890"
    assert metadata["actual_start"] == "03/05/2026 08:52:11 AM"
    assert metadata["actual_start_utc"] == "2026-03-05T07:52:11+00:00"
    assert metadata["actual_duration_minutes"] == "139"
    assert metadata["report_generated_utc"] == "2026-03-05T10:42:00+00:00"


def test_digest_is_the_sha256_of_the_raw_bytes() -> None:
    data = (FIXTURES / "zoom_webinar_attendee.csv").read_bytes()
    report = parse_report(data, VIENNA)
    assert report.digest == hashlib.sha256(data).hexdigest()
    assert report.timezone == VIENNA


def test_zoom_webinar_in_german_with_a_24_hour_clock() -> None:
    report = fixture("zoom_webinar_attendee_de.csv")
    assert report.format == ZOOM_WEBINAR
    assert [(row.line, row.email, row.join, row.leave) for row in report.rows] == [
        (10, "juergen.weiss@lkh.example.at", utc(12, 58, 2), utc(15, 1, 44)),
        (11, "z.oeztuerk@charite.example.de", utc(13), utc(13, 30)),  # no seconds
        (12, "z.oeztuerk@charite.example.de", utc(13, 30), utc(14, 45)),
    ]
    assert report.rows[1].name == "Öztürk, Zeynep"
    assert report.skipped == [(13, "did not attend (Teilgenommen = Nein)")]
    assert report.metadata["topic"] == "Strahlenschutz in der CT, Teil 2"
    assert report.metadata["actual_start_utc"] == "2026-03-05T12:55:40+00:00"


def test_the_account_time_zone_decides_what_a_time_without_offset_means() -> None:
    data = (FIXTURES / "zoom_webinar_attendee.csv").read_bytes()
    assert parse_report(data, "UTC").rows[0].join == utc(8, 58, 30)
    assert parse_report(data, "America/New_York").rows[0].join == utc(13, 58, 30)  # EST, UTC-5


def test_summer_time_is_two_hours_ahead_in_vienna() -> None:
    report = parse_report(meeting_csv("A,a@example.org,2026-06-10 09:00:00,2026-06-10 10:00:00,60,No"), VIENNA)
    assert report.rows[0].join == utc(7, day=10, month=6)


# --- Zoom meeting participants -------------------------------------------------------------

def test_zoom_meeting_participants() -> None:
    report = fixture("zoom_meeting_participants.csv")
    assert report.format == ZOOM_MEETING
    assert [(row.line, row.email) for row in report.rows] == [
        (5, "host@imaging-society.example"), (6, "ayse.yilmaz@hastane.example"),
        (7, "s.obrien@hospital.example.ie"), (8, "s.obrien@hospital.example.ie")]
    assert report.rows[2].name == "O'Brien, Siobhán (Siobhán O'Brien)"
    assert spans(report, "s.obrien@hospital.example.ie") == [(utc(17), utc(17, 45)), (utc(17, 45), utc(18, 30))]
    assert report.rows[1].join == utc(17, 1, 3)


def test_zoom_meeting_rows_without_email_are_skipped_not_errors() -> None:
    assert fixture("zoom_meeting_participants.csv").skipped == [(9, "no email")]


def test_zoom_meeting_metadata_block() -> None:
    metadata = fixture("zoom_meeting_participants.csv").metadata
    assert metadata["meeting_id"] == "845 9911 2233"
    assert metadata["topic"] == "Tumour Board Training – Session 3"
    assert metadata["actual_start_utc"] == "2026-03-05T16:58:12+00:00"


def test_zoom_one_table_export_uses_the_participants_email_not_the_hosts() -> None:
    header = ("Topic,ID,User Name,User Email,Start Time,End Time,Duration (Minutes),Participants,"
              "Name (Original Name),User Email,Join Time,Leave Time,Duration (Minutes),Guest")
    row = ("Case review,852 1848 6288,Host,host@example.org,03/05/2026 18:00,03/05/2026 19:00,60,2,"
           "Matteo Giordano,Matteo.Giordano@example.org,03/05/2026 18:05,03/05/2026 18:55,50,No")
    report = parse_report(meeting_csv(row, header=header), VIENNA)
    assert [(r.email, r.name, r.join) for r in report.rows] == [("matteo.giordano@example.org", "Matteo Giordano", utc(17, 5))]


# --- Microsoft Teams -----------------------------------------------------------------------

def test_teams_prefers_in_meeting_activities_with_every_join() -> None:
    report = fixture("teams_attendance.csv")
    assert report.format == TEAMS
    assert [row.line for row in report.rows] == [18, 19, 20, 21]
    # Participants says 6:00:10 PM to 7:30:00 PM; the activities show the gap in between.
    assert spans(report, "hans.mueller@klinikum-nord.example") == [
        (utc(17, 0, 10), utc(17, 40)), (utc(17, 50, 5), utc(18, 30))]
    assert report.rows[1].name == "Müller, Hans"


def test_teams_activity_without_email_takes_it_from_the_participants_list() -> None:
    assert spans(fixture("teams_attendance.csv"), "zoe.angstrom@karolinska.example") == [(utc(17, 2), utc(18, 15))]


def test_teams_guest_without_email_is_skipped() -> None:
    assert fixture("teams_attendance.csv").skipped == [(22, "no email")]


def test_teams_summary_is_metadata() -> None:
    metadata = fixture("teams_attendance.csv").metadata
    assert metadata["topic"] == "Interventional Radiology Journal Club"
    assert metadata["actual_start_utc"] == "2026-03-05T16:57:42+00:00"
    assert metadata["meeting_duration"] == "1h 34m 28s"


def teams_file(*lines: str, encoding: str = "utf-16-le", bom: bytes = codecs.BOM_UTF16_LE) -> bytes:
    return bom + "\r\n".join(lines).encode(encoding)


TEAMS_PARTICIPANTS = "Name\tFirst Join\tLast Leave\tIn-Meeting Duration\tEmail\tParticipant ID (UPN)\tRole"


def test_teams_without_activities_uses_first_join_and_last_leave_in_european_format() -> None:
    data = teams_file("1. Summary", "Meeting title\tCardiac MR", "Start time\t05/03/2026, 17:55:00", "",
                      "2. Participants", TEAMS_PARTICIPANTS,
                      "Zoë Ångström\t05/03/2026, 18:02:00\t05/03/2026, 19:15:30\t1h 13m\tzoe@example.se\tzoe@example.se\tAttendee")
    report = parse_report(data, VIENNA)
    assert report.format == TEAMS
    assert [(r.line, r.email, r.join, r.leave) for r in report.rows] == [(7, "zoe@example.se", utc(17, 2), utc(18, 15, 30))]
    assert report.metadata["actual_start_utc"] == "2026-03-05T16:55:00+00:00"


def test_teams_us_dates_without_seconds_and_big_endian_utf16() -> None:
    data = teams_file("2. Participants", TEAMS_PARTICIPANTS,
                      "Ana\t3/5/26, 9:00 AM\t3/5/26, 12:30 PM\t3h 30m\tana@example.org\t\tAttendee",
                      encoding="utf-16-be", bom=codecs.BOM_UTF16_BE)
    assert [(r.join, r.leave) for r in parse_report(data, VIENNA).rows] == [(utc(8), utc(11, 30))]


def test_teams_utf16_without_a_bom_is_recognised() -> None:
    data = teams_file("2. Participants", TEAMS_PARTICIPANTS,
                      "Ana\t3/5/26, 9:00:00 AM\t3/5/26, 10:00:00 AM\t1h\tana@example.org\t\tAttendee", bom=b"")
    assert parse_report(data, VIENNA).rows[0].email == "ana@example.org"


# --- what real exports vary in ----------------------------------------------------------------

def test_a_time_with_an_explicit_offset_keeps_it() -> None:
    report = parse_report(meeting_csv("A,a@example.org,2026-03-05T18:00:00+02:00,2026-03-05T19:00:00Z,60,No"), VIENNA)
    assert (report.rows[0].join, report.rows[0].leave) == (utc(16), utc(19))


@pytest.mark.parametrize(("join", "expected"), [
    ("03/05/2026 12:30:00 AM", utc(23, 30, day=4)),  # 00:30 in Vienna
    ("03/05/2026 12:30:00 PM", utc(11, 30)),
    ("03/05/2026 9:05 am", utc(8, 5)),
    ("3/5/2026 13:58:02", utc(12, 58, 2)),  # 24-hour with slashes: Zoom's month first
    ("2026-03-05 13:58", utc(12, 58)),
    ("05.03.2026 13:58", utc(12, 58)),
    ("Mar 5, 2026 01:58:02 PM", utc(12, 58, 2)),
    ("3/5/26, 1:58 PM", utc(12, 58)),
])
def test_date_formats(join: str, expected: datetime) -> None:
    report = parse_report(meeting_csv(f'A,a@example.org,"{join}",2026-03-05T23:00:00+01:00,1,No'), VIENNA)
    assert report.rows[0].join == expected


def test_day_first_when_the_files_own_dates_show_it() -> None:
    report = parse_report(meeting_csv("A,a@example.org,25/03/2026 09:00,25/03/2026 10:00,60,No",
                                      "B,b@example.org,05/03/2026 09:00,05/03/2026 10:00,60,No"), VIENNA)
    assert [row.join for row in report.rows] == [utc(8, day=25), utc(8, day=5)]


def test_excel_resaved_windows_1252_semicolon_file() -> None:
    text = "Name (Original Name);E-Mail;Beitrittszeit;Zeitpunkt des Verlassens;Dauer (Minuten)\r\n" \
           "Jürgen Weiß;juergen@example.at;05.03.2026 09:00;05.03.2026 10:00;60\r\n"
    report = parse_report(text.encode("cp1252"), VIENNA)
    assert [(r.name, r.email, r.join) for r in report.rows] == [("Jürgen Weiß", "juergen@example.at", utc(8))]


def test_utf8_bom_and_quoted_commas() -> None:
    data = codecs.BOM_UTF8 + meeting_csv('"Kowalski, Jan, Dr.",jan@example.pl,2026-03-05 09:00,2026-03-05 10:00,60,No')
    assert parse_report(data, VIENNA).rows[0].name == "Kowalski, Jan, Dr."


def test_report_rows_feed_the_credit_computation() -> None:
    report = fixture("zoom_webinar_attendee.csv")
    webinar = Session("W1", "Radiomics", utc(8), utc(10), Decimal(2))  # 09:00-11:00 Vienna

    def credits(email: str) -> Decimal:
        intervals = [Interval(r.join, r.leave, f"zoom-report:{report.digest}") for r in report.rows if r.email == email]
        return compute_credits(Rules(timezone=VIENNA), [webinar], intervals, True).total

    assert credits("lucja.wisniewska@szpital.example") == Decimal("1.5")  # 38:55 + 33:20 + 44:00 = 116 min
    assert credits("g.papadopoulos@iatriko.example.gr") == Decimal("2")  # two devices, clipped to 120 min


# --- files that cannot be imported ---------------------------------------------------------

def test_bad_date_fails_the_whole_file_with_line_and_reason() -> None:
    error = error_of((FIXTURES / "zoom_bad_date.csv").read_bytes())
    assert (error.line, error.reason) == (14, "Join Time '13/45/2026 10:00' is not a date")
    assert str(error) == "line 14: Join Time '13/45/2026 10:00' is not a date"


def test_leave_before_join_fails_the_whole_file() -> None:
    error = error_of((FIXTURES / "zoom_leave_before_join.csv").read_bytes())
    assert (error.line, error.reason) == (
        5, "Leave Time '03/05/2026 06:15:00 PM' is before Join Time '03/05/2026 07:15:00 PM'")


def test_a_csv_that_is_not_an_attendance_report() -> None:
    error = error_of((FIXTURES / "not_a_report.csv").read_bytes())
    assert error.line == 1
    assert error.reason.startswith(f"{NOT_A_REPORT}: ")


@pytest.mark.parametrize("data", [(FIXTURES / "empty.csv").read_bytes(), codecs.BOM_UTF8 + b"\r\n \r\n",
                                  codecs.BOM_UTF16_LE])
def test_an_empty_file(data: bytes) -> None:
    error = error_of(data)
    assert (error.line, error.reason) == (1, "the file is empty")


def test_binary_data_is_not_a_report() -> None:
    error = error_of(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x81\x8d\x8f\x90\x9d")
    assert error.line == 1
    assert error.reason.startswith(f"{NOT_A_REPORT}: ")


def test_an_empty_time_is_an_error() -> None:
    error = error_of(meeting_csv("A,a@example.org,2026-03-05 09:00,2026-03-05 10:00,60,No",
                                 "B,b@example.org,,2026-03-05 10:00,60,No"))
    assert (error.line, error.reason) == (3, "Join Time is empty")


@pytest.mark.parametrize("value", ["2026-03-05", "31/02/2026 09:00", "03/05/2026 13:00 PM", "Foo 5, 2026 09:00", "gestern"])
def test_text_that_is_not_a_date_and_time(value: str) -> None:
    error = error_of(meeting_csv(f'A,a@example.org,"{value}",2026-03-05 10:00,60,No'))
    assert (error.line, error.reason) == (2, f"Join Time '{value}' is not a date")


def test_an_error_names_the_column_as_the_file_spells_it() -> None:
    error = error_of(b"Name;E-Mail;Beitrittszeit;Zeitpunkt des Verlassens\nA;a@example.org;gestern;05.03.2026 10:00\n")
    assert (error.line, error.reason) == (2, "Beitrittszeit 'gestern' is not a date")


def test_a_report_without_an_email_column_cannot_be_matched() -> None:
    error = error_of(meeting_csv("A,2026-03-05 09:00,2026-03-05 10:00", header="Name,Join Time,Leave Time"))
    assert (error.line, error.reason) == (1, "no Email column: rows cannot be matched to registrations")


def test_an_attendee_section_without_its_header() -> None:
    error = error_of(b"Topic,Webinar ID\nX,1\nHost Details\n"
                     b"Attended,User Name (Original Name),Email,Join Time,Leave Time\n"
                     b"Yes,H,h@example.org,03/05/2026 09:00 AM,03/05/2026 10:00 AM\nAttendee Details\n")
    assert (error.line, error.reason) == (
        6, "the Attendee Details section has no header row with Join Time and Leave Time")


def test_an_unknown_time_zone_is_the_callers_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone"):
        parse_report((FIXTURES / "zoom_webinar_attendee.csv").read_bytes(), "Europe/Atlantis")
