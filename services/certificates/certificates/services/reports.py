"""Webinar platforms' attendance reports, read into rows of (email, name, join, leave) in UTC.

Reads the Zoom webinar attendee report, the Zoom meeting participants report and the Microsoft
Teams attendance report as they are exported, with English or German column names. Times without
an offset are in the time zone of the account that ran the meeting (DOMAIN.md): reading them as
UTC would shift everyone's attendance by hours, so the caller names that zone. A row that cannot
be read fails the whole file with its line and the reason, so nothing is imported half-way.
"""
from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from suite_common.emails import loose_email_key

ZOOM_WEBINAR = "zoom-webinar-attendee"
ZOOM_MEETING = "zoom-meeting-participants"
TEAMS = "teams-attendance"
NOT_A_REPORT = "not a Zoom or Teams attendance report"


class ReportError(ValueError):
    """Why a file cannot be imported; line is 1-based, as a text editor counts."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


@dataclass(frozen=True)
class AttendanceRow:
    """One join-to-leave stretch of one person; someone who rejoined has several rows."""

    line: int
    email: str
    name: str
    join: datetime
    leave: datetime


@dataclass(frozen=True)
class ParsedReport:
    """format is one of ZOOM_WEBINAR, ZOOM_MEETING, TEAMS; digest is the SHA-256 of the raw bytes,
    so the same upload can be recognised and attendance traced to the file it came from."""

    format: str
    rows: list[AttendanceRow]
    skipped: list[tuple[int, str]]
    metadata: dict[str, str]
    digest: str
    timezone: str


def _norm(text: str) -> str:
    return " ".join(text.replace("\ufeff", "").strip().lower().split())


def _aliases(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {alias: key for key, aliases in table.items() for alias in aliases}


# Column names as the platforms export them, English and German; lower-case, single spaces.
COLUMNS = _aliases({
    "attended": ("attended", "teilgenommen"),
    "name": ("user name (original name)", "name (original name)", "name", "full name",
             "benutzername (ursprünglicher name)", "name (ursprünglicher name)", "vollständiger name"),
    "first_name": ("first name", "vorname"),
    "last_name": ("last name", "nachname"),
    "email": ("email", "e-mail", "user email", "email address", "e-mail-adresse", "benutzer-e-mail"),
    "upn": ("participant id (upn)", "teilnehmer-id (upn)"),
    "join": ("join time", "first join", "beitrittszeit", "zeitpunkt des beitritts", "erster beitritt"),
    "leave": ("leave time", "last leave", "zeitpunkt des verlassens", "austrittszeit", "letztes verlassen"),
    # Zoom's participant and attendee exports: time in the waiting room is not attendance. The German label is
    # derived from Zoom's German UI ("Warteraum"), not seen in an export.
    "waiting_room": ("in waiting room", "im warteraum"),
})
ZOOM_SECTIONS = _aliases({
    "host": ("host details", "host-details", "details zum host"),
    "panelist": ("panelist details", "diskussionsteilnehmer-details", "diskussionsteilnehmerdetails"),
    "attendee": ("attendee details", "teilnehmer-details", "teilnehmerdetails"),
    "other": ("other attended", "andere teilnehmer"),
})
TEAMS_SECTIONS = _aliases({
    "summary": ("summary", "zusammenfassung"),
    "participants": ("participants", "teilnehmer"),
    "activities": ("in-meeting activities", "aktivitäten in der besprechung"),
})
METADATA = _aliases({
    "topic": ("topic", "thema", "meeting title", "besprechungstitel"),
    "webinar_id": ("webinar id", "webinar-id"),
    "meeting_id": ("meeting id", "meeting-id"),
    "actual_start": ("actual start time", "tatsächliche startzeit", "start time", "startzeit", "meeting start time"),
    "actual_end": ("end time", "endzeit", "meeting end time"),
    "actual_duration_minutes": ("actual duration (minutes)", "tatsächliche dauer (minuten)"),
    "report_generated": ("report generated", "report generated:", "bericht erstellt", "bericht erstellt:"),
})
TIME_METADATA = ("actual_start", "actual_end", "report_generated")
DID_NOT_ATTEND = {"no", "nein"}
YES = {"yes", "ja"}
_TEAMS_TITLE = re.compile(r"^\d+\.\s*(.+)$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{1,2}:\d{2}")
_NUMERIC_TIME = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})(?P<comma>,?)\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp]\.?\s?[Mm]\.?)?$")
_NAMED_TIME = re.compile(
    r"^(?P<month>[A-Za-z]{3})[a-z]*\.? (?P<day>\d{1,2}), (?P<year>\d{4}),? "
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[AaPp][Mm])?$")
_MONTHS = {name: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}

Record = tuple[int, list[str]]


class _Clock:
    """Reads one file's times. Whether 03/05 is 3 May or 5 March is decided once for the whole
    file, so two rows can never be read in different orders: a 12-hour clock means US order
    (Zoom US, Teams US), "DD/MM/YYYY, HH:MM" with a comma is Teams' European order, and otherwise
    the file's own dates decide (a first number above 12), defaulting to Zoom's month first."""

    def __init__(self, zone: ZoneInfo, samples: Iterable[str]) -> None:
        self.zone = zone
        firsts_over_12 = seconds_over_12 = twelve_hour = comma_24h = False
        for value in samples:
            match = _NUMERIC_TIME.match(value.strip())
            if match is None or match["sep"] != "/":
                continue
            firsts_over_12 |= int(match["a"]) > 12
            seconds_over_12 |= int(match["b"]) > 12
            twelve_hour |= match["ampm"] is not None
            comma_24h |= match["ampm"] is None and bool(match["comma"])
        if twelve_hour:
            self.day_first = False
        elif comma_24h:
            self.day_first = True
        else:
            self.day_first = firsts_over_12 and not seconds_over_12
        # A meeting's rows share few join and leave times (to the second): each distinct text is parsed once.
        self._read: dict[str, datetime | None] = {}

    def read(self, value: str) -> datetime | None:
        """The moment in UTC, or None when the text is not a date and time."""
        try:
            return self._read[value]
        except KeyError:
            moment = self._read[value] = self._parse(value)
            return moment

    def _parse(self, value: str) -> datetime | None:
        text = value.strip()
        try:
            if _ISO_TIME.match(text):
                moment = datetime.fromisoformat(text)
            elif match := _NUMERIC_TIME.match(text):
                first, second = int(match["a"]), int(match["b"])
                day_first = self.day_first or match["sep"] == "."
                day, month = (first, second) if day_first else (second, first)
                year = int(match["year"]) + (2000 if len(match["year"]) == 2 else 0)
                moment = datetime(year, month, day, *self._clock_time(match))
            elif match := _NAMED_TIME.match(text):
                month = _MONTHS.get(match["month"].lower())
                if month is None:
                    return None
                moment = datetime(int(match["year"]), month, int(match["day"]), *self._clock_time(match))
            else:
                return None
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.zone)
        return moment.astimezone(UTC)

    @staticmethod
    def _clock_time(match: re.Match[str]) -> tuple[int, int, int]:
        hour, minute, second = int(match["hour"]), int(match["minute"]), int(match["second"] or 0)
        if match["ampm"]:
            if not 1 <= hour <= 12:
                raise ValueError("hour out of range for a 12-hour clock")
            hour = hour % 12 + (12 if match["ampm"][0] in "Pp" else 0)
        return hour, minute, second


@dataclass
class _Table:
    """A header row and the data rows under it; columns maps our keys to positions."""

    header_line: int
    columns: dict[str, int]
    labels: dict[str, str]
    rows: list[Record]

    @classmethod
    def build(cls, header: Record, rows: list[Record]) -> _Table:
        columns: dict[str, int] = {}
        labels: dict[str, str] = {}
        for index, label in enumerate(header[1]):
            key = COLUMNS.get(_norm(label))
            if key:  # the last one wins: Zoom's one-table export lists the host's columns first
                columns[key], labels[key] = index, label
        return cls(header[0], columns, labels, rows)

    def cell(self, cells: list[str], key: str) -> str:
        index = self.columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""


def _is_header(cells: list[str]) -> bool:
    keys = {COLUMNS.get(_norm(cell)) for cell in cells}
    return "join" in keys and "leave" in keys


def _zoom_title(cells: list[str]) -> str | None:
    """The Zoom section a row opens ("Attendee Details"), if it is a title: one cell, a known name."""
    return ZOOM_SECTIONS.get(_norm(cells[0])) if len(cells) == 1 else None


def _teams_title(cells: list[str]) -> str | None:
    """The Teams section a row opens ("2. Participants"), if it is a title: one numbered cell, a known name."""
    match = _TEAMS_TITLE.match(_norm(cells[0])) if len(cells) == 1 else None
    return TEAMS_SECTIONS.get(match[1]) if match else None


def _decode(data: bytes) -> str:
    """Zoom writes UTF-8 (often with a BOM), Teams UTF-16; a CSV saved again by Excel may be Windows-1252."""
    if data.startswith(codecs.BOM_UTF8):
        encodings: tuple[str, ...] = ("utf-8-sig",)
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings = ("utf-16",)
    elif (head := data[:2000]).count(0) > len(head) // 4:
        encodings = ("utf-16-le",) if head[1::2].count(0) >= head[0::2].count(0) else ("utf-16-be",)
    else:
        encodings = ("utf-8", "cp1252")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ReportError(1, f"{NOT_A_REPORT}: the file is not UTF-8, UTF-16 or Windows-1252 text")


def _records(text: str, delimiter: str) -> list[Record]:
    """Non-blank rows with the line each starts on, cells stripped and trailing empty cells dropped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records: list[Record] = []
    line = 1
    try:
        for cells in reader:
            stripped = [cell.strip() for cell in cells]
            while stripped and not stripped[-1]:
                stripped.pop()
            if stripped:
                records.append((line, stripped))
            line = reader.line_num + 1
    except csv.Error as error:
        raise ReportError(line, f"not readable as CSV: {error}") from error
    return records


