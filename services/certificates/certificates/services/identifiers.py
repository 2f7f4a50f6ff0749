"""Learner identifiers: what a credit system's body needs to credit a learner, given by the participant on
their page with the consent that body's text asks for.

Each credit system names its identifiers (``CreditSystem.identifiers``: kind, label, required, consent
text). A participant gives them before claiming or before issue; a required identifier that is missing
does not hold back the certificate (the certificate proves attendance, whoever reports it): it makes
the learner *not reportable* in that system, and the accreditor reports say so.

Formats are checked where they are public:

- ``abim_pars``: a US certifying board's diplomate ID with month and day of birth, what ACCME's PARS
  matches a learner by ("Diplomate's specialty board-assigned ID", first and last name, "Date of birth
  (month/day)": https://www.accme.org/faq/what-information-should-i-collect-about-each-board-certified-physician-participates-cme).
  The boards are those ACCME lists as reporting through PARS
  (https://accme.org/resource/submit-data-via-batch-upload-or-web-services). Board IDs have no public
  common format: 1–20 letters and digits.
- ``efn``: the German Einheitliche Fortbildungsnummer, 15 digits: 2 for the profession (80: physician),
  3 for the country by ISO 3166 (276: Germany), 3 for the chamber, a 6-digit serial number and a check
  digit by the Luhn formula (Bundesärztekammer's EIV, http://www.eiv-fobi.de/allgemeines, and the
  Bayerische Landesärztekammer's FAQ,
  http://www.blaek.de/print.cfm?print=/fortbildung/fortbildungspunkte/faqs1.cfm&druck=1&id_faq=242).
- ``big``: the Dutch BIG registration number, 11 digits. CIBG publishes no check digit; one unofficial
  validator (github.com/presisnl/bignumber-validator.js) applies a weighted modulus-11 check to the first
  digit, which we could not confirm from CIBG, so only the 11 digits are checked.
- ``gmc``: the UK GMC reference number, 7 digits (the GMC's register and its guidance to employers,
  http://www.gmc-uk.org/mobile/9551, publish no check digit).
- ``free_text``: anything up to 200 characters, under the organiser's label.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext, lazy_gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import utcnow

from ..models import Accreditation, CreditSystem, LearnerIdentifier
from . import accreditation as accreditation_service

KINDS = ("abim_pars", "efn", "big", "gmc", "free_text")
# In the request's language (the participant's page); English in the organiser's reports (API requests).
KIND_NAMES = {"abim_pars": lazy_gettext("US certifying board ID with month and day of birth (ACCME PARS)"),
              "efn": "Einheitliche Fortbildungsnummer (EFN)", "big": lazy_gettext("BIG number"),
              "gmc": lazy_gettext("GMC reference number"), "free_text": lazy_gettext("Free text")}
# ACCME's list of the certifying boards whose MOC learners are reported through PARS, by its abbreviations.
BOARDS = {
    "ABA": "American Board of Anesthesiology",
    "ABIM": "American Board of Internal Medicine",
    "ABOS": "American Board of Orthopaedic Surgery",
    "ABOHNS": "American Board of Otolaryngology – Head and Neck Surgery",
    "ABPath": "American Board of Pathology",
    "ABP": "American Board of Pediatrics",
    "ABS": "American Board of Surgery",
    "ABTS": "American Board of Thoracic Surgery",
}
MAX_VALUE = 200
DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29 February is someone's birthday
BOARD_ID = re.compile(r"^[A-Za-z0-9]{1,20}$")


class InvalidIdentifier(ValueError):
    """Why a value is not an identifier of its kind, in words for the participant."""


def luhn_valid(digits: str) -> bool:
    """The Luhn formula: from the right, every second digit doubled (less 9 above 9); the sum ends in 0."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _compact(value: str) -> str:
    """Spaces and dashes people type between groups of digits are dropped."""
    return re.sub(r"[\s\-]", "", value)


