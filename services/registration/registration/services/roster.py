"""The organiser's roster: pages of JSON, or CSV streamed in constant memory."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, case, null, select, type_coerce
from sqlalchemy.orm import Session

from suite_common import csvexport
from suite_common.db import is_postgresql
from suite_common.errors import validation_error

from ..models import MAX_ID, Event, Rate, Registration

CSV_COLUMNS = ("id", "reference", "status", "email", "given_name", "family_name", "rate", "amount_due",
               "amount_paid", "amount_refunded", "currency", "payment_method", "invoice_number", "receipt_number",
               "created_at", "updated_at")
NUMBERS = {"id", "amount_due", "amount_paid", "amount_refunded"}
MOMENTS = {"created_at", "updated_at"}
CSV_BATCH = 5000  # rows per keyset query: about 1 MB of CSV

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
    payment = filters.get("payment")
    if payment == "paid":
        query = query.where(Registration.paid_at.is_not(None))
    elif payment == "unpaid":
        query = query.where(Registration.amount_due > 0, Registration.paid_at.is_(None))
    elif payment == "refunded":
        query = query.where(Registration.amount_refunded > 0)
    elif payment == "free":
        query = query.where(Registration.amount_due == 0)
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


def roster_csv(sessions: SessionFactory, event: Event, filters: dict[str, Any], bom: bool) -> Iterator[bytes]:
    """The roster as CSV chunks (UTF-8), in constant memory.

    The filters are checked now, so a bad cursor is a 422 rather than a broken
    download. The rows are read later, while the body streams: by then the
    request's session is closed, so each batch is read in a short session of its
    own (keyset on id), and a slow download holds no transaction, connection or
    SQLite write lock. On PostgreSQL each batch is written by COPY, the same bytes
    as the Python path writes (cells made safe in SQL), several times faster.
    """
    query = roster_query(event, filters)
    # The event's few rate codes, made safe once, by rate id: no join, and the same cell on both paths.
    rate_cells = {rate.id: csvexport.text_cell(rate.code) for rate in event.rates}
    with sessions() as session:
        on_postgresql = is_postgresql(session)
    if on_postgresql:
        cells = _sql_cells(rate_cells)
        return csvexport.copy_chunks(sessions, query.with_only_columns(*cells), Registration.id, CSV_COLUMNS, bom, CSV_BATCH)
    return (chunk.encode() for chunk in _csv_chunks(sessions, query, rate_cells, bom))


def _sql_cells(rate_cells: dict[int, str]) -> list[ColumnElement[Any]]:
    cells: list[ColumnElement[Any]] = []
    for name in CSV_COLUMNS:
        if name == "rate":
            cells.append(case(rate_cells, value=Registration.rate_id) if rate_cells else null())
            continue
        column = getattr(Registration, name)
        cells.append(column if name in NUMBERS else csvexport.moment_cell_sql(column) if name in MOMENTS
                     else csvexport.text_cell_sql(column))
    return cells


def _csv_chunks(sessions: SessionFactory, query: Select[tuple[Registration]], rate_cells: dict[int, str],
                bom: bool) -> Iterator[str]:
    """Rows come back in CSV order (the rate as its id, times as stored: naive UTC); each column
    has one converter. Read with Core, not the ORM: plain tuples."""
    columns = [Registration.rate_id if name == "rate" else type_coerce(getattr(Registration, name), DateTime)
               if name in MOMENTS else getattr(Registration, name) for name in CSV_COLUMNS]
    converters: list[csvexport.Converter] = [
        rate_cells.get if name == "rate" else None if name in NUMBERS else csvexport.utc_moment_cell
        if name in MOMENTS else csvexport.text_cell for name in CSV_COLUMNS]
    query = query.with_only_columns(*columns)
    batch_size = CSV_BATCH

    def batches() -> Iterator[list[Any]]:
        last_id: int | None = None
        while True:
            batch_query = query if last_id is None else query.where(Registration.id > last_id)
            with sessions() as session:
                rows = session.connection().execute(batch_query.limit(batch_size)).all()
            yield rows
            if len(rows) < batch_size:
                return
            last_id = rows[-1].id

    return csvexport.csv_chunks(CSV_COLUMNS, batches(), bom, converters)
