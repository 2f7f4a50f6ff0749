"""The one HTTP client services use to call each other.

Every call is signed (see ``auth``), carries the request id of the request that
caused it, and retries connection failures and 502/503/504 with backoff. POSTs
are only retried because callers always send an idempotency key with them. A
signature is accepted once, so an answered request that is retried is signed
anew: only refused connections, which never reach the service, reuse one.
"""
from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .auth import CachedTokenResolver, Organisation, TokenResolver, sign
from .errors import ApiError
from .logs import current_request_id
from .settings import Settings

REQUEST_ID_HEADER = "X-Request-ID"
RETRIED_STATUSES = (502, 503, 504)
UNREACHABLE = "Another service of the suite cannot be reached right now; nothing was changed. Try again."
BACKOFF_SECONDS = 0.2


class _ServiceSignature(requests.auth.AuthBase):
    def __init__(self, service: str, key: str) -> None:
        self.service = service
        self.key = key

    def __call__(self, prepared: requests.PreparedRequest) -> requests.PreparedRequest:
        body = prepared.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        path = prepared.path_url
        prepared.headers.update(sign(self.service, self.key, prepared.method or "GET", path, body))
        return prepared


class ServiceClient:
    """Calls another service of the suite at ``base_url`` as ``service``."""

    def __init__(self, base_url: str, service: str, key: str, timeout: float = 10.0, retries: int = 3) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = retries
        self.session = requests.Session()
        self.session.auth = _ServiceSignature(service, key)
        retry = Retry(
            total=retries,
            connect=retries,
            read=0,  # a read timeout may mean the work was done; the caller decides with its idempotency key
            status=0,  # answered requests are retried in request(), signed anew
            backoff_factor=BACKOFF_SECONDS,
            allowed_methods=None,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=16)
        scheme = urlsplit(self.base_url).scheme or "http"
        self.session.mount(f"{scheme}://", adapter)

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None,
        idempotency_key: str | None = None, timeout: float | None = None,
    ) -> requests.Response:
        headers = {}
        request_id = current_request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        for attempt in range(self.retries + 1):
            response = self.session.request(
                method, self.base_url + path, json=json, params=params, headers=headers, timeout=timeout or self.timeout
            )
            if response.status_code not in RETRIED_STATUSES or attempt == self.retries:
                break
            time.sleep(BACKOFF_SECONDS * 2 ** attempt)
        return response

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def read(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        """A GET whose answer the current request cannot do without: the other service unreachable,
        failing (5xx) or refusing our signature (401/403) is this request's 503, with nothing changed;
        any other answer (a 404, say) is the caller's to read."""
        try:
            response = self.get(path, params=params)
        except requests.RequestException as exc:
            raise ApiError(503, "unavailable", UNREACHABLE) from exc
        if response.status_code >= 500 or response.status_code in (401, 403):
            raise ApiError(503, "unavailable", UNREACHABLE)
        return response


def introspecting_resolver(settings: Settings) -> TokenResolver:
    """Organiser tokens checked by asking registration, which owns them (cached briefly)."""
    client = ServiceClient(settings.registration_url, settings.service, settings.own_signing_key, timeout=5.0)

    def resolve(token: str) -> Organisation | None:
        try:
            response = client.post("/internal/v1/token-introspection", json={"token": token})
        except requests.RequestException as exc:
            raise ApiError(503, "unavailable", "Cannot check the organiser token right now; try again.") from exc
        if response.status_code == 200:
            data = response.json()["organisation"]
            return Organisation(id=data["id"], slug=data["slug"], name=data["name"], actor=data.get("actor", ""),
                                role=data.get("role", "owner"))
        if response.status_code in (404, 422):  # unknown, or something that cannot be a token (too long)
            return None
        raise ApiError(503, "unavailable", "Cannot check the organiser token right now; try again.")

    return CachedTokenResolver(resolve)
