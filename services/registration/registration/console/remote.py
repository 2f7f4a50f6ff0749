"""The notifications and certificates organiser APIs, called as the signed-in person.

The person's session secret is the bearer credential: those services resolve it through
registration's token introspection, as they resolve an API token, and apply the person's role
(a viewer's change is their 403). Their answers are used as they come: a 4xx is the console's
to show (its message and per-field errors), an unreachable service or a 5xx is a 503 page that
says nothing was changed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from flask import current_app, g

from suite_common.client import REQUEST_ID_HEADER, UNREACHABLE
from suite_common.db import commit_before_calling_out
from suite_common.errors import ApiError
from suite_common.logs import current_request_id

TIMEOUT_SECONDS = 30.0
_http = requests.Session()


@dataclass
class Refused(Exception):
    """The other service refused the call (4xx): what it said, for the page to show."""

    status: int
    message: str
    fields: dict[str, Any] = field(default_factory=dict)


def call(service: str, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
         files: dict[str, Any] | None = None, data: dict[str, Any] | None = None,
         stream: bool = False) -> requests.Response:
    """``method path`` on ``service`` ("notifications" or "certificates") as the signed-in person;
    ``stream`` leaves the body to be read as it comes (a download passed on to the browser).

    What this request wrote so far (the session's last-seen time) is committed first: no
    transaction stays open while the other service works, and it may call us back."""
    settings = current_app.extensions["suite_settings"]
    base = {"notifications": settings.notifications_url, "certificates": settings.certificates_url}[service]
    headers = {"Authorization": f"Bearer {g.console_secret}"}
    request_id = current_request_id()
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    commit_before_calling_out()
    try:
        response = _http.request(method, base.rstrip("/") + path, json=json, params=params, files=files, data=data,
                                 headers=headers, timeout=TIMEOUT_SECONDS, stream=stream)
    except requests.RequestException as exc:
        raise ApiError(503, "unavailable", UNREACHABLE) from exc
    if response.status_code >= 500:
        raise ApiError(503, "unavailable", UNREACHABLE)
    if response.status_code == 404:
        raise ApiError(404, "not_found", _message(response, "Not found."))
    if response.status_code == 403:
        raise ApiError(403, "forbidden", _message(response, "Your role does not allow this."))
    if response.status_code == 401:  # the session ended between our check and theirs
        raise ApiError(401, "unauthorized", "Your session has ended; sign in again.")
    if response.status_code >= 400:
        body = _body(response)
        error = body.get("error", {}) if isinstance(body, dict) else {}
        raise Refused(response.status_code, error.get("message") or "Refused.", error.get("fields") or {})
    return response


def get_json(service: str, path: str, params: dict[str, Any] | None = None) -> Any:
    return call(service, "GET", path, params=params).json()


def _body(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return {}


def _message(response: requests.Response, default: str) -> str:
    body = _body(response)
    return (body.get("error", {}) if isinstance(body, dict) else {}).get("message") or default
