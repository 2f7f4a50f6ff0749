"""The console's Zoom page and an event's Zoom webinar: owners connect the organisation's Zoom app with the
API's rules (a secret left empty keeps the stored one), no secret ever shows in a page, the audit log or
the logs; staff link a webinar by its ID or have Zoom create it (against the Zoom stand-in, in-process)."""
from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from devtools.zoom_standin import DEFAULT_ACCOUNT_ID, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, ZoomStandin
from suite_common.settings import ZoomSettings
from tests.support.apps import make_settings
from tests.support.console import signed_in
from tests.support.factories import event_payload

OURS = "society-a"
CLIENT_SECRET = "cs-Very-Secret-7f3a9c"
WEBHOOK_TOKEN = "wt-Very-Secret-4b8e2d"
CONNECTION = {"account_id": "acct_Ab12Cd34", "client_id": "client_Ef56Gh78", "client_secret": CLIENT_SECRET,
              "webhook_secret_token": WEBHOOK_TOKEN}


@pytest.fixture(scope="module")
def standin() -> Iterator[ZoomStandin]:
    with ZoomStandin() as running:
        yield running


@pytest.fixture
def app(database_url: str, tmp_path: Path, standin: ZoomStandin) -> Iterator[Flask]:
    """Registration with Zoom at the stand-in, as ``make run`` has it."""
    from registration import create_app
    from registration.models import Base

    zoom = ZoomSettings(api_base=standin.api_base, oauth_base=standin.url, timeout=5)
    app = create_app(make_settings("registration", database_url, tmp_path, zoom=zoom))  # type: ignore[arg-type]
    app.config["WTF_CSRF_ENABLED"] = False
    database = app.extensions["suite_db"]
    Base.metadata.create_all(database.engine)
    yield app
    database.engine.dispose()


def _stored(app: Flask) -> dict[str, Any] | None:
    """The organisation's connection with its secrets decrypted, or None."""
    from registration.services import organisations
    from registration.services.zoom import connection

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        organisation = organisations.get_or_create_organisation(session, OURS, OURS.title())
        stored = connection.get_connection(session, organisation.id)
        if stored is None:
            return None
        box = connection.secret_box()
        return {"account_id": stored.account_id, "client_id": stored.client_id,
                "client_secret": connection.client_secret(stored, box),
                "webhook_secret_token": connection.webhook_secret_token(stored, box),
                "encrypted": stored.client_secret_encrypted + stored.webhook_secret_token_encrypted}


