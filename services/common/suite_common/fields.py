"""Fields and validators whose published OpenAPI says exactly what they accept.

Each rule here is enforced in code and described in the schema the same way, so a
client (or a fuzzer) that follows ``/openapi.json`` is never refused for a rule it
could not see: :func:`openapi_attributes` hands each field's own description to
apispec, and :func:`exactly_one_of` documents itself as a ``oneOf``.
"""
from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import available_timezones

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from . import emails

# What str.strip() removes (str.isspace), spelled out so that the published pattern agrees with Python.
_WHITESPACE_CLASS = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Invisible formatting characters (Unicode category Cf, as of Unicode 15.1) but the two joiners:
# bidirectional embeddings, overrides, isolates and marks (U+202A-202E, U+2066-2069, U+200E/F,
# U+061C), zero-width space and no-break space (U+200B, U+FEFF), word joiner and invisible
# operators (U+2060-2064), soft hyphen, tag characters... They reorder or hide text in a PDF, a
# CSV cell or a mail subject and make two names that look alike differ.
_FORMAT_CLASS = ("\\xad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u180e\\u200b\\u200e\\u200f"
                 "\\u202a-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb")
# The same beyond the BMP (Kaithi and Egyptian hieroglyph format controls, shorthand and musical
# formatting, tag characters). A JSON Schema pattern without ECMA's "u" flag cannot name a
# character above U+FFFF (it reads one as two surrogates), and the fuzzer refuses such patterns:
# the published pattern leaves these out, and its description says they are refused too.
_ASTRAL_FORMAT_CLASS = ("\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
                        "\U000e0001\U000e0020-\U000e007f")
# Zero-width non-joiner and joiner (U+200C, U+200D) are also Cf, but Persian writes ZWNJ inside
# words ("می\u200cخواهم"), Indic scripts use both to choose a conjunct's form, and emoji
# sequences join with ZWJ: refusing them would refuse real names. They are allowed only between
# two visible characters, where they shape the text; at an edge, next to a space or doubled
# they shape nothing and only make a name look like another.
_JOINER_CLASS = "\\u200c\\u200d"
# Line breaks besides LF (CR, VT, FF, NEL, U+2028/2029) and tab, with the rest of C0 and C1.
_SINGLE_LINE_REFUSED = f"\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029{_FORMAT_CLASS}"
_MULTI_LINE_REFUSED = f"\\x00-\\x09\\x0b-\\x1f\\x7f-\\x9f\\u2028\\u2029{_FORMAT_CLASS}"
# Unpaired surrogates too, which no database can store as UTF-8 (the strict JSON parser refuses
# them first); JSON cannot carry them, so the published patterns leave them out.
_REFUSED = {False: re.compile(f"[{_SINGLE_LINE_REFUSED}{_ASTRAL_FORMAT_CLASS}\ud800-\udfff]"),
            True: re.compile(f"[{_MULTI_LINE_REFUSED}{_ASTRAL_FORMAT_CLASS}\ud800-\udfff]")}
_MISPLACED_JOINER = re.compile(f"(?:^|[{_JOINER_CLASS}{_WHITESPACE_CLASS}])[{_JOINER_CLASS}]"
                               f"|[{_JOINER_CLASS}](?:$|[{_WHITESPACE_CLASS}])")
SINGLE_LINE_PROBLEM = ("Must not contain line breaks, tabs, control characters or invisible formatting characters "
                       "(such as bidirectional overrides or zero-width spaces).")
MULTI_LINE_PROBLEM = ("Must not contain tabs, control characters or invisible formatting characters "
                      "(such as bidirectional overrides or zero-width spaces); line breaks are allowed.")
JOINER_PROBLEM = "A zero-width joiner or non-joiner may only stand between two visible characters."


def text_problem(text: str, multiline: bool = False) -> str | None:
    """Why ``text`` cannot be a human text field's value, in words; None when it can.

    The one rule for names, titles and free text in every service (schemas, form pages, the
    member list import), so that nothing reaches a PDF, a mail or a CSV cell that reorders,
    hides or breaks the text. ``multiline`` text may hold line feeds (LF; a browser's CRLF is
    made LF by :class:`Text` first)."""
    if _REFUSED[multiline].search(text):
        return MULTI_LINE_PROBLEM if multiline else SINGLE_LINE_PROBLEM
    if _MISPLACED_JOINER.search(text):
        return JOINER_PROBLEM
    return None


