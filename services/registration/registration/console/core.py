"""The console's blueprint, who is signed in, and the ``route`` decorator that checks the role."""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from suite_common.db import get_session, utcnow
from suite_common.errors import ApiError
from suite_common.forms import protect_forms

from ..models import Role
from ..services import accounts
from ..services.accounts import SignedIn

F = TypeVar("F", bound=Callable[..., Any])

COOKIE = "suite_console"
blp = Blueprint("console", __name__, url_prefix="/console")
protect_forms(blp)

# endpoint -> the least role that may use it; None: open to anyone (the sign-in pages).
REQUIRED_ROLES: dict[str, Role | None] = {}


def current_person() -> SignedIn:
    """The signed-in person; only inside a view declared with ``route`` and a role."""
    return g.person


@blp.before_request
def _load_person() -> None:
    """Finds the person behind the cookie; the API lookups (``organiser_event`` and the audit log)
    then see them as ``g.organisation``, with their name as the actor."""
    secret = request.cookies.get(COOKIE, "")
    person = accounts.signed_in(get_session(), secret, utcnow()) if secret else None
    g.person = person
    if person is not None:
        g.organisation = person.as_organisation()
        g.console_secret = secret
        # Reading the session began the request's transaction, which on SQLite holds the write
        # lock (BEGIN IMMEDIATE): end it, or the sign-in pages' rate limit, which counts on a
        # connection of its own before the view, waits for this request until the lock times out.
        get_session().commit()


@blp.record_once
def _keep_sessions_alive(state: Any) -> None:
    """A page moves its session's idle deadline on as the request's unit of work ends, not as it
    starts: on SQLite a write at the start would hold the database's write lock for the whole
    request, and the rate limiter (its own connection, before the view) would wait for it."""

    def touch(_response: Response) -> None:
        person = g.get("person")
        if person is not None:
            accounts.keep_alive(get_session(), person, utcnow())

    state.app.extensions["suite_db"].on_request_end(touch)


def route(rule: str, role: Role | None, methods: tuple[str, ...] = ("GET",)) -> Callable[[F], F]:
    """Registers a console view with the least role it needs: no one signed in is sent to the
    sign-in page (a GET comes back after signing in); a role below ``role`` is a 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if role is not None:
                person = g.get("person")
                if person is None:
                    target = request.full_path.rstrip("?") if request.method == "GET" else None
                    return redirect(url_for("console.sign_in", next=target), 303)
                if not person.may(role):
                    abort(403, description=f"This needs the {role.value} role; you are {person.role.value}.")
            return view(*args, **kwargs)

        blp.add_url_rule(rule, view_func=wrapper, methods=list(methods))
        REQUIRED_ROLES[f"{blp.name}.{view.__name__}"] = role
        return wrapper  # type: ignore[return-value]

    return decorator


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return render_template(template, person=g.get("person"), **context), status


def _error_page(status: int, message: str | None) -> tuple[str, int]:
    # Not ``render``: its own ``status`` parameter is the template's ``status`` here.
    return render_template("console/error.html", person=g.get("person"), status=status, message=message), status


@blp.errorhandler(ApiError)
def _api_error(error: ApiError) -> tuple[str, int]:
    return _error_page(error.status, error.message)


@blp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    if error.code and error.code < 400:  # a redirect raised by a view
        return error
    return _error_page(error.code or 500, error.description)


def see_other(endpoint: str, **values: Any) -> Response:
    """After a successful POST: the page that shows its result (POST, redirect, GET)."""
    return redirect(url_for(endpoint, **values), 303)


def form_errors(error: ValidationError) -> dict[str, list[str]]:
    """A schema's refusal as the form shows it: every message of each field, nested ones included."""
    return {name: messages_of(messages) for name, messages in error.normalized_messages().items()}


def messages_of(value: Any) -> list[str]:
    """Every message of a nested API error (a question of a list, a day of daily_caps) as one list,
    for a form that shows them beside one field."""
    if isinstance(value, dict):
        return [message for nested in value.values() for message in messages_of(nested)]
    if isinstance(value, list):
        return [message for item in value for message in messages_of(item)]
    return [str(value)]