def _audit_rows(app: Flask) -> list[str]:
    from sqlalchemy import select

    from registration.models import AuditEntry

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        return [json.dumps({"route": row.route, "method": row.method, "target": row.target, "actor": row.actor,
                            "status": row.status}) for row in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def _event(app: Flask) -> str:
    """A webinar of our organisation, made with the API's schema and service; returns its slug."""
    from registration.schemas.events import EventInput
    from registration.services import events, organisations

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        organisation = organisations.get_or_create_organisation(session, OURS, OURS.title())
        return events.create_event(session, organisation.id, EventInput().load(event_payload())).slug


def _webinar_id(app: Flask, slug: str) -> str | None:
    from sqlalchemy import select

    from registration.models import Event

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        return session.scalar(select(Event.zoom_webinar_id).where(Event.slug == slug))


def _edit_form(app: Flask, slug: str, **changes: str) -> dict[str, Any]:
    """The event's settings form as the edit page fills it, with ``changes``."""
    from sqlalchemy import select

    from registration.console.events import _event_values
    from registration.models import Event

    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        return {**_event_values(session.scalar(select(Event).where(Event.slug == slug))), **changes}


def test_an_owner_connects_zoom_and_no_secret_shows_in_the_page_the_audit_log_or_the_logs(
        app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    owner = signed_in(app, OURS, "owner")
    page = owner.get("/console/integrations/zoom").get_data(as_text=True)
    assert 'href="/console/integrations/zoom" aria-current="page">Zoom</a>' in page
    assert "Zoom is not connected." in page and "Connect Zoom" in page

    saved = owner.post("/console/integrations/zoom", data=CONNECTION)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/console/integrations/zoom")
    stored = _stored(app)
    assert stored is not None
    assert {name: stored[name] for name in CONNECTION} == CONNECTION
    assert CLIENT_SECRET not in stored["encrypted"] and WEBHOOK_TOKEN not in stored["encrypted"]

    shown = owner.get("/console/integrations/zoom").get_data(as_text=True)
    assert "acct_Ab12Cd34" in shown and "client_Ef56Gh78" in shown
    assert "<dt>Client secret</dt><dd>set</dd>" in shown and "<dt>Webhook secret token</dt><dd>set</dd>" in shown
    assert "<code>http://registration.test/webhooks/zoom</code>" in shown and "<code>webinar.ended</code>" in shown
    assert "Disconnect Zoom" in shown

    audit = _audit_rows(app)
    assert any('"route": "/console/integrations/zoom", "method": "POST"' in row and '"status": 303' in row
               for row in audit), audit
    for text in (shown, *audit, caplog.text):
        assert CLIENT_SECRET not in text and WEBHOOK_TOKEN not in text


def test_a_secret_left_empty_keeps_the_stored_one_and_a_refused_form_never_echoes_a_secret(app: Flask) -> None:
    owner = signed_in(app, OURS, "owner")
    owner.post("/console/integrations/zoom", data=CONNECTION)

    kept = owner.post("/console/integrations/zoom", data={**CONNECTION, "client_id": "client_New99",
                                                           "client_secret": "", "webhook_secret_token": ""})
    assert kept.status_code == 303
    stored = _stored(app)
    assert stored is not None
    assert (stored["client_id"], stored["client_secret"], stored["webhook_secret_token"]) == (
        "client_New99", CLIENT_SECRET, WEBHOOK_TOKEN)

    typed = "new-Secret-Typed-Here-1"
    refused = owner.post("/console/integrations/zoom", data={"account_id": "no spaces allowed", "client_id": "x",
                                                              "client_secret": typed, "webhook_secret_token": "short"})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert 'id="error-summary"' in html
    assert 'aria-invalid="true" aria-describedby="account_id-error"' in html
    assert 'id="client_id-error">Copy it from the app' in html
    assert 'id="webhook_secret_token-error">Copy it from the app' in html
    assert 'value="no spaces allowed"' in html and typed not in html
    assert _stored(app)["client_secret"] == CLIENT_SECRET  # type: ignore[index]


def test_the_first_connection_needs_both_secrets_said_in_the_form(app: Flask) -> None:
    owner = signed_in(app, OURS, "owner")
    refused = owner.post("/console/integrations/zoom", data={**CONNECTION, "client_secret": "",
                                                              "webhook_secret_token": ""})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    for name in ("client_secret", "webhook_secret_token"):
        assert f'id="{name}-error">Required to connect Zoom the first time.' in html
    assert 'value="acct_Ab12Cd34"' in html
    assert _stored(app) is None


def test_an_owner_disconnects_zoom(app: Flask) -> None:
    owner = signed_in(app, OURS, "owner")
    owner.post("/console/integrations/zoom", data=CONNECTION)
    done = owner.post("/console/integrations/zoom/disconnect")
    assert done.status_code == 303 and done.headers["Location"].endswith("/console/integrations/zoom")
    assert _stored(app) is None
    page = owner.get("/console/integrations/zoom").get_data(as_text=True)
    assert "Zoom is disconnected and its secrets are deleted." in page and "Zoom is not connected." in page
    assert "Disconnect Zoom" not in page
    again = owner.post("/console/integrations/zoom/disconnect", follow_redirects=True)
    assert "Zoom was not connected." in again.get_data(as_text=True)


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_only_an_owner_sees_or_changes_the_zoom_connection(app: Flask, role: str) -> None:
    owner = signed_in(app, OURS, "owner")
    owner.post("/console/integrations/zoom", data=CONNECTION)
    other = signed_in(app, OURS, role)
    assert other.get("/console/integrations/zoom").status_code == 403
    assert other.post("/console/integrations/zoom", data={**CONNECTION, "client_id": "client_Taken1"}).status_code == 403
    assert other.post("/console/integrations/zoom/disconnect").status_code == 403
    assert _stored(app)["client_id"] == "client_Ef56Gh78"  # type: ignore[index]
    assert "/console/integrations/zoom" not in other.get("/console/events").get_data(as_text=True)


def test_staff_create_the_events_zoom_webinar_once_zoom_is_connected(app: Flask, standin: ZoomStandin) -> None:
    slug = _event(app)
    staff = signed_in(app, OURS, "staff")
    edit = staff.get(f"/console/events/{slug}/edit").get_data(as_text=True)
    assert "Create the Zoom webinar" in edit and 'name="zoom_webinar_id"' in edit

    not_connected = staff.post(f"/console/events/{slug}/zoom-webinar")
    assert not_connected.status_code == 409
    assert "Zoom is not connected: an owner connects the organisation’s Zoom app" in not_connected.get_data(as_text=True)
    assert _webinar_id(app, slug) is None

    owner = signed_in(app, OURS, "owner")
    assert owner.post("/console/integrations/zoom", data={
        "account_id": DEFAULT_ACCOUNT_ID, "client_id": DEFAULT_CLIENT_ID, "client_secret": DEFAULT_CLIENT_SECRET,
        "webhook_secret_token": WEBHOOK_TOKEN}).status_code == 303
    created = staff.post(f"/console/events/{slug}/zoom-webinar")
    assert created.status_code == 303 and created.headers["Location"].endswith(f"/console/events/{slug}/edit#zoom")
    webinar_id = _webinar_id(app, slug)
    assert webinar_id and webinar_id.isdigit()
    at_zoom = requests.get(f"{standin.url}/_standin/webinars/{webinar_id}", timeout=5)
    assert at_zoom.status_code == 200 and at_zoom.json()["topic"] == "AI in chest CT"

    linked = staff.get(f"/console/events/{slug}/edit").get_data(as_text=True)
    assert f"Zoom webinar {webinar_id} created and linked" in linked
    assert f"Linked to Zoom webinar {webinar_id}" in linked and f'value="{webinar_id}"' in linked
    assert "Create the Zoom webinar" not in linked
    twice = staff.post(f"/console/events/{slug}/zoom-webinar")
    assert twice.status_code == 409 and "This event has a Zoom webinar already." in twice.get_data(as_text=True)
    assert _webinar_id(app, slug) == webinar_id


def test_staff_link_and_unlink_a_webinar_by_its_id_on_the_event_settings(app: Flask) -> None:
    slug = _event(app)
    staff = signed_in(app, OURS, "staff")
    linked = staff.post(f"/console/events/{slug}/edit", data=_edit_form(app, slug, zoom_webinar_id="845 1234 5678"))
    assert linked.status_code == 303, linked.get_data(as_text=True)
    assert _webinar_id(app, slug) == "84512345678"

    refused = staff.post(f"/console/events/{slug}/edit", data=_edit_form(app, slug, zoom_webinar_id="zoom-84"))
    assert refused.status_code == 422
    assert 'id="zoom_webinar_id-error">A Zoom webinar ID is its number' in refused.get_data(as_text=True)
    assert _webinar_id(app, slug) == "84512345678"

    unlinked = staff.post(f"/console/events/{slug}/edit", data=_edit_form(app, slug, zoom_webinar_id=""))
    assert unlinked.status_code == 303
    assert _webinar_id(app, slug) is None
