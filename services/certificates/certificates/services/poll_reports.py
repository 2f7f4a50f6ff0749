"""Zoom's poll report (web portal: Reports → Usage Reports → Meeting or Webinar → Poll Report), read into
answers of (email, name, poll, submitted) in UTC: the second kind of presence evidence beside codes.

The file is read with the attendance reports' machinery (reports.py: UTF-8 with or without BOM, UTF-16,
Windows-1252, comma/tab/semicolon, an .xlsx workbook's first sheet within its bounds, and naive times in
the account's zone named by the caller). The layouts, and how sure we are of each:

- Until September 2021 (seen in exports and parsers shared publicly, e.g. course tools grading Zoom
  polls): no preamble, one header ``#,User Name,User Email,Submitted Date/Time,`` and per row one
  participant's submission of one poll, its cells after the time alternating question and answer. The
  file names no poll: a poll is recognised by its first question.
- Since September 2021 (same sources): ``Poll Report``, ``Report Generated:``, a row of labels such as
  ``Topic,Webinar ID,Actual Start Time,...`` (``Meeting ID``/``ID`` for meetings) over a row of values,
  then one table per question whose header ends with the question (``#,User Name,User Email,Submitted
  Date/Time,<question>``), the answer in that column. UNCERTAIN: whether a line naming the poll stands
  above each table; a one-cell line right above a header is taken as the poll's name, otherwise the
  question is. So a poll of several questions without such a line counts as several polls.
- Webinar exports write ``Email Address`` where meetings write ``User Email``; both are read.
- Exports with one row per participant and poll and ``Poll Name`` (or ``Poll``), ``Question``, ``Answer``
  columns are read by those columns. UNVERIFIED: derived from Zoom's help pages, not from an export.

Column names are English only (a localised export is refused as not a poll report, naming what is missing).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from suite_common.emails import loose_email_key

from .reports import Record, ReportError, _Clock, _decode, _norm, _records, _xlsx_records, _zoom_metadata

ZOOM_WEBINAR_POLL = "zoom-webinar-poll"
ZOOM_MEETING_POLL = "zoom-meeting-poll"
POLL_FORMATS = (ZOOM_WEBINAR_POLL, ZOOM_MEETING_POLL)
NOT_A_POLL_REPORT = "not a Zoom poll report"

_POLL_COLUMNS = {
    "#": "index",
    "user name": "name", "name": "name", "user name (original name)": "name",
    "user email": "email", "email address": "email", "email": "email", "e-mail": "email",
    "submitted date/time": "submitted",
    "poll name": "poll", "poll": "poll", "poll title": "poll",
    "question": "question",
    "answer": "answer",
}
# One-cell lines that title the report or a block of it, never a poll.
_REPORT_TITLES = {"poll report", "poll details", "launched poll", "launched polls"}


@dataclass(frozen=True)
class PollAnswer:
    """One participant's submission of one poll (one question of it, in the per-question layouts)."""

    line: int
    email: str
    name: str
    poll: str
    submitted: datetime


@dataclass(frozen=True)
class ParsedPollReport:
    """digest is the SHA-256 of the raw bytes, as for attendance reports."""

    format: str
    answers: list[PollAnswer]
    skipped: list[tuple[int, str]]
    metadata: dict[str, str]
    digest: str
    timezone: str


@dataclass
class _PollTable:
    header_line: int
    columns: dict[str, int]
    labels: dict[str, str]
    extra: list[str]  # the header's labels after the known ones: the question of the 2021+ layout
    title: str | None
    rows: list[Record]

    def cell(self, cells: list[str], key: str) -> str:
        index = self.columns.get(key)
        return cells[index].strip() if index is not None and index < len(cells) else ""


def _poll_header(cells: list[str]) -> bool:
    return any(_norm(cell) == "submitted date/time" for cell in cells)


def _table(header: Record, title: str | None) -> _PollTable:
    columns: dict[str, int] = {}
    labels: dict[str, str] = {}
    extra: list[str] = []
    for index, label in enumerate(header[1]):
        key = _POLL_COLUMNS.get(_norm(label))
        if key and key not in columns:
            columns[key], labels[key] = index, label
        elif label:
            extra.append(label)
    if "email" not in columns:
        raise ReportError(header[0], "no email column (User Email or Email Address): answers cannot be matched "
                                     "to registrations")
    return _PollTable(header[0], columns, labels, extra, title, [])


