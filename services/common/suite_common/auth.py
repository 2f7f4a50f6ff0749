"""Organiser tokens and service-to-service authentication.

Organiser tokens belong to one organisation. Registration stores them (hashed);
notifications and certificates ask registration's internal API who a token
belongs to and cache the answer briefly, so one token works on all three.

Service calls under ``/internal/`` carry an HMAC-SHA256 signature over the
service name, a timestamp, a random nonce, the method, the path and a digest of
the body. Each service has its own keys; every listed key is accepted and the
first one signs, so keys rotate without downtime. Timestamps more than five
minutes off are refused, and within those five minutes each signature is
accepted once: the receiving service records it in its own database (shared by
its replicas) until the window has passed, so a captured request cannot be
replayed. The nonce keeps two identical calls in the same second distinct.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, current_app, g, request
from sqlalchemy import Float, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from .errors import ApiError

TOKEN_PREFIX = "sto_"
MAX_CLOCK_SKEW_SECONDS = 300
SERVICE_HEADER = "X-Suite-Service"
TIMESTAMP_HEADER = "X-Suite-Timestamp"
SIGNATURE_HEADER = "X-Suite-Signature"
NONCE_HEADER = "X-Suite-Nonce"

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Organisation:
    """The organisation an organiser token speaks for."""

    id: int
    slug: str
    name: str
    # Who acts: the token's name ("treasurer laptop") and id, or the console's signed-in person, for the audit log.
    actor: str = ""
    # An API token may do everything; a person signed in to the console has their role: a viewer
    # only reads (``organiser_required`` refuses every other method), staff run events, owners
    # also manage people and tokens.
    role: str = "owner"

    @property
    def read_only(self) -> bool:
        return self.role == "viewer"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is a sufficient one-way hash."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TokenResolver = Callable[[str], Organisation | None]


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_organisation() -> Organisation:
    """The organisation of the authenticated organiser; call only inside organiser views."""
    return g.organisation


def organiser_required(view: F) -> F:
    """401 without a valid organiser token; sets ``g.organisation`` otherwise."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        token = bearer_token()
        if token is None:
            raise ApiError(401, "unauthorized", "An organiser token is required (Authorization: Bearer <token>).",
                           headers={"WWW-Authenticate": "Bearer"})
        resolver: TokenResolver = current_app.extensions["suite_token_resolver"]
        organisation = resolver(token)
        if organisation is None:
            raise ApiError(401, "unauthorized", "The organiser token is not valid.",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        g.organisation = organisation  # set first: the audit log records a refused attempt too
        if organisation.read_only and request.method not in SAFE_METHODS:
            raise ApiError(403, "forbidden", "A viewer may look but not change anything; ask an owner for the staff role.")
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class CachedTokenResolver:
    """Resolves tokens through another resolver, remembering answers for a short time.

    Revoking a token therefore takes effect on the other services within ``ttl`` seconds.
    """

    def __init__(self, resolve: TokenResolver, ttl: float = 30.0, max_entries: int = 10_000) -> None:
        self._resolve = resolve
        self._ttl = ttl
        self._max_entries = max_entries
        self._cache: dict[str, tuple[float, Organisation | None]] = {}
        self._lock = threading.Lock()

    def __call__(self, token: str) -> Organisation | None:
        key = hash_token(token)
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            if hit and hit[0] > now:
                return hit[1]
        organisation = self._resolve(token)
        with self._lock:
            if len(self._cache) >= self._max_entries:
                self._cache.clear()
            self._cache[key] = (now + (self._ttl if organisation else min(self._ttl, 5.0)), organisation)
        return organisation


# --- service-to-service -------------------------------------------------------------


def _signature(key: str, service: str, timestamp: str, nonce: str, method: str, path: str, body: bytes) -> str:
    message = "\n".join([service, timestamp, nonce, method.upper(), path, hashlib.sha256(body).hexdigest()])
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def sign(service: str, key: str, method: str, path: str, body: bytes, now: float | None = None) -> dict[str, str]:
    """Headers that authenticate one request of ``service`` (path includes the query string), once."""
    timestamp = str(int(now if now is not None else time.time()))
    nonce = secrets.token_urlsafe(16)
    return {
        SERVICE_HEADER: service,
        TIMESTAMP_HEADER: timestamp,
        NONCE_HEADER: nonce,
        SIGNATURE_HEADER: _signature(key, service, timestamp, nonce, method, path, body),
    }


class SeenSignatureMixin:
    """Signatures of accepted service calls, until their timestamp leaves the window; a service
    declares ``class SeenSignature(SeenSignatureMixin, Base)`` and passes it to ``create_service_app``."""

    __tablename__ = "seen_signatures"

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[float] = mapped_column(Float, index=True, comment="seconds since the epoch")


def init_replay_guard(app: Flask, engine: Engine, seen: type[SeenSignatureMixin]) -> None:
    app.extensions["suite_replay_guard"] = (engine, seen.__table__)


def _first_use(signature: str, timestamp: int) -> bool:
    """Records the signature; False when it was recorded before (a replay). Its own transaction,
    committed before the view runs, so two replicas receiving the same call cannot both accept it."""
    engine, table = current_app.extensions["suite_replay_guard"]
    insert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(signature=signature, expires_at=timestamp + MAX_CLOCK_SKEW_SECONDS + 1)
    with engine.begin() as connection:
        recorded = connection.execute(statement.on_conflict_do_nothing().returning(table.c.signature)).scalar()
    return recorded is not None


def verify_service_request(service_keys: dict[str, tuple[str, ...]], allowed: tuple[str, ...] | None = None) -> str:
    """The calling service's name, or ApiError 401 when the signature does not hold or was used before."""
    service = request.headers.get(SERVICE_HEADER, "")
    timestamp = request.headers.get(TIMESTAMP_HEADER, "")
    nonce = request.headers.get(NONCE_HEADER, "")
    signature = request.headers.get(SIGNATURE_HEADER, "")
    refusal = ApiError(401, "unauthorized", "Service credentials are missing or not valid.")
    keys = service_keys.get(service)
    if not keys or not signature or not timestamp.isdigit() or not 16 <= len(nonce) <= 64:
        raise refusal
    if allowed is not None and service not in allowed:
        raise ApiError(403, "forbidden", "This service may not call this endpoint.")
    if abs(time.time() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
        raise refusal
    # Sign and check the path exactly as sent on the wire (still percent-encoded).
    path = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or request.full_path.rstrip("?")
    body = request.get_data(cache=True)
    matched = False
    for key in keys:  # compare against every key so timing does not reveal which one matched
        expected = _signature(key, service, timestamp, nonce, request.method, path, body)
        matched |= hmac.compare_digest(expected, signature)
    if not matched or not _first_use(signature, int(timestamp)):
        raise refusal
    return service


def service_required(*allowed: str) -> Callable[[F], F]:
    """Decorator for internal endpoints: only signed calls from the named services (any, if none named)."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            settings = current_app.extensions["suite_settings"]
            g.calling_service = verify_service_request(settings.service_keys, allowed or None)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator


# --- links between services -------------------------------------------------------


def _participant_mac(key: str, slug: str, registration_id: int) -> str:
    message = f"participant:{slug}:{registration_id}".encode()
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()[:32]


def participant_token(key: str, slug: str, registration_id: int) -> str:
    """Registration signs a participant's link to their certificates page with its service key,
    so certificates can trust it without sharing a table or a new secret."""
    return f"{registration_id}.{_participant_mac(key, slug, registration_id)}"


def check_participant_token(keys: tuple[str, ...], slug: str, token: str) -> int | None:
    """The registration id the token was made for, or None."""
    raw_id, _, mac = token.partition(".")
    if not raw_id.isdigit() or len(raw_id) > 10 or len(mac) != 32:
        return None
    registration_id = int(raw_id)
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(_participant_mac(key, slug, registration_id), mac)
    return registration_id if matched else None
