"""Who may use which console page, for every route under /console/, generated from the URL map.

Every console endpoint must declare the least role it needs in ``REQUIRED_ROLES`` (the ``route``
decorator does it), and for every endpoint and method this test checks that decision as each kind
of visitor: nobody signed in is sent to the sign-in page (a POST is never carried out), a role
below the required one is refused with 403 and changes nothing, a role at or above it is let
through. The URL parameters are filled with real objects of the person's organisation, so
"let through" means the page really worked for them; another organisation's event or
registration is a 404 on every route that takes one.

Pages that read or write through the notifications and certificates APIs (``remote.call``) run
in-process against a stand-in that answers as an unreachable service would (the console's 503
page): the role decision is taken before the view runs, so the stand-in being called at all
shows the person was let through, and its not being called shows a refusal stopped at the door.
The stand-in answers 404 for another organisation's objects, as those services do.
"""
from __future__ import annotations

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.routing import AnyConverter, IntegerConverter, Rule

from suite_common.errors import ApiError
from tests.support.apps import make_settings
from tests.support.console import add_person, signed_in
from tests.support.factories import create_event, sign_up

ROLES = ("viewer", "staff", "owner")
RANK = {role: rank for rank, role in enumerate(ROLES)}
OURS, THEIRS = "society-a", "society-b"
# URL parameters that name one of the organisation's own objects; another organisation's is a 404.
EVENT_PARAMETERS = {"slug"}
REGISTRATION_PARAMETERS = {"registration_id"}
PERSON_PARAMETERS = {"account_id", "person_id"}
TOKEN_PARAMETERS = {"token_id"}
SCOPED_PARAMETERS = EVENT_PARAMETERS | REGISTRATION_PARAMETERS | PERSON_PARAMETERS | TOKEN_PARAMETERS


def console_rules(app: Flask) -> list[Rule]:
    return [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/console/")]


def _console_rules_at_collection() -> list[Rule]:
    """The console's rules, read from an app built at collection time, so a route added tomorrow
    is in the matrix without anyone touching this file."""
    from registration import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(make_settings("registration", f"sqlite:///{tmp}/routes.db", Path(tmp)))
        app.extensions["suite_db"].engine.dispose()
        return console_rules(app)


_RULES = _console_rules_at_collection()
# (endpoint, method) of every console route.
CONSOLE_ROUTES = sorted({(rule.endpoint, method) for rule in _RULES for method in rule.methods - {"HEAD", "OPTIONS"}})
# ... of those that name an event, registration, person or token of an organisation.
SCOPED_ROUTES = sorted({(rule.endpoint, method) for rule in _RULES if rule.arguments & SCOPED_PARAMETERS
                        for method in rule.methods - {"HEAD", "OPTIONS"}})


def _rule(app: Flask, endpoint: str, method: str) -> Rule:
    return next(rule for rule in console_rules(app) if rule.endpoint == endpoint and method in rule.methods)


@dataclass
class Objects:
    """One organisation's things to put in URLs."""

    slug: str
    registration_id: int
    person_id: int
    token_id: int


@dataclass
class RemoteStandIn:
    """``remote.call`` without the other services: records each call and answers as an unreachable
    service (503), or as the service would for another organisation's objects (404)."""

    foreign_values: set[str]
    calls: list[str] = field(default_factory=list)

    def __call__(self, service: str, method: str, path: str, **kwargs: Any) -> Any:
        self.calls.append(f"{service} {method} {path}")
        named = set(path.split("/")) | {str(v) for v in (kwargs.get("params") or {}).values()}
        if named & self.foreign_values:
            raise ApiError(404, "not_found", "Not found.")
        raise ApiError(503, "unavailable", "The service is unreachable (matrix stand-in).")


def _objects(app: Flask, org: str) -> Objects:
    from registration.models import ApiToken, Role
    from registration.services import accounts, organisations

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        organisation = organisations.get_or_create_organisation(session, org, org.title())
        token = organisations.create_token(session, organisation, "matrix")
        token_id = session.scalar(select(ApiToken.id).where(ApiToken.organisation_id == organisation.id))
        # A colleague, so that what an owner does to "a person" is not done to themselves.
        person_id = accounts.add_account(session, organisation.id, f"colleague@{org}.example", "Colleague",
                                         Role.STAFF).id
    client = app.test_client()
    event = create_event(client, {"Authorization": f"Bearer {token}"})
    registration = sign_up(client, event["slug"])
    return Objects(slug=event["slug"], registration_id=registration["id"], person_id=person_id, token_id=token_id)


def _value(app: Flask, rule: Rule, name: str, objects: Objects) -> str:
    if name in EVENT_PARAMETERS:
        return objects.slug
    if name in REGISTRATION_PARAMETERS:
        return str(objects.registration_id)
    if name in PERSON_PARAMETERS:
        return str(objects.person_id)
    if name in TOKEN_PARAMETERS:
        return str(objects.token_id)
    if name == "token":  # a sign-in link: a fresh one of a person of ours each time
        return add_person(app, OURS, "staff").rsplit("/", 1)[-1]
    converter = rule._converters[name]
    if isinstance(converter, AnyConverter):  # a closed list of names (a report's file): the first will do
        return min(converter.items)
    # Anything else (a template name, a job id): the role is decided before the view reads it.
    return "1" if isinstance(converter, IntegerConverter) else "x"


def _path(app: Flask, rule: Rule, objects: Objects, foreign: Objects | None = None) -> str:
    values = {}
    for name in rule.arguments:
        scoped = foreign if foreign is not None and name in SCOPED_PARAMETERS else objects
        values[name] = _value(app, rule, name, scoped)
    return rule.build(values, append_unknown=False)[1]


def _snapshot(app: Flask) -> dict[str, list[str]]:
    """Every row of every table, what a refused request must leave as it was; but the audit log,
    which records the refused attempt itself."""
    from registration.models import AuditEntry, Base

    with app.extensions["suite_db"].engine.connect() as connection:
        return {table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
                for table in Base.metadata.sorted_tables if table.name != AuditEntry.__tablename__}


@pytest.fixture
def world(registration_app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Objects, Objects, RemoteStandIn]]:
    ours, theirs = _objects(registration_app, OURS), _objects(registration_app, THEIRS)
    stand_in = RemoteStandIn({theirs.slug, str(theirs.registration_id)})
    # remote.get_json calls remote.call through the module, so this replaces both.
    monkeypatch.setattr("registration.console.remote.call", stand_in)
    yield ours, theirs, stand_in


