"""CSV exports: streamed in chunks, optionally with a BOM for Excel, safe to open in a spreadsheet.

Two ways to the same bytes: ``csv_chunks`` writes rows read in Python (any database);
``copy_chunks`` has PostgreSQL write them with ``COPY ... TO STDOUT WITH CSV``, the cells made
safe in SQL by ``text_cell_sql`` and ``moment_cell_sql`` exactly as ``text_cell`` and
``utc_moment_cell`` do in Python, its rows ended with CRLF as the csv module ends them.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import ColumnElement, Select, String, case, func, literal
from sqlalchemy.orm import Session

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection"),
# and their fullwidth forms (U+FF1D, U+FF0B, U+FF0D, U+FF20) too: a spreadsheet or an import step
# that folds fullwidth characters to ASCII (as NFKC does) turns them into those four.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BOM = "\ufeff"
# How a column's values become cells; None writes them as they are (numbers).
Converter = Callable[[Any], Any] | None


def neutralise(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def text_cell(value: str | None) -> str:
    """``neutralise`` for a column known to hold text: no type tests per cell."""
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def utc_moment_cell(value: dt.datetime | None) -> str:
    """What ``neutralise`` writes for an aware UTC datetime, from the naive UTC one stored by
    ``UTCDateTime`` (read with ``type_coerce(column, DateTime)``: no conversion per value)."""
    return "" if value is None else value.isoformat() + "+00:00"


def csv_chunks(header: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]], bom: bool = False,
               converters: Sequence[Converter] | None = None) -> Iterator[str]:
    """One chunk of text per batch of rows, so memory stays flat for any number of rows.

    ``converters`` (one per column, chosen once by the caller) convert a batch column by
    column; without them every cell goes through ``neutralise``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(BOM)
    writer.writerow(header)
    for batch in batches:
        if converters is None:
            writer.writerows([neutralise(value) for value in row] for row in batch)
        else:
            columns = list(zip(*batch, strict=True))
            if columns:
                writer.writerows(zip(*(values if convert is None else map(convert, values)
                                       for convert, values in zip(converters, columns, strict=True)), strict=True))
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def text_cell_sql(column: ColumnElement[Any]) -> ColumnElement[str]:
    """``text_cell`` in SQL (PostgreSQL). An empty text becomes NULL: COPY writes NULL as an empty
    field and quotes an empty string (``""``), where the csv module writes both as nothing."""
    starts_a_formula = column.regexp_match("^[" + "".join(FORMULA_TRIGGERS).replace("-", "") + "-]")
    guarded = case((starts_a_formula, literal("'", String) + column), else_=column)
    return func.nullif(guarded, "", type_=String)


def moment_cell_sql(column: ColumnElement[Any]) -> ColumnElement[str]:
    """``utc_moment_cell`` in SQL (PostgreSQL) for a UTC timestamp stored without a zone: what
    ``datetime.isoformat()`` writes, with the microseconds only when there are some."""
    micro = func.to_char(column, "US", type_=String)
    return (func.to_char(column, 'YYYY-MM-DD"T"HH24:MI:SS', type_=String)
            + case((micro == "000000", ""), else_="." + micro) + "+00:00")


def copy_chunks(sessions: Callable[[], Session], query: Select[Any], key: ColumnElement[int], header: Sequence[str],
                bom: bool = False, batch_size: int = 10_000) -> Iterator[bytes]:
    """The CSV that ``csv_chunks`` writes for ``query``, written by PostgreSQL's COPY.

    ``query`` selects the cells in CSV order (made with ``text_cell_sql`` and ``moment_cell_sql``,
    numbers as they are), ordered by ``key``, an integer that is also the first column. It is read
    in keyset batches, each whole in a short session of its own, so memory is flat (one batch) and
    a slow download holds no connection or transaction. COPY sends one message per row, ending
    in LF: the rows are joined with CRLF; line breaks inside a quoted cell stay as they are, as
    in the csv module's output.
    """
    head = io.StringIO()
    csv.writer(head, lineterminator="\r\n").writerow(header)
    yield ((BOM if bom else "") + head.getvalue()).encode()
    last: int | None = None
    while True:
        batch_query = (query if last is None else query.where(key > last)).limit(batch_size)
        rows: list[bytes] = []
        with sessions() as session:
            dialect = session.get_bind().dialect
            compiled = batch_query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
            params = {}
            for name, value in compiled.params.items():
                process = compiled.binds[name].type.bind_processor(dialect)
                params[name] = process(value) if process else value
            cursor = session.connection().connection.driver_connection.cursor()
            with cursor.copy(f"COPY ({compiled.string}) TO STDOUT WITH (FORMAT csv)", params) as copy:
                rows.extend(bytes(row[:-1]) for row in copy)
        if rows:
            yield b"\r\n".join(rows) + b"\r\n"
        if len(rows) < batch_size:
            return
        last = int(rows[-1].split(b",", 1)[0])


def csv_response(chunks: Iterator[str], filename: str) -> Response:
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