class Pattern(validate.Regexp):
    """A regular expression the whole value must match, published as the field's ``pattern``.

    marshmallow's Regexp lets ``$`` match before a final line feed ("abc\\n" passes ``^abc$``);
    JSON Schema's ECMA regexes do not, so this one matches the whole string.
    """

    def __init__(self, regex: str, error: str | None = None) -> None:
        if not (regex.startswith("^") and regex.endswith("$")):
            raise ValueError("Anchor the pattern with ^ and $ so that it reads the same in JSON Schema.")
        super().__init__(regex, error=error)

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Text(fields.String):
    """Human text (a name, a title, a description): surrounding spaces stripped, at most
    ``max_length`` characters, not blank unless ``allow_blank``, and nothing that
    :func:`text_problem` refuses. One line unless ``multiline``; a multi-line value's CRLF or CR
    (what browsers send from a textarea) is stored as LF."""

    def __init__(self, max_length: int, allow_blank: bool = False, multiline: bool = False, **kwargs: Any) -> None:
        super().__init__(validate=validate.Length(min=0 if allow_blank else 1, max=max_length), **kwargs)
        self.allow_blank, self.multiline = allow_blank, multiline

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if self.multiline:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        problem = text_problem(text, self.multiline)
        if problem:
            raise ValidationError(problem)
        text = text.strip()
        if not text and not self.allow_blank:
            raise ValidationError("Must not be blank.")
        return text

    def openapi(self, ret: dict[str, Any]) -> dict[str, Any]:
        refused = _MULTI_LINE_REFUSED if self.multiline else _SINGLE_LINE_REFUSED
        if self.multiline:  # CR is taken, as part of a line break
            refused = refused.replace("\\x0b-", "\\x0b\\x0c\\x0e-")
        plain = f"[^{refused}{_JOINER_CLASS}]"
        visible = f"[^{refused}{_JOINER_CLASS}{_WHITESPACE_CLASS}]"
        joined = f"{visible}(?:[{_JOINER_CLASS}]{visible})*"
        rule = ("no tabs, control characters or invisible formatting characters; line breaks allowed"
                if self.multiline else "one line: no line breaks, tabs, control or invisible formatting characters")
        rule += ("; zero-width (non-)joiners only between two visible characters; the formatting characters"
                 " above U+FFFF (Unicode category Cf: tags, hieroglyph and shorthand format controls) are refused too")
        if self.allow_blank:
            return {"pattern": f"^(?:{plain}|{joined})*$", "description": _joined(ret.get("description"), rule)}
        return {"pattern": f"^(?:{plain}|{joined})*{joined}(?:{plain}|{joined})*$",
                "description": _joined(ret.get("description"), "not blank; " + rule)}


class Email(fields.Email):
    """An email address, trimmed and NFKC-normalised (fullwidth "ｚｏｅ" arrives as "zoe"), at most
    254 characters, whose comparison key (:func:`suite_common.emails.email_key`) can be made: a
    domain that IDNA refuses is a field error here, not a failure deeper down."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "zoe@example.org")
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        address = emails.normalise_address(value)
        super()._deserialize(address, attr, data, **kwargs)
        try:
            emails.email_key(address)
        except emails.InvalidEmail as exc:
            raise ValidationError(str(exc)) from exc
        if len(address) > emails.MAX_LENGTH:
            raise ValidationError(f"Use at most {emails.MAX_LENGTH} characters.")
        return address

    def openapi(self, ret: dict[str, Any]) -> dict[str, Any]:
        return {"maxLength": emails.MAX_LENGTH}


class StrictBoolean(fields.Boolean):
    """JSON true or false only; "yes", 1 or "on" are not an explicit answer on record."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class TimeZone(fields.String):
    """An IANA time zone name such as Europe/Vienna; the published enum lists every one this server knows."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "Europe/Vienna")
        super().__init__(validate=validate.OneOf(sorted(available_timezones()),
                                                 error="Unknown time zone; use an IANA name such as Europe/Vienna."),
                         **kwargs)


EARLIEST_YEAR, LATEST_YEAR = 1900, 2999
# RFC 3339 with seconds and an offset, years 1900-2999 as written. Far outside those years, showing
# a moment in some time zone or storing it as UTC overflows Python's datetime.
MOMENT = Pattern(r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
                 r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$",
                 error="Use ISO 8601 with seconds and a UTC offset, e.g. 2027-03-01T09:00:00+01:00, "
                       f"in the years {EARLIEST_YEAR} to {LATEST_YEAR}.")


class Moment(fields.AwareDateTime):
    """A moment as ISO 8601 with seconds and an explicit UTC offset (a time without offset is
    ambiguous and refused), loaded in UTC; published with the exact pattern it must match."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "2027-03-01T09:00:00+01:00")
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        if not isinstance(value, str):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        MOMENT(value)
        return super()._deserialize(value, attr, data, **kwargs).astimezone(dt.UTC)

    def openapi(self, ret: dict[str, Any]) -> dict[str, Any]:
        return {"pattern": MOMENT.regex.pattern}