def _request(client: FlaskClient, method: str, path: str) -> Any:
    return client.open(path, method=method, data={})


def test_every_console_route_declares_the_least_role_it_needs(registration_app: Flask) -> None:
    from registration.console import REQUIRED_ROLES

    endpoints = {rule.endpoint for rule in console_rules(registration_app)}
    missing = sorted(endpoints - set(REQUIRED_ROLES))
    assert not missing, f"console routes without a role in REQUIRED_ROLES (declare them with core.route): {missing}"
    assert not set(REQUIRED_ROLES) - endpoints, "REQUIRED_ROLES names endpoints that are not in the URL map"
    assert CONSOLE_ROUTES, "the matrix found no console routes"


@pytest.mark.parametrize(("endpoint", "method"), CONSOLE_ROUTES, ids=lambda value: value)
def test_each_role_gets_exactly_what_the_route_allows(registration_app: Flask, world: Any, endpoint: str,
                                                      method: str) -> None:
    from registration.console import REQUIRED_ROLES

    ours, _theirs, stand_in = world
    required = REQUIRED_ROLES[endpoint]
    rule = _rule(registration_app, endpoint, method)
    browsers = {role: signed_in(registration_app, OURS, role) for role in ROLES}

    anonymous = _request(registration_app.test_client(), method, _path(registration_app, rule, ours))
    if required is None:
        assert anonymous.status_code not in (401, 403) and anonymous.status_code < 500, anonymous.status_code
    elif method == "GET":
        assert anonymous.status_code == 303, anonymous.status_code
        assert anonymous.headers["Location"].startswith("/console/sign-in"), anonymous.headers["Location"]
    else:
        assert anonymous.status_code == 303 or 400 <= anonymous.status_code < 500, anonymous.status_code
        assert not stand_in.calls

    for role in ROLES:
        path = _path(registration_app, rule, ours)
        before = _snapshot(registration_app)
        stand_in.calls.clear()
        answer = _request(browsers[role], method, path)
        where = f"{role}: {method} {path} -> {answer.status_code}"
        if required is not None and RANK[role] < RANK[required.value]:
            assert answer.status_code == 403, where
            assert not stand_in.calls, f"{where}: a refused request called {stand_in.calls}"
            assert _snapshot(registration_app) == before, f"{where}: a refused request changed data"
        else:
            assert answer.status_code not in (401, 403), where
            assert answer.status_code < 500 or (answer.status_code == 503 and stand_in.calls), where


@pytest.mark.parametrize(("endpoint", "method"), SCOPED_ROUTES, ids=lambda value: value)
def test_another_organisations_objects_are_not_found(registration_app: Flask, world: Any, endpoint: str,
                                                     method: str) -> None:
    """As the owner (who may do everything), with every object in the URL another organisation's."""
    ours, theirs, _stand_in = world
    rule = _rule(registration_app, endpoint, method)
    owner = signed_in(registration_app, OURS, "owner")
    before = _snapshot(registration_app)
    path = _path(registration_app, rule, ours, foreign=theirs)
    answer = _request(owner, method, path)
    assert answer.status_code == 404, f"owner of {OURS}: {method} {path} -> {answer.status_code}"
    assert _snapshot(registration_app) == before
