"""A local stand-in for Zoom's API: for development (``make run``) and the tests, NEVER for production.

Nothing in development or CI may reach Zoom, yet the registration service must run the very code it runs
against Zoom: ``ZOOM_API_BASE=http://127.0.0.1:12112/v2`` and the OAuth base ``http://127.0.0.1:12112``
are the only difference. So this server speaks the part of Zoom's API the suite uses, in Zoom's shapes
(JSON bodies, errors as ``{"code": <Zoom's error code>, "message": ...}``), on plain HTTP on loopback:

  POST /oauth/token?grant_type=account_credentials&account_id=ID   Basic client_id:client_secret
       -> {"access_token", "token_type": "bearer", "expires_in": 3600, "scope"}
  Every /v2 call needs ``Authorization: Bearer <access_token>`` of the webinar's account (else 401, code 124).
  POST /v2/users/me/webinars                          create (topic, start_time, duration, timezone, ...)
  GET  /v2/webinars/{id}
  POST /v2/webinars/{id}/registrants                  -> 201 {id, registrant_id, join_url, topic, start_time};
                                                      the same email again answers the SAME registrant, as Zoom
                                                      does (a cancelled or denied one is approved again: Zoom
                                                      does not document that case; this is the reading we took)
  GET  /v2/webinars/{id}/registrants                  ?status=approved|pending|denied (default approved),
                                                      page_size, next_page_token
  PUT  /v2/webinars/{id}/registrants/status           {"action": "approve"|"cancel"|"deny",
                                                      "registrants": [{"id"|"email"}]} -> 204
  DELETE /v2/webinars/{id}/registrants/{registrant_id}
  GET  /v2/report/webinars/{id}/participants          page_size (default 30, at most 300), next_page_token;
                                                      404 (code 3001) until the webinar has ended

The personal ``join_url`` of a registrant opens a small page here (``/w/{id}?tk=...``), as Zoom's would
open the client.

Test controls (only the stand-in has them; JSON in and out, no authentication):
  POST /_standin/accounts                    {"account_id", "client_id", "client_secret", "webhook_secret_token"}
  POST /_standin/webinars/{id}/attendance    [{"registrant_id"|"email", "name", "join_time", "leave_time",
                                             "status": "in_meeting"|"in_waiting_room"}]: who attended; times
                                             ISO 8601, by default the webinar's scheduled start and end
  POST /_standin/webinars/{id}/end           ends the webinar and sends ``webinar.ended`` (signed) to the
                                             webhook URL; answers the delivery attempts
  POST /_standin/url-validation              sends ``endpoint.url_validation`` as Zoom does when an endpoint
                                             is saved, and says whether the answer was right
  GET  /_standin/webinars/{id}               everything the stand-in holds of a webinar (registrants of
                                             every status, attendance)
  POST /_standin/faults                      {"path_prefix", "status": 429|500|..., "times", "retry_after"?}:
                                             the next ``times`` API calls under that path fail so
  GET  /_standin/requests                    every API call (method, path, status), oldest first
  GET  /_standin/webhooks                    every webhook sent, with its attempts
  GET|POST /_standin/webhook                 ``{"url"}``: where webhooks go

Webhooks are signed exactly as Zoom signs them: ``x-zm-request-timestamp`` (seconds) and
``x-zm-signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}" keyed with the secret token>``.

State lives in memory, or in ``--state-file`` (``make run`` keeps it under ``var/``, so a second
``make run`` finds the demo webinar and its registrants again). ``python -m devtools.zoom_standin`` runs
it until SIGTERM/SIGINT; tests run ``ZoomStandin`` in-process.
"""
from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import secrets
import signal
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import requests
from flask import Flask, Request, Response, request
from markupsafe import escape
from werkzeug.serving import BaseWSGIServer, make_server

from devtools.command_line import env, host_port

log = logging.getLogger(__name__)

DEFAULT_LISTEN = "127.0.0.1:12112"
DEFAULT_WEBHOOK_URL = "http://127.0.0.1:8001/webhooks/zoom"
# The account make run's demo organisation connects with (registration/demo.py uses the same values).
DEFAULT_ACCOUNT_ID = "standin-account"
DEFAULT_CLIENT_ID = "standin-client-id"
DEFAULT_CLIENT_SECRET = "standin-client-secret"
DEFAULT_WEBHOOK_SECRET_TOKEN = "standin-webhook-secret-token"