class Decimal(fields.Decimal):
    """A non-negative decimal within ``0..maximum``, with at most ``places`` decimals, sent as a JSON
    number (rounded to ``places``) or as a string such as "1.5" (taken exactly); written back as a string."""

    def __init__(self, maximum: int, places: int = 2, **kwargs: Any) -> None:
        self.maximum, self.places = maximum, places
        self.string_pattern = Pattern(_decimal_pattern(maximum, places),
                                      error=f"Use a number from 0 to {maximum} with at most {places} decimals.")
        super().__init__(places=places, as_string=True, allow_nan=False,
                         validate=validate.Range(min=0, max=maximum), **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> decimal.Decimal | None:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        if isinstance(value, str):
            self.string_pattern(value)
        return super()._deserialize(value, attr, data, **kwargs)

    def openapi(self, ret: dict[str, Any]) -> dict[str, Any]:
        for key in ("type", "minimum", "maximum"):
            ret.pop(key, None)
        return {"anyOf": [{"type": "number", "minimum": 0, "maximum": self.maximum},
                          {"type": "string", "pattern": self.string_pattern.regex.pattern}]}


class DecimalText(fields.Decimal):
    """A decimal the API writes as a string, e.g. "1.50", so that no float rounding creeps in."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "1.50")
        super().__init__(as_string=True, **kwargs)

    def openapi(self, ret: dict[str, Any]) -> dict[str, Any]:
        return {"type": "string", "format": "decimal", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}


def _decimal_pattern(maximum: int, places: int) -> str:
    """0..maximum with up to ``places`` decimals, without leading zeros: "0", "12.5", "50.00"."""
    if maximum < 1:
        raise ValueError("maximum must be a positive whole number")
    below = "|".join(_integers_up_to(str(maximum - 1)))
    fraction = f"(\\.[0-9]{{1,{places}}})?" if places else ""
    zeros = f"(\\.0{{1,{places}}})?" if places else ""
    return f"^(({below}){fraction}|{maximum}{zeros})$"


def _integers_up_to(limit: str) -> list[str]:
    """Alternatives matching the whole numbers 0..limit, without leading zeros."""
    shorter = ["[0-9]"] if len(limit) > 1 else []
    if len(limit) > 2:
        shorter.append(f"[1-9][0-9]{{1,{len(limit) - 2}}}")
    same_length = []
    for index, digit in enumerate(limit):
        lowest = 1 if index == 0 and len(limit) > 1 else 0
        if int(digit) > lowest:
            rest = f"[0-9]{{{len(limit) - index - 1}}}" if index < len(limit) - 1 else ""
            same_length.append(f"{limit[:index]}[{lowest}-{int(digit) - 1}]{rest}")
    return shorter + same_length + [limit]


def exactly_one_of(*names: str, message: str) -> Callable[..., None]:
    """A schema validator requiring exactly one of the fields; published as a ``oneOf`` of ``required``."""

    @validates_schema
    def check(self: Schema, data: dict[str, Any], **_: Any) -> None:
        if sum(name in data for name in names) != 1:
            raise ValidationError(message, names[0])

    check.exactly_one_of = names  # type: ignore[attr-defined]
    return check


def _joined(first: str | None, second: str) -> str:
    return f"{first}; {second}" if first else second


def openapi_attributes(converter: Any, field: fields.Field, ret: dict[str, Any], **_: Any) -> dict[str, Any]:
    """apispec attribute function: a field with an ``openapi`` method describes itself."""
    describe = getattr(field, "openapi", None)
    return describe(ret) if describe else {}


def one_of_requirements(schema: type[Schema] | Schema) -> list[dict[str, Any]]:
    """The ``oneOf`` clauses of a schema's :func:`exactly_one_of` validators."""
    cls = schema if isinstance(schema, type) else type(schema)
    return [{"oneOf": [{"required": [name]} for name in check.exactly_one_of]}
            for check in (getattr(cls, attr, None) for attr in dir(cls)) if hasattr(check, "exactly_one_of")]


# A credit system's code, as sessions (registration) and credit rules (certificates) both name it:
# ECMEC, NVVTG, AMA-PRA-1. Upper case only, so that "ecmec" and "ECMEC" are never two systems.
CREDIT_SYSTEM_CODE = Pattern(r"^[A-Z][A-Z0-9_-]{0,19}$",
                             error="Use 1 to 20 capital letters, digits, - or _, starting with a letter, e.g. ECMEC.")
MAX_CREDIT_SYSTEMS = 10  # an event's credit systems, and so the entries of a session's credits
