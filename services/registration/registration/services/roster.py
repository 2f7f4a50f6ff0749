"""The organiser's roster: pages of JSON, or CSV streamed in constant memory."""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Select, String, case, null, or_, select, type_coerce
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from suite_common import csvexport
from suite_common.db import is_postgresql
from suite_common.errors import validation_error

from ..models import MAX_ID, AuditEntry, Document, Event, Rate, Registration
from . import pricing

CSV_COLUMNS = ("id", "reference", "status", "email", "given_name", "family_name", "rate", "amount_due",
               "amount_paid", "amount_refunded", "currency", "payment_method", "invoice_number", "receipt_number",
               "created_at", "updated_at")
NUMBERS = {"id", "amount_due", "amount_paid", "amount_refunded"}
MOMENTS = {"created_at", "updated_at"}
# The CSV's amount_due is what the attendee pays, VAT included (``pricing.amount_to_pay``), like its amount_paid.
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


class _lower(FunctionElement[str]):  # noqa: N801 - reads as the SQL function it renders
    """``lower()`` that folds every letter on both databases: PostgreSQL's lower() is Unicode-aware,
    SQLite's folds ASCII only, so there it is ``unicode_lower`` (Python's, registered on each
    connection by ``suite_common.db.make_engine``): "łukas" finds "Łukasiewicz" on either."""

    type = String()
    name = "lower"
    inherit_cache = True


@compiles(_lower)
def _lower_default(element: _lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(_lower, "sqlite")
def _lower_sqlite(element: _lower, compiler: SQLCompiler, **kw: Any) -> str:
    return f"unicode_lower({compiler.process(element.clauses, **kw)})"


def search_condition(text: str) -> ColumnElement[bool]:
    """What the roster's search (``q``) matches: part of the name ("given family") in any case, part
    of the email as its key is stored (case-folded, NFKC), or part of the reference in any case.
    One rule for the API, the CSV and the console."""
    needle = " ".join(text.split())
    email_needle = unicodedata.normalize("NFKC", needle.casefold())
    full_name = Registration.given_name + " " + Registration.family_name
    return or_(_lower(full_name).contains(needle.lower(), autoescape=True),
               Registration.email_normalised.contains(email_needle, autoescape=True),
               Registration.reference.contains(needle.upper(), autoescape=True))


def roster_query(event: Event, filters: dict[str, Any]) -> Select[tuple[Registration]]:
    query = select(Registration).where(Registration.event_id == event.id)
    if (filters.get("q") or "").strip():
        query = query.where(search_condition(filters["q"]))
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
    # Each item shows its personal Zoom link: loaded with the page, not one query per item.
    query = roster_query(event, filters).options(selectinload(Registration.zoom_registrant))
    rows = list(session.scalars(query.limit(limit + 1)))
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
    to_pay = pricing.amount_to_pay_sql(event).label("amount_due")
    if on_postgresql:
        cells = _sql_cells(rate_cells, to_pay)
        return csvexport.copy_chunks(sessions, query.with_only_columns(*cells), Registration.id, CSV_COLUMNS, bom, CSV_BATCH)
    return (chunk.encode() for chunk in _csv_chunks(sessions, query, rate_cells, to_pay, bom))


def _sql_cells(rate_cells: dict[int, str], to_pay: ColumnElement[int]) -> list[ColumnElement[Any]]:
    cells: list[ColumnElement[Any]] = []
    for name in CSV_COLUMNS:
        if name == "rate":
            cells.append(case(rate_cells, value=Registration.rate_id) if rate_cells else null())
            continue
        column = to_pay if name == "amount_due" else getattr(Registration, name)
        cells.append(column if name in NUMBERS else csvexport.moment_cell_sql(column) if name in MOMENTS
                     else csvexport.text_cell_sql(column))
    return cells


def _csv_chunks(sessions: SessionFactory, query: Select[tuple[Registration]], rate_cells: dict[int, str],
                to_pay: ColumnElement[int], bom: bool) -> Iterator[str]:
    """Rows come back in CSV order (the rate as its id, times as stored: naive UTC); each column
    has one converter. Read with Core, not the ORM: plain tuples."""
    columns = [Registration.rate_id if name == "rate" else to_pay if name == "amount_due" else type_coerce(getattr(Registration, name), DateTime)
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


# --- one registration's history ---------------------------------------------------------


@dataclass(frozen=True)
class HistoryItem:
    """One thing that happened to a registration: ``what`` in words, ``who`` when it is known."""

    at: dt.datetime
    what: str
    who: str | None = None
    outcome: int | None = None  # the HTTP status of an organiser's request (from the audit log)


DOCUMENT_NAMES = {"receipt": "Receipt", "invoice": "Invoice", "credit_note": "Credit note"}
# The last segment of an audited route that names a registration, as the organiser would say it.
REQUEST_NAMES = {"cancel": "Cancel", "approve": "Approve", "reject": "Reject", "invoice": "Issue an invoice",
                 "mark-paid": "Mark the invoice paid", "resend-confirmation": "Resend the confirmation"}
CANCELLED_BY = {"hold_expired": "the seat's hold ran out unpaid", "request": "on request"}


def registration_history(session: Session, registration: Registration) -> list[HistoryItem]:
    """What is recorded about a registration, oldest first: the moments its row keeps (sign-up,
    approval or rejection, payment, cancellation), the documents issued for it, and the audit
    log's entries of every organiser request that named it (API or console). Status changes
    themselves are not logged one by one, so a status that was left again (an approval that
    became a payment) shows only through these moments."""
    items = [HistoryItem(registration.created_at, f"Signed up at the rate {registration.rate.code}")]
    if registration.approved_at:
        items.append(HistoryItem(registration.approved_at, "Approved"))
    if registration.rejected_at:
        reason = f": {registration.rejection_reason}" if registration.rejection_reason else ""
        items.append(HistoryItem(registration.rejected_at, f"Rejected{reason}"))
    if registration.paid_at:
        items.append(HistoryItem(registration.paid_at, "Paid" + (
            " (invoice marked paid)" if registration.payment_method == "invoice" else "")))
    if registration.cancelled_at and not registration.rejected_at:
        how = CANCELLED_BY.get(registration.cancelled_by or "", "")
        items.append(HistoryItem(registration.cancelled_at, "Cancelled" + (f", {how}" if how else "")))
    for document in session.scalars(select(Document).where(Document.registration_id == registration.id)):
        items.append(HistoryItem(document.issued_at, f"{DOCUMENT_NAMES.get(document.kind, document.kind)} "
                                                     f"{document.number} issued"))
    entries = session.scalars(select(AuditEntry).where(
        AuditEntry.organisation_id == registration.event.organisation_id,
        AuditEntry.target["registration_id"].as_integer() == registration.id))
    for entry in entries:
        action = REQUEST_NAMES.get(entry.route.rsplit("/", 1)[-1], f"{entry.method} {entry.route}")
        where = "console" if entry.route.startswith("/console/") else "API"
        items.append(HistoryItem(entry.at, f"{action} (in the {where})", entry.actor, entry.status))
    return sorted(items, key=lambda item: item.at)