TOKEN_LIFETIME = 3600
SCOPES = ("webinar:read:admin webinar:write:admin report:read:admin "
          "webinar:write:registrant:admin webinar:read:list_registrants:admin")
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 300
RETRY_DELAYS = (0.5, 1.0, 2.0)  # Zoom retries a failed delivery later; a dev tool retries within seconds
DELIVERY_TIMEOUT = 10.0
WAITING_ROOM, IN_MEETING = "in_waiting_room", "in_meeting"
REGISTRANT_STATUSES = ("approved", "pending", "denied")
ACTIONS = {"approve": "approved", "cancel": "cancelled", "deny": "denied"}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

Json = dict[str, Any]


class ZoomError(Exception):
    """An error as Zoom answers it: an HTTP status and ``{"code", "message"}`` with Zoom's error code."""

    def __init__(self, status: int, code: int, message: str, errors: list[Json] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> Json:
        body: Json = {"code": self.code, "message": self.message}
        if self.errors:
            body["errors"] = self.errors
        return body


def _validation(field: str, message: str) -> ZoomError:
    return ZoomError(400, 300, "Validation Failed.", [{"field": field, "message": message}])


def signature(secret_token: str, timestamp: str, body: str) -> str:
    """``x-zm-signature`` as Zoom makes it."""
    digest = hmac.new(secret_token.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return f"v0={digest}"


def _iso(moment: dt.datetime) -> str:
    """Zoom's times: UTC, to the second, with a Z."""
    return moment.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, field: str) -> dt.datetime:
    if not isinstance(value, str):
        raise _validation(field, "Expected an ISO 8601 time with an offset, e.g. 2027-03-01T18:00:00Z.")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _validation(field, f"Not an ISO 8601 time: {value!r}.") from None
    if moment.tzinfo is None:
        raise _validation(field, "The time needs an offset (Z for UTC).")
    return moment.astimezone(dt.UTC)


# --- state --------------------------------------------------------------------------------------

@dataclasses.dataclass
class Account:
    account_id: str
    client_id: str
    client_secret: str
    webhook_secret_token: str


@dataclasses.dataclass
class Registrant:
    id: str
    email: str
    first_name: str
    last_name: str
    status: str
    create_time: str
    join_token: str


@dataclasses.dataclass
class Webinar:
    id: int
    uuid: str
    account_id: str
    topic: str
    start_time: str
    duration: int  # minutes
    timezone: str
    agenda: str
    created_at: str
    registrants: list[Registrant] = dataclasses.field(default_factory=list)
    participants: list[Json] = dataclasses.field(default_factory=list)
    ended_at: str | None = None


@dataclasses.dataclass
class Fault:
    path_prefix: str
    status: int
    times: int
    retry_after: int | None


@dataclasses.dataclass
class State:
    accounts: dict[str, Account] = dataclasses.field(default_factory=dict)
    webinars: dict[int, Webinar] = dataclasses.field(default_factory=dict)
    webhook_url: str = DEFAULT_WEBHOOK_URL

    def to_json(self) -> Json:
        return {"accounts": [dataclasses.asdict(a) for a in self.accounts.values()],
                "webinars": [dataclasses.asdict(w) for w in self.webinars.values()],
                "webhook_url": self.webhook_url}

    @classmethod
    def from_json(cls, data: Json) -> State:
        webinars = {}
        for item in data.get("webinars", []):
            registrants = [Registrant(**r) for r in item.pop("registrants", [])]
            webinar = Webinar(**item, registrants=registrants)
            webinars[webinar.id] = webinar
        return cls(accounts={a["account_id"]: Account(**a) for a in data.get("accounts", [])}, webinars=webinars,
                   webhook_url=data.get("webhook_url") or DEFAULT_WEBHOOK_URL)


class Standin:
    """The stand-in's state and rules; every method runs under ``lock``."""

    def __init__(self, state: State, state_file: Path | None) -> None:
        self.lock = threading.RLock()
        self.state = state
        self.state_file = state_file
        self.tokens: dict[str, tuple[str, float]] = {}  # access token -> (account_id, monotonic expiry)
        self.faults: list[Fault] = []
        self.requests: list[Json] = []
        self.webhooks: list[Json] = []
        self.public_url = ""
        self._http = requests.Session()
        self._http.trust_env = False  # a proxy from the environment must not swallow loopback deliveries

    def save(self) -> None:
        if self.state_file is None:
            return
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.state.to_json(), indent=1))
        temporary.replace(self.state_file)  # atomic: a crash never leaves half a file

    # OAuth

    def issue_token(self, req: Request) -> Json:
        if req.args.get("grant_type") != "account_credentials":
            raise ZoomError(400, 4700, "unsupported grant type")
        account = self.state.accounts.get(req.args.get("account_id", ""))
        client_id, client_secret = _basic_auth(req)
        if account is None:
            raise ZoomError(400, 4700, "Invalid account_id")
        if not (hmac.compare_digest(client_id, account.client_id)
                and hmac.compare_digest(client_secret, account.client_secret)):
            raise ZoomError(400, 4700, "Invalid client_id or client_secret")
        token = "standin_" + secrets.token_urlsafe(32)
        self.tokens[token] = (account.account_id, time.monotonic() + TOKEN_LIFETIME)
        return {"access_token": token, "token_type": "bearer", "expires_in": TOKEN_LIFETIME, "scope": SCOPES}

    def account_of(self, req: Request) -> str:
        header = req.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        found = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if found is None or found[1] < time.monotonic():
            raise ZoomError(401, 124, "Invalid access token.")
        return found[0]

    # webinars and registrants

    def webinar(self, account_id: str | None, webinar_id: str) -> Webinar:
        found = self.state.webinars.get(int(webinar_id)) if webinar_id.isdigit() else None
        if found is None or (account_id is not None and found.account_id != account_id):
            raise ZoomError(404, 3001, f"Webinar does not exist: {webinar_id}.")
        return found

    def create_webinar(self, account_id: str, body: Json) -> Json:
        topic = body.get("topic")
        if not isinstance(topic, str) or not topic.strip():
            raise _validation("topic", "A topic is required.")
        start = _parse_time(body.get("start_time", _iso(dt.datetime.now(dt.UTC))), "start_time")
        duration = body.get("duration", 60)
        if not isinstance(duration, int) or isinstance(duration, bool) or duration <= 0:
            raise _validation("duration", "The duration is a positive number of minutes.")
        webinar_id = secrets.randbelow(9 * 10**9) + 81 * 10**9  # 11 digits, as Zoom's webinar IDs
        while webinar_id in self.state.webinars:
            webinar_id += 1
        webinar = Webinar(
            id=webinar_id, uuid=base64.b64encode(uuid.uuid4().bytes).decode(), account_id=account_id,
            topic=topic.strip()[:200], start_time=_iso(start), duration=duration,
            timezone=str(body.get("timezone") or "UTC"), agenda=str(body.get("agenda") or "")[:2000],
            created_at=_iso(dt.datetime.now(dt.UTC)))
        self.state.webinars[webinar_id] = webinar
        self.save()
        return self.describe(webinar)

    def describe(self, webinar: Webinar) -> Json:
        return {"id": webinar.id, "uuid": webinar.uuid, "host_id": webinar.account_id, "topic": webinar.topic,
                "type": 5, "start_time": webinar.start_time, "duration": webinar.duration,
                "timezone": webinar.timezone, "agenda": webinar.agenda, "created_at": webinar.created_at,
                "join_url": f"{self.public_url}/w/{webinar.id}",
                "registration_url": f"{self.public_url}/webinar/register/{webinar.id}",
                "settings": {"approval_type": 0, "registrants_confirmation_email": False}}

    def join_url(self, webinar: Webinar, registrant: Registrant) -> str:
        return f"{self.public_url}/w/{webinar.id}?tk={registrant.join_token}"

    def add_registrant(self, webinar: Webinar, body: Json) -> Json:
        email = body.get("email")
        if not isinstance(email, str) or not _EMAIL.fullmatch(email.strip()) or len(email) > 128:
            raise _validation("email", "Invalid field.")
        first_name = body.get("first_name")
        if not isinstance(first_name, str) or not first_name.strip():
            raise _validation("first_name", "Invalid field.")
        email = email.strip()
        registrant = next((r for r in webinar.registrants if r.email.lower() == email.lower()), None)
        if registrant is None:
            registrant = Registrant(
                id=secrets.token_urlsafe(16), email=email, first_name=first_name.strip()[:64],
                last_name=str(body.get("last_name") or "").strip()[:64], status="approved",
                create_time=_iso(dt.datetime.now(dt.UTC)), join_token=secrets.token_urlsafe(24))
            webinar.registrants.append(registrant)
        elif registrant.status != "approved":
            registrant.status = "approved"
        self.save()
        return {"id": webinar.id, "registrant_id": registrant.id, "join_url": self.join_url(webinar, registrant),
                "topic": webinar.topic, "start_time": webinar.start_time, "occurrences": []}

    def list_registrants(self, webinar: Webinar, args: Any) -> Json:
        status = args.get("status", "approved")
        if status not in REGISTRANT_STATUSES:
            raise _validation("status", f"One of {', '.join(REGISTRANT_STATUSES)}.")
        chosen = [r for r in webinar.registrants if r.status == status]
        page, token, size = _page(chosen, args)
        return {"page_size": size, "total_records": len(chosen), "next_page_token": token,
                "registrants": [{"id": r.id, "email": r.email, "first_name": r.first_name,
                                 "last_name": r.last_name, "status": r.status, "create_time": r.create_time,
                                 "join_url": self.join_url(webinar, r)} for r in page]}

    def update_status(self, webinar: Webinar, body: Json) -> None:
        action = body.get("action")
        if action not in ACTIONS:
            raise _validation("action", "One of approve, cancel, deny.")
        wanted = body.get("registrants")
        if not isinstance(wanted, list) or not wanted or len(wanted) > 30:
            raise _validation("registrants", "One to 30 registrants, each {\"id\"} or {\"email\"}.")
        for item in wanted:
            if not isinstance(item, dict):
                raise _validation("registrants", "Each registrant is {\"id\"} or {\"email\"}.")
            found = self._registrant(webinar, item.get("id"), item.get("email"))
            if found is not None:  # Zoom ignores registrants it does not know
                found.status = ACTIONS[action]
        self.save()

    def delete_registrant(self, webinar: Webinar, registrant_id: str) -> None:
        found = self._registrant(webinar, registrant_id, None)
        if found is None:
            raise ZoomError(404, 3079, "Registrant not found.")
        webinar.registrants.remove(found)
        self.save()

    @staticmethod
    def _registrant(webinar: Webinar, registrant_id: Any, email: Any) -> Registrant | None:
        for registrant in webinar.registrants:
            if (isinstance(registrant_id, str) and registrant.id == registrant_id) or (
                    isinstance(email, str) and registrant.email.lower() == email.strip().lower()):
                return registrant
        return None

    def report(self, webinar: Webinar, args: Any) -> Json:
        if webinar.ended_at is None:
            raise ZoomError(404, 3001, "This webinar has not ended; its report does not exist yet.")
        page, token, size = _page(webinar.participants, args)
        return {"page_count": -(-len(webinar.participants) // size) if webinar.participants else 0,
                "page_size": size, "total_records": len(webinar.participants), "next_page_token": token,
                "participants": page}

    # controls

    def record_attendance(self, webinar: Webinar, rows: Any) -> list[Json]:
        if not isinstance(rows, list):
            raise _validation("body", "A list of attendance rows.")
        start = _parse_time(webinar.start_time, "start_time")
        added = []
        for index, row in enumerate(rows):
            where = f"[{index}]"
            if not isinstance(row, dict):
                raise _validation(where, "Each row is an object.")
            registrant = None
            if row.get("registrant_id") is not None:
                registrant = self._registrant(webinar, row["registrant_id"], None)
                if registrant is None:
                    raise _validation(f"{where}.registrant_id", "No such registrant of this webinar.")
            elif isinstance(row.get("email"), str):
                registrant = self._registrant(webinar, None, row["email"])  # Zoom links a registrant's address
            else:
                raise _validation(where, "Give registrant_id or email.")
            joined = _parse_time(row["join_time"], f"{where}.join_time") if "join_time" in row else start
            left = (_parse_time(row["leave_time"], f"{where}.leave_time") if "leave_time" in row
                    else start + dt.timedelta(minutes=webinar.duration))
            if left < joined:
                raise _validation(f"{where}.leave_time", "leave_time is before join_time.")
            status = row.get("status", IN_MEETING)
            if status not in (IN_MEETING, WAITING_ROOM):
                raise _validation(f"{where}.status", f"One of {IN_MEETING}, {WAITING_ROOM}.")
            name = row.get("name") or (f"{registrant.first_name} {registrant.last_name}".strip() if registrant
                                       else row.get("email", ""))
            added.append({
                "id": secrets.token_urlsafe(16), "user_id": str(16778240 + len(webinar.participants) + index),
                "name": str(name)[:200], "user_email": registrant.email if registrant else row["email"],
                "join_time": _iso(joined), "leave_time": _iso(left),
                "duration": int((left - joined).total_seconds()),
                "registrant_id": registrant.id if registrant else "", "failover": False, "status": status,
            })
        webinar.participants.extend(added)
        self.save()
        return added

    def finish(self, webinar: Webinar) -> tuple[Json, str]:
        """Ends the webinar (once: its end time stays); answers ``webinar.ended`` and the token to sign it with."""
        now = dt.datetime.now(dt.UTC)
        webinar.ended_at = webinar.ended_at or _iso(now)
        self.save()
        account = self.state.accounts[webinar.account_id]
        event = {"event": "webinar.ended", "event_ts": int(now.timestamp() * 1000), "payload": {
            "account_id": account.account_id,
            "object": {"id": str(webinar.id), "uuid": webinar.uuid, "host_id": account.account_id,
                       "topic": webinar.topic, "type": 5, "start_time": webinar.start_time,
                       "timezone": webinar.timezone, "duration": webinar.duration, "end_time": webinar.ended_at}}}
        return event, account.webhook_secret_token

    def send(self, event: Json, secret_token: str) -> Json:
        """Posts one event, retrying a few times; answers the record of its attempts."""
        body = json.dumps(event, separators=(",", ":"))
        record: Json = {"event": event, "url": self.state.webhook_url, "attempts": []}
        self.webhooks.append(record)
        for delay in (0.0, *RETRY_DELAYS):
            time.sleep(delay)
            timestamp = str(int(time.time()))  # signed at each attempt, as receivers check its age
            headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "Zoom Marketplace/1.0a",
                       "x-zm-request-timestamp": timestamp,
                       "x-zm-signature": signature(secret_token, timestamp, body)}
            try:
                response = self._http.post(record["url"], data=body.encode(), headers=headers,
                                           timeout=DELIVERY_TIMEOUT, allow_redirects=False)
            except requests.RequestException as exc:
                record["attempts"].append({"status": None, "error": type(exc).__name__})
                continue
            record["attempts"].append({"status": response.status_code, "body": response.text[:2000]})
            if 200 <= response.status_code < 300:
                break
        record["delivered"] = any(a["status"] is not None and 200 <= a["status"] < 300 for a in record["attempts"])
        log.info("webhook %s -> %s: %s", event["event"], record["url"], record["attempts"][-1])
        return record

    def validate_url(self, account_id: str) -> Json:
        account = self.state.accounts.get(account_id)
        if account is None:
            raise _validation("account_id", "No such account.")
        plain = secrets.token_urlsafe(16)
        event = {"event": "endpoint.url_validation", "event_ts": int(time.time() * 1000),
                 "payload": {"plainToken": plain}}
        record = self.send(event, account.webhook_secret_token)
        expected = hmac.new(account.webhook_secret_token.encode(), plain.encode(), hashlib.sha256).hexdigest()
        try:
            answer = json.loads(record["attempts"][-1].get("body") or "null")
        except ValueError:
            answer = None
        record["validated"] = (isinstance(answer, dict) and answer.get("plainToken") == plain
                               and answer.get("encryptedToken") == expected)
        return record

    def take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if path.startswith(fault.path_prefix) and fault.times > 0:
                fault.times -= 1
                return fault
        return None


