"""Another organisation's event is a 404 on every organiser route keyed by an event's slug, in the
services that do not own events (certificates, notifications), generated from their URL maps so a
new route cannot forget it; the owner still gets its answer. Registration's own routes are checked
in test_authorization_matrix.py."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from suite_common.auth import Organisation
from tests.support.apps import make_settings

SLUG = "owned-event"
OWNER = {"Authorization": "Bearer sto_owner"}
STRANGER = {"Authorization": "Bearer sto_stranger"}
# The event as registration's internal API describes it, to organisation 1 only.
EVENT = {"slug": SLUG, "title": "Owned", "kind": "webinar", "starts_at": "2030-01-01T10:00:00+00:00",
         "ends_at": "2030-01-01T11:00:00+00:00", "timezone": "UTC", "venue": None, "organisation_id": 1,
         "sessions": []}
VALUES = {"slug": SLUG, "template": "reminder", "image": "logo"}
TEMPLATE = {"subject": "Soon: {{ event.title }}", "text": "See you, {{ attendee.given_name }}."}


def _app(service: str, tmp_path: Path) -> tuple[Flask, list[tuple[int, str]]]:
    """The service with two organisations' tokens, and registration's answer standing in: the event
    belongs to organisation 1. Returns the app and the questions it asked."""
    module = __import__(service)
    app: Flask = module.create_app(make_settings(service, f"sqlite:///{tmp_path / (service + '.db')}", tmp_path))
    __import__(f"{service}.models", fromlist=["Base"]).Base.metadata.create_all(app.extensions["suite_db"].engine)
    app.config["WTF_CSRF_ENABLED"] = False
    app.extensions["suite_token_resolver"] = {"sto_owner": Organisation(1, "owner", "Owner"),
                                              "sto_stranger": Organisation(2, "stranger", "Stranger")}.get
    asked: list[tuple[int, str]] = []

    def lookup(organisation_id: int, slug: str) -> dict[str, Any] | None:
        asked.append((organisation_id, slug))
        return EVENT if (organisation_id, slug) == (1, SLUG) else None

    app.extensions["suite_event_lookup"] = lookup
    return app, asked


@pytest.fixture(params=["certificates", "notifications"])
def service_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Flask, list[tuple[int, str]]]]:
    app, asked = _app(request.param, tmp_path)
    yield app, asked
    app.extensions["suite_db"].engine.dispose()


def _event_routes(app: Flask) -> list[tuple[str, Rule]]:
    return [(method, rule) for rule in app.url_map.iter_rules() if "slug" in rule.arguments
            and rule.rule.startswith("/api/") for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def _path(rule: Rule, slug: str = SLUG) -> str:
    return rule.build({**VALUES, "slug": slug}, append_unknown=False)[1]


def _is_no_such_event(response: Any) -> bool:
    body = response.get_json(silent=True) or {}
    return response.status_code == 404 and body.get("error", {}).get("message") == "No such event."


def test_every_event_route_is_a_json_404_for_another_organisation_and_not_for_the_owner(
        service_app: tuple[Flask, list[tuple[int, str]]]) -> None:
    app, asked = service_app
    client = app.test_client()
    routes = _event_routes(app)
    assert routes
    for method, rule in routes:
        for headers, slug in ((STRANGER, SLUG), (OWNER, "nobodys-event")):
            response = client.open(_path(rule, slug), method=method, headers=headers, json={})
            assert response.status_code == 404, f"{method} {rule.rule}: {response.status_code}"
            assert response.get_json()["error"] == {"code": "not_found", "message": "No such event."}, rule.rule
        asked.clear()
        owner = client.open(_path(rule), method=method, headers=OWNER, json={})
        owner.get_data()  # a streamed CSV holds its request's context until it is read
        assert not _is_no_such_event(owner), f"{method} {rule.rule}"
        assert asked == [(1, SLUG)], f"{method} {rule.rule} asks once per request: {asked}"


def test_certificates_lists_and_attendance_are_the_owners_only(tmp_path: Path) -> None:
    from certificates.models import AttendanceInterval

    app, _asked = _app("certificates", tmp_path)
    with app.extensions["suite_db"].session_scope() as session:
        start = dt.datetime(2030, 1, 1, 10, tzinfo=dt.UTC)
        session.add(AttendanceInterval(organisation_id=1, event_slug=SLUG, registration_id=7, email="a@h.example",
                                       starts_at=start, ends_at=start + dt.timedelta(hours=1), source="check-in"))
    client = app.test_client()
    for path in (f"/api/v1/events/{SLUG}/certificates", f"/api/v1/events/{SLUG}/certificates?format=csv",
                 f"/api/v1/events/{SLUG}/attendance", f"/api/v1/events/{SLUG}/attendance-reports",
                 f"/api/v1/events/{SLUG}/evaluations"):
        mine = client.get(path, headers=OWNER)
        assert mine.status_code == 200 and mine.get_data(), path
        theirs = client.get(path, headers=STRANGER)
        assert theirs.status_code == 404 and theirs.mimetype == "application/json", path
        assert theirs.get_json()["error"]["code"] == "not_found", path
    assert "a@h.example" in client.get(f"/api/v1/events/{SLUG}/attendance", headers=OWNER).get_data(as_text=True)
    assert client.get(f"/api/v1/events/{SLUG}/certificates", headers=OWNER).get_json() == {"items": []}
    app.extensions["suite_db"].engine.dispose()


def test_notifications_templates_are_the_owners_only(tmp_path: Path) -> None:
    app, _asked = _app("notifications", tmp_path)
    client = app.test_client()
    path = f"/api/v1/events/{SLUG}/templates/reminder"
    assert client.put(path, headers=STRANGER, json=TEMPLATE).status_code == 404
    assert client.put(path, headers=OWNER, json=TEMPLATE).status_code == 200
    theirs = client.delete(path, headers=STRANGER)
    assert theirs.status_code == 404 and theirs.get_json()["error"]["code"] == "not_found"
    assert client.delete(path, headers=OWNER).status_code == 204
    app.extensions["suite_db"].engine.dispose()
