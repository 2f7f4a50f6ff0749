"""Learner identifiers: the formats checked where they are public (EFN's Luhn check digit, BIG's and GMC's
digits, a board ID with a real month and day), the organiser's settings per credit system, the consent
recorded with its text and time, withdrawal, and the privacy export and erasure."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from marshmallow import ValidationError
from sqlalchemy import select

from certificates.models import CreditSystem
from certificates.schemas.accreditation import AccreditationInput
from certificates.services import identifiers
from certificates.services.identifiers import InvalidIdentifier, birthday, consent_version, luhn_valid, normalise
from tests.support.apps import make_settings

PARS_CONSENT = "I agree that my board ID and month and day of birth are reported to ACCME's PARS."
EFN_CONSENT = "Ich willige ein, dass meine EFN an die Ärztekammer gemeldet wird."
BIG_CONSENT = "Ik geef toestemming mijn BIG-nummer aan het register door te geven."


@pytest.mark.parametrize(("kind", "typed", "stored"), [
    ("efn", "802760901234566", "802760901234566"),
    ("efn", "80 276 090 123456 6", "802760901234566"),  # as printed in groups on the card
    ("efn", "802760010000015", "802760010000015"),
    ("big", "19012345601", "19012345601"),
    ("big", "190-1234-5601", "19012345601"),
    ("gmc", "1234567", "1234567"),
    ("gmc", " 7654321 ", "7654321"),
    ("abim_pars", "123456", "123456"),
    ("free_text", "  DGR-4711 ", "DGR-4711"),
])
def test_valid_identifiers_are_stored_without_the_separators_people_type(kind: str, typed: str, stored: str) -> None:
    assert normalise(kind, typed) == stored


@pytest.mark.parametrize(("kind", "typed", "reason"), [
    ("efn", "802760901234567", "check digit"),  # one digit off: Luhn catches it
    ("efn", "802760901234656", "check digit"),  # two digits swapped
    ("efn", "80276090123456", "15 digits"),
    ("efn", "801240901234563", "276"),  # another country's
    ("efn", "80276090123456X", "15 digits"),
    ("big", "1901234560", "11 digits"),
    ("big", "190123456012", "11 digits"),
    ("gmc", "123456", "7 digits"),
    ("gmc", "GMC1234567", "7 digits"),
    ("abim_pars", "12 34", "letters and digits"),
    ("abim_pars", "=cmd()", "letters and digits"),
    ("free_text", "x" * 201, "200 characters"),
    ("free_text", "two\nlines", "one line"),
])
def test_invalid_identifiers_are_refused_with_the_reason(kind: str, typed: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier, match=reason):
        normalise(kind, typed)


def test_the_luhn_formula_on_its_textbook_example() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")


@pytest.mark.parametrize(("month", "day", "ok"), [("2", "29", True), ("12", "31", True), ("4", "31", False),
                                                  ("13", "1", False), ("0", "5", False), ("x", "1", False)])
def test_a_birthday_must_exist(month: str, day: str, ok: bool) -> None:
    if ok:
        assert birthday(month, day) == (int(month), int(day))
    else:
        with pytest.raises(InvalidIdentifier):
            birthday(month, day)


def _body(*identifier_sets: list[dict[str, Any]]) -> dict[str, Any]:
    return {"signatory": "Dr. S", "credit_systems": [
        {"code": code, "name": f"{code} credits", "body": code, "statement": "Accredited.", "identifiers": specs}
        for code, specs in zip(("AMA", "LAEK", "NVVTG"), identifier_sets, strict=False)]}


def test_a_system_names_its_identifiers_and_the_organisers_mistakes_are_refused() -> None:
    loaded = AccreditationInput().load(_body([{"kind": "abim_pars", "required": True, "consent_text": PARS_CONSENT}]))
    assert loaded["credit_systems"][0]["identifiers"] == [
        {"kind": "abim_pars", "label": "", "required": True, "consent_text": PARS_CONSENT}]
    for specs, where in (([{"kind": "ssn", "consent_text": "x"}], "kind"),
                         ([{"kind": "efn"}], "consent_text"),
                         ([{"kind": "free_text", "consent_text": "x"}], "label"),
                         ([{"kind": "gmc", "consent_text": "x"}, {"kind": "gmc", "consent_text": "y"}], "identifiers")):
        with pytest.raises(ValidationError) as refused:
            AccreditationInput().load(_body(specs))
        system = refused.value.messages["credit_systems"][0]
        assert where in system or where in system.get("identifiers", {}).get(0, {}), refused.value.messages


# The participant's form and privacy, against a database -------------------------------------------------


@pytest.fixture
def app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    from certificates import create_app
    from certificates.models import Base
    from certificates.services import accreditation, registry

    made = create_app(make_settings("certificates", database_url, tmp_path))
    Base.metadata.create_all(made.extensions["suite_db"].engine)
    monkeypatch.setattr(registry, "event", lambda _organisation_id, _slug: None)
    with made.app_context(), made.extensions["suite_db"].session_scope() as session:
        accreditation.put(session, 1, "Org", "congress", AccreditationInput().load(_body(
            [{"kind": "abim_pars", "required": True, "consent_text": PARS_CONSENT}],
            [{"kind": "efn", "required": True, "consent_text": EFN_CONSENT},
             {"kind": "free_text", "label": "Kammer", "consent_text": "Kammer ok."}],
            [{"kind": "big", "consent_text": BIG_CONSENT}])))
    yield made
    made.extensions["suite_db"].engine.dispose()


def _submit(app: Flask, form: dict[str, str], registration_id: int = 7,
            email: str = "zoe@h.example") -> dict[str, list[str]]:
    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        return identifiers.submit(session, 1, "congress", registration_id, email, form)


def _rows(app: Flask) -> list[Any]:
    from certificates.models import LearnerIdentifier

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        rows = list(session.scalars(select(LearnerIdentifier).order_by(LearnerIdentifier.id)))
        session.expunge_all()
        return rows


PARS_FORM = {"ident-AMA-abim_pars": "123456", "ident-AMA-abim_pars-board": "ABIM", "ident-AMA-abim_pars-month": "3",
             "ident-AMA-abim_pars-day": "14", "ident-AMA-abim_pars-consent": "yes"}


def test_identifiers_are_kept_only_with_consent_and_its_text_and_time(app: Flask) -> None:
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    unticked = {**PARS_FORM, "ident-AMA-abim_pars-consent": "", "ident-LAEK-efn": "802760901234566"}
    assert _submit(app, unticked) == {
        "ident-AMA-abim_pars-consent": ["Tick the box to agree; without it nothing is kept."],
        "ident-LAEK-efn-consent": ["Tick the box to agree; without it nothing is kept."]}
    assert _rows(app) == []
    bad = {**PARS_FORM, "ident-AMA-abim_pars-board": "ABR", "ident-AMA-abim_pars-day": "31",
           "ident-AMA-abim_pars-month": "4", "ident-NVVTG-big": "123", "ident-NVVTG-big-consent": "yes"}
    assert set(_submit(app, bad)) == {"ident-AMA-abim_pars-board", "ident-AMA-abim_pars-month", "ident-NVVTG-big"}
    assert _rows(app) == []  # one refusal keeps nothing of the form

    assert _submit(app, {**PARS_FORM, "ident-LAEK-efn": "802760901234566", "ident-LAEK-efn-consent": "yes"}) == {}
    rows = _rows(app)
    assert [(r.system_code, r.kind, r.value, r.board, r.birth_month, r.birth_day) for r in rows] == [
        ("AMA", "abim_pars", "123456", "ABIM", 3, 14), ("LAEK", "efn", "802760901234566", None, None, None)]
    assert rows[0].consent_text == PARS_CONSENT and rows[0].consent_version == consent_version(PARS_CONSENT)
    assert rows[1].consent_text == EFN_CONSENT and rows[0].consent_version != rows[1].consent_version
    assert all(r.consented_at >= before and r.email == "zoe@h.example" for r in rows)

    # Emptied and saved: withdrawn, the row is gone; the other stays.
    assert _submit(app, {**PARS_FORM, "ident-AMA-abim_pars": "", "ident-AMA-abim_pars-month": "",
                         "ident-AMA-abim_pars-day": "", "ident-LAEK-efn": "802760901234566",
                         "ident-LAEK-efn-consent": "yes"}) == {}
    assert [(r.system_code, r.kind) for r in _rows(app)] == [("LAEK", "efn")]


def test_a_missing_required_identifier_makes_the_learner_not_reportable(app: Flask) -> None:
    assert _submit(app, PARS_FORM) == {}
    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        state = identifiers.page_state(session, 1, "congress", 7)
        assert [(s.code, s.missing) for s in state] == [
            ("AMA", []), ("LAEK", ["Einheitliche Fortbildungsnummer (EFN)"]), ("NVVTG", [])]  # BIG is optional
        rows = identifiers.rows_of(session, 1, "congress")
        systems = {s.code: s for s in session.scalars(select(CreditSystem))}
        assert identifiers.missing_required(systems["AMA"], 7, rows) == []
        assert identifiers.missing_required(systems["AMA"], 8, rows) == [
            "US certifying board ID with month and day of birth (ACCME PARS)"]


def test_privacy_export_lists_identifiers_with_consent_and_erasure_deletes_them(app: Flask) -> None:
    from certificates.services import privacy

    assert _submit(app, {**PARS_FORM, "ident-NVVTG-big": "19012345601", "ident-NVVTG-big-consent": "yes"}) == {}
    assert _submit(app, PARS_FORM, registration_id=8, email="other@h.example") == {}
    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        exported = privacy.export(session, 1, "Zoe@H.example")["learner_identifiers"]
        assert [(i["system"], i["kind"], i["value"], i["board"], i["birth_month"], i["birth_day"],
                 i["consent_text"]) for i in exported] == [
            ("AMA", "abim_pars", "123456", "ABIM", 3, 14, PARS_CONSENT),
            ("NVVTG", "big", "19012345601", None, None, None, BIG_CONSENT)]
        assert all(i["consented_at"] and i["consent_version"] for i in exported)
        assert privacy.export(session, 2, "zoe@h.example")["learner_identifiers"] == []  # another organisation
        summary, _kept = privacy.erase(session, 1, "zoe@h.example")
        assert summary["learner_identifiers_erased"] == 2
    assert [(r.registration_id, r.kind) for r in _rows(app)] == [(8, "abim_pars")]  # someone else's stays