def _basic_auth(req: Request) -> tuple[str, str]:
    scheme, _, encoded = req.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        raise ZoomError(401, 4711, "Invalid authorization: Basic client_id:client_secret expected.")
    try:
        client_id, _, client_secret = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        raise ZoomError(401, 4711, "Invalid authorization header.") from None
    return client_id, client_secret


def _page(items: list[Any], args: Any) -> tuple[list[Any], str, int]:
    """Zoom's paging: ``page_size`` and an opaque ``next_page_token`` ("" on the last page)."""
    raw_size = args.get("page_size", str(DEFAULT_PAGE_SIZE))
    if not raw_size.isdigit() or not 1 <= int(raw_size) <= MAX_PAGE_SIZE:
        raise _validation("page_size", f"Between 1 and {MAX_PAGE_SIZE}.")
    size = int(raw_size)
    token = args.get("next_page_token", "")
    offset = 0
    if token:
        try:
            offset = int(base64.urlsafe_b64decode(token.encode()).decode().removeprefix("offset:"))
        except (ValueError, UnicodeDecodeError):
            raise ZoomError(400, 300, "The next page token is invalid or expired.") from None
    page = items[offset:offset + size]
    following = offset + size
    next_token = base64.urlsafe_b64encode(f"offset:{following}".encode()).decode() if following < len(items) else ""
    return page, next_token, size


