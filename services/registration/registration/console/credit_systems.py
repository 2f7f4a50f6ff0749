"""An event's credit systems, several at once (European CME credits beside a national register's
points...), edited as one form of fieldsets, one per system, in their order.

The systems are part of the certificates service's accreditation body (``credit_systems``), which
is replaced as a whole by its ``PUT``: this page reads the current body first and sends back its
event-level fields (signatory, questions...) unchanged with the systems of the form, so saving the
systems never touches what the accreditation page edits. Checking is the API's: its refusals, nested
per system (``credit_systems.1.credit_step``), are shown on the field they name.

The accreditation page and the session form use the helpers here to keep the systems as they are
and to ask for credits per system.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from flask import flash, request

from suite_common.errors import ApiError
from suite_common.fields import MAX_CREDIT_SYSTEMS

from ..blueprints.lookups import organiser_event
from ..models import Event, Role
from . import remote
from .core import current_person, messages_of, render, route, see_other
from .events import FormReader, in_form_order, local_input

CERTIFICATES = "certificates"
Errors = dict[str, list[str]]

# The certificates service's SINGLE_SYSTEM_FIELDS (certificates/services/credit_systems.py): the
# accreditation's top-level rules, which belong in each system when ``credit_systems`` is given.
SINGLE_SYSTEM_FIELDS = frozenset({"body", "credit_unit", "statement", "max_credits", "credit_step", "credit_mode",
                                  "min_session_share", "max_credits_per_day", "daily_caps", "evaluation_required"})
# What the accreditation's GET answers but its PUT does not take.
ANSWER_ONLY_FIELDS = frozenset({"event", "has_logo", "has_signature", "updated_at"})
# A system's fields, as CreditSystemInput takes them, in the form's order; the values are the labels.
SYSTEM_LABELS = {
    "code": "Code", "name": "Name of the credits as printed", "body": "Accrediting body",
    "statement": "Accreditation statement", "credit_step": "Credit step", "credit_mode": "Credit mode",
    "min_session_share": "Least share of a session", "max_credits": "Most credits for the event",
    "max_credits_per_day": "Most credits per day", "daily_caps": "Different caps on some days",
    "evaluation_required": "Evaluation required", "claim_required": "Claim required",
    "presence_codes_required": "Presence codes required", "claim_closes_at": "Claims close",
    "identifiers": "Learner identifiers",
}
TEXT_FIELDS = ("code", "name", "body", "statement", "credit_step", "credit_mode", "min_session_share", "max_credits",
               "max_credits_per_day", "daily_caps", "presence_codes_required", "claim_closes_at", "identifiers")
CHECKBOXES = ("evaluation_required", "claim_required")
# A new system's fieldset starts with the API's defaults; it is added once any of these is typed.
NEW_SYSTEM_DEFAULTS = {"credit_step": "0.5", "credit_mode": "proportional", "min_session_share": "0",
                       "presence_codes_required": "0"}
NAMING_FIELDS = ("code", "name", "body", "statement")
# Fields of the accreditation page a refusal of this page's save may name.
ACCREDITATION_PAGE_LABELS = {"evaluation_questions": "Evaluation questions (on the accreditation page)",
                             "session_questions": "Session questions (on the accreditation page)",
                             "signatory": "Signatory (on the accreditation page)"}
CREDIT_MODE_LABELS = {"proportional": "Proportional to the time attended", "session": "Whole session"}


def _api(slug: str) -> str:
    return f"/api/v1/events/{quote(slug, safe='')}/accreditation"


def _field(index: int, name: str) -> str:
    """The form's name and id of one system's field: cs-1-credit_step is the second system's step."""
    return f"cs-{index}-{name}"


# Helpers for the accreditation page and the session form ----------------------------------------------


def current_accreditation(slug: str) -> dict[str, Any] | None:
    """The accreditation as certificates answers it, or None when it has no rules yet (its 404: the
    event is checked to be ours before this is called)."""
    try:
        return remote.get_json(CERTIFICATES, _api(slug))
    except ApiError as error:
        if error.status == 404:
            return None
        raise


