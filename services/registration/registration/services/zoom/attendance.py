"""Attendance that arrives by itself: Zoom's webhook, and the participants report it makes us fetch.

Zoom sends ``webinar.ended`` to ``/webhooks/zoom`` signed with the app's webhook secret token:
``x-zm-signature: v0=<hex HMAC-SHA256 of "v0:{x-zm-request-timestamp}:{raw body}">``. The token is the one
of the organisation connected to ``payload.account_id``; ``endpoint.url_validation`` carries no account,
so its signature is tried against every connection's token. A timestamp more than five minutes old or
ahead is refused, so a captured request cannot be replayed. Each event is applied once
(``ZoomWebhookEvent``), and an ending schedules a ``ZoomReportFetch`` some minutes later
(``ZOOM_REPORT_DELAY_SECONDS``): Zoom completes the report only after the webinar ended.

The worker's fetch reads every page of ``GET /report/webinars/{id}/participants``, keeps waiting-room
rows out (they never count), finds each row's registration by the Zoom registrant ID we stored
(``ZoomRegistrant``), then by the address's key, and hands the rows to certificates, which records them as
it records an uploaded report. Fetching again changes nothing there; Zoom's 429 (after ``Retry-After``),
5xx and a report not ready yet (404) are tried again with backoff.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.client import ServiceClient
from suite_common.db import Database, insert_once, is_postgresql, utcnow
from suite_common.emails import loose_email_key
from suite_common.outbox import backoff
from suite_common.secretbox import SecretBox
from suite_common.settings import Settings
from suite_common.webhooks import MAX_FUTURE_SECONDS

from ...models import (
    Event,
    Registration,
    RegistrationStatus,
    ZoomConnection,
    ZoomRegistrant,
    ZoomReportFetch,
    ZoomWebhookEvent,
)
from . import connection as zoom_connection
from .client import ZoomRefused, ZoomRetryable

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 300
PAGE_SIZE = 300  # Zoom's largest page
MAX_ATTEMPTS = 12
LEASE = dt.timedelta(minutes=5)
WAITING_ROOM = "in_waiting_room"
BY_HAND = "by hand"
ENDED = "webinar.ended"


class BadSignature(Exception):
    """Not signed by a connected Zoom app, or signed too long ago or ahead."""


class NotLinked(Exception):
    """The event has no Zoom webinar, or its organisation no Zoom connection."""


@dataclass(frozen=True)
class Verified:
    """A webhook whose signature holds: its event and the organisations whose token signed it."""

    event: dict[str, Any]
    organisations: list[int]
    secret_token: str


def _signature(secret_token: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret_token.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return f"v0={digest}"


def verify(session: Session, box: SecretBox, body: bytes, timestamp: str, signature: str,
           now: float | None = None) -> Verified:
    """The event once its signature and timestamp hold; BadSignature otherwise (never which secret failed)."""
    if not timestamp.isdigit():
        raise BadSignature("x-zm-request-timestamp is missing or not a number of seconds.")
    age = (time.time() if now is None else now) - int(timestamp)
    if age > MAX_AGE_SECONDS:
        raise BadSignature(f"The webhook was signed {int(age)} s ago; at most {MAX_AGE_SECONDS} s is accepted.")
    if -age > MAX_FUTURE_SECONDS:
        raise BadSignature(f"The webhook is signed {int(-age)} s in the future; at most {MAX_FUTURE_SECONDS} s "
                           "of clock difference is accepted.")
    try:
        event = json.loads(body)
    except ValueError:
        raise BadSignature("The body is not JSON.") from None
    if not isinstance(event, dict) or not isinstance(event.get("payload"), dict):
        raise BadSignature("The body is not a Zoom event.")
    account_id = event["payload"].get("account_id")
    if isinstance(account_id, str) and account_id:
        candidates = [(s.organisation_id, s.secret_token)
                      for s in zoom_connection.webhook_secrets_for_account(session, account_id, box)]
    else:  # endpoint.url_validation names no account
        candidates = [(c.organisation_id, zoom_connection.webhook_secret_token(c, box))
                      for c in session.scalars(select(ZoomConnection).order_by(ZoomConnection.id))]
    matched = [(organisation, token) for organisation, token in candidates
               if hmac.compare_digest(_signature(token, timestamp, body), signature)]
    if not matched:
        raise BadSignature("The signature does not match this body.")
    return Verified(event, [organisation for organisation, _ in matched], matched[0][1])


def url_validation_answer(verified: Verified) -> dict[str, str]:
    """Zoom's challenge: the plain token back, with its HMAC-SHA256 under the app's secret token."""
    plain = verified.event["payload"].get("plainToken")
    if not isinstance(plain, str) or not plain:
        raise BadSignature("endpoint.url_validation without a plainToken.")
    encrypted = hmac.new(verified.secret_token.encode(), plain.encode(), hashlib.sha256).hexdigest()
    return {"plainToken": plain, "encryptedToken": encrypted}


def _event_key(event: dict[str, Any]) -> str:
    obj = event["payload"].get("object") or {}
    instance = obj.get("uuid") if isinstance(obj, dict) else None
    return f"{event.get('event')}:{instance or event.get('event_ts')}"[:255]


def apply_event(session: Session, verified: Verified, delay: dt.timedelta) -> str:
    """Applies one verified event once; returns what happened, for the log and the answer."""
    event = verified.event
    if event.get("event") != ENDED:
        return "ignored"
    obj = event["payload"].get("object")
    webinar_id = str(obj.get("id") or "") if isinstance(obj, dict) else ""
    if not webinar_id:
        return "ignored: no webinar id"
    organisation_id = verified.organisations[0]
    _, first_time = insert_once(session, ZoomWebhookEvent, {
        "key": _event_key(event), "event": ENDED, "organisation_id": organisation_id, "received_at": utcnow()},
        key=("key",))
    if not first_time:
        return "duplicate"
    events = list(session.scalars(select(Event).where(Event.organisation_id.in_(verified.organisations),
                                                      Event.zoom_webinar_id == webinar_id)))
    for linked in events:
        schedule_fetch(session, linked, ENDED, utcnow() + delay)
    return f"report fetch scheduled for {len(events)} event(s)" if events else "no event linked to this webinar"


def schedule_fetch(session: Session, event: Event, reason: str, due_at: dt.datetime) -> ZoomReportFetch:
    """A fetch of the event's report at ``due_at``; a queued one by hand is reused rather than doubled."""
    if reason == BY_HAND:
        queued = session.scalar(select(ZoomReportFetch).where(
            ZoomReportFetch.event_id == event.id, ZoomReportFetch.status == "queued",
            ZoomReportFetch.attempts == 0, ZoomReportFetch.due_at <= due_at))
        if queued is not None:
            return queued
    fetch = ZoomReportFetch(organisation_id=event.organisation_id, event_id=event.id,
                            webinar_id=event.zoom_webinar_id, reason=reason, status="queued", attempts=0,
                            due_at=due_at, created_at=utcnow())
    session.add(fetch)
    session.flush()
    return fetch


