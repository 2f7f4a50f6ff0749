"""CSRF on every console form: a POST without the page's token is refused (400) and changes nothing.

The ``registration_app`` fixture turns CSRF off for convenience; these tests build the app as it
runs, with CSRF on, and sign in the way a browser does (the link's page gives the token). The
POST routes are read from the URL map, so a form added later is covered without touching this
file. Another organisation's objects in URLs are the role matrix's part (test_role_matrix.py);
here a person's lists show only their own organisation's.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.console.test_role_matrix import (
    CONSOLE_ROUTES,
    OURS,
    THEIRS,
    RemoteStandIn,
    _objects,
    _path,
    _rule,
    _snapshot,
)
from tests.support.apps import make_settings
from tests.support.console import add_person, csrf_token

POST_ROUTES = [endpoint for endpoint, method in CONSOLE_ROUTES if method == "POST"]


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Registration as it runs: CSRF on."""
    from registration import create_app
    from registration.models import Base

    app = create_app(make_settings("registration", database_url, tmp_path))
    assert app.config["WTF_CSRF_ENABLED"]
    database = app.extensions["suite_db"]
    Base.metadata.create_all(database.engine)
    yield app
    database.engine.dispose()


def token_of(page: Any) -> str:
    """The CSRF token of the page's first form, as a browser would send it back."""
    return csrf_token(page.get_data(as_text=True))


def sign_in(app: Flask, org: str, role: str) -> FlaskClient:
    """Opens a sign-in link and presses its button, token and all."""
    browser = app.test_client()
    path = add_person(app, org, role)
    page = browser.get(path)
    assert page.status_code == 200
    assert browser.post(path, data={"csrf_token": token_of(page)}).status_code == 303
    return browser


def _sign_in_mails(app: Flask) -> int:
    from registration.models import Outbox

    with app.extensions["suite_db"].session_scope() as session:
        return session.scalar(select(func.count()).select_from(Outbox)
                              .where(Outbox.idempotency_key.like("console-sign-in:%"))) or 0


def test_the_sign_in_form_needs_its_token(app: Flask) -> None:
    add_person(app, OURS, "owner", email="ada@society-a.example")
    browser = app.test_client()
    form = browser.get("/console/sign-in")
    refused = browser.post("/console/sign-in", data={"email": "ada@society-a.example"})
    assert refused.status_code == 400 and _sign_in_mails(app) == 0
    forged = browser.post("/console/sign-in", data={"email": "ada@society-a.example", "csrf_token": "forged"})
    assert forged.status_code == 400 and _sign_in_mails(app) == 0
    sent = browser.post("/console/sign-in", data={"email": "ada@society-a.example", "csrf_token": token_of(form)})
    assert sent.status_code == 200 and "Check your mail" in sent.get_data(as_text=True)
    assert _sign_in_mails(app) == 1


def test_a_sign_in_link_is_spent_only_by_its_own_form(app: Flask) -> None:
    path = add_person(app, OURS, "staff")
    browser = app.test_client()
    page = browser.get(path)
    # Another browser's token (a page an attacker opened themselves) does not do.
    other_token = token_of(app.test_client().get(path))
    assert browser.post(path).status_code == 400
    assert browser.post(path, data={"csrf_token": other_token}).status_code == 400
    assert browser.get("/console/events").status_code == 303  # not signed in, and the link not spent:
    entered = browser.post(path, data={"csrf_token": token_of(page)})
    assert entered.status_code == 303 and entered.headers["Location"] == "/console/events"
    assert browser.get("/console/events").status_code == 200


def test_sign_out_needs_the_token_of_the_page(app: Flask) -> None:
    browser = sign_in(app, OURS, "viewer")
    page = browser.get("/console/events")
    assert page.status_code == 200
    assert browser.post("/console/sign-out").status_code == 400
    assert browser.get("/console/events").status_code == 200  # still signed in
    assert browser.post("/console/sign-out", data={"csrf_token": token_of(page)}).status_code == 303
    assert browser.get("/console/events").status_code == 303


@pytest.mark.parametrize("endpoint", POST_ROUTES)
def test_every_console_post_without_the_token_is_refused_and_changes_nothing(
        app: Flask, endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    ours, theirs = _objects(app, OURS), _objects(app, THEIRS)
    stand_in = RemoteStandIn({theirs.slug})
    monkeypatch.setattr("registration.console.remote.call", stand_in)
    owner = sign_in(app, OURS, "owner")  # may do everything: only the missing token stops them
    path = _path(app, _rule(app, endpoint, "POST"), ours)
    before = _snapshot(app)
    answer = owner.post(path, data={"email": "ada@society-a.example", "name": "Ada", "reason": "because"})
    assert answer.status_code == 400, f"POST {path} without a CSRF token -> {answer.status_code}"
    assert not stand_in.calls, f"POST {path} without a CSRF token called {stand_in.calls}"
    assert _snapshot(app) == before, f"POST {path} without a CSRF token changed data"


def test_a_session_lists_only_its_own_organisations_events(app: Flask) -> None:
    ours, theirs = _objects(app, OURS), _objects(app, THEIRS)
    page = sign_in(app, OURS, "viewer").get("/console/events")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f"/console/events/{ours.slug}" in text and f"/console/events/{theirs.slug}" not in text