def event_level(rules: Mapping[str, Any]) -> dict[str, Any]:
    """What of the accreditation is not a rule of a system (signatory, questions...), as the PUT takes it."""
    return {name: value for name, value in rules.items()
            if name not in SINGLE_SYSTEM_FIELDS | ANSWER_ONLY_FIELDS and name != "credit_systems"}


def as_sent(system: Mapping[str, Any]) -> dict[str, Any]:
    """A system as certificates answers it, as its PUT takes it back unchanged."""
    return {name: system[name] for name in SYSTEM_LABELS if name in system}


def systems_for_sessions(slug: str) -> tuple[list[dict[str, Any]], str | None]:
    """The event's credit systems for a session's credits, and a note when they cannot be known (the
    certificates service unreachable: the session then takes one figure, the first system's)."""
    try:
        rules = current_accreditation(slug)
    except ApiError as error:
        if error.status != 503:
            raise
        return [], "The credit systems could not be read; the credits given are the event's first system's."
    return (rules or {}).get("credit_systems") or [], None


# The page ------------------------------------------------------------------------------------------


def _values(systems: list[dict[str, Any]], timezone: str) -> dict[str, Any]:
    """The form's fields (``cs-N-field``) from the systems the API answers, plus a blank new one."""
    values: dict[str, Any] = {"system_rows": str(len(systems) + 1), "existing_rows": str(len(systems))}
    for index, system in enumerate(systems):
        for name in SYSTEM_LABELS:
            value = system.get(name)
            if name == "daily_caps":
                value = "\n".join(f"{day} = {cap}" for day, cap in sorted((value or {}).items()))
            elif name == "identifiers":
                value = "\n".join(_identifier_line(spec) for spec in value or [])
            elif name == "claim_closes_at":
                value = local_input(dt.datetime.fromisoformat(value), timezone) if value else ""
            elif name in CHECKBOXES:
                value = "yes" if value else ""
            values[_field(index, name)] = "" if value is None else str(value)
    values.update({_field(len(systems), name): value for name, value in NEW_SYSTEM_DEFAULTS.items()})
    return values


def _row_count(form: Mapping[str, str], name: str) -> int:
    count = form.get(name, "")
    return min(int(count), MAX_CREDIT_SYSTEMS + 1) if count.isdigit() else 0


def _systems_from_form(form: Mapping[str, str], reader: FormReader) -> tuple[list[dict[str, Any]], list[int]]:
    """The ``credit_systems`` the form gives, in its order, and the form's row of each (for the API's
    errors, which count the systems sent). A system ticked for removal is left out, and so is the new
    row while its code, name, body and statement are all empty."""
    rows, existing = _row_count(form, "system_rows"), _row_count(form, "existing_rows")
    systems, positions = [], []
    for index in range(rows):
        text = {name: form.get(_field(index, name), "").strip() for name in TEXT_FIELDS}
        if index < existing and form.get(_field(index, "remove")) == "yes":
            continue
        if index >= existing and not any(text[name] for name in NAMING_FIELDS):
            continue
        system: dict[str, Any] = {name: text[name] for name in (*NAMING_FIELDS, "credit_mode")}
        # Empty: the API's default (a step of 0.5, no least share, no presence rule), or no cap at all.
        system.update({name: text[name] for name in ("credit_step", "min_session_share") if text[name]})
        system.update({name: text[name] or None for name in ("max_credits", "max_credits_per_day")})
        presence = text["presence_codes_required"]
        if presence:
            system["presence_codes_required"] = int(presence) if presence.isdigit() else presence
        system["daily_caps"] = _daily_caps(text["daily_caps"])
        system["identifiers"] = _identifiers(text["identifiers"])
        system.update({name: form.get(_field(index, name)) == "yes" for name in CHECKBOXES})
        system["claim_closes_at"] = reader.moment(_field(index, "claim_closes_at"))
        systems.append(system)
        positions.append(index)
    return systems, positions


def _daily_caps(text: str) -> dict[str, str]:
    """"2027-03-04 = 3" lines as the API's {day: cap}; the API says which day or cap it cannot read."""
    caps: dict[str, str] = {}
    for line in text.splitlines():
        day, _, cap = line.partition("=")
        if line.strip():
            caps[day.strip()] = cap.strip()
    return caps


