"""One person, one email; human text without line breaks or invisible formatting; the CSV guard
against fullwidth formula characters (issue 10)."""
from __future__ import annotations

import csv
import io
import re
import sys
import unicodedata

import hypothesis
import pytest
import schemathesis
from marshmallow import ValidationError
from schemathesis.generation.modes import GenerationMode

from suite_common import fields
from suite_common.csvexport import csv_chunks, neutralise, text_cell
from suite_common.emails import InvalidEmail, email_key, loose_email_key, stored_spellings
from suite_common.fields import Email, Text, text_problem


@pytest.mark.parametrize("address", ["zoe@red.example", "ｚｏｅ@red.example", "zoe@ｒｅｄ.example", " ZOE@Red.Example ",
                                     "ｚｏｅ@ＲＥＤ.ｅｘａｍｐｌｅ"])
def test_spellings_of_one_address_have_one_key(address: str) -> None:
    assert email_key(address) == "zoe@red.example"


def test_the_key_folds_case_beyond_ascii_and_maps_the_domain_with_idna() -> None:
    assert email_key("ZOË@BÜCHER.example") == email_key("zoë@xn--bcher-kva.example") == "zoë@bücher.example"
    assert email_key("Straße@x.example") == email_key("STRASSE@x.example")
    assert email_key("ﬁona@x.example") == "fiona@x.example"  # a ligature is two letters
    assert email_key("zoe@[192.0.2.1]") == "zoe@[192.0.2.1]"
    assert email_key(email_key("ZOË@BÜCHER.example")) == email_key("ZOË@BÜCHER.example")


@pytest.mark.parametrize("address", ["zoe", "@red.example", "zoe@", "zoe@-red.example", "zoe@red..example",
                                     "zoe@" + "a" * 64 + ".example", "\u0130" * 130 + "@x.example"])
def test_addresses_without_a_key_are_refused_in_words(address: str) -> None:
    with pytest.raises(InvalidEmail) as excinfo:
        email_key(address)
    assert str(excinfo.value)[0].isupper()


def test_loose_keys_and_stored_spellings_for_data_never_validated() -> None:
    assert loose_email_key(" ＮＯＴ-AN-ADDRESS ") == "not-an-address"
    assert loose_email_key("Zoe@RED.example") == "zoe@red.example"
    assert stored_spellings("ＺＯＥ@red.example") == {"ｚｏｅ@red.example", "zoe@red.example"}


@pytest.mark.parametrize(("value", "loaded"), [("ｚｏｅ@red.example", "zoe@red.example"),
                                               (" Zoe@ｒｅｄ.example ", "Zoe@red.example")])
def test_the_email_field_gives_the_address_to_write_to_in_nfkc_keeping_case(value: str, loaded: str) -> None:
    assert Email().deserialize(value) == loaded


@pytest.mark.parametrize("value", ["zoe@-red.example", "zoe@red..example", "no-at-sign", 42, "\u0130" * 130 + "@x.ex"])
def test_the_email_field_refuses_what_has_no_key_as_a_field_error(value: object) -> None:
    with pytest.raises(ValidationError):
        Email().deserialize(value)


REFUSED_EVERYWHERE = ["Zo\u202ee", "\u202aZoe", "Zoe\u2066x\u2069", "Zo\u200ee", "Zo\u200fe", "Zo\u061ce",
                      "Zo\u200be", "\ufeffZoe", "Zo\u00ade", "Zo\u2060e", "Zo\U000e0041e", "Zo\x07e", "Zo\x85e",
                      "Zo\u2028e", "Zo\u2029e", "Zo\x0be", "Zo\x0ce", "Zo\x1ce", "\u200dZoe", "Zoe\u200c",
                      "Zo \u200de", "Zo\u200d\u200de"]


