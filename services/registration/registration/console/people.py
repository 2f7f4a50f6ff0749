"""People of the organisation and API tokens: owners only.

The rules (an address belongs to one person of an organisation, the last owner stays, a role
change reaches open sessions at once, a token is shown once and only its hash is kept) live in
``services.accounts`` and ``services.organisations``, the same functions the command line uses;
these views parse forms, call them and show what they answer.
"""
from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, make_response, request
from marshmallow import Schema, ValidationError, fields, validate

from suite_common.auth import current_organisation
from suite_common.db import get_session, utcnow
from suite_common.errors import ApiError
from suite_common.fields import Email, Text

from ..models import ApiToken, Organisation, OrganiserAccount, Role
from ..services import accounts, organisations
from .core import current_person, form_errors, render, route, see_other

ROLES = tuple(role.value for role in Role)
ROLE_CHOICE = validate.OneOf(ROLES, error="Choose owner, staff or viewer.")
LABELS = {"email": "Email", "name": "Name", "role": "Role"}


class PersonInput(Schema):
    """A new person: where their sign-in links go, what the console calls them, what they may do."""

    email = Email(required=True, validate=validate.Length(max=254),
                  error_messages={"required": "Enter the person’s email address."})
    name = Text(200, required=True, error_messages={"required": "Enter the person’s name."})
    role = fields.String(required=True, validate=ROLE_CHOICE, error_messages={"required": "Choose a role."})


class PersonChange(Schema):
    name = Text(200, required=True, error_messages={"required": "Enter the person’s name."})
    role = fields.String(required=True, validate=ROLE_CHOICE, error_messages={"required": "Choose a role."})


class TokenInput(Schema):
    name = Text(100, required=True, error_messages={"required": "Name the token after what uses it."})


def _load(schema: Schema, names: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """The form's fields through ``schema``: the data, or every error at once."""
    try:
        return schema.load({name: request.form.get(name, "") for name in names}), {}
    except ValidationError as error:
        return {}, form_errors(error)


def _person(person_id: int) -> OrganiserAccount:
    """A person of the signed-in organisation; anyone else's is a 404."""
    return accounts.get_account(get_session(), current_organisation().id, person_id)


# --- people ---------------------------------------------------------------------------------------


def _people_page(status: int = 200, values: dict[str, Any] | None = None,
                 errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    people = accounts.list_accounts(get_session(), current_organisation().id)
    return render("console/people.html", status, people=people, roles=ROLES, values=values or {"role": "staff"},
                  errors=errors or {}, labels=LABELS, me=current_person().account_id)


@route("/people", Role.OWNER)
def people() -> tuple[str, int]:
    """The organisation's people with their role and last sign-in, and the form to add one."""
    return _people_page()


@route("/people/new", Role.OWNER, methods=("POST",))
def person_add() -> Any:
    data, errors = _load(PersonInput(), ("email", "name", "role"))
    if errors:
        return _people_page(422, request.form, errors)
    try:
        account = accounts.add_account(get_session(), current_organisation().id, data["email"], data["name"],
                                       Role(data["role"]))
    except ApiError as refusal:
        return _people_page(refusal.status, request.form, refusal.fields or {"_schema": [refusal.message]})
    flash(f"{account.name} is now {account.role} of this organisation. Send them a sign-in link when they are ready.")
    return see_other("console.person", person_id=account.id)


def _person_page(account: OrganiserAccount, status: int, values: Any,
                 errors: dict[str, list[str]]) -> tuple[str, int]:
    return render("console/people_person.html", status, account=account, roles=ROLES, values=values, errors=errors,
                  labels=LABELS, me=current_person().account_id)


@route("/people/<int:person_id>", Role.OWNER, methods=("GET", "POST"))
def person(person_id: int) -> Any:
    """One person: change their name or role (the last owner keeps theirs: a 409 shown here)."""
    account = _person(person_id)
    if request.method == "GET":
        return _person_page(account, 200, {"name": account.name, "role": account.role}, {})
    data, errors = _load(PersonChange(), ("name", "role"))
    if errors:
        return _person_page(account, 422, request.form, errors)
    try:
        accounts.change_account(get_session(), account, data["name"], Role(data["role"]))
    except ApiError as refusal:
        return _person_page(account, refusal.status, request.form, refusal.fields or {"role": [refusal.message]})
    flash(f"{account.name} is saved, with the role {account.role}.")
    return see_other("console.person", person_id=account.id)


@route("/people/<int:person_id>/remove", Role.OWNER, methods=("GET", "POST"))
def person_remove(person_id: int) -> Any:
    """GET asks for confirmation; POST removes the person and ends their sessions."""
    account = _person(person_id)
    if request.method == "GET":
        return render("console/people_remove.html", account=account, refusal=None, me=current_person().account_id)
    name = account.name
    try:
        accounts.remove_account(get_session(), account)
    except ApiError as refusal:
        return render("console/people_remove.html", refusal.status, account=account, refusal=refusal.message,
                      me=current_person().account_id)
    flash(f"{name} is removed and signed out everywhere.")
    return see_other("console.people")


@route("/people/<int:person_id>/sign-in-link", Role.OWNER, methods=("POST",))
def person_sign_in_link(person_id: int) -> Response:
    """Mails the person a fresh one-time link, as the sign-in form would."""
    account = _person(person_id)
    accounts.request_sign_in(get_session(), account.email, utcnow())
    flash(f"A sign-in link is on its way to {account.email}; it works once, within 15 minutes.")
    return see_other("console.person", person_id=account.id)


# --- API tokens -----------------------------------------------------------------------------------


def _tokens_page(status: int = 200, values: dict[str, Any] | None = None,
                 errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    tokens = accounts.list_tokens(get_session(), current_organisation().id)
    return render("console/tokens.html", status, tokens=tokens, values=values or {}, errors=errors or {},
                  labels={"name": "Name"})


@route("/tokens", Role.OWNER)
def tokens() -> tuple[str, int]:
    """The organisation's API tokens (names and dates; a token itself is never kept)."""
    return _tokens_page()


@route("/tokens/new", Role.OWNER, methods=("POST",))
def token_create() -> Any:
    """Creates a token and shows it on this answer only: it is not stored, so it cannot be shown
    again, and the page must not be cached (no flash, no redirect)."""
    data, errors = _load(TokenInput(), ("name",))
    if errors:
        return _tokens_page(422, request.form, errors)
    session = get_session()
    organisation = session.get(Organisation, current_organisation().id)
    if organisation is None:  # removed while signed in
        abort(404)
    token = organisations.create_token(session, organisation, data["name"])
    response = make_response(render("console/tokens_created.html", name=data["name"], token=token))
    response.headers["Cache-Control"] = "no-store"
    return response


def _token(token_id: int) -> ApiToken:
    """A token of the signed-in organisation; anyone else's is a 404."""
    token = get_session().get(ApiToken, token_id)
    if token is None or token.organisation_id != current_organisation().id:
        abort(404, description="No such token.")
    return token


@route("/tokens/<int:token_id>/revoke", Role.OWNER, methods=("GET", "POST"))
def token_revoke(token_id: int) -> Any:
    """GET asks for confirmation; POST revokes: scripts using the token get 401 from then on."""
    token = _token(token_id)
    if request.method == "GET":
        return render("console/tokens_revoke.html", token=token)
    accounts.revoke_token(get_session(), current_organisation().id, token.id, utcnow())
    flash(f"The token “{token.name}” is revoked: scripts that use it are refused from now on.")
    return see_other("console.tokens")
