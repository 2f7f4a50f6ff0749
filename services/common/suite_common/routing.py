"""Path and query values that cannot be what they name stop at the edge, as a 404 or a 422.

An integer beyond 64 bits overflows the database driver, a NUL is refused by PostgreSQL and a
slug with control characters reaches SQL and the ``Content-Disposition`` of a CSV; all used to
come back as a 500. Every service's app gets these converters from ``create_service_app``:
``<int:x>`` only matches 1..2**63-1, ``<slug:slug>`` only what an event's slug may be and no
other path value has a control character (no token, code or name of the suite has one), so
anything else is a 404 before a view runs, with the JSON error body on the APIs.
"""
from __future__ import annotations

import re
from typing import Any

from flask import Flask
from marshmallow import fields, validate
from werkzeug.routing import BaseConverter, IntegerConverter, Map, PathConverter, UnicodeConverter

INT64_MAX = 2**63 - 1  # what a BIGINT column, SQLite and a cursor compared with an id hold
INT32_MAX = 2**31 - 1  # what an INTEGER column holds: the bound of an id that is stored
# The one rule for an event's slug: registration validates new events with it, every service routes by it.
SLUG_REGEX = r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?"
SLUG_PATTERN = re.compile(f"^{SLUG_REGEX}$")
_CONTROL = r"\x00-\x1f\x7f"


class BoundedIntConverter(IntegerConverter):
    """Werkzeug's ``int`` converter, bounded by default to what a BIGINT column (and SQLite) holds."""

    regex = r"\d{1,19}"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = 1, max: int | None = INT64_MAX,
                 signed: bool = False) -> None:
        bounded = INT64_MAX if max is None or max > INT64_MAX else max
        super().__init__(map, fixed_digits, min, bounded, signed)


class SlugConverter(BaseConverter):
    """``<slug:slug>``: 1-64 lowercase letters, digits and inner hyphens, as an event's slug is made."""

    regex = SLUG_REGEX


class TextConverter(UnicodeConverter):
    """The default converter (``<name>``, ``<string:name>``) without control characters."""

    def __init__(self, map: Map, minlength: int = 1, maxlength: int | None = None,
                 length: int | None = None) -> None:
        super().__init__(map, minlength, maxlength, length)
        self.regex = self.regex.replace("[^/]", f"[^/{_CONTROL}]", 1)


class TextPathConverter(PathConverter):
    """``<path:name>`` without control characters."""

    part_isolating = False
    regex = f"[^/{_CONTROL}][^{_CONTROL}]*?"


def text_parameter(converter: BaseConverter) -> dict[str, Any]:
    """The OpenAPI schema of a ``<name>`` path parameter."""
    return {"type": "string", "minLength": 1, "pattern": f"^{converter.regex}$"}


def slug_parameter(converter: BaseConverter) -> dict[str, Any]:
    """The OpenAPI schema of a ``<slug:...>`` path parameter."""
    return {"type": "string", "pattern": SLUG_PATTERN.pattern, "minLength": 1, "maxLength": 64}


def install_converters(app: Flask) -> None:
    """Before any route is added: rules take their converters from the map when they are bound."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    app.url_map.converters["path"] = TextPathConverter
    app.url_map.converters["slug"] = SlugConverter


def Id(*, max: int = INT64_MAX, **kwargs: Any) -> fields.Integer:  # noqa: N802 - used as a field class
    """An identifier, or a cursor over identifiers, read from a client: 1..``max``, anything
    else a 422 rather than an overflow in the database driver (``INT32_MAX`` for one that is stored)."""
    return fields.Integer(validate=validate.Range(min=1, max=max), **kwargs)
