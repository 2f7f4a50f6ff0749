"""The organisation's member list: imported from the organiser's CSV, checked when someone
chooses a member rate.

An import is all or nothing: a file with a bad row is refused whole, with every bad row
named by its line, so the organiser fixes the file and uploads it again instead of
wondering which half of it arrived.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext
from marshmallow import ValidationError, validate
from sqlalchemy import Select, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from suite_common.csvexport import FORMULA_TRIGGERS, csv_chunks
from suite_common.db import utcnow
from suite_common.emails import InvalidEmail, email_key, normalise_address
from suite_common.errors import ApiError, validation_error
from suite_common.fields import text_problem

from ..models import Event, Member, Organisation
from .roster import decode_cursor, encode_cursor

MAX_REPORTED = 50  # bad lines named in one refusal; the message gives the total
NUMBER_MAX = 64
NAME_MAX = 200
INSERT_BATCH = 1000
CSV_COLUMNS = ("email", "member_number", "name", "created_at")

# Header names as spreadsheets write them, folded (lower case, spaces and hyphens as "_").
COLUMN_NAMES = {
    "email": "email", "e_mail": "email", "email_address": "email", "e_mail_address": "email", "mail": "email",
    "member_number": "member_number", "membership_number": "member_number", "member_no": "member_number",
    "member_nr": "member_number", "member_id": "member_number", "membership_no": "member_number",
    "name": "name", "full_name": "name", "member_name": "name",
}
_is_email = validate.Email()

SessionFactory = Callable[[], Session]


@dataclass(frozen=True)
class MemberRow:
    line: int
    email: str | None
    member_number: str | None
    name: str | None


@dataclass(frozen=True)
class ImportOutcome:
    count: int  # members on the list afterwards
    added: int
    updated: int
    unchanged: int
    removed: int


def normalise_number(number: str) -> str:
    """Member numbers are compared without case and with single spaces: "m-1234 " is "M-1234"."""
    return " ".join(number.split()).upper()


# --- reading the file -------------------------------------------------------------------


def _refuse(problems: list[str], total: int | None = None) -> ApiError:
    total = len(problems) if total is None else total
    lines = "line" if total == 1 else "lines"
    return validation_error({"file": problems[:MAX_REPORTED]},
                            f"{total} {lines} of the file cannot be imported; nothing was imported.")


def _fold(name: str) -> str:
    return "_".join(name.strip().lower().replace("-", " ").replace(".", " ").split())


def _delimiter(first_line: str) -> str:
    """Excel writes ";" where the decimal separator is a comma (most of Europe), "," elsewhere."""
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _cell(row: list[str], index: int | None) -> str | None:
    if index is None or index >= len(row):
        return None
    value = row[index].strip()
    # Our own export (and careful spreadsheets) put ' before a value that would read as a formula.
    if len(value) > 1 and value[0] == "'" and value[1] in FORMULA_TRIGGERS:
        value = value[1:]
    return value or None


def parse_csv(data: bytes) -> list[MemberRow]:
    """The rows of an organiser's member file, or a 422 naming every bad line (at most 50)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise _refuse([f"line {line}: the file is not UTF-8 text; save it as \"CSV UTF-8\""]) from exc
    if not text.strip():
        raise _refuse(["line 1: the file is empty; the first line names the columns (email, member_number, name)"])
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    problems: list[str] = []
    total_bad = 0
    columns: dict[str, int] | None = None
    header_line = 0
    rows: list[MemberRow] = []
    seen_emails: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    previous_end = 0
    try:
        for cells in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if columns is None:
                header_line = line
                columns = _header(cells, line)
                continue
            reasons, row = _row(cells, line, columns, seen_emails, seen_numbers)
            if reasons:
                total_bad += 1
                if len(problems) < MAX_REPORTED:
                    problems.append(f"line {line}: {'; '.join(reasons)}")
            else:
                rows.append(row)
    except csv.Error as exc:
        total_bad += 1
        problems.append(f"line {reader.line_num}: {exc}")
    if columns is None or header_line == 0:
        raise _refuse(["line 1: the file is empty; the first line names the columns (email, member_number, name)"])
    if problems:
        raise _refuse(problems, total_bad)
    return rows