# --- the HTTP app -------------------------------------------------------------------------------

def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body, indent=1), status=status, mimetype="application/json", headers=headers)


def _body(req: Request) -> Any:
    if not req.get_data():
        return {}
    try:
        return json.loads(req.get_data())
    except ValueError:
        raise ZoomError(400, 300, "Request Body should be a valid JSON object.") from None


def _object(req: Request) -> Json:
    body = _body(req)
    if not isinstance(body, dict):
        raise ZoomError(400, 300, "Request Body should be a valid JSON object.")
    return body


def _create_app(standin: Standin) -> Flask:
    app = Flask(__name__, static_folder=None)

    @app.post("/oauth/token")
    def oauth_token() -> Response:
        with standin.lock:
            return _json(200, standin.issue_token(request))

    @app.route("/v2/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def api(path: str) -> Response:
        full = f"/v2/{path}"
        try:
            response = _api(standin, request, full)
        except ZoomError as exc:
            response = _json(exc.status, exc.body(), exc.headers)
        with standin.lock:
            standin.requests.append({"method": request.method, "path": full, "status": response.status_code})
        return response

    @app.get("/w/<webinar_id>")
    def join(webinar_id: str) -> tuple[str, int]:
        with standin.lock:
            webinar = standin.state.webinars.get(int(webinar_id)) if webinar_id.isdigit() else None
            token = request.args.get("tk", "")
            registrant = next((r for r in webinar.registrants if r.join_token == token), None) if webinar else None
        if webinar is None:
            return "<!doctype html><title>Not found</title><p>No such webinar.</p>", 404
        who = f"{registrant.first_name} {registrant.last_name}" if registrant else "an unregistered guest"
        return (f"<!doctype html><html lang=en><title>{escape(webinar.topic)}</title><main><h1>"
                f"{escape(webinar.topic)}</h1><p>Zoom stand-in: here Zoom would open the webinar for "
                f"{escape(who)}.</p></main></html>"), 200

    _register_controls(app, standin)

    @app.errorhandler(ZoomError)
    def zoom_error(exc: ZoomError) -> Response:
        return _json(exc.status, exc.body(), exc.headers)

    @app.errorhandler(404)
    def unknown(_exc: Exception) -> Response:
        return _json(404, {"code": 404, "message": "Not found."})

    @app.errorhandler(405)
    def not_allowed(_exc: Exception) -> Response:
        return _json(405, {"code": 405, "message": "Method not allowed."})

    return app


_ROUTES = (
    ("POST", re.compile(r"/v2/users/me/webinars")),
    ("GET", re.compile(r"/v2/webinars/(?P<webinar>[^/]+)")),
    ("POST", re.compile(r"/v2/webinars/(?P<webinar>[^/]+)/registrants")),
    ("GET", re.compile(r"/v2/webinars/(?P<webinar>[^/]+)/registrants")),
    ("PUT", re.compile(r"/v2/webinars/(?P<webinar>[^/]+)/registrants/status")),
    ("DELETE", re.compile(r"/v2/webinars/(?P<webinar>[^/]+)/registrants/(?P<registrant>[^/]+)")),
    ("GET", re.compile(r"/v2/report/webinars/(?P<webinar>[^/]+)/participants")),
)


def _api(standin: Standin, req: Request, path: str) -> Response:
    with standin.lock:
        fault = standin.take_fault(path)
    if fault is not None:
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        message = ("You have reached the maximum per-second rate limit for this API. Try again later."
                   if fault.status == 429 else "Internal Error (stand-in fault on demand).")
        raise ZoomError(fault.status, fault.status, message, headers=headers)
    for index, (method, pattern) in enumerate(_ROUTES):
        match = pattern.fullmatch(path)
        if match is None or method != req.method:
            continue
        with standin.lock:
            account_id = standin.account_of(req)
            if index == 0:
                return _json(201, standin.create_webinar(account_id, _object(req)))
            webinar = standin.webinar(account_id, match["webinar"])
            if index == 1:
                return _json(200, standin.describe(webinar))
            if index == 2:
                return _json(201, standin.add_registrant(webinar, _object(req)))
            if index == 3:
                return _json(200, standin.list_registrants(webinar, req.args))
            if index == 4:
                standin.update_status(webinar, _object(req))
                return Response(status=204)
            if index == 5:
                standin.delete_registrant(webinar, match["registrant"])
                return Response(status=204)
            return _json(200, standin.report(webinar, req.args))
    raise ZoomError(404, 404, "Not found.")


def _register_controls(app: Flask, standin: Standin) -> None:
    @app.post("/_standin/accounts")
    def add_account() -> Response:
        body = _object(request)
        fields = ("account_id", "client_id", "client_secret", "webhook_secret_token")
        for name in fields:
            if not isinstance(body.get(name), str) or not body[name]:
                raise _validation(name, "Required.")
        with standin.lock:
            standin.state.accounts[body["account_id"]] = Account(**{name: body[name] for name in fields})
            standin.save()
        return _json(201, {"account_id": body["account_id"]})

    @app.route("/_standin/webhook", methods=["GET", "POST"])
    def webhook() -> Response:
        with standin.lock:
            if request.method == "POST":
                url = _object(request).get("url")
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    raise _validation("url", "An http(s) URL.")
                standin.state.webhook_url = url
                standin.save()
            return _json(200, {"url": standin.state.webhook_url})

    @app.get("/_standin/webinars/<webinar_id>")
    def webinar_state(webinar_id: str) -> Response:
        with standin.lock:
            webinar = standin.webinar(None, webinar_id)
            return _json(200, {**standin.describe(webinar), "ended_at": webinar.ended_at,
                               "registrants": [{**dataclasses.asdict(r), "join_url": standin.join_url(webinar, r)}
                                               for r in webinar.registrants],
                               "participants": webinar.participants})

    @app.post("/_standin/webinars/<webinar_id>/attendance")
    def attendance(webinar_id: str) -> Response:
        with standin.lock:
            webinar = standin.webinar(None, webinar_id)
            added = standin.record_attendance(webinar, _body(request))
        return _json(201, {"participants": added})

    @app.post("/_standin/webinars/<webinar_id>/end")
    def end(webinar_id: str) -> Response:
        with standin.lock:
            event, secret_token = standin.finish(standin.webinar(None, webinar_id))
        # Delivered outside the lock: the receiver may call the stand-in back while it handles the event.
        return _json(200, standin.send(event, secret_token))

    @app.post("/_standin/url-validation")
    def url_validation() -> Response:
        account_id = _object(request).get("account_id") or DEFAULT_ACCOUNT_ID
        return _json(200, standin.validate_url(str(account_id)))

    @app.post("/_standin/faults")
    def faults() -> Response:
        body = _object(request)
        prefix, status, times = body.get("path_prefix"), body.get("status"), body.get("times", 1)
        retry_after = body.get("retry_after")
        if not isinstance(prefix, str) or not prefix.startswith("/v2/"):
            raise _validation("path_prefix", "An API path prefix, e.g. /v2/report/webinars/.")
        if not isinstance(status, int) or not 400 <= status <= 599:
            raise _validation("status", "An HTTP error status, e.g. 429 or 500.")
        if not isinstance(times, int) or times < 1:
            raise _validation("times", "A positive number.")
        if retry_after is not None and (not isinstance(retry_after, int) or retry_after < 0):
            raise _validation("retry_after", "Seconds, a non-negative number.")
        with standin.lock:
            standin.faults.append(Fault(prefix, status, times, retry_after))
        return _json(201, {"path_prefix": prefix, "status": status, "times": times, "retry_after": retry_after})

    @app.get("/_standin/requests")
    def api_requests() -> Response:
        with standin.lock:
            return _json(200, {"requests": list(standin.requests)})

    @app.get("/_standin/webhooks")
    def webhooks_sent() -> Response:
        with standin.lock:
            return _json(200, {"webhooks": list(standin.webhooks)})


# --- the server ---------------------------------------------------------------------------------

class ZoomStandin:
    """The stand-in served by werkzeug in daemon threads. One account exists from the start (the
    constructor's credentials); ``public_url`` is where browsers reach the join links."""

    def __init__(self, port: int = 0, webhook_url: str = DEFAULT_WEBHOOK_URL,
                 account_id: str = DEFAULT_ACCOUNT_ID, client_id: str = DEFAULT_CLIENT_ID,
                 client_secret: str = DEFAULT_CLIENT_SECRET,
                 webhook_secret_token: str = DEFAULT_WEBHOOK_SECRET_TOKEN, host: str = "127.0.0.1",
                 public_url: str | None = None, state_file: Path | None = None) -> None:
        self.host = host
        self.port = port
        self._public_url = public_url.rstrip("/") if public_url else None
        state = State()
        if state_file is not None and state_file.exists():
            state = State.from_json(json.loads(state_file.read_text()))
        state.webhook_url = webhook_url
        state.accounts[account_id] = Account(account_id, client_id, client_secret, webhook_secret_token)
        self.standin = Standin(state, state_file)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.url}/v2"

    def start(self) -> ZoomStandin:
        self._server = make_server(self.host, self.port, _create_app(self.standin), threaded=True)
        self.port = self._server.server_port
        self.standin.public_url = self._public_url or self.url
        self.standin.save()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="zoom-standin-http", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> ZoomStandin:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