def normalise(kind: str, value: str) -> str:
    """The value as stored, or InvalidIdentifier with the reason."""
    text = value.strip()
    if kind == "efn":
        digits = _compact(text)
        if not re.fullmatch(r"\d{15}", digits):
            raise InvalidIdentifier(gettext("An EFN has 15 digits."))
        if digits[2:5] != "276":
            raise InvalidIdentifier(gettext("An EFN has 276 (Germany) as its third to fifth digits."))
        if not luhn_valid(digits):
            raise InvalidIdentifier(gettext("This is not a valid EFN: its check digit does not match; please check it."))
        return digits
    if kind == "big":
        digits = _compact(text)
        if not re.fullmatch(r"\d{11}", digits):
            raise InvalidIdentifier(gettext("A BIG number has 11 digits."))
        return digits
    if kind == "gmc":
        digits = _compact(text)
        if not re.fullmatch(r"\d{7}", digits):
            raise InvalidIdentifier(gettext("A GMC reference number has 7 digits."))
        return digits
    if kind == "abim_pars":
        if not BOARD_ID.fullmatch(text):
            raise InvalidIdentifier(gettext("A board ID is 1 to 20 letters and digits, as your board gives it."))
        return text
    if len(text) > MAX_VALUE or any(ord(char) < 32 for char in text):
        raise InvalidIdentifier(gettext("At most %(count)s characters on one line.", count=MAX_VALUE))
    return text


def birthday(month: str, day: str) -> tuple[int, int]:
    """Month and day of birth as typed, or InvalidIdentifier."""
    if not (month.strip().isdigit() and day.strip().isdigit()):
        raise InvalidIdentifier(gettext("Give the month and day of your birth as numbers."))
    m, d = int(month), int(day)
    if not 1 <= m <= 12 or not 1 <= d <= DAYS_IN_MONTH[m - 1]:
        raise InvalidIdentifier(gettext("This month and day do not exist."))
    return m, d


def consent_version(text: str) -> str:
    """Which wording was agreed to: a digest of the text, so a changed text is a new version."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def label(spec: Mapping[str, Any]) -> str:
    return spec.get("label") or str(KIND_NAMES[spec["kind"]])


def display(row: LearnerIdentifier) -> str:
    """One identifier as one cell: "ABIM 123456, born 03-14" for a board ID, else the value."""
    if row.kind == "abim_pars":
        return f"{row.board} {row.value}, born {row.birth_month:02d}-{row.birth_day:02d}"
    return row.value


# Reading -------------------------------------------------------------------------------------------------


def rows_of(session: Session, organisation_id: int, slug: str,
            registration_ids: Sequence[int] | None = None) -> dict[tuple[int, str, str], LearnerIdentifier]:
    """The event's identifiers by (registration, system, kind), for some registrations or all."""
    query = select(LearnerIdentifier).where(LearnerIdentifier.organisation_id == organisation_id,
                                            LearnerIdentifier.event_slug == slug)
    if registration_ids is not None:
        query = query.where(LearnerIdentifier.registration_id.in_(list(registration_ids)))
    return {(row.registration_id, row.system_code, row.kind): row for row in session.scalars(query)}


def missing_required(system: CreditSystem, registration_id: int,
                     rows: Mapping[tuple[int, str, str], LearnerIdentifier]) -> list[str]:
    """The labels of the system's required identifiers this learner has not given: reportable when empty."""
    return [label(spec) for spec in system.identifiers
            if spec.get("required") and (registration_id, system.code, spec["kind"]) not in rows]


# The participant's page ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IdentifierField:
    """One identifier asked on the page, with the names of its inputs and what the person gave before."""

    system_code: str
    kind: str
    label: str
    required: bool
    consent_text: str
    row: LearnerIdentifier | None

    @property
    def name(self) -> str:
        return f"ident-{self.system_code}-{self.kind}"

    @property
    def consent_name(self) -> str:
        return f"{self.name}-consent"

    def stored(self) -> dict[str, str]:
        """The inputs' values from what was given before."""
        if self.row is None:
            return {}
        values = {self.name: self.row.value}
        if self.kind == "abim_pars":
            values |= {f"{self.name}-board": self.row.board or "", f"{self.name}-month": str(self.row.birth_month),
                       f"{self.name}-day": str(self.row.birth_day)}
        return values