def _meta_key(label: str) -> str:
    text = _norm(label)
    return METADATA.get(text) or METADATA.get(text.rstrip(":")) or re.sub(r"\W+", "_", text).strip("_")


def _zoom_metadata(records: list[Record]) -> dict[str, str]:
    """Zoom's block above the tables: a title, "Label:,value" lines, and label rows followed by a value row."""
    metadata: dict[str, str] = {}
    index = 0
    while index < len(records):
        cells = records[index][1]
        if len(cells) == 1:
            metadata.setdefault("report", cells[0])
        elif len(cells) == 2 and cells[0].endswith(":"):
            metadata[_meta_key(cells[0])] = cells[1]
        elif index + 1 < len(records):
            metadata.update((_meta_key(label), value) for label, value in zip(cells, records[index + 1][1], strict=False)
                            if value)
            index += 1
        index += 1
    return metadata


def _zoom_webinar(records: list[Record]) -> tuple[list[_Table], dict[str, str]]:
    titles = [(index, _zoom_title(cells)) for index, (_, cells) in enumerate(records)]
    titles = [(index, section) for index, section in titles if section]
    start = next(index for index, section in titles if section == "attendee")
    end = next((index for index, _ in titles if index > start), len(records))
    if start + 1 >= end or not _is_header(records[start + 1][1]):
        raise ReportError(records[start][0], "the Attendee Details section has no header row with Join Time and Leave Time")
    return [_Table.build(records[start + 1], records[start + 2:end])], _zoom_metadata(records[:titles[0][0]])


