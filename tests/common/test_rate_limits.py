"""Rate limits on sign-ups and secret links: each bites with 429 and Retry-After (JSON on JSON
routes, a page on pages), counts per client address, and lets the client in again once its
window has ended. Windows are ended by moving the counters' expiry into the past, which is what
the passing of time does to a fixed window."""
from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from werkzeug.test import TestResponse

from tests.support.apps import make_settings
from tests.support.assertions import assert_error
from tests.support.factories import create_event, sign_up, signup_payload

STRANGER = {"REMOTE_ADDR": "192.0.2.7"}
VALUES = {"slug": "any-event", "kind": "invoice"}


def build(service: str, database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **limits: str) -> Flask:
    for name, value in limits.items():
        monkeypatch.setenv(name, value)
    module = __import__(service)
    app = module.create_app(make_settings(service, database_url, tmp_path))
    app.config["WTF_CSRF_ENABLED"] = False
    __import__(f"{service}.models").models.Base.metadata.create_all(app.extensions["suite_db"].engine)
    return app


@pytest.fixture
def registration(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    app = build("registration", database_url, tmp_path, monkeypatch, SIGNUP_RATE_LIMIT="3/minute",
                TOKEN_RATE_LIMIT="6/minute", TOKEN_FAILURE_RATE_LIMIT="2/minute")
    yield app
    app.extensions["suite_db"].engine.dispose()


def end_windows(app: Flask) -> None:
    model = __import__(app.import_name).models.RateLimitCounter
    with app.extensions["suite_db"].engine.begin() as connection:
        connection.execute(update(model).values(expires_at=time.time() - 1))


def assert_limited_page(response: TestResponse) -> None:
    assert response.status_code == 429 and response.mimetype == "text/html"
    assert "Too many requests" in response.get_data(as_text=True)
    assert 0 < int(response.headers["Retry-After"]) <= 60


def assert_limited_json(response: TestResponse) -> None:
    assert_error(response, 429, "rate_limited")
    assert 0 < int(response.headers["Retry-After"]) <= 60


def attendee_path(sign_up_answer: dict[str, Any]) -> str:
    return sign_up_answer["manage_url"].removeprefix("http://registration.test")


def test_sign_ups_by_form_and_json_share_one_limit_per_address(registration: Flask, token: str) -> None:
    client = registration.test_client()
    slug = create_event(client, {"Authorization": f"Bearer {token}"}, capacity=100)["slug"]
    form = {**signup_payload(), "consent": "yes"}
    assert client.post(f"/events/{slug}/register", data=form).status_code in (200, 303)
    sign_up(client, slug)
    sign_up(client, slug)
    assert_limited_json(client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload()))
    assert_limited_page(client.post(f"/events/{slug}/register", data={**signup_payload(), "consent": "yes"}))
    assert client.get(f"/events/{slug}/register").status_code == 200  # only sign-ups are limited
    assert client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(),
                       environ_base=STRANGER).status_code == 201  # another address has its own count
    end_windows(registration)
    assert client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload()).status_code == 201


def test_failed_lookups_lock_an_address_out_of_every_secret_link_until_the_window_ends(
        registration: Flask, token: str) -> None:
    client = registration.test_client()
    slug = create_event(client, {"Authorization": f"Bearer {token}"})["slug"]
    own = attendee_path(sign_up(client, slug))
    for _ in range(3):  # visiting one's own page is no failure
        assert client.get(own).status_code == 200
    assert client.get("/r/" + "x" * 43).status_code == 404
    assert client.get("/u/" + "x" * 43).status_code == 404  # unsubscribe links share the count
    assert_limited_page(client.get("/r/" + "y" * 43))
    assert_limited_page(client.get(own))
    for rule in registration.url_map.iter_rules():  # every route with a token in its URL is guarded
        if "token" in rule.arguments:
            path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", lambda m: VALUES.get(m.group(1), "x" * 43),
                          re.sub(r"\([^)]*\)", "", rule.rule))
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert client.open(path, method=method).status_code == 429, f"{method} {rule.rule}"
    assert client.get(own, environ_base=STRANGER).status_code == 200
    end_windows(registration)
    assert client.get(own).status_code == 200


