"""Messages, their wording and the audit log in the console.

One test runs registration and notifications as real processes and uses the console over HTTP,
as a browser does; the others are in process, with notifications' answers stood in for at
``remote``, the console's one way out."""
from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask

from tests.support.apps import make_settings
from tests.support.console import add_person, signed_in
from tests.support.factories import create_event, event_payload
from tests.support.stack import running_stack, url


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _browser(base: str, link_path: str) -> requests.Session:
    """A browser signed in to the console of a real registration process with a one-time link."""
    browser = requests.Session()
    shown = browser.get(base + link_path)
    assert shown.status_code == 200, shown.text
    entered = browser.post(base + link_path, data={"csrf_token": _csrf(shown.text)}, allow_redirects=False)
    assert entered.status_code == 303, entered.text
    return browser


def _post(browser: requests.Session, base: str, page: str, action: str, data: dict[str, str]) -> requests.Response:
    """Submits a form as a browser does: the CSRF token of the page it is on."""
    token = _csrf(browser.get(base + page).text)
    return browser.post(base + action, data={**data, "csrf_token": token}, allow_redirects=False)


@pytest.mark.e2e
def test_messages_wording_and_audit_through_real_services(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        base = url(stack, "registration")
        # The people are written to the stack's registration database by an app of our own.
        app = _shared_database_app(tmp_path)
        owner = _browser(base, add_person(app, "society-a", "owner", email="olga@society-a.example", name="Olga"))
        staff = _browser(base, add_person(app, "society-a", "staff"))
        viewer = _browser(base, add_person(app, "society-a", "viewer"))
        token = stack.create_token("society-a")
        event = event_payload(slug="chest-ct", title="AI in chest CT")
        created = requests.post(f"{base}/api/v1/events", json=event, headers={"Authorization": f"Bearer {token}"})
        assert created.status_code == 201

        # A sign-in link for Olga is a message of society-a: the outbox takes it to notifications.
        olga = re.search(r'href="(/console/people/\d+)">Olga', owner.get(f"{base}/console/people").text).group(1)
        sent = _post(owner, base, olga, f"{olga}/sign-in-link", {})
        assert sent.status_code == 303
        deadline = time.monotonic() + 30
        while "console sign in" not in (page := owner.get(f"{base}/console/messages",
                                                           params={"to": "olga@society-a.example"}).text):
            assert time.monotonic() < deadline, page
            time.sleep(0.3)
        assert "olga@society-a.example" in page and re.search(r'class="badge (queued|sending|sent|failed)"', page)
        cancelled = owner.get(f"{base}/console/messages", params={"status": "cancelled"})
        assert cancelled.status_code == 200 and "No messages match these filters." in cancelled.text
        refused = viewer.get(f"{base}/console/messages", params={"status": "lost"})
        assert refused.status_code == 422 and 'id="status-error"' in refused.text  # notifications' own check

        # Wording: listed, a broken one refused as a field error, a good one saved, then reset.
        listed = viewer.get(f"{base}/console/events/chest-ct/templates")
        assert listed.status_code == 200 and "registration confirmed" in listed.text and "Your own" not in listed.text
        page = "/console/events/chest-ct/templates/registration_confirmed"
        assert viewer.get(base + page).status_code == 200
        assert _post(viewer, base, page, page, {"subject": "Hi", "text": "Hello"}).status_code == 403
        broken = _post(staff, base, page, page, {"subject": "You are in", "text": "Dear {{ attendee.given_name ",
                                                  "html": ""})
        assert broken.status_code == 422 and 'id="template-error"' in broken.text
        assert 'aria-invalid="true"' in broken.text and "Dear {{ attendee.given_name" in broken.text
        saved = _post(staff, base, page, page, {"subject": "You are in, {{ attendee.given_name }}",
                                                "text": "See you at {{ event.title }}.", "html": ""})
        assert saved.status_code == 303
        shown = staff.get(base + page).text
        assert "is saved" in shown and "your own wording" in shown and "See you at {{ event.title }}." in shown
        assert "Your own" in viewer.get(f"{base}/console/events/chest-ct/templates").text
        reset = _post(staff, base, page, page + "/reset", {})
        assert reset.status_code == 303 and "the standard wording" in staff.get(base + page).text

        # The audit log merges registration's entries (the token's event) with notifications' (the wording).
        audit = viewer.get(f"{base}/console/audit").text
        assert "Created or ran /api/v1/events" in audit and "token" in audit
        assert "Set /api/v1/events/chest-ct/templates/registration_confirmed" in audit
        assert "Removed /api/v1/events/chest-ct/templates/registration_confirmed" in audit
        assert "Staff of society-a (console, person" in audit and "Notifications" in audit
        assert audit.index("Removed /api/v1/events/chest-ct") < audit.index("Set /api/v1/events/chest-ct")
        app.extensions["suite_db"].engine.dispose()


def _shared_database_app(var_dir: Path) -> Flask:
    from registration import create_app

    return create_app(make_settings("registration", f"sqlite:///{var_dir / 'registration.db'}", var_dir))


class _Answer:
    def __init__(self, body: Any) -> None:
        self.body = body

    def json(self) -> Any:
        return self.body


def _stand_in(monkeypatch: pytest.MonkeyPatch, answers: dict[tuple[str, str, str], Any]) -> list[tuple[Any, ...]]:
    """Notifications and certificates as ``answers`` by (service, method, path); returns the calls made."""
    from registration.console import remote

    calls: list[tuple[Any, ...]] = []

    def call(service: str, method: str, path: str, **kwargs: Any) -> _Answer:
        calls.append((service, method, path, kwargs))
        answer = answers[(service, method, path)]
        if isinstance(answer, Exception):
            raise answer
        before = (kwargs.get("params") or {}).get("before")
        if before:  # an audit log's next page
            answer = {**answer, "items": [item for item in answer["items"] if item["id"] < before]}
        return _Answer(answer)

    monkeypatch.setattr(remote, "call", call)
    return calls


def _message(**overrides: Any) -> dict[str, Any]:
    return {"id": 7, "idempotency_key": "k", "to": "zoe@example.org", "template": "registration_confirmed",
            "event": "chest-ct", "status": "sent", "attempts": 1, "last_error": None,
            "send_at": "2027-03-01T09:00:00+00:00", "sent_at": "2027-03-01T09:00:05+00:00", **overrides}


def test_messages_show_status_as_text_the_error_of_failed_ones_and_page_on(registration_app: Flask,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _stand_in(monkeypatch, {("notifications", "GET", "/api/v1/messages"): {
        "items": [_message(), _message(id=6, to="max@example.org", status="failed", attempts=5, sent_at=None,
                                        last_error="550 mailbox unavailable")],
        "next_cursor": 6}})
    viewer = signed_in(registration_app, "society-a", "viewer")
    answer = viewer.get("/console/messages?status=failed&to=max@example.org&event=chest-ct")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert '<span class="badge sent">Sent</span>' in page and '<span class="badge failed">Failed</span>' in page
    assert "550 mailbox unavailable" in page and "Mon 01 Mar 2027, 09:00 UTC" in page and "not sent" in page
    assert calls[0][3]["params"] == {"status": "failed", "to": "max@example.org", "event": "chest-ct", "limit": 50}
    older = re.search(r'href="([^"]+)">Older messages', page).group(1).replace("&amp;", "&")
    assert "cursor=6" in older and "status=failed" in older
    viewer.get(older)
    assert calls[1][3]["params"]["cursor"] == "6"


def test_wording_of_another_organisations_event_is_not_found_and_viewers_change_none(
        registration_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _stand_in(monkeypatch, {})
    theirs = signed_in(registration_app, "society-b", "owner")
    assert theirs  # society-b exists, with its own event
    from tests.conftest import _token

    create_event(registration_app.test_client(), {"Authorization": f"Bearer {_token(registration_app, 'society-b')}"},
                 slug="their-event")
    create_event(registration_app.test_client(), {"Authorization": f"Bearer {_token(registration_app, 'society-a')}"},
                 slug="our-event")
    owner = signed_in(registration_app, "society-a", "owner")
    viewer = signed_in(registration_app, "society-a", "viewer")
    for path in ("/console/events/their-event/templates", "/console/events/their-event/templates/reminder"):
        assert owner.get(path).status_code == 404
    assert owner.post("/console/events/their-event/templates/reminder", data={"subject": "x", "text": "y"}).status_code == 404
    assert owner.post("/console/events/their-event/templates/reminder/reset").status_code == 404
    assert viewer.post("/console/events/our-event/templates/reminder", data={"subject": "x", "text": "y"}).status_code == 403
    assert viewer.post("/console/events/our-event/templates/reminder/reset").status_code == 403
    assert calls == []  # nothing reached notifications


def test_the_audit_log_merges_three_services_newest_first_and_pages_on(registration_app: Flask,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from registration.console import messages

    monkeypatch.setattr(messages, "PAGE_SIZE", 2)
    owner = signed_in(registration_app, "society-a", "owner")
    assert owner.post("/console/tokens/new", data={"name": "audited"}).status_code == 200  # registration's entry

    def entry(entry_id: int, at: str, route: str, **target: Any) -> dict[str, Any]:
        return {"id": entry_id, "actor": "token 1 (script)", "method": "PUT", "route": route, "target": target,
                "status": 200, "request_id": None, "at": at}

    calls = _stand_in(monkeypatch, {
        ("notifications", "GET", "/api/v1/audit"): {"items": [
            entry(9, "2000-01-03T00:00:00+00:00", "/api/v1/events/<slug:slug>/templates/<template>",
                  slug="chest-ct", template="reminder"),
            entry(8, "2000-01-01T00:00:00+00:00", "/api/v1/events/<slug:slug>/templates/<template>",
                  slug="chest-ct", template="announcement")], "next_cursor": 8},
        ("certificates", "GET", "/api/v1/audit"): {"items": [
            entry(4, "2000-01-02T00:00:00+00:00", "/api/v1/events/<slug:slug>/accreditation", slug="chest-ct")],
            "next_cursor": None}})
    first = owner.get("/console/audit").get_data(as_text=True)
    assert "POST" not in first and "Created or ran /console/tokens/new" in first  # today's, the newest
    assert "Owner of society-a (console, person" in first
    assert "Set /api/v1/events/chest-ct/templates/reminder" in first
    assert "accreditation" not in first
    older = re.search(r'href="([^"]+)">Older entries', first).group(1).replace("&amp;", "&")
    assert "cursor_notifications=9" in older and "cursor_registration=end" in older
    second = owner.get(older).get_data(as_text=True)
    assert second.index("accreditation") < second.index("templates/announcement")
    assert [c[3]["params"] for c in calls if c[0] == "notifications"] == [{"limit": 2}, {"limit": 2, "before": 9}]


def test_viewers_read_messages_and_audit_but_anyone_signed_out_is_sent_to_sign_in(registration_app: Flask) -> None:
    browser = registration_app.test_client()
    for path in ("/console/messages", "/console/audit", "/console/events/x/templates"):
        assert browser.get(path).status_code == 303