def _identifier_line(spec: Mapping[str, Any]) -> str:
    """One identifier as the form shows it: "efn | required | consent text" (a label last, when it has one)."""
    parts = [spec.get("kind", ""), "required" if spec.get("required") else "optional", spec.get("consent_text", "")]
    return " | ".join([*parts, spec["label"]] if spec.get("label") else parts)


def _identifiers(text: str) -> list[dict[str, Any]]:
    """"kind | required | consent text | label" lines as the API's identifiers; the API refuses an unknown
    kind, a missing consent text or label, each on this system's field."""
    specs = []
    for line in text.splitlines():
        if line.strip():
            kind, required, consent, label = ([part.strip() for part in line.split("|", 3)] + ["", "", ""])[:4]
            specs.append({"kind": kind, "required": required.lower() == "required", "consent_text": consent,
                          "label": label})
    return specs


def _errors(fields: Mapping[str, Any], positions: list[int]) -> Errors:
    """The API's field errors by the form's field ids: the second system sent's credit_step is
    ``cs-N-credit_step`` where N is its row on the form; what concerns the systems as a whole
    (a code given twice, none left) is ``credit_systems``."""
    errors: Errors = {}
    for name, messages in fields.items():
        if name != "credit_systems":  # the accreditation page's field (questions needed by an evaluation...)
            where = ACCREDITATION_PAGE_LABELS.get(name, name)
            errors.setdefault("_schema", []).extend(f"{where}: {message}" for message in messages_of(messages))
            continue
        if not isinstance(messages, dict):
            errors[name] = messages_of(messages)
            continue
        for index, nested in messages.items():
            if str(index).isdigit() and int(index) < len(positions) and isinstance(nested, dict):
                for field, problems in nested.items():
                    errors[_field(positions[int(index)], field)] = messages_of(problems)
            else:
                errors.setdefault("credit_systems", []).extend(messages_of(nested))
    return errors


def _labels(rows: int) -> dict[str, str]:
    """The error summary's names: "Credit system 2, Credit step"."""
    labels = {"credit_systems": "Credit systems"}
    for index in range(rows):
        labels.update({_field(index, name): f"Credit system {index + 1}, {label}"
                       for name, label in SYSTEM_LABELS.items()})
    return labels


def _page(event: Event, rules: dict[str, Any] | None, values: Mapping[str, Any], errors: Errors,
          status: int = 200) -> tuple[str, int]:
    rows, existing = _row_count(values, "system_rows"), _row_count(values, "existing_rows")
    labels = _labels(rows)
    return render("console/credit_systems.html", status, event=event, rules=rules, values=values,
                  errors=in_form_order(errors, labels), labels=labels, field_labels=SYSTEM_LABELS, rows=rows,
                  existing=existing, mode_labels=CREDIT_MODE_LABELS, editable=current_person().may(Role.STAFF))


@route("/events/<slug:slug>/credit-systems", Role.VIEWER)
def credit_systems(slug: str) -> tuple[str, int]:
    event = organiser_event(slug)
    rules = current_accreditation(slug)
    return _page(event, rules, _values((rules or {}).get("credit_systems") or [], event.timezone), {})


@route("/events/<slug:slug>/credit-systems", Role.STAFF, methods=("POST",))
def credit_systems_save(slug: str) -> Any:
    """Replaces the event's systems with the form's, keeping the accreditation's event-level fields
    as they are right now (read just before the PUT, so a signatory saved meanwhile is kept)."""
    event = organiser_event(slug)
    rules = current_accreditation(slug)
    if rules is None:
        flash("Set the accreditation (signatory and the first system's rules) first.", "warning")
        return see_other("console.accreditation", slug=slug)
    reader = FormReader(request.form, event.timezone)
    systems, positions = _systems_from_form(request.form, reader)
    try:
        remote.call(CERTIFICATES, "PUT", _api(slug), json={**event_level(rules), "credit_systems": systems})
    except remote.Refused as refusal:
        errors = {**_errors(refusal.fields, positions), **reader.errors} or {"_schema": [refusal.message]}
        return _page(event, rules, request.form, errors, 422)
    names = ", ".join(system["code"] for system in systems)
    flash(f"Credit systems saved: {names}. Certificates issued from now on follow them.")
    return see_other("console.credit_systems", slug=slug)
