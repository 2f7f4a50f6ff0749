"""The organiser's roster: pages of JSON, or CSV streamed in constant memory."""
from __future__ import annotations

import base64
import binascii
import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from suite_common.errors import validation_error

from ..models import MAX_ID, Event, Rate, Registration

CSV_COLUMNS = ("id", "reference", "status", "email", "given_name", "family_name", "rate", "amount_paid",
               "currency", "created_at", "updated_at")
# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_BATCH = 1000

SessionFactory = Callable[[], Session]


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_id}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise validation_error({"cursor": ["Not a cursor this API gave out."]}) from exc
    if type(after) is not int or not 0 <= after <= MAX_ID:  # bool is an int too
        raise validation_error({"cursor": ["Not a cursor this API gave out."]})
    return after


def roster_query(event: Event, filters: dict[str, Any]) -> Select[tuple[Registration]]:
    query = select(Registration).where(Registration.event_id == event.id)
    if filters.get("status"):
        query = query.where(Registration.status == filters["status"])
    if filters.get("rate"):
        query = query.join(Rate, Rate.id == Registration.rate_id).where(Rate.code == filters["rate"])
    if filters.get("updated_since"):
        query = query.where(Registration.updated_at >= filters["updated_since"])
    if filters.get("cursor"):
        query = query.where(Registration.id > decode_cursor(filters["cursor"]))
    return query.order_by(Registration.id)


def roster_page(session: Session, event: Event, filters: dict[str, Any]) -> tuple[list[Registration], str | None]:
    limit = filters["limit"]
    rows = list(session.scalars(roster_query(event, filters).limit(limit + 1)))
    next_cursor = encode_cursor(rows[limit - 1].id) if len(rows) > limit else None
    return rows[:limit], next_cursor


def neutralise(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def roster_csv(sessions: SessionFactory, event: Event, filters: dict[str, Any], bom: bool) -> Iterator[str]:
    """The roster as CSV chunks, in constant memory.

    The filters are checked now, so a bad cursor is a 422 rather than a broken
    download. The rows are read later, while the body streams: by then the
    request's session is closed, so each batch is read in a short session of its
    own (keyset on id), and a slow download holds no transaction, connection or
    SQLite write lock.
    """
    query = roster_query(event, filters)
    rate_codes = {rate.id: rate.code for rate in event.rates}
    return _csv_chunks(sessions, query, rate_codes, bom)


def _csv_chunks(sessions: SessionFactory, query: Select[tuple[Registration]], rate_codes: dict[int, str],
                bom: bool) -> Iterator[str]:
    names = [c for c in CSV_COLUMNS if c != "rate"]
    query = query.with_only_columns(*[getattr(Registration, c) for c in names], Registration.rate_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    last_id: int | None = None
    while True:
        batch_query = query if last_id is None else query.where(Registration.id > last_id)
        with sessions() as session:
            rows = session.execute(batch_query.limit(CSV_BATCH)).all()
        for row in rows:
            values = dict(zip(names, row[:-1], strict=True))
            values["rate"] = rate_codes.get(row[-1], "")
            writer.writerow([neutralise(values[c]) for c in CSV_COLUMNS])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < CSV_BATCH:
            return
        last_id = rows[-1].id