def _zoom_meeting(records: list[Record]) -> tuple[list[_Table], dict[str, str]]:
    start = next(index for index, (_, cells) in enumerate(records) if _is_header(cells))
    return [_Table.build(records[start], records[start + 1:])], _zoom_metadata(records[:start])


def _teams(records: list[Record]) -> tuple[list[_Table], dict[str, str]]:
    """Teams' numbered sections; the In-Meeting Activities list every join and leave, so they are
    preferred, with the Participants list (first join, last leave) as the fallback."""
    sections: dict[str | None, list[Record]] = {None: []}
    current: str | None = None
    for record in records:
        title = _teams_title(record[1])
        if title:
            current = title
            sections[current] = []
        else:
            sections.setdefault(current, []).append(record)
    if "summary" not in sections and "participants" not in sections:  # an older export without numbered sections
        start = next(index for index, (_, cells) in enumerate(records) if _is_header(cells))
        sections = {"summary": records[:start], "participants": records[start:]}
    metadata = {_meta_key(cells[0]): cells[1] for _, cells in sections.get("summary", []) if len(cells) >= 2}
    tables = [_Table.build(section[0], section[1:]) for name in ("activities", "participants")
              if (section := sections.get(name)) and _is_header(section[0][1])]
    if not tables:
        raise ReportError(records[0][0], f"{NOT_A_REPORT}: no Participants section with join and leave times")
    return tables, metadata


