"""Field types shared by registration's schemas."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import available_timezones

from marshmallow import ValidationError, fields, validate

SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
SLUG = validate.Regexp(SLUG_PATTERN,
                       error="Use 1-64 lowercase letters, digits and hyphens, not starting or ending with a hyphen.")
CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
                       error="Use 1-40 letters, digits, '.', '_' or '-'.")
CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="Use a three-letter ISO 4217 code such as EUR.")
# Control characters, and unpaired surrogates (which no database can store as UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Every moment is shown in some time zone and stored as UTC; far outside this range
# either conversion overflows Python's datetime.
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(3000, 1, 1, tzinfo=dt.UTC)


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


class StrictBoolean(fields.Boolean):
    """JSON true or false only; "yes", 1 or "on" are not an explicit answer on record."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


def TimeZone(**kwargs: Any) -> fields.String:  # noqa: N802 - reads like a field class
    kwargs.setdefault("metadata", {}).setdefault("example", "Europe/Vienna")
    return fields.String(validate=_known_timezone, **kwargs)


class _Moment(fields.AwareDateTime):
    """An aware datetime within EARLIEST..LATEST, returned in UTC."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment = moment.astimezone(dt.UTC)
        except OverflowError as exc:
            raise ValidationError("Use a date between the years 1900 and 2999.") from exc
        if not EARLIEST <= moment < LATEST:
            raise ValidationError("Use a date between the years 1900 and 2999.")
        return moment


def Moment(**kwargs: Any) -> fields.AwareDateTime:  # noqa: N802
    """ISO 8601 with an explicit UTC offset; a time without offset is ambiguous and refused."""
    kwargs.setdefault("metadata", {}).setdefault("example", "2027-03-01T09:00:00+01:00")
    return _Moment(format="iso", **kwargs)
