"""Idempotency keys of incoming requests, read and bounded in one place (as pretix's middleware does).

A JSON client names its retry with the ``Idempotency-Key`` header: 1-100 visible ASCII characters,
stored as given (a key outside that is a 400 saying so, never cut short: two keys that differ after
the 100th character must not become one). An HTML form carries its key in a hidden field; browsers
and people's tools may send any text there, so it is stored as ``form:`` and its SHA-256, which
fits the column whatever its length and keeps form keys apart from one another.
"""
from __future__ import annotations

import hashlib
import re

from flask import request

from .errors import ApiError

HEADER = "Idempotency-Key"
MAX_LENGTH = 100  # the length of the columns that store keys
# Visible ASCII only: keys are compared and stored as given, and PostgreSQL refuses e.g. NUL.
_VALID = re.compile(rf"^[\x21-\x7e]{{1,{MAX_LENGTH}}}$")
FORM_PREFIX = "form:"
# The header as an OpenAPI parameter, for ``blp.doc(parameters=[PARAMETER])``.
PARAMETER = {"in": "header", "name": HEADER, "required": False,
             "description": "Makes a retry safe: the same key with the same body gets the first answer again.",
             "schema": {"type": "string", "pattern": _VALID.pattern}}


def request_key(form_field: str | None = None) -> str | None:
    """This request's idempotency key as stored, or None when it has none.

    ``form_field`` names the hidden field of an HTML form that carries the key; without it the key
    is the ``Idempotency-Key`` header."""
    if form_field is not None:
        value = request.form.get(form_field, "")
        return FORM_PREFIX + hashlib.sha256(value.encode("utf-8")).hexdigest() if value else None
    value = request.headers.get(HEADER)
    if value is not None and not _VALID.match(value):
        raise ApiError(400, "bad_request", f"{HEADER} must be 1-{MAX_LENGTH} visible ASCII characters.",
                       {HEADER: [f"Use 1-{MAX_LENGTH} visible ASCII characters (no spaces)."]})
    return value
