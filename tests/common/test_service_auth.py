"""Service-to-service signatures: accepted when right, refused when anything is off."""
from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from flask import Flask

from suite_common.auth import sign
from tests.support.apps import make_settings

KEY = "dev-insecure-registration-key"


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    from notifications import create_app

    return create_app(make_settings("notifications", f"sqlite:///{tmp_path / 'n.db'}", tmp_path))


def _post(app: Flask, headers: dict[str, str], body: bytes = b"{}", path: str = "/internal/v1/ping"):  # type: ignore[no-untyped-def]
    return app.test_client().post(path, data=body, headers={**headers, "Content-Type": "application/json"})


def test_a_correctly_signed_call_is_answered_with_the_callers_name(app: Flask) -> None:
    response = _post(app, sign("registration", KEY, "POST", "/internal/v1/ping", b"{}"))
    assert response.status_code == 200
    assert response.get_json() == {"service": "registration"}


@pytest.mark.parametrize("tamper", ["key", "body", "path", "service", "old", "future", "missing"])
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
    else:
        headers = {}
    response = _post(app, headers, body)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_rotated_keys_are_all_accepted_during_the_rotation(tmp_path: Path) -> None:
    from notifications import create_app

    settings = make_settings("notifications", f"sqlite:///{tmp_path / 'n.db'}", tmp_path)
    keys = dict(settings.service_keys, registration=("new-registration-key", KEY))
    app = create_app(make_settings("notifications", settings.database_url, tmp_path, service_keys=keys))
    for key in ("new-registration-key", KEY):
        assert _post(app, sign("registration", key, "POST", "/internal/v1/ping", b"{}")).status_code == 200


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


def test_production_starts_with_real_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from suite_common.settings import Settings

    monkeypatch.setenv("SUITE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    for name in ("REGISTRATION", "NOTIFICATIONS", "CERTIFICATES"):
        monkeypatch.setenv(f"SERVICE_KEYS_{name}", f"{name.lower()}-" + "k" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://suite@db/registration")
    settings = Settings.from_env("registration")
    assert settings.production and settings.own_signing_key.startswith("registration-")