def _tables(records: list[Record]) -> tuple[list[_PollTable], dict[str, str]]:
    """Each header row with the rows under it up to the next header or one-cell title line; what stands
    above the first header is Zoom's metadata block."""
    starts = [index for index, (_, cells) in enumerate(records) if _poll_header(cells)]
    tables: list[_PollTable] = []
    for position, start in enumerate(starts):
        above = records[start - 1][1] if start > 0 else []
        title = above[0] if len(above) == 1 and start > 1 and _norm(above[0]) not in _REPORT_TITLES else None
        table = _table(records[start], title)
        end = starts[position + 1] if position + 1 < len(starts) else len(records)
        table.rows = [record for record in records[start + 1:end] if len(record[1]) > 1]
        tables.append(table)
    metadata_end = starts[0] - (1 if tables[0].title else 0)
    return tables, _zoom_metadata(records[:metadata_end])


def _answered(table: _PollTable, cells: list[str]) -> tuple[str, bool] | None:
    """The poll a row answers and whether it holds an answer; None when the layout names no poll."""
    first = max(table.columns.values()) + 1
    if "poll" in table.columns:
        answered = bool(table.cell(cells, "answer")) if "answer" in table.columns else True
        return table.cell(cells, "poll"), answered
    if table.extra:  # 2021+: the header's last label is the question, the row's cell under it the answer
        answer = cells[first] if first < len(cells) else ""
        return table.title or table.extra[0], bool(answer.strip())
    pairs = cells[first:]  # until 2021: question, answer, question, answer...
    if not pairs:
        return None
    return table.title or pairs[0], any(answer.strip() for answer in pairs[1::2])


def _read_answers(tables: list[_PollTable], clock: _Clock) -> tuple[list[PollAnswer], list[tuple[int, str]]]:
    answers: list[PollAnswer] = []
    skipped: list[tuple[int, str]] = []
    for table in tables:
        for line, cells in table.rows:
            email = loose_email_key(table.cell(cells, "email"))
            name = table.cell(cells, "name")
            found = _answered(table, cells)
            if found is None or not found[0]:
                raise ReportError(line, "the row names no poll or question")
            poll, answered = found
            if not email:
                skipped.append((line, f"no email ({name or 'no name'}: an anonymous poll or a guest)"))
                continue
            if not answered:
                skipped.append((line, "no answer"))
                continue
            raw = table.cell(cells, "submitted")
            label = table.labels["submitted"]
            if not raw:
                raise ReportError(line, f"{label} is empty")
            moment = clock.read(raw)
            if moment is None:
                raise ReportError(line, f"{label} '{raw}' is not a date")
            answers.append(PollAnswer(line, email, name, " ".join(poll.split()), moment))
    return answers, skipped


def _poll_records(data: bytes) -> list[Record]:
    if data.startswith(b"PK\x03\x04"):
        records = _xlsx_records(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise ReportError(1, f"{NOT_A_POLL_REPORT}: an Excel 97-2003 (.xls) workbook; save it as .xlsx or CSV")
    else:
        text = _decode(data)
        records = []
        for delimiter in (",", "\t", ";"):
            records = _records(text, delimiter)
            if any(_poll_header(cells) for _, cells in records):
                return records
    if not records:
        raise ReportError(1, "the file is empty")
    if not any(_poll_header(cells) for _, cells in records):
        raise ReportError(1, f"{NOT_A_POLL_REPORT}: no header row with 'Submitted Date/Time' was found")
    return records


def parse_poll_report(data: bytes, default_timezone: str) -> ParsedPollReport:
    """Every answer of the file, or ReportError for the whole file (a row that cannot be read names its line).

    default_timezone (IANA) applies to times without an offset, as for attendance reports."""
    try:
        zone = ZoneInfo(default_timezone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {default_timezone!r}") from error
    digest = hashlib.sha256(data).hexdigest()
    tables, metadata = _tables(_poll_records(data))
    samples = [table.cell(cells, "submitted") for table in tables for _, cells in table.rows]
    clock = _Clock(zone, samples)
    answers, skipped = _read_answers(tables, clock)
    for key in ("actual_start", "report_generated"):
        moment = clock.read(metadata[key]) if key in metadata else None
        if moment is not None:
            metadata[f"{key}_utc"] = moment.isoformat()
    report_format = ZOOM_WEBINAR_POLL if "webinar_id" in metadata else ZOOM_MEETING_POLL
    return ParsedPollReport(report_format, answers, skipped, metadata, digest, default_timezone)