@dataclass(frozen=True)
class SystemIdentifiers:
    code: str
    name: str
    body: str
    fields: list[IdentifierField] = field(default_factory=list)

    @property
    def missing(self) -> list[str]:
        return [f.label for f in self.fields if f.required and f.row is None]


def _requested(accreditation: Accreditation | None) -> list[CreditSystem]:
    return [system for system in (accreditation.credit_systems if accreditation else []) if system.identifiers]


def page_state(session: Session, organisation_id: int, slug: str, registration_id: int) -> list[SystemIdentifiers]:
    """Per credit system that asks for identifiers, the fields and what this person gave."""
    systems = _requested(accreditation_service.get(session, organisation_id, slug))
    if not systems:
        return []
    rows = rows_of(session, organisation_id, slug, [registration_id])
    return [SystemIdentifiers(system.code, system.name, system.body, [
        IdentifierField(system.code, spec["kind"], label(spec), bool(spec.get("required")), spec["consent_text"],
                        rows.get((registration_id, system.code, spec["kind"])))
        for spec in system.identifiers]) for system in systems]


@dataclass(frozen=True)
class _Given:
    field: IdentifierField
    value: str
    board: str | None = None
    birth: tuple[int, int] | None = None


def _read(item: IdentifierField, form: Mapping[str, str]) -> tuple[_Given | None, dict[str, list[str]]]:
    """What the form gives for one identifier: None when left empty (withdrawn), else the checked value;
    errors by input name."""
    name = item.name
    typed = {key: str(form.get(key, ""))[:MAX_VALUE + 1].strip()
             for key in (name, f"{name}-board", f"{name}-month", f"{name}-day")}
    parts = [typed[name]] + ([typed[f"{name}-month"], typed[f"{name}-day"]] if item.kind == "abim_pars" else [])
    if not any(parts):
        return None, {}
    errors: dict[str, list[str]] = {}
    given = _Given(item, "")
    try:
        given = _Given(item, normalise(item.kind, typed[name]))
    except InvalidIdentifier as exc:
        errors[name] = [str(exc)]
    if item.kind == "abim_pars":
        board = typed[f"{name}-board"]
        if board not in BOARDS:
            errors[f"{name}-board"] = [gettext("Choose your certifying board.")]
        try:
            given = _Given(item, given.value, board, birthday(typed[f"{name}-month"], typed[f"{name}-day"]))
        except InvalidIdentifier as exc:
            errors[f"{name}-month"] = [str(exc)]
    if form.get(item.consent_name) != "yes":
        errors[item.consent_name] = [gettext("Tick the box to agree; without it nothing is kept.")]
    return given, errors


def submit(session: Session, organisation_id: int, slug: str, registration_id: int, email: str,
           form: Mapping[str, str]) -> dict[str, list[str]]:
    """Keeps what the form gives for every identifier asked, with the consent given now; an emptied
    identifier is deleted (its consent withdrawn). Any refusal keeps nothing: errors by input name."""
    fields_asked = [item for system in page_state(session, organisation_id, slug, registration_id)
                    for item in system.fields]
    errors: dict[str, list[str]] = {}
    given: list[tuple[IdentifierField, _Given | None]] = []
    for item in fields_asked:
        read, refused = _read(item, form)
        errors |= refused
        given.append((item, read))
    if errors:
        return errors
    now = utcnow()
    for item, read in given:
        if read is None:
            if item.row is not None:
                session.delete(item.row)
            continue
        row = item.row or LearnerIdentifier(organisation_id=organisation_id, event_slug=slug,
                                            registration_id=registration_id, system_code=item.system_code,
                                            kind=item.kind)
        row.email, row.value, row.board = email, read.value, read.board
        row.birth_month, row.birth_day = read.birth or (None, None)
        # The box was ticked again with this save: the consent is the one given now, to today's wording.
        row.consent_text, row.consent_version, row.consented_at = (
            item.consent_text, consent_version(item.consent_text), now)
        session.add(row)
    session.flush()
    return {}