def fetch_by_hand(session: Session, event: Event) -> ZoomReportFetch:
    """An organiser's "fetch the attendance from Zoom now" (after the webinar; the worker does the fetching)."""
    if not event.zoom_webinar_id:
        raise NotLinked("This event is not linked to a Zoom webinar (zoom_webinar_id).")
    if zoom_connection.get_connection(session, event.organisation_id) is None:
        raise NotLinked("The organisation has not connected Zoom (PUT /api/v1/organisation/integrations/zoom).")
    return schedule_fetch(session, event, BY_HAND, utcnow())


def fetches_of(session: Session, event: Event) -> list[ZoomReportFetch]:
    return list(session.scalars(select(ZoomReportFetch).where(ZoomReportFetch.event_id == event.id)
                                .order_by(ZoomReportFetch.id.desc()).limit(50)))


# --- the fetch ------------------------------------------------------------------------------------

def read_participants(client: Any, webinar_id: str) -> list[dict[str, Any]]:
    """Every row of the report, page by page along ``next_page_token``."""
    rows: list[dict[str, Any]] = []
    token = ""
    while True:
        page = client.get_json(f"/report/webinars/{webinar_id}/participants",
                               {"page_size": PAGE_SIZE, **({"next_page_token": token} if token else {})})
        rows += [row for row in page.get("participants") or [] if isinstance(row, dict)]
        token = page.get("next_page_token") or ""
        if not token:
            return rows


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def match_rows(session: Session, event: Event, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The import certificates takes: rows with the registration found by registrant ID, else by the
    address's key; waiting-room rows and rows without times are skipped with the reason."""
    by_registrant = dict(session.execute(
        select(ZoomRegistrant.registrant_id, ZoomRegistrant.registration_id)
        .join(Registration, Registration.id == ZoomRegistrant.registration_id)
        .where(Registration.event_id == event.id)).all())
    by_email: dict[str, int] = {}
    for registration_id, email in session.execute(
            select(Registration.id, Registration.email).where(
                Registration.event_id == event.id, Registration.status == RegistrationStatus.CONFIRMED)).all():
        by_email.setdefault(loose_email_key(email), registration_id)
    participants, skipped = [], []
    for line, row in enumerate(rows, start=1):
        if row.get("status") == WAITING_ROOM:
            skipped.append({"line": line, "reason": "in the waiting room (Zoom status in_waiting_room)"})
            continue
        joined, left = _moment(row.get("join_time")), _moment(row.get("leave_time"))
        if joined is None or left is None or left < joined:
            skipped.append({"line": line, "reason": "no readable join_time and leave_time"})
            continue
        email = str(row.get("user_email") or "")[:254]
        registration_id = by_registrant.get(str(row.get("registrant_id") or "")) or (
            by_email.get(loose_email_key(email)) if email else None)
        participants.append({"line": line, "registration_id": registration_id, "email": email,
                             "name": str(row.get("name") or "")[:300], "join_time": joined.isoformat(),
                             "leave_time": left.isoformat()})
    return {"organisation_id": event.organisation_id, "webinar_id": event.zoom_webinar_id,
            "fetched_at": utcnow().isoformat(), "participants": participants, "skipped": skipped}


class ReportFetcher:
    """The worker loop's turn for due report fetches, one transaction per step; a fetch runs with no
    transaction open over Zoom's or certificates' answer."""

    def __init__(self, app: Flask, database: Database, settings: Settings) -> None:
        self.app = app
        self.database = database
        self.settings = settings
        self.stopping = threading.Event()
        self.certificates = ServiceClient(settings.certificates_url, settings.service, settings.own_signing_key,
                                          timeout=60, retries=0)

    def _claim(self) -> list[int]:
        now = utcnow()
        with self.database.session_scope() as session:
            query = (select(ZoomReportFetch)
                     .where(ZoomReportFetch.status == "queued", ZoomReportFetch.due_at <= now,
                            (ZoomReportFetch.claimed_until.is_(None)) | (ZoomReportFetch.claimed_until < now))
                     .order_by(ZoomReportFetch.due_at).limit(10))
            if is_postgresql(session):
                query = query.with_for_update(skip_locked=True)
            fetches = list(session.scalars(query))
            for fetch in fetches:
                fetch.claimed_until = now + LEASE
            return [fetch.id for fetch in fetches]

    def run_once(self) -> int:
        done = 0
        with self.app.app_context():
            for fetch_id in self._claim():
                if self.stopping.is_set():
                    self._finish(fetch_id, retry_in=dt.timedelta(0), error=None)
                    break
                try:
                    done += self._run(fetch_id)
                except Exception:  # a fault of ours: logged, and the fetch tried again later rather than stuck
                    log.exception("zoom report fetch failed unexpectedly", extra={"fetch": fetch_id})
                    self._finish(fetch_id, retry_in=backoff_after(fetch_id, self.database), error="internal error")
        return done

    def _run(self, fetch_id: int) -> int:
        with self.database.session_scope() as session:
            fetch = session.get(ZoomReportFetch, fetch_id)
            organisation_id, webinar_id = fetch.organisation_id, fetch.webinar_id
            slug = session.get(Event, fetch.event_id).slug
        try:
            client = zoom_connection.client_for(self.database, self.settings, organisation_id)
            rows = read_participants(client, webinar_id)
        except zoom_connection.ZoomNotConnected as exc:
            return self._fail(fetch_id, str(exc))
        except ZoomRetryable as exc:
            wait = dt.timedelta(seconds=exc.retry_after or 0)
            return self._finish(fetch_id, retry_in=max(wait, backoff_after(fetch_id, self.database)), error=str(exc))
        except ZoomRefused as exc:
            if exc.status == 404:  # Zoom has not made the report yet, or the webinar has not ended
                return self._finish(fetch_id, retry_in=backoff_after(fetch_id, self.database), error=str(exc))
            return self._fail(fetch_id, str(exc))
        with self.database.session_scope() as session:
            event = session.get(Event, session.get(ZoomReportFetch, fetch_id).event_id)
            handed = match_rows(session, event, rows)
        try:
            response = self.certificates.post(f"/internal/v1/events/{slug}/attendance-imports", json=handed,
                                              idempotency_key=f"zoom-report:{fetch_id}")
        except requests.RequestException as exc:
            return self._finish(fetch_id, retry_in=backoff_after(fetch_id, self.database),
                                error=f"certificates unreachable ({type(exc).__name__})")
        if response.status_code >= 500 or response.status_code == 429:
            return self._finish(fetch_id, retry_in=backoff_after(fetch_id, self.database),
                                error=f"certificates answered {response.status_code}")
        if response.status_code >= 400:
            return self._fail(fetch_id, f"certificates refused the report: {response.status_code} "
                                        f"{response.text[:300]}")
        report = response.json()
        outcome = {"report_id": report.get("id"), "rows_read": report.get("rows_read"),
                   "matched": report.get("matched"), "unmatched": report.get("unmatched"),
                   "skipped": len(report.get("skipped_rows") or []), "repeated": bool(report.get("repeated"))}
        with self.database.session_scope() as session:
            fetch = session.get(ZoomReportFetch, fetch_id)
            fetch.attempts += 1
            fetch.status, fetch.outcome, fetch.last_error = "done", outcome, None
            fetch.claimed_until, fetch.finished_at = None, utcnow()
        log.info("zoom report fetched", extra={"fetch": fetch_id, **outcome})
        return 1

    def _finish(self, fetch_id: int, retry_in: dt.timedelta, error: str | None) -> int:
        """Back in the queue, due after ``retry_in``; after MAX_ATTEMPTS tries it fails for good."""
        with self.database.session_scope() as session:
            fetch = session.get(ZoomReportFetch, fetch_id)
            fetch.claimed_until = None
            if error is None:
                return 0
            fetch.attempts += 1
            fetch.last_error = error[:2000]
            if fetch.attempts >= MAX_ATTEMPTS:
                fetch.status, fetch.finished_at = "failed", utcnow()
            else:
                fetch.due_at = utcnow() + retry_in
        log.warning("zoom report fetch to be retried", extra={"fetch": fetch_id})
        return 0

    def _fail(self, fetch_id: int, error: str) -> int:
        with self.database.session_scope() as session:
            fetch = session.get(ZoomReportFetch, fetch_id)
            fetch.attempts += 1
            fetch.status, fetch.last_error = "failed", error[:2000]
            fetch.claimed_until, fetch.finished_at = None, utcnow()
        log.error("zoom report fetch failed", extra={"fetch": fetch_id})
        return 0


def backoff_after(fetch_id: int, database: Database) -> dt.timedelta:
    """The outbox's backoff for the fetch's next attempt."""
    with database.session_scope() as session:
        return backoff(session.get(ZoomReportFetch, fetch_id).attempts + 1)
