"""The shared fields publish in OpenAPI exactly the rules they enforce."""
from __future__ import annotations

import re
import sys

import pytest
from marshmallow import Schema, ValidationError

from suite_common import fields
from suite_common.fields import Decimal, Moment, Text, exactly_one_of, one_of_requirements


def _accepts(field: fields.fields.Field, value: object) -> bool:
    try:
        field.deserialize(value)
    except ValidationError:
        return False
    return True


def test_the_whitespace_in_the_text_pattern_is_what_python_strips() -> None:
    published = re.compile(f"[{fields._WHITESPACE_CLASS}]")
    stripped = {chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace()}
    assert {chr(code) for code in range(0x10000) if published.fullmatch(chr(code))} == stripped


@pytest.mark.parametrize("allow_blank", [False, True])
@pytest.mark.parametrize("value", ["Zoë", "  padded  ", "two\nlines\ttab", "", "   ", "\u3000", "bell\x07",
                                   "nel\x85", "\x1c", "delete\x7f", "😀"])
def test_text_accepts_exactly_what_its_pattern_allows(value: str, allow_blank: bool) -> None:
    field = Text(50, allow_blank=allow_blank)
    pattern = field.openapi({})["pattern"]
    assert _accepts(field, value) == bool(re.fullmatch(pattern, value))


@pytest.mark.parametrize(("maximum", "places"), [(50, 2), (100, 2), (500, 2), (24, 2), (1, 4)])
def test_decimal_strings_within_the_range_match_the_published_pattern(maximum: int, places: int) -> None:
    field = Decimal(maximum, places=places)
    string_branch = field.openapi({})["anyOf"][1]
    step = 10 ** -places
    candidates = [f"{n * step:.{p}f}" for n in range(0, int(maximum / step) + 2, max(1, int(1 / step) // 7))
                  for p in range(places + 1)]
    for text in [*candidates, "01", "1.", ".5", "1e1", "-0", " 1", f"{maximum}.{'0' * (places + 1)}"]:
        in_range = re.fullmatch(r"[0-9]+(\.[0-9]+)?", text) and float(text) <= maximum
        assert _accepts(field, text) == bool(re.fullmatch(string_branch["pattern"], text)), text
        if re.fullmatch(string_branch["pattern"], text):
            assert in_range, text
    assert _accepts(field, maximum) and _accepts(field, 0.57) and not _accepts(field, maximum + 0.01)
    assert not _accepts(field, True)


@pytest.mark.parametrize(("value", "accepted"), [
    ("2027-03-01T09:00:00+01:00", True), ("1900-01-01T00:00:00Z", True), ("2999-12-31T23:59:59.5-14:00", True),
    ("2027-03-01T09:00:00", False), ("2027-03-01T09:00+01:00", False), ("1899-12-31T23:59:59Z", False),
    ("3000-01-01T00:00:00Z", False), ("2027-03-01T09:00:00Z\n", False), ("2027-02-30T09:00:00Z", False),
])
def test_moments_are_rfc3339_with_offset_in_the_published_years(value: str, accepted: bool) -> None:
    field = Moment()
    assert _accepts(field, value) is accepted
    if accepted:
        assert re.fullmatch(field.openapi({})["pattern"], value)


def test_exactly_one_of_validates_and_publishes_a_one_of() -> None:
    class Identity(Schema):
        ticket = fields.fields.String()
        number = fields.fields.Integer()
        _one = exactly_one_of("ticket", "number", message="Give either ticket or number.")

    assert Identity().validate({"ticket": "a"}) == {}
    assert Identity().validate({}) == {"ticket": ["Give either ticket or number."]}
    assert Identity().validate({"ticket": "a", "number": 1}) == {"ticket": ["Give either ticket or number."]}
    assert one_of_requirements(Identity) == [{"oneOf": [{"required": ["ticket"]}, {"required": ["number"]}]}]
