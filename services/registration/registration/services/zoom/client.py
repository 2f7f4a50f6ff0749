"""Zoom's REST API (https://api.zoom.us/v2) with a Server-to-Server OAuth app.

The access token comes from ``POST {oauth_base}/oauth/token?grant_type=account_credentials&account_id=…``
with HTTP Basic ``client_id:client_secret`` (Zoom: "Server-to-Server OAuth", tokens live an hour, no
refresh token) and is reused from a ``TokenStore`` until shortly before it expires; a 401 with a stored
token drops it and asks once for a new one (the app's secret was rotated, or Zoom revoked it).

Errors say whether trying again can help, because the outbox decides on them:
``ZoomRetryable`` for 429 (with Zoom's ``Retry-After`` as ``retry_after`` seconds), 5xx, timeouts
and refused connections; ``ZoomRefused`` for other 4xx, which the same request will get again.
No error message, log line or ``repr`` carries a secret or a token.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

import requests

from suite_common.db import utcnow
from suite_common.settings import ZoomSettings

log = logging.getLogger(__name__)

# A token is renewed this long before Zoom's expiry, so a call never starts with one about to lapse.
TOKEN_MARGIN = dt.timedelta(minutes=5)
# Zoom's Retry-After is honoured up to a day (its daily limits reset at midnight UTC).
MAX_RETRY_AFTER_SECONDS = 24 * 3600


class ZoomError(Exception):
    """A call to Zoom failed; ``http_status`` is Zoom's HTTP status (None when Zoom did not answer)."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None) -> None:
        super().__init__(message)
        self.http_status = status
        self.code = code


class ZoomRetryable(ZoomError):
    """Try again later: at the earliest after ``retry_after`` seconds when Zoom said so (429)."""

    def __init__(self, message: str, status: int | None = None, code: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, status, code)
        self.retry_after = retry_after


class ZoomRefused(ZoomError):
    """Zoom refused the request (4xx other than 429): the same request will be refused again."""


@dataclass(frozen=True)
class ZoomCredentials:
    account_id: str
    client_id: str
    client_secret: str = field(repr=False)


class TokenStore(Protocol):
    """Where the access token is kept between calls (and processes)."""

    def load(self) -> tuple[str, dt.datetime] | None: ...

    def save(self, token: str, expires_at: dt.datetime) -> None: ...

    def forget(self) -> None: ...


class MemoryTokenStore:
    """A token kept in this process only (a script, a test)."""

    def __init__(self) -> None:
        self.token: tuple[str, dt.datetime] | None = None

    def load(self) -> tuple[str, dt.datetime] | None:
        return self.token

    def save(self, token: str, expires_at: dt.datetime) -> None:
        self.token = (token, expires_at)

    def forget(self) -> None:
        self.token = None


@dataclass(frozen=True)
class Registrant:
    registrant_id: str
    join_url: str


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """``Retry-After`` as seconds from ``now``: delta-seconds or an HTTP date (RFC 9110), or the ISO
    8601 time Zoom's daily limits have been seen to send; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER_SECONDS)
    moment: dt.datetime | None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return min(max((moment - now).total_seconds(), 0.0), MAX_RETRY_AFTER_SECONDS)


def _zoom_message(response: requests.Response) -> tuple[str, int | None]:
    """Zoom's error body is ``{"code": 3001, "message": "..."}``; other bodies are cut short."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200], None
    if isinstance(body, dict):
        code = body.get("code")
        return str(body.get("message") or body.get("reason") or "")[:300], code if isinstance(code, int) else None
    return str(body)[:200], None


def _raise_for(response: requests.Response, what: str) -> None:
    if response.status_code < 400:
        return
    message, code = _zoom_message(response)
    text = f"Zoom answered {response.status_code} to {what}: {message}"
    if response.status_code == 429:
        raise ZoomRetryable(text, 429, code, retry_after_seconds(response.headers.get("Retry-After"), utcnow()))
    if response.status_code >= 500 or response.status_code == 408:
        raise ZoomRetryable(text, response.status_code, code)
    raise ZoomRefused(text, response.status_code, code)