def _header(cells: list[str], line: int) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = COLUMN_NAMES.get(_fold(cell))
        if name is None:
            continue  # other columns (title, city, ...) are allowed and ignored
        if name in columns:
            raise _refuse([f"line {line}: the column {name} appears twice"])
        columns[name] = index
    if "email" not in columns and "member_number" not in columns:
        raise _refuse([f"line {line}: the first line must name the columns: email and/or member_number "
                       "(and optionally name)"])
    return columns


def _row(cells: list[str], line: int, columns: dict[str, int], seen_emails: dict[str, int],
         seen_numbers: dict[str, int]) -> tuple[list[str], MemberRow]:
    email = _cell(cells, columns.get("email"))
    number = _cell(cells, columns.get("member_number"))
    name = _cell(cells, columns.get("name"))
    reasons = []
    if any(value and text_problem(value) for value in (email, number, name)):
        reasons.append("control characters, line breaks, tabs or invisible formatting characters are not allowed")
    if email is None and number is None:
        reasons.append("no email and no member number")
    if email is not None:
        try:
            _is_email(normalise_address(email))
            email = email_key(email)
        except (ValidationError, InvalidEmail):
            reasons.append(f"{email[:60]!r} is not a valid email address")
        else:
            if email in seen_emails:
                reasons.append(f"the email {email} is already on line {seen_emails[email]}")
            else:
                seen_emails[email] = line
    if number is not None:
        number = normalise_number(number)
        if len(number) > NUMBER_MAX:
            reasons.append(f"the member number is longer than {NUMBER_MAX} characters")
        elif number in seen_numbers:
            reasons.append(f"the member number {number} is already on line {seen_numbers[number]}")
        else:
            seen_numbers[number] = line
    if name is not None and len(name) > NAME_MAX:
        reasons.append(f"the name is longer than {NAME_MAX} characters")
    return reasons, MemberRow(line, email, number, name)


# --- changing the list ------------------------------------------------------------------


def _lock(session: Session, organisation_id: int) -> None:
    """One import per organisation at a time: two at once would both read the old list."""
    session.execute(select(Organisation.id).where(Organisation.id == organisation_id).with_for_update())


def _count(session: Session, organisation_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Member)
                              .where(Member.organisation_id == organisation_id)) or 0)


def _insert(session: Session, organisation_id: int, rows: list[MemberRow]) -> None:
    now = utcnow()
    values = [{"organisation_id": organisation_id, "email_normalised": row.email, "member_number": row.member_number,
               "name": row.name, "created_at": now} for row in rows]
    for start in range(0, len(values), INSERT_BATCH):
        session.execute(insert(Member), values[start:start + INSERT_BATCH])


def replace_members(session: Session, organisation_id: int, rows: list[MemberRow]) -> ImportOutcome:
    """The file becomes the list: whoever is not in it is no longer a member."""
    _lock(session, organisation_id)
    previous = _count(session, organisation_id)
    session.execute(delete(Member).where(Member.organisation_id == organisation_id)
                    .execution_options(synchronize_session=False))
    _insert(session, organisation_id, rows)
    session.flush()
    return ImportOutcome(count=len(rows), added=len(rows), updated=0, unchanged=0, removed=previous)


