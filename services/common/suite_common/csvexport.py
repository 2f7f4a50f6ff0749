"""CSV exports: streamed in chunks, optionally with a BOM for Excel, safe to open in a spreadsheet."""
from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from flask import Response, stream_with_context

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_chunks(header: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]], bom: bool = False) -> Iterator[str]:
    """One chunk of text per batch of rows, so memory stays flat for any number of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write("\ufeff")
    writer.writerow(header)
    for batch in batches:
        for row in batch:
            writer.writerow([neutralise(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def csv_response(chunks: Iterator[str], filename: str) -> Response:
    return Response(stream_with_context(chunks), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