class ZoomClient:
    """One organisation's Zoom account, through its Server-to-Server OAuth app."""

    def __init__(self, credentials: ZoomCredentials, tokens: TokenStore, settings: ZoomSettings,
                 session: requests.Session | None = None) -> None:
        self.credentials = credentials
        self.tokens = tokens
        self.settings = settings
        self.http = session or requests.Session()

    # --- the token ------------------------------------------------------------------------------

    def _new_token(self) -> str:
        now = utcnow()
        try:
            response = self.http.post(
                f"{self.settings.oauth_base}/oauth/token",
                params={"grant_type": "account_credentials", "account_id": self.credentials.account_id},
                auth=(self.credentials.client_id, self.credentials.client_secret), timeout=self.settings.timeout)
        except requests.RequestException as exc:
            raise ZoomRetryable(f"Zoom's token endpoint did not answer ({type(exc).__name__})") from None
        _raise_for(response, "the token request")
        try:
            body = response.json()
            token, lifetime = str(body["access_token"]), int(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise ZoomRetryable("Zoom's token endpoint answered without an access token", response.status_code) from None
        self.tokens.save(token, now + dt.timedelta(seconds=lifetime))
        return token

    def access_token(self) -> str:
        """The stored token while it has more than ``TOKEN_MARGIN`` left, else a new one."""
        stored = self.tokens.load()
        if stored is not None and stored[1] - TOKEN_MARGIN > utcnow():
            return stored[0]
        return self._new_token()

    # --- requests ---------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """Calls ``{api_base}{path}``; the decoded JSON answer (None for an empty one, e.g. 204)."""
        what = f"{method} {path.split('?')[0]}"
        for attempt in (1, 2):
            token = self.access_token()
            try:
                response = self.http.request(method, f"{self.settings.api_base}{path}", json=json, params=params,
                                             headers={"Authorization": f"Bearer {token}"},
                                             timeout=self.settings.timeout)
            except requests.RequestException as exc:
                raise ZoomRetryable(f"Zoom did not answer {what} ({type(exc).__name__})") from None
            if response.status_code == 401 and attempt == 1:
                self.tokens.forget()  # revoked or expired early: one new token, then Zoom's answer stands
                continue
            _raise_for(response, what)
            if not response.content:
                return None
            try:
                return response.json()
            except ValueError:
                raise ZoomRetryable(f"Zoom answered {what} with something other than JSON",
                                    response.status_code) from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", path, params=params)

    # --- webinars and registrants -------------------------------------------------------------------

    def create_webinar(self, topic: str, start_time: dt.datetime, duration_minutes: int, timezone: str) -> str:
        """A webinar with registration required and registrants approved automatically (approval_type
        0), as Zoom's "Create a webinar" takes it; its id as a string (Zoom's ids pass 2**53)."""
        body = {"topic": topic[:200], "type": 5, "timezone": timezone,
                "start_time": start_time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "duration": duration_minutes,
                "settings": {"approval_type": 0, "registration_type": 1, "registrants_email_notification": False}}
        answer = self.request("POST", "/users/me/webinars", json=body)
        return str(answer["id"])

    def add_registrant(self, webinar_id: str, email: str, first_name: str, last_name: str) -> Registrant:
        """``POST /webinars/{id}/registrants``. Zoom answers an email that is registered already with
        that registrant (the same ``registrant_id`` and ``join_url``), so adding again after an
        answer that was lost does not make a second registrant."""
        answer = self.request("POST", f"/webinars/{webinar_id}/registrants",
                              json={"email": email, "first_name": first_name[:64], "last_name": last_name[:64]})
        try:
            return Registrant(str(answer["registrant_id"]), str(answer["join_url"]))
        except (KeyError, TypeError):
            raise ZoomRetryable("Zoom answered the new registrant without registrant_id or join_url") from None

    def cancel_registrant(self, webinar_id: str, registrant_id: str, email: str) -> None:
        """``PUT /webinars/{id}/registrants/status`` with action ``cancel``: the personal link stops working."""
        self.request("PUT", f"/webinars/{webinar_id}/registrants/status",
                     json={"action": "cancel", "registrants": [{"id": registrant_id, "email": email}]})

    def delete_registrant(self, webinar_id: str, registrant_id: str) -> None:
        """``DELETE /webinars/{id}/registrants/{registrantId}``; one that is gone already counts as deleted."""
        try:
            self.request("DELETE", f"/webinars/{webinar_id}/registrants/{registrant_id}")
        except ZoomRefused as refused:
            if refused.http_status != 404:
                raise
