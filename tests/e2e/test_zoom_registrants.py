"""Zoom webinar registrants end to end: real processes (registration, its worker, notifications, the SMTP
sink) against the Zoom stand-in (devtools/zoom_standin.py). Sign-ups become registrants once each, also
when Zoom answers 429 and 500 in between; each attendee's personal link is in their confirmation, its
calendar file, their page and the roster; cancelling cancels the registrant; the connection's secrets
appear in no response, log line, audit entry or database file in clear."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from icalendar import Calendar

from devtools.smtp_sink import SmtpSink
from devtools.stack import Stack
from devtools.zoom_standin import ZoomStandin
from tests.support.factories import event_payload
from tests.support.mail import eventually
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

CLIENT_SECRET = "zoom-client-secret-" + secrets.token_hex(12)
WEBHOOK_SECRET_TOKEN = "zoom-webhook-token-" + secrets.token_hex(12)


@pytest.fixture(scope="module")
def suite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, SmtpSink, ZoomStandin, Path]]:
    var = tmp_path_factory.mktemp("zoom-registrants")
    with ZoomStandin() as zoom, SmtpSink(var / "mail") as sink, running_stack(
            var, SMTP_PORT=str(sink.port), ZOOM_API_BASE=zoom.api_base, ZOOM_OAUTH_BASE=zoom.url,
            LOG_LEVEL="DEBUG") as stack:
        requests.post(f"{zoom.url}/_standin/accounts", timeout=5, json={
            "account_id": "society-account", "client_id": "society-client",
            "client_secret": CLIENT_SECRET, "webhook_secret_token": WEBHOOK_SECRET_TOKEN}).raise_for_status()
        yield stack, sink, zoom, var


def _connected_organisation(stack: Stack, name: str) -> tuple[str, dict[str, str]]:
    base = url(stack, "registration")
    auth = {"Authorization": f"Bearer {stack.create_token(name)}"}
    answer = requests.put(f"{base}/api/v1/organisation/integrations/zoom", headers=auth, json={
        "account_id": "society-account", "client_id": "society-client",
        "client_secret": CLIENT_SECRET, "webhook_secret_token": WEBHOOK_SECRET_TOKEN})
    assert answer.status_code == 200, answer.text
    assert answer.json()["client_secret_set"] and answer.json()["webhook_secret_token_set"]
    return base, auth


def _zoom_event(base: str, auth: dict[str, str]) -> tuple[str, str]:
    event = requests.post(f"{base}/api/v1/events", headers=auth, json=event_payload(
        title="Cardiac MRI update", join_url="https://zoom.us/j/123")).json()
    slug = event["slug"]
    assert requests.post(f"{base}/api/v1/events/{slug}/rates", headers=auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).status_code == 201
    created = requests.post(f"{base}/api/v1/events/{slug}/zoom-webinar", headers=auth)
    assert created.status_code == 201, created.text
    webinar_id = created.json()["zoom_webinar_id"]
    assert requests.get(f"{base}/api/v1/events/{slug}", headers=auth).json()["zoom_webinar_id"] == webinar_id
    return slug, webinar_id


def _sign_up(base: str, slug: str, email: str, given: str, family: str) -> dict[str, Any]:
    answer = requests.post(f"{base}/api/v1/events/{slug}/registrations", json={
        "email": email, "given_name": given, "family_name": family, "rate": "free", "consent": True})
    assert answer.status_code == 201, answer.text
    return answer.json()


def _webinar(zoom: ZoomStandin, webinar_id: str) -> dict[str, Any]:
    return requests.get(f"{zoom.url}/_standin/webinars/{webinar_id}", timeout=5).json()


def _fault(zoom: ZoomStandin, webinar_id: str, status: int, retry_after: int | None = None) -> None:
    body: dict[str, Any] = {"path_prefix": f"/v2/webinars/{webinar_id}/registrants", "status": status, "times": 1}
    if retry_after is not None:
        body["retry_after"] = retry_after
    requests.post(f"{zoom.url}/_standin/faults", json=body, timeout=5).raise_for_status()


def test_sign_ups_become_registrants_once_each_through_429_and_500_with_personal_links_everywhere(
        suite: tuple[Stack, SmtpSink, ZoomStandin, Path]) -> None:
    stack, sink, zoom, _var = suite
    sink.clear()
    base, auth = _connected_organisation(stack, "zoom-links")
    slug, webinar_id = _zoom_event(base, auth)
    _fault(zoom, webinar_id, 429, retry_after=1)
    _fault(zoom, webinar_id, 500)
    people = {"ada@hospital.example": ("Ada", "Lovelace"), "grace@hospital.example": ("Grace", "Hopper"),
              "lise@hospital.example": ("Lise", "Meitner")}
    signed = {email: _sign_up(base, slug, email, *name) for email, name in people.items()}

    mails = {mail["To"]: mail for mail in sink.wait_for(3, timeout=90)}
    registrants = {r["email"]: r for r in _webinar(zoom, webinar_id)["registrants"]}
    assert sorted(registrants) == sorted(people), "one registrant per sign-up, none twice"
    statuses = [r["status"] for r in requests.get(f"{zoom.url}/_standin/requests", timeout=5).json()["requests"]
                if r["path"].startswith(f"/v2/webinars/{webinar_id}/registrants")]
    assert 429 in statuses and 500 in statuses, statuses

    roster = requests.get(f"{base}/api/v1/events/{slug}/registrations", headers=auth).json()["items"]
    for email, (given, family) in people.items():
        registrant = registrants[email]
        personal = registrant["join_url"]
        assert (registrant["first_name"], registrant["last_name"]) == (given, family)
        assert personal != "https://zoom.us/j/123"
        text = mails[email].get_body(("plain",)).get_content()
        assert personal in text and "https://zoom.us/j/123" not in text
        calendar = [p for p in mails[email].iter_attachments() if p.get_content_type() == "text/calendar"]
        entry = Calendar.from_ical(calendar[0].get_payload(decode=True)).walk("VEVENT")[0]
        assert str(entry["LOCATION"]) == personal
        page = requests.get(signed[email]["manage_url"]).text
        assert personal.replace("&", "&amp;") in page or personal in page
        item = next(item for item in roster if item["email"] == email)
        assert item["join_url"] == personal and item["zoom_registrant_id"] == registrant["id"]
    assert len(sink.messages()) == 3, "one confirmation each, no second one after the retries"


def test_cancelling_cancels_the_registrant_and_the_page_no_longer_offers_the_link(
        suite: tuple[Stack, SmtpSink, ZoomStandin, Path]) -> None:
    stack, sink, zoom, _var = suite
    sink.clear()
    base, auth = _connected_organisation(stack, "zoom-cancel")
    slug, webinar_id = _zoom_event(base, auth)
    signed = _sign_up(base, slug, "emmy@hospital.example", "Emmy", "Noether")
    registrant = eventually(lambda: next(iter(_webinar(zoom, webinar_id)["registrants"]), None), timeout=60)
    assert registrant["status"] == "approved"

    cancelled = requests.post(f"{base}/api/v1/registrations/{signed['id']}/cancel", headers=auth)
    assert cancelled.status_code == 200, cancelled.text
    eventually(lambda: _webinar(zoom, webinar_id)["registrants"][0]["status"] == "cancelled", timeout=60)
    assert len(_webinar(zoom, webinar_id)["registrants"]) == 1
    assert registrant["join_url"] not in requests.get(signed["manage_url"]).text
    item = requests.get(f"{base}/api/v1/registrations/{signed['id']}", headers=auth).json()
    assert item["join_url"] is None and item["zoom_registrant_id"] is None


def test_the_connection_s_secrets_appear_in_no_response_log_audit_entry_or_database_file(
        suite: tuple[Stack, SmtpSink, ZoomStandin, Path]) -> None:
    stack, _sink, zoom, var = suite
    base, auth = _connected_organisation(stack, "zoom-secrets")
    shown = requests.get(f"{base}/api/v1/organisation/integrations/zoom", headers=auth)
    assert shown.json()["client_secret_set"] is True and shown.json()["account_id"] == "society-account"
    slug, webinar_id = _zoom_event(base, auth)  # the token is fetched with the secret and used
    _sign_up(base, slug, "alan@hospital.example", "Alan", "Turing")
    eventually(lambda: _webinar(zoom, webinar_id)["registrants"], timeout=60)
    # Leaving a secret out keeps the stored one; a first connection without one is refused with 422.
    kept = requests.put(f"{base}/api/v1/organisation/integrations/zoom", headers=auth,
                        json={"account_id": "society-account", "client_id": "society-client"})
    assert kept.status_code == 200 and kept.json()["client_secret_set"] is True
    other = {"Authorization": f"Bearer {stack.create_token('zoom-secrets-new')}"}
    refused = requests.put(f"{base}/api/v1/organisation/integrations/zoom", headers=other,
                           json={"account_id": "society-account", "client_id": "society-client"})
    assert refused.status_code == 422 and set(refused.json()["error"]["fields"]) == {
        "client_secret", "webhook_secret_token"}

    audit = requests.get(f"{base}/api/v1/audit", headers=auth)
    assert any(entry["route"] == "/api/v1/organisation/integrations/zoom" for entry in audit.json()["items"])
    exposed = {"GET": shown.text, "PUT": kept.text, "audit": audit.text,
               "openapi": requests.get(f"{base}/openapi.json").text}
    exposed.update({path.name: path.read_text(errors="replace") for path in (var / "log").glob("*.log")})
    exposed.update({path.name: path.read_bytes().decode("latin-1") for path in var.glob("*.db*")})
    assert any(name.endswith(".log") for name in exposed) and "registration.db" in exposed
    for secret in (CLIENT_SECRET, WEBHOOK_SECRET_TOKEN):
        leaks = [name for name, text in exposed.items() if secret in text]
        assert leaks == [], f"a secret appears in {leaks}"
