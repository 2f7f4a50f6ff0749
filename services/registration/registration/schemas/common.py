"""Field types shared by registration's schemas."""
from __future__ import annotations

import re
from typing import Any
from zoneinfo import available_timezones

from marshmallow import ValidationError, fields, validate

SLUG = validate.Regexp(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$",
                       error="Use 1-64 lowercase letters, digits and hyphens, not starting or ending with a hyphen.")
CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
                       error="Use 1-40 letters, digits, '.', '_' or '-'.")
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Use a three-letter ISO 4217 code such as EUR.")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_TIMEZONES = available_timezones()


def _known_timezone(value: str) -> None:
    if value not in _TIMEZONES:
        raise ValidationError("Unknown time zone; use an IANA name such as Europe/Vienna.")



class Text(fields.String):
    """A string stripped of surrounding spaces, without control characters, within a length."""

    def __init__(self, max_length: int, min_length: int = 1, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min=min_length, max=max_length), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if _CONTROL.search(text):
            raise ValidationError("Control characters are not allowed.")
        return text


def TimeZone(**kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    kwargs.setdefault("metadata", {}).setdefault("example", "Europe/Vienna")
    return fields.String(validate=_known_timezone, **kwargs)


def Moment(**kwargs: Any) -> fields.AwareDateTime:  # noqa: N802
    """ISO 8601 with an explicit UTC offset; a time without offset is ambiguous and refused."""
    kwargs.setdefault("metadata", {}).setdefault("example", "2027-03-01T09:00:00+01:00")
    return fields.AwareDateTime(format="iso", **kwargs)
