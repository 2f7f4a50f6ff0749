"""The organiser's roster: pages of JSON, or CSV streamed in constant memory."""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from suite_common.csvexport import csv_chunks
from suite_common.errors import validation_error

from ..models import MAX_ID, Event, Rate, Registration

CSV_COLUMNS = ("id", "reference", "status", "email", "given_name", "family_name", "rate", "amount_due",
               "amount_paid", "amount_refunded", "currency", "payment_method", "invoice_number", "receipt_number",
               "created_at", "updated_at")
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

    def batches() -> Iterator[list[list[Any]]]:
        last_id: int | None = None
        while True:
            batch_query = query if last_id is None else query.where(Registration.id > last_id)
            with sessions() as session:
                rows = session.execute(batch_query.limit(CSV_BATCH)).all()
            yield [_ordered(dict(zip(names, row[:-1], strict=True)), rate_codes.get(row[-1], "")) for row in rows]
            if len(rows) < CSV_BATCH:
                return
            last_id = rows[-1].id

    return csv_chunks(CSV_COLUMNS, batches(), bom)


def _ordered(values: dict[str, Any], rate: str) -> list[Any]:
    values["rate"] = rate
    return [values[c] for c in CSV_COLUMNS]