# --- command line -------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> None:
    registration = env("REGISTRATION_URL", "http://127.0.0.1:8001").rstrip("/")
    parser = argparse.ArgumentParser(description="A local stand-in for Zoom's API, for development and tests only.")
    parser.add_argument("--listen", type=host_port, metavar="HOST:PORT",
                        default=env("ZOOM_STANDIN_LISTEN", DEFAULT_LISTEN),
                        help=f"listen address (default: $ZOOM_STANDIN_LISTEN or {DEFAULT_LISTEN}; port 0 = any)")
    parser.add_argument("--webhook-url", default=env("ZOOM_WEBHOOK_URL", f"{registration}/webhooks/zoom"),
                        help="where events go (default: $ZOOM_WEBHOOK_URL, else $REGISTRATION_URL/webhooks/zoom)")
    parser.add_argument("--account-id", default=DEFAULT_ACCOUNT_ID)
    parser.add_argument("--client-id", default=DEFAULT_CLIENT_ID)
    parser.add_argument("--client-secret", default=DEFAULT_CLIENT_SECRET)
    parser.add_argument("--webhook-secret-token", default=DEFAULT_WEBHOOK_SECRET_TOKEN)
    parser.add_argument("--state-file", type=Path, default=None,
                        help="keep webinars and registrants in this JSON file across restarts")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stopping = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    host, port = args.listen
    standin = ZoomStandin(port=port, host=host, webhook_url=args.webhook_url, account_id=args.account_id,
                          client_id=args.client_id, client_secret=args.client_secret,
                          webhook_secret_token=args.webhook_secret_token, state_file=args.state_file).start()
    try:
        print(f"Zoom stand-in    {standin.url}   (development only; never real Zoom)", flush=True)
        print(f"webhooks to      {args.webhook_url}", flush=True)
        while not stopping.wait(0.5):
            pass
    finally:
        standin.stop()


if __name__ == "__main__":
    main()
