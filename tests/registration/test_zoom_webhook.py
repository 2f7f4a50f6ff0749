"""Zoom's webhook at registration: signatures checked with the connected app's secret token, the clock
checked both ways, the URL validation challenge answered, and webinar.ended scheduling one report fetch."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from registration.models import Event, Organisation, ZoomReportFetch, ZoomWebhookEvent
from registration.services.zoom import connection as zoom_connection
from tests.support.factories import create_event

SECRET_TOKEN = "webhook-secret-token-of-society-a"
ACCOUNT = "acc-society-a"
WEBINAR = "81234567890"


def _sign(body: str, timestamp: int, secret: str = SECRET_TOKEN) -> dict[str, str]:
    """Zoom's documented rule, written out here rather than taken from the stand-in."""
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"x-zm-request-timestamp": str(timestamp), "x-zm-signature": f"v0={digest}",
            "Content-Type": "application/json"}


@pytest.fixture
def linked(registration_app: Flask, client: FlaskClient, auth: dict[str, str]) -> str:
    """Society A connected to Zoom, with a webinar event linked to Zoom webinar WEBINAR; its slug."""
    slug = create_event(client, auth, kind="webinar")["slug"]
    settings = registration_app.extensions["suite_settings"]
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        organisation = session.scalar(select(Organisation).where(Organisation.slug == "society-a"))
        zoom_connection.set_connection(session, organisation.id, zoom_connection.secret_box(settings), ACCOUNT,
                                       "client-a", "client-secret-a", SECRET_TOKEN)
        session.scalar(select(Event).where(Event.slug == slug)).zoom_webinar_id = WEBINAR
    return slug


def _ended(uuid: str = "instance-1==") -> str:
    return json.dumps({"event": "webinar.ended", "event_ts": int(time.time() * 1000), "payload": {
        "account_id": ACCOUNT, "object": {"id": WEBINAR, "uuid": uuid, "topic": "Lesion tracking",
                                          "start_time": "2027-03-01T18:00:00Z"}}})


def _fetches(app: Flask) -> list[ZoomReportFetch]:
    with app.extensions["suite_db"].session_scope() as session:
        found = list(session.scalars(select(ZoomReportFetch)))
        session.expunge_all()
        return found


def _seen(app: Flask) -> int:
    with app.extensions["suite_db"].session_scope() as session:
        return len(list(session.scalars(select(ZoomWebhookEvent))))


def test_webinar_ended_schedules_one_report_fetch_after_the_delay_and_a_repeat_changes_nothing(
        registration_app: Flask, client: FlaskClient, linked: str) -> None:
    body = _ended()
    before = dt.datetime.now(dt.UTC)
    first = client.post("/webhooks/zoom", data=body, headers=_sign(body, int(time.time())))
    assert first.status_code == 200, first.get_json()
    again = client.post("/webhooks/zoom", data=body, headers=_sign(body, int(time.time())))
    assert again.status_code == 200 and again.get_json()["outcome"] == "duplicate"
    fetches = _fetches(registration_app)
    assert len(fetches) == 1
    fetch = fetches[0]
    assert fetch.webinar_id == WEBINAR and fetch.reason == "webinar.ended" and fetch.status == "queued"
    delay = registration_app.extensions["suite_settings"].zoom.report_delay_seconds
    assert fetch.due_at >= before + dt.timedelta(seconds=delay)


@pytest.mark.parametrize("case", ["forged", "stale", "future", "unsigned", "unknown account"])
def test_a_forged_or_stale_webhook_is_refused_and_nothing_is_applied(
        registration_app: Flask, client: FlaskClient, linked: str, case: str) -> None:
    body = _ended()
    now = int(time.time())
    headers: dict[str, Any] = {
        "forged": _sign(body, now, "not-the-secret-token"),
        "stale": _sign(body, now - 6 * 60),
        "future": _sign(body, now + 6 * 60),
        "unsigned": {"Content-Type": "application/json"},
        "unknown account": _sign(body.replace(ACCOUNT, "acc-nobody"), now),
    }[case]
    sent = body.replace(ACCOUNT, "acc-nobody") if case == "unknown account" else body
    response = client.post("/webhooks/zoom", data=sent, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "bad_signature"
    assert _fetches(registration_app) == [] and _seen(registration_app) == 0


def test_a_webhook_signed_four_minutes_ago_is_still_accepted(registration_app: Flask, client: FlaskClient,
                                                             linked: str) -> None:
    body = _ended()
    assert client.post("/webhooks/zoom", data=body, headers=_sign(body, int(time.time()) - 240)).status_code == 200
    assert len(_fetches(registration_app)) == 1


def test_the_url_validation_challenge_is_answered_with_the_apps_secret_token(client: FlaskClient,
                                                                            linked: str) -> None:
    body = json.dumps({"event": "endpoint.url_validation", "event_ts": int(time.time() * 1000),
                       "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"}})
    response = client.post("/webhooks/zoom", data=body, headers=_sign(body, int(time.time())))
    assert response.status_code == 200
    expected = hmac.new(SECRET_TOKEN.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert response.get_json() == {"plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected}
    forged = client.post("/webhooks/zoom", data=body, headers=_sign(body, int(time.time()), "guess"))
    assert forged.status_code == 401


def test_fetching_by_hand_queues_once_and_needs_a_linked_webinar(registration_app: Flask, client: FlaskClient,
                                                                 auth: dict[str, str], linked: str) -> None:
    first = client.post(f"/api/v1/events/{linked}/zoom/attendance-fetch", headers=auth)
    assert first.status_code == 202 and first.get_json()["reason"] == "by hand"
    again = client.post(f"/api/v1/events/{linked}/zoom/attendance-fetch", headers=auth)
    assert again.get_json()["id"] == first.get_json()["id"]  # still queued: the same fetch
    listed = client.get(f"/api/v1/events/{linked}/zoom/attendance-fetches", headers=auth).get_json()["items"]
    assert [item["status"] for item in listed] == ["queued"]
    unlinked = create_event(client, auth, slug="not-on-zoom", kind="webinar")["slug"]
    refused = client.post(f"/api/v1/events/{unlinked}/zoom/attendance-fetch", headers=auth)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "not_linked_to_zoom"


def test_another_organisations_event_is_a_404_for_fetching(client: FlaskClient, other_token: str,
                                                           linked: str) -> None:
    other = {"Authorization": f"Bearer {other_token}"}
    assert client.post(f"/api/v1/events/{linked}/zoom/attendance-fetch", headers=other).status_code == 404
    assert client.get(f"/api/v1/events/{linked}/zoom/attendance-fetches", headers=other).status_code == 404
