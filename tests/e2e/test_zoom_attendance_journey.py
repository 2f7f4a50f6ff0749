"""Attendance that arrives by itself, with real processes and the Zoom stand-in: sign-ups become Zoom
registrants, the stand-in records who attended and ends the webinar, its signed webinar.ended reaches
registration, whose worker fetches the participants report (through a 429 and a 500) and hands it to
certificates, which computes the credits; nobody uploads anything. Fetching again changes nothing,
waiting-room time never counts, and a forged webhook is refused by the running service."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from devtools.zoom_standin import ZoomStandin
from tests.support.mail import eventually
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Vienna")
CREDENTIALS = {"account_id": "acc-society", "client_id": "client-society", "client_secret": "secret-society",
               "webhook_secret_token": "token-society"}
PEOPLE = {"ana@clinico.example": ("Ana", "Núñez"), "bo@hospital.example": ("Bo", "Berg"),
          "cy@hospital.example": ("Cy", "Chen")}


def _zoom_token(zoom: ZoomStandin) -> dict[str, str]:
    issued = requests.post(f"{zoom.url}/oauth/token", params={"grant_type": "account_credentials",
                                                              "account_id": CREDENTIALS["account_id"]},
                           auth=(CREDENTIALS["client_id"], CREDENTIALS["client_secret"]), timeout=10)
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


def _done(fetches_url: str, auth: dict[str, str], count: int) -> list[dict[str, Any]] | None:
    items = requests.get(fetches_url, headers=auth, timeout=10).json()["items"]
    finished = [item for item in items if item["status"] != "queued"]
    return items if len(items) == count and len(finished) == count else None


def test_webinar_ended_brings_attendance_and_credits_without_an_upload(tmp_path: Path) -> None:
    with ZoomStandin(**CREDENTIALS) as zoom, running_stack(
            tmp_path, ZOOM_API_BASE=zoom.api_base, ZOOM_OAUTH_BASE=zoom.url,
            ZOOM_REPORT_DELAY_SECONDS="1") as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        requests.post(f"{zoom.url}/_standin/webhook", json={"url": f"{registration}/webhooks/zoom"},
                      timeout=10).raise_for_status()
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        connected = requests.put(f"{registration}/api/v1/organisation/integrations/zoom", headers=auth,
                                 json=CREDENTIALS, timeout=10)
        assert connected.status_code == 200, connected.text

        start = (dt.datetime.now(TZ) + dt.timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
        end = start + dt.timedelta(minutes=90)
        webinar_id = requests.post(f"{zoom.api_base}/users/me/webinars", headers=_zoom_token(zoom), json={
            "topic": "Lesion tracking", "type": 5, "start_time": start.isoformat(), "duration": 90,
            "timezone": "Europe/Vienna"}, timeout=10).json()["id"]
        slug = "lesion-tracking"
        created = requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": slug, "title": "Lesion tracking with AI", "kind": "webinar", "starts_at": start.isoformat(),
            "ends_at": end.isoformat(), "timezone": "Europe/Vienna", "capacity": 100, "currency": "EUR",
            "zoom_webinar_id": str(webinar_id)}, timeout=10)
        assert created.status_code == 201, created.text
        requests.post(f"{registration}/api/v1/events/{slug}/sessions", headers=auth, json={
            "code": "LIVE", "title": "Live webinar", "starts_at": start.isoformat(), "ends_at": end.isoformat(),
            "credits": "1.5"}, timeout=10).raise_for_status()
        requests.post(f"{registration}/api/v1/events/{slug}/rates", headers=auth, json={
            "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"},
            timeout=10).raise_for_status()
        ids = {}
        for email, (given, family) in PEOPLE.items():
            signed = requests.post(f"{registration}/api/v1/events/{slug}/registrations", json={
                "email": email, "given_name": given, "family_name": family, "rate": "free", "consent": True},
                timeout=10)
            assert signed.status_code == 201, signed.text
            ids[email] = signed.json()["id"]

        # Every confirmed sign-up became a registrant of the webinar, once.
        state = eventually(lambda: (lambda s: s if len(s["registrants"]) == 3 else None)(
            requests.get(f"{zoom.url}/_standin/webinars/{webinar_id}", timeout=10).json()), timeout=60)
        registrant = {r["email"]: r["id"] for r in state["registrants"]}

        requests.put(f"{certificates}/api/v1/events/{slug}/accreditation", headers=auth, json={
            "body": "EACCME", "statement": "1.5 European CME credits.", "credit_step": "0.5",
            "min_session_share": "0.5", "max_credits": "1.5", "signatory": "Prof. Dr. Maria Huber"},
            timeout=10).raise_for_status()

        def at(minutes: int) -> str:
            return (start + dt.timedelta(minutes=minutes)).astimezone(dt.UTC).isoformat()

        attended = requests.post(f"{zoom.url}/_standin/webinars/{webinar_id}/attendance", json=[
            # Ana by her registrant ID, with another address in Zoom's profile: the ID finds her.
            {"registrant_id": registrant["ana@clinico.example"], "name": "Ana N.", "join_time": at(-10),
             "leave_time": at(0), "status": "in_waiting_room"},
            {"registrant_id": registrant["ana@clinico.example"], "name": "Ana N.", "join_time": at(0),
             "leave_time": at(90)},
            # Bo joined as a guest with his address in other letters: matched by the address's key.
            {"email": "BO@Hospital.example", "name": "Bo", "join_time": at(0), "leave_time": at(60)},
            # Cy only ever sat in the waiting room: that never counts.
            {"registrant_id": registrant["cy@hospital.example"], "name": "Cy", "join_time": at(0),
             "leave_time": at(90), "status": "in_waiting_room"},
            {"email": "guest@nowhere.example", "name": "Guest", "join_time": at(0), "leave_time": at(90)},
        ], timeout=10)
        assert attended.status_code == 201

        # Zoom's report endpoint is busy at first: a 429 with Retry-After, then a 500.
        for fault in ({"status": 429, "retry_after": 1}, {"status": 500}):
            requests.post(f"{zoom.url}/_standin/faults", json={
                "path_prefix": f"/v2/report/webinars/{webinar_id}/", "times": 1, **fault},
                timeout=10).raise_for_status()

        ended = requests.post(f"{zoom.url}/_standin/webinars/{webinar_id}/end", timeout=60).json()
        assert ended["delivered"] is True
        assert json.loads(ended["attempts"][-1]["body"])["outcome"] == "report fetch scheduled for 1 event(s)"

        fetches_url = f"{registration}/api/v1/events/{slug}/zoom/attendance-fetches"
        fetched = eventually(lambda: _done(fetches_url, auth, 1), timeout=60)[0]
        assert fetched["status"] == "done" and fetched["reason"] == "webinar.ended", fetched
        assert fetched["attempts"] == 3  # the 429, the 500, then the report
        assert fetched["outcome"] == {**fetched["outcome"], "rows_read": 3, "matched": 2, "unmatched": 1,
                                      "skipped": 2, "repeated": False}
        report_calls = [c["status"] for c in requests.get(f"{zoom.url}/_standin/requests", timeout=10).json()[
            "requests"] if "/report/" in c["path"]]
        assert report_calls == [429, 500, 200]

        reports = requests.get(f"{certificates}/api/v1/events/{slug}/attendance-reports", headers=auth,
                               timeout=10).json()["items"]
        assert len(reports) == 1
        report = reports[0]
        assert (report["source"], report["source_reference"]) == ("zoom-api", f"webinar {webinar_id}")
        assert report["fetched_at"] and [row["email"] for row in report["unmatched_rows"]] == ["guest@nowhere.example"]
        assert all("waiting room" in row["reason"] for row in report["skipped_rows"])

        def credits() -> dict[str, str]:
            items = requests.get(f"{certificates}/api/v1/events/{slug}/credits", headers=auth,
                                 timeout=30).json()["items"]
            return {item["email"]: item["total"] for item in items}

        assert credits() == {"ana@clinico.example": "1.5", "bo@hospital.example": "1", "cy@hospital.example": "0"}

        # An organiser fetches again by hand: the same report, nothing changes.
        again = requests.post(f"{registration}/api/v1/events/{slug}/zoom/attendance-fetch", headers=auth, timeout=10)
        assert again.status_code == 202 and again.json()["reason"] == "by hand"
        repeated = eventually(lambda: _done(fetches_url, auth, 2), timeout=60)[0]
        assert repeated["status"] == "done" and repeated["outcome"]["repeated"] is True
        assert repeated["outcome"]["report_id"] == fetched["outcome"]["report_id"]
        assert len(requests.get(f"{certificates}/api/v1/events/{slug}/attendance-reports", headers=auth,
                                timeout=10).json()["items"]) == 1
        assert credits() == {"ana@clinico.example": "1.5", "bo@hospital.example": "1", "cy@hospital.example": "0"}

        # Certificates issue the credits the report supports.
        job = requests.post(f"{certificates}/api/v1/events/{slug}/certificates", headers=auth, timeout=10).json()
        eventually(lambda: requests.get(f"{certificates}/api/v1/jobs/{job['id']}", headers=auth,
                                        timeout=10).json()["status"] == "done", timeout=60)
        issued = {c["email"]: c["credits"] for c in requests.get(
            f"{certificates}/api/v1/events/{slug}/certificates", headers=auth, timeout=10).json()["items"]}
        assert issued == {"ana@clinico.example": "1.50", "bo@hospital.example": "1.00"}

        # The running service refuses a forged or stale webinar.ended and answers Zoom's URL validation.
        body = json.dumps({"event": "webinar.ended", "event_ts": 1, "payload": {
            "account_id": CREDENTIALS["account_id"], "object": {"id": str(webinar_id), "uuid": "forged=="}}})
        for secret, timestamp in (("a guess", int(time.time())), (CREDENTIALS["webhook_secret_token"],
                                                                    int(time.time()) - 3600)):
            digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
            refused = requests.post(f"{registration}/webhooks/zoom", data=body, timeout=10, headers={
                "x-zm-request-timestamp": str(timestamp), "x-zm-signature": f"v0={digest}",
                "Content-Type": "application/json"})
            assert refused.status_code == 401
        validated = requests.post(f"{zoom.url}/_standin/url-validation",
                                  json={"account_id": CREDENTIALS["account_id"]}, timeout=30).json()
        assert validated["validated"] is True
        assert len(requests.get(fetches_url, headers=auth, timeout=10).json()["items"]) == 2
