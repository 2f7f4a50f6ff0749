"""Signing in to the console: a mailed one-time link, single use, 15 minutes; sessions, sign-out, idle expiry."""
from __future__ import annotations

import datetime as dt

from flask import Flask
from sqlalchemy import select

from tests.support.console import add_person, signed_in


def _outbox_links(app: Flask) -> list[str]:
    from registration.models import Outbox

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        rows = session.scalars(select(Outbox).where(Outbox.idempotency_key.like("console-sign-in:%"))).all()
        return [row.body["context"]["sign_in"]["url"] for row in rows]


def test_the_sign_in_form_mails_a_link_that_signs_in_once(registration_app: Flask) -> None:
    add_person(registration_app, "society-a", "owner", email="ada@society-a.example", name="Ada")
    browser = registration_app.test_client()
    assert browser.get("/console/events").headers["Location"].startswith("/console/sign-in?next=")

    answer = browser.post("/console/sign-in", data={"email": "ADA@Society-A.example"})
    assert answer.status_code == 200 and "Check your mail" in answer.get_data(as_text=True)
    unknown = browser.post("/console/sign-in", data={"email": "nobody@society-a.example"})
    assert unknown.status_code == 200 and "Check your mail" in unknown.get_data(as_text=True)  # tells nothing
    links = _outbox_links(registration_app)
    assert len(links) == 1 and links[0].startswith("http://registration.test/console/sign-in/")
    path = links[0].removeprefix("http://registration.test")

    shown = browser.get(path)  # a mail scanner's GET spends nothing
    assert shown.status_code == 200 and "Sign in as Ada" in shown.get_data(as_text=True)
    entered = browser.post(path, data={"next": "/console/members"})
    assert entered.status_code == 303 and entered.headers["Location"] == "/console/members"
    cookie = entered.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "Path=/console" in cookie and "SameSite=Lax" in cookie
    assert browser.get("/console/events").status_code == 200

    again = registration_app.test_client().post(path)
    assert again.status_code == 410 and "used already" in again.get_data(as_text=True)


def test_an_outside_next_is_ignored_and_tampered_links_are_unknown(registration_app: Flask) -> None:
    path = add_person(registration_app, "society-a", "staff")
    browser = registration_app.test_client()
    assert browser.post(path, data={"next": "//evil.example/console/"}).headers["Location"] == "/console/events"
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    assert registration_app.test_client().get(tampered).status_code == 404


def test_links_expire_after_15_minutes_and_sessions_after_30_idle(registration_app: Flask, monkeypatch) -> None:
    from registration.services import accounts

    path = add_person(registration_app, "society-a", "viewer")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=15, seconds=1)
    monkeypatch.setattr("registration.console.account.utcnow", lambda: later)
    expired = registration_app.test_client().post(path)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    monkeypatch.undo()

    browser = signed_in(registration_app, "society-a", "viewer")
    assert browser.get("/console/events").status_code == 200
    idle = dt.datetime.now(dt.UTC) + accounts.SESSION_IDLE + dt.timedelta(seconds=1)
    monkeypatch.setattr("registration.console.core.utcnow", lambda: idle)
    assert browser.get("/console/events").status_code == 303


def test_sign_out_ends_the_session_on_the_server(registration_app: Flask) -> None:
    browser = signed_in(registration_app, "society-a", "owner")
    cookie = browser.get_cookie("suite_console", path="/console")
    assert cookie is not None
    assert browser.post("/console/sign-out").status_code == 303
    thief = registration_app.test_client()
    thief.set_cookie("suite_console", cookie.value, path="/console")
    assert thief.get("/console/events").status_code == 303


def test_requests_for_links_are_rate_limited_per_address_and_capped_per_person(
        database_url: str, tmp_path, monkeypatch) -> None:
    from registration import create_app
    from registration.models import Base
    from tests.support.apps import make_settings

    monkeypatch.setenv("SIGN_IN_RATE_LIMIT", "5/minute")
    app = create_app(make_settings("registration", database_url, tmp_path))
    app.config["WTF_CSRF_ENABLED"] = False
    Base.metadata.create_all(app.extensions["suite_db"].engine)
    add_person(app, "society-a", "owner", email="ada@society-a.example", name="Ada")
    browser = app.test_client()
    answers = [browser.post("/console/sign-in", data={"email": "ada@society-a.example"},
                            environ_base={"REMOTE_ADDR": "192.0.2.9"}) for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].headers["Retry-After"].isdigit()
    # add_person made one link; the form mails at most MAX_LIVE_LINKS unused ones in all.
    assert len(_outbox_links(app)) == 2
    assert browser.post("/console/sign-in", data={"email": "ada@society-a.example"},
                        environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 200
    app.extensions["suite_db"].engine.dispose()


def test_using_the_console_moves_the_idle_deadline_on(registration_app: Flask, monkeypatch) -> None:
    from registration.services import accounts

    browser = signed_in(registration_app, "society-a", "viewer")
    start = dt.datetime.now(dt.UTC)
    for minutes in (20, 40, 60):  # each visit within 30 minutes of the one before
        moment = start + dt.timedelta(minutes=minutes)
        monkeypatch.setattr("registration.console.core.utcnow", lambda moment=moment: moment)
        assert browser.get("/console/events").status_code == 200, minutes
    later = start + dt.timedelta(minutes=60) + accounts.SESSION_IDLE + dt.timedelta(seconds=1)
    monkeypatch.setattr("registration.console.core.utcnow", lambda: later)
    assert browser.get("/console/events").status_code == 303
