"""Every response carries the security headers; pages allow no inline script and no framing."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import make_settings


@pytest.mark.parametrize("service", ["registration", "notifications", "certificates"])
def test_pages_and_apis_carry_a_strict_policy_and_docs_still_work(service: str, tmp_path: Path) -> None:
    module = __import__(service)
    app = module.create_app(make_settings(service, f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path))
    client = app.test_client()
    for path in ("/healthz", "/openapi.json", "/api/v1/organisation", "/no-such-page"):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "Strict-Transport-Security" not in response.headers  # plain HTTP on loopback
    docs = client.get("/docs")
    assert docs.status_code == 200 and "'unsafe-inline'" in docs.headers["Content-Security-Policy"]


def test_https_deployments_get_hsts_and_checkout_is_an_allowed_form_target(tmp_path: Path) -> None:
    from registration import create_app

    app = create_app(make_settings("registration", f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path,
                                   public_base_url="https://events.example.org"))
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "form-action 'self' http://127.0.0.1:12111" in response.headers["Content-Security-Policy"]