def test_visits_to_secret_links_are_limited_generously(registration: Flask, token: str) -> None:
    client = registration.test_client()
    slug = create_event(client, {"Authorization": f"Bearer {token}"})["slug"]
    own = attendee_path(sign_up(client, slug))
    answers = [client.get(path).status_code for path in (own, own + "/calendar.ics") * 3]
    assert answers == [200] * 6
    assert_limited_page(client.get(own))
    end_windows(registration)
    assert client.get(own + "/calendar.ics").status_code == 200


def test_certificate_links_and_verification_share_the_failed_lookup_limit(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = build("certificates", database_url, tmp_path, monkeypatch, VERIFY_RATE_LIMIT="100/minute",
                TOKEN_FAILURE_RATE_LIMIT="2/minute")
    try:
        client: FlaskClient = app.test_client()
        as_json = {"Accept": "application/json"}
        assert client.get("/c/" + "x" * 43).status_code == 404
        assert client.get("/verify/AAAAA-AAAAA", headers=as_json).status_code == 404
        assert_limited_json(client.get("/verify/BBBBB-BBBBB", headers=as_json))
        assert_limited_page(client.get("/events/any-event/participants/1." + "0" * 32))
        assert_limited_json(client.get("/c/" + "x" * 43 + "/badge.json"))
        end_windows(app)
        assert client.get("/verify/AAAAA-AAAAA", headers=as_json).status_code == 404
    finally:
        app.extensions["suite_db"].engine.dispose()


def test_verification_has_its_own_limit_on_every_request(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = build("certificates", database_url, tmp_path, monkeypatch, VERIFY_RATE_LIMIT="2/minute")
    try:
        client: FlaskClient = app.test_client()
        as_json = {"Accept": "application/json"}
        assert [client.get(f"/verify/AAAAA-AAAA{n}", headers=as_json).status_code for n in range(2)] == [404, 404]
        assert_limited_json(client.get("/verify/AAAAA-AAAA2", headers=as_json))
        assert_limited_page(client.get("/verify/AAAAA-AAAA3"))
        assert client.get("/c/" + "x" * 43).status_code == 404  # certificate links are not verification
        end_windows(app)
        assert client.get("/verify/AAAAA-AAAA4", headers=as_json).status_code == 404
    finally:
        app.extensions["suite_db"].engine.dispose()


def test_behind_a_trusted_proxy_the_forwarded_client_is_limited_and_https_is_seen(
        database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_FAILURE_RATE_LIMIT", "1/minute")

    def client_of(trusted_proxies: int) -> FlaskClient:
        app = __import__("certificates").create_app(
            make_settings("certificates", database_url, tmp_path, trusted_proxies=trusted_proxies))
        __import__("certificates.models").models.Base.metadata.create_all(app.extensions["suite_db"].engine)
        return app.test_client()

    behind_proxy, direct = client_of(1), client_of(0)
    first = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    second = {"X-Forwarded-For": "198.51.100.2", "X-Forwarded-Proto": "https"}
    guessed = behind_proxy.get("/c/" + "x" * 43, headers=first)
    assert guessed.status_code == 404 and guessed.headers["Strict-Transport-Security"].startswith("max-age=")
    assert behind_proxy.get("/c/" + "x" * 43, headers=first).status_code == 429
    assert behind_proxy.get("/c/" + "x" * 43, headers=second).status_code == 404
    # Without a trusted proxy the headers are anyone's to forge: ignored, one address, plain http.
    answer = direct.get("/c/" + "x" * 43, headers={**first, "X-Forwarded-For": "198.51.100.3"})
    assert answer.status_code == 404 and "Strict-Transport-Security" not in answer.headers
    assert direct.get("/c/" + "x" * 43, headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 429
