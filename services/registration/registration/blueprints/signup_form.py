"""The sign-up form's edge: what the browser sent, as the form shows it again and as the sign-up takes it,
and the schema's refusals said in words an attendee acts on.

The JSON API keeps marshmallow's messages (its clients read field names); a person filling in the form
reads "Enter your email address", not "Missing data for required field.".
"""
from __future__ import annotations

import uuid
from typing import Any

from flask_babel import gettext
from marshmallow import ValidationError
from werkzeug.datastructures import MultiDict

from suite_common.emails import MAX_LENGTH as EMAIL_MAX

from ..schemas.registrations import SignUpInput
from .countries import is_country

TEXT_FIELDS = ("email", "given_name", "family_name", "rate", "member_number", "discount_code", "profession",
               "country", "institution")
CHECKBOXES = ("consent", "announcements")
# The longest each typed field may be, as the schema says (SignUpInput), for the words "Use at most N characters".
MAX_LENGTHS = {"given_name": 100, "family_name": 100, "email": EMAIL_MAX, "member_number": 64, "discount_code": 40}


def values(form: MultiDict[str, str]) -> dict[str, Any]:
    """What the attendee chose and typed, to show again (the form after "Change" or with errors, and the
    review's hidden fields). The form key is kept: it makes the final submit idempotent."""
    shown: dict[str, Any] = {name: form.get(name, "") for name in TEXT_FIELDS}
    shown.update({name: form.get(name) == "yes" for name in CHECKBOXES})
    shown["workshops"] = form.getlist("workshops")
    shown["form_key"] = form.get("form_key") or uuid.uuid4().hex
    return shown


def payload(form: MultiDict[str, str]) -> dict[str, Any]:
    """The form as the JSON sign-up's shape, for ``SignUpInput``."""
    answers = {k: form.get(k, "").strip() for k in ("profession", "country", "institution") if form.get(k, "").strip()}
    return {
        "email": form.get("email", ""),
        "given_name": form.get("given_name", ""),
        "family_name": form.get("family_name", ""),
        "rate": form.get("rate", ""),
        **({"member_number": form["member_number"]} if form.get("member_number", "").strip() else {}),
        "answers": answers,
        "consent": form.get("consent") == "yes",
        "announcements": form.get("announcements") == "yes",
        "discount_code": form.get("discount_code", "").strip() or None,
        "workshops": form.getlist("workshops"),
    }


def parse(form: MultiDict[str, str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The fields the schema accepts, and the others' refusals in words: the service checks what was
    accepted (discount code, member number, workshops) in the same pass, so one submit shows every error."""
    raw = payload(form)
    country = raw["answers"].get("country")
    # The select offers ISO 3166 codes only; anything else was not chosen from it.
    errors = {} if country is None or is_country(country) else {"country": [gettext("Choose a country from the list.")]}
    try:
        return SignUpInput().load(raw), errors
    except ValidationError as exc:
        valid = exc.valid_data if isinstance(exc.valid_data, dict) else {}
        return valid, {**{name: [in_words(name, raw.get(name))] for name in exc.normalized_messages()}, **errors}


def in_words(name: str, value: Any) -> str:
    """Why the schema refused the form's ``name`` field, said as what to do about it."""
    text = value.strip() if isinstance(value, str) else value
    if name in MAX_LENGTHS and isinstance(text, str) and len(text) > MAX_LENGTHS[name]:
        return gettext("Use at most %(num)d characters.", num=MAX_LENGTHS[name])
    if name == "rate":
        return gettext("Choose a rate.")
    if name == "consent":
        return gettext("Consent is required to register.")
    if name in ("given_name", "family_name", "email") and not text:
        return {"given_name": gettext("Enter your given name."), "family_name": gettext("Enter your family name."),
                "email": gettext("Enter your email address.")}[name]
    if name == "email":
        return gettext("Enter an email address in the form name@example.org.")
    if name == "workshops":
        return gettext("Choose workshops from the list.")
    if name == "answers":
        return gettext("Give your institution on one line, without tabs or invisible formatting characters.")
    return gettext("Write it on one line, without tabs or invisible formatting characters (such as zero-width "
                   "spaces, or a joiner at the start or end).")


def merge(*sources: dict[str, list[str]]) -> dict[str, list[str]]:
    """Errors of the schema and of the service's checks together, each message once."""
    merged: dict[str, list[str]] = {}
    for errors in sources:
        for name, messages in errors.items():
            merged.setdefault(name, []).extend(m for m in messages if m not in merged[name])
    return merged
