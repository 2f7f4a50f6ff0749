"""Service-to-service signatures: accepted when right and new, refused when anything is off or
when the same signed request comes again."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select, update

from suite_common.auth import MAX_CLOCK_SKEW_SECONDS, NONCE_HEADER, SIGNATURE_HEADER, sign
from suite_common.db import utcnow
from suite_common.retention import purge_expired
from suite_common.settings import Settings
from tests.support.apps import make_settings
from tests.support.databases import fresh_database

KEY = "dev-insecure-registration-key"


def notifications_app(settings: Settings) -> Flask:
    from notifications import create_app
    from notifications.models import Base

    app = create_app(settings)
    Base.metadata.create_all(app.extensions["suite_db"].engine)
    return app


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return notifications_app(make_settings("notifications", f"sqlite:///{tmp_path / 'n.db'}", tmp_path))


def _post(app: Flask, headers: dict[str, str], body: bytes = b"{}", path: str = "/internal/v1/ping"):  # type: ignore[no-untyped-def]
    return app.test_client().post(path, data=body, headers={**headers, "Content-Type": "application/json"})


def test_a_correctly_signed_call_is_answered_with_the_callers_name(app: Flask) -> None:
    response = _post(app, sign("registration", KEY, "POST", "/internal/v1/ping", b"{}"))
    assert response.status_code == 200
    assert response.get_json() == {"service": "registration"}


@pytest.mark.parametrize("tamper", ["key", "body", "path", "service", "old", "future", "missing", "nonce"])
def test_a_call_with_anything_wrong_is_refused_with_401(app: Flask, tamper: str) -> None:
    body = b"{}"
    now = time.time()
    if tamper == "key":
        headers = sign("registration", "not-the-key", "POST", "/internal/v1/ping", body)
    elif tamper == "body":
        headers = sign("registration", KEY, "POST", "/internal/v1/ping", json.dumps({"a": 1}).encode())
    elif tamper == "path":
        headers = sign("registration", KEY, "POST", "/internal/v1/other", body)
    elif tamper == "service":
        headers = sign("stranger", KEY, "POST", "/internal/v1/ping", body)
    elif tamper == "old":
        headers = sign("registration", KEY, "POST", "/internal/v1/ping", body, now=now - 600)
    elif tamper == "future":
        headers = sign("registration", KEY, "POST", "/internal/v1/ping", body, now=now + 600)
    elif tamper == "nonce":
        headers = {**sign("registration", KEY, "POST", "/internal/v1/ping", body), NONCE_HEADER: "x" * 22}
    else:
        headers = {}
    response = _post(app, headers, body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_rotated_keys_are_all_accepted_during_the_rotation(tmp_path: Path) -> None:
    settings = make_settings("notifications", f"sqlite:///{tmp_path / 'n.db'}", tmp_path)
    keys = dict(settings.service_keys, registration=("new-registration-key", KEY))
    app = notifications_app(make_settings("notifications", settings.database_url, tmp_path, service_keys=keys))
    for key in ("new-registration-key", KEY):
        assert _post(app, sign("registration", key, "POST", "/internal/v1/ping", b"{}")).status_code == 200


def test_a_replayed_call_is_refused_within_the_window_on_every_replica(backend: str, tmp_path: Path) -> None:
    """Two apps on one database stand for two replicas: a signature accepted by one is spent for both,
    while the same call signed again (a new nonce, even in the same second) is accepted."""
    with fresh_database(backend, tmp_path, "replay") as url:
        settings = make_settings("notifications", url, tmp_path)
        replica_a, replica_b = notifications_app(settings), notifications_app(settings)
        try:
            now = time.time()
            headers = sign("registration", KEY, "POST", "/internal/v1/ping", b"{}", now=now)
            assert _post(replica_a, headers).status_code == 200
            for replica in (replica_a, replica_b):
                replayed = _post(replica, headers)
                assert replayed.status_code == 401 and replayed.get_json()["error"]["code"] == "unauthorized"
            again = sign("registration", KEY, "POST", "/internal/v1/ping", b"{}", now=now)
            assert _post(replica_b, again).status_code == 200
        finally:
            for replica in (replica_a, replica_b):
                replica.extensions["suite_db"].engine.dispose()


def test_seen_signatures_are_kept_while_their_timestamp_is_in_the_window(app: Flask) -> None:
    from notifications.models import SeenSignature

    database = app.extensions["suite_db"]
    engine = database.engine
    old = sign("registration", KEY, "POST", "/internal/v1/ping", b"{}", now=time.time() - MAX_CLOCK_SKEW_SECONDS + 2)
    fresh = sign("registration", KEY, "POST", "/internal/v1/ping", b"{}")
    assert _post(app, old).status_code == 200 and _post(app, fresh).status_code == 200
    with database.session_scope() as session:
        assert purge_expired(session, SeenSignature, utcnow()) == 0
    with engine.begin() as connection:  # three seconds on: the old signature's timestamp has left the window
        connection.execute(update(SeenSignature).where(SeenSignature.signature == old[SIGNATURE_HEADER])
                           .values(expires_at=SeenSignature.expires_at - 3))
    with database.session_scope() as session:
        assert purge_expired(session, SeenSignature, utcnow()) == 1
    with engine.connect() as connection:
        assert connection.scalars(select(SeenSignature.signature)).all() == [fresh[SIGNATURE_HEADER]]


def test_production_refuses_to_start_on_default_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from suite_common.settings import ConfigurationError, Settings

    monkeypatch.setenv("SUITE_ENV", "production")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError) as refused:
        Settings.from_env("registration")
    assert "SECRET_KEY" in str(refused.value)
    assert "SERVICE_KEYS_NOTIFICATIONS" in str(refused.value)
    assert "DATABASE_URL" in str(refused.value)
    assert "STRIPE_API_KEY" in str(refused.value)
    assert "INTEGRATIONS_KEY" in str(refused.value)


def test_production_starts_with_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from suite_common.secretbox import new_key
    from suite_common.settings import Settings

    monkeypatch.setenv("SUITE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    for name in ("REGISTRATION", "NOTIFICATIONS", "CERTIFICATES"):
        monkeypatch.setenv(f"SERVICE_KEYS_{name}", f"{name.lower()}-" + "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://suite@db/registration")
    monkeypatch.setenv("STRIPE_API_KEY", "sk_live_" + "x" * 20)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_" + "y" * 20)
    monkeypatch.setenv("INTEGRATIONS_KEY", new_key())
    settings = Settings.from_env("registration")
    assert settings.production and settings.own_signing_key.startswith("registration-")