@pytest.mark.parametrize("value", [*REFUSED_EVERYWHERE, "Zoe\nBerg", "Zoe\rBerg", "Zoe\r\nBerg", "Zoe\tBerg"])
def test_one_line_text_refuses_line_breaks_tabs_controls_and_invisible_formatting(value: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Text(100).deserialize(value)
    assert excinfo.value.messages[0] in (fields.SINGLE_LINE_PROBLEM, fields.JOINER_PROBLEM)


@pytest.mark.parametrize("value", [*REFUSED_EVERYWHERE, "tab\there", "lone\x0bvt"])
def test_multi_line_text_keeps_line_feeds_only(value: str) -> None:
    with pytest.raises(ValidationError):
        Text(100, multiline=True).deserialize(value)


def test_multi_line_text_stores_a_browsers_crlf_as_lf() -> None:
    assert Text(100, multiline=True).deserialize("Hauptstraße 1\r\n1010 Wien\rAustria\n") == \
        "Hauptstraße 1\n1010 Wien\nAustria"


@pytest.mark.parametrize("value", ["Zoë Łukasiewicz", "王芳", "می\u200cخواهم", "क्\u200dष", "👩\u200d💻", "O'Brien",
                                   "  padded  ", "\u00a0nbsp", "Γιώργος"])
def test_real_names_pass_with_joiners_between_visible_characters(value: str) -> None:
    assert Text(100).deserialize(value) == value.strip()
    assert text_problem(value) is None


def test_every_invisible_formatting_character_but_the_joiners_is_refused() -> None:
    formatting = [chr(code) for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"]
    assert "\u200c" in formatting and "\u200d" in formatting
    for character in formatting:
        problem = text_problem(f"a{character}b", multiline=True)
        assert (problem is None) == (character in "\u200c\u200d"), hex(ord(character))


@pytest.mark.parametrize("multiline", [False, True])
@pytest.mark.parametrize("allow_blank", [False, True])
@pytest.mark.parametrize("value", [*(v for v in REFUSED_EVERYWHERE if max(v) <= "\uffff"), "Zoe\nBerg",
                                   "Zoe\r\nBerg", "Zoe\tBerg", "", "  ", "\n", "می\u200cخواهم", "👩\u200d💻", "Zoë",
                                   "a\u200d\nb", "a\u200d\u200cb"])
def test_text_publishes_the_pattern_it_enforces(value: str, allow_blank: bool, multiline: bool) -> None:
    field = Text(50, allow_blank=allow_blank, multiline=multiline)
    published = field.openapi({})
    try:
        field.deserialize(value)
        accepted = True
    except ValidationError:
        accepted = False
    # What the field accepts of a browser's line breaks it stores as LF: the pattern allows CR there.
    assert accepted == bool(re.fullmatch(published["pattern"], value)), (value, published["description"])


@pytest.mark.parametrize("multiline", [False, True])
def test_the_published_pattern_is_one_the_fuzzer_can_draw_from_and_says_the_rest_in_words(multiline: bool) -> None:
    """ECMA patterns without the "u" flag cannot name characters above U+FFFF: the pattern leaves
    the astral formatting characters out and the description names them."""
    published = Text(100, multiline=multiline).openapi({})
    assert max(published["pattern"]) <= "\uffff"
    assert "above U+FFFF" in published["description"]
    assert re.fullmatch(published["pattern"], "Zo\U000e0041e") and text_problem("Zo\U000e0041e", multiline)
    spec = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/x": {"post": {
        "requestBody": {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["n"], "properties": {"n": {"type": "string", "maxLength": 100, **published}}}}}},
        "responses": {"200": {"description": "ok"}}}}}}
    operation = schemathesis.openapi.from_dict(spec)["/x"]["POST"]
    drawn = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        # Drawing raises when the strategy cannot make a case (an unsupported pattern).
        @hypothesis.given(operation.as_strategy(generation_mode=mode))
        @hypothesis.settings(max_examples=3, database=None, phases=[hypothesis.Phase.generate],
                             suppress_health_check=list(hypothesis.HealthCheck))
        def draw(case: object) -> None:
            drawn.append(case)

        draw()
    assert len(drawn) >= 2


def test_the_messages_say_what_is_refused_in_words() -> None:
    assert fields.SINGLE_LINE_PROBLEM.startswith("Must not contain line breaks")
    assert "invisible formatting characters" in fields.SINGLE_LINE_PROBLEM
    assert "line breaks are allowed" in fields.MULTI_LINE_PROBLEM


@pytest.mark.parametrize("character", ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"])
def test_csv_cells_starting_with_a_formula_character_are_guarded(character: str) -> None:
    value = f"{character}1+1"
    assert neutralise(value) == text_cell(value) == "'" + value
    written = "".join(csv_chunks(["name"], [[(value,)]]))
    assert list(csv.reader(io.StringIO(written, newline=""))) == [["name"], ["'" + value]]
    assert neutralise(f"a{character}") == f"a{character}"