def _read_time(table: _Table, clock: _Clock, line: int, cells: list[str], key: str) -> datetime:
    label, raw = table.labels[key], table.cell(cells, key)
    if not raw:
        raise ReportError(line, f"{label} is empty")
    moment = clock.read(raw)
    if moment is None:
        raise ReportError(line, f"{label} '{raw}' is not a date")
    return moment


def _read_rows(table: _Table, clock: _Clock, emails_by_name: dict[str, str]) -> tuple[list[AttendanceRow], list[tuple[int, str]]]:
    if "email" not in table.columns and "upn" not in table.columns and not emails_by_name:
        raise ReportError(table.header_line, "no Email column: rows cannot be matched to registrations")
    rows: list[AttendanceRow] = []
    skipped: list[tuple[int, str]] = []
    for line, cells in table.rows:
        attended = table.cell(cells, "attended")
        if _norm(attended) in DID_NOT_ATTEND:
            skipped.append((line, f"did not attend ({table.labels['attended']} = {attended})"))
            continue
        waiting = table.cell(cells, "waiting_room")
        if _norm(waiting) in YES:
            skipped.append((line, f"in the waiting room ({table.labels['waiting_room']} = {waiting})"))
            continue
        name = table.cell(cells, "name") or " ".join(
            part for part in (table.cell(cells, "first_name"), table.cell(cells, "last_name")) if part)
        upn = table.cell(cells, "upn")
        email = loose_email_key(table.cell(cells, "email") or (upn if "@" in upn else "") or emails_by_name.get(name, ""))
        if not email:
            skipped.append((line, "no email"))
            continue
        join = _read_time(table, clock, line, cells, "join")
        leave = _read_time(table, clock, line, cells, "leave")
        if leave < join:
            raise ReportError(line, f"{table.labels['leave']} '{table.cell(cells, 'leave')}' is before "
                                    f"{table.labels['join']} '{table.cell(cells, 'join')}'")
        rows.append(AttendanceRow(line, email, name, join, leave))
    return rows, skipped


def _emails_by_name(table: _Table) -> dict[str, str]:
    """Teams' activity rows may lack the email its Participants list has; names that are not unique are left out."""
    found: dict[str, set[str]] = {}
    for _, cells in table.rows:
        upn = table.cell(cells, "upn")
        email = table.cell(cells, "email") or (upn if "@" in upn else "")
        if email:
            found.setdefault(table.cell(cells, "name"), set()).add(loose_email_key(email))
    return {name: next(iter(emails)) for name, emails in found.items() if len(emails) == 1}


def _detect(text: str) -> tuple[str, list[Record]]:
    for delimiter in (",", "\t", ";"):
        records = _records(text, delimiter)
        if any(_is_header(cells) for _, cells in records):
            if delimiter == "\t" or any(_teams_title(cells) for _, cells in records):
                return TEAMS, records
            if any(_zoom_title(cells) == "attendee" for _, cells in records):
                return ZOOM_WEBINAR, records
            return ZOOM_MEETING, records
    raise ReportError(1, f"{NOT_A_REPORT}: no header row with join and leave times (such as 'Join Time' and "
                         f"'Leave Time') was found")


def parse_report(data: bytes, default_timezone: str) -> ParsedReport:
    """Every attendance row of the file, or ReportError for the whole file.

    default_timezone (IANA) applies to times without an offset; an unknown zone is a ValueError,
    since it is the caller's setting and not the file's fault.
    """
    try:
        zone = ZoneInfo(default_timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {default_timezone!r}") from error
    digest = hashlib.sha256(data).hexdigest()
    text = _decode(data)
    if not text.strip("\ufeff \t\r\n"):
        raise ReportError(1, "the file is empty")
    report_format, records = _detect(text)
    parse = {ZOOM_WEBINAR: _zoom_webinar, ZOOM_MEETING: _zoom_meeting, TEAMS: _teams}[report_format]
    tables, metadata = parse(records)
    table = tables[0]
    emails_by_name = _emails_by_name(tables[1]) if len(tables) > 1 else {}
    samples = [table.cell(cells, key) for _, cells in table.rows for key in ("join", "leave")]
    clock = _Clock(zone, samples)
    rows, skipped = _read_rows(table, clock, emails_by_name)
    for key in TIME_METADATA:
        moment = clock.read(metadata[key]) if key in metadata else None
        if moment is not None:
            metadata[f"{key}_utc"] = moment.isoformat()
    return ParsedReport(report_format, rows, skipped, metadata, digest, default_timezone)