def append_members(session: Session, organisation_id: int, rows: list[MemberRow]) -> ImportOutcome:
    """Adds the file to the list. A row that names a listed member (by email or member number)
    completes or corrects that member instead of adding a second one."""
    _lock(session, organisation_id)
    listed = session.execute(select(Member.id, Member.email_normalised, Member.member_number, Member.name)
                             .where(Member.organisation_id == organisation_id)).all()
    by_email = {m.email_normalised: m for m in listed if m.email_normalised}
    by_number = {m.member_number: m for m in listed if m.member_number}
    claimed: dict[int, int] = {}  # member id -> line that changes it
    problems: list[str] = []
    new_rows: list[MemberRow] = []
    changes: list[dict[str, Any]] = []
    unchanged = 0
    for row in rows:
        found = {m.id: m for m in (by_email.get(row.email or ""), by_number.get(row.member_number or "")) if m}
        if len(found) > 1:
            problems.append(f"line {row.line}: the email belongs to one listed member and the member number "
                            "to another")
            continue
        if not found:
            new_rows.append(row)
            continue
        member = next(iter(found.values()))
        if member.id in claimed:
            problems.append(f"line {row.line}: names the same listed member as line {claimed[member.id]}")
            continue
        claimed[member.id] = row.line
        change = {key: value for key, value in (("email_normalised", row.email), ("member_number", row.member_number),
                                                ("name", row.name))
                  if value is not None and value != getattr(member, key)}
        if change:
            changes.append({"id": member.id, **change})
        else:
            unchanged += 1
    if problems:
        raise _refuse(problems)
    for change in changes:
        member_id = change.pop("id")
        session.execute(update(Member).where(Member.id == member_id).values(**change)
                        .execution_options(synchronize_session=False))
    _insert(session, organisation_id, new_rows)
    session.flush()
    return ImportOutcome(count=_count(session, organisation_id), added=len(new_rows), updated=len(changes),
                         unchanged=unchanged, removed=0)


# --- asking and listing -----------------------------------------------------------------


def is_member(session: Session, organisation_id: int, email_normalised: str, member_number: str | None) -> bool:
    conditions = [Member.email_normalised == email_normalised]
    if member_number and normalise_number(member_number):
        conditions.append(Member.member_number == normalise_number(member_number))
    return session.scalar(select(Member.id).where(Member.organisation_id == organisation_id, or_(*conditions))
                          .limit(1)) is not None


def check_membership(session: Session, event: Event, email_normalised: str, member_number: str | None) -> None:
    """Refuses the sign-up (422 on ``rate``) unless the email or the member number is on the list."""
    if is_member(session, event.organisation_id, email_normalised, member_number):
        return
    organisation = session.get(Organisation, event.organisation_id)
    society = organisation.name if organisation else gettext("the organising society")
    raise validation_error({"rate": [gettext("This rate is for members of %(society)s; your email or member number "
                                             "is not on the member list.", society=society)]})


def _query(organisation_id: int) -> Select[tuple[Member]]:
    return select(Member).where(Member.organisation_id == organisation_id).order_by(Member.id)


def page(session: Session, organisation_id: int, cursor: str | None, limit: int) -> dict[str, Any]:
    query = _query(organisation_id)
    if cursor:
        query = query.where(Member.id > decode_cursor(cursor))
    items = list(session.scalars(query.limit(limit + 1)))
    next_cursor = encode_cursor(items[limit - 1].id) if len(items) > limit else None
    return {"count": _count(session, organisation_id), "items": items[:limit], "next_cursor": next_cursor}


def export_csv(sessions: SessionFactory, organisation_id: int, bom: bool) -> Iterator[str]:
    """The list as CSV that imports again unchanged, read in batches of short sessions while it streams."""
    columns = [Member.email_normalised, Member.member_number, Member.name, Member.created_at, Member.id]

    def batches() -> Iterator[list[tuple[Any, ...]]]:
        last_id = 0
        while True:
            with sessions() as session:
                rows = session.execute(select(*columns).where(Member.organisation_id == organisation_id,
                                                              Member.id > last_id)
                                       .order_by(Member.id).limit(INSERT_BATCH)).all()
            yield [tuple(row[:-1]) for row in rows]
            if len(rows) < INSERT_BATCH:
                return
            last_id = rows[-1].id

    return csv_chunks(CSV_COLUMNS, batches(), bom)
