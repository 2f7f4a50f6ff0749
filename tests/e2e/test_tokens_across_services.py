"""One organiser token works on all three services, and only for its own organisation."""
from __future__ import annotations

from pathlib import Path

import pytest
import requests

from tests.support.factories import event_payload
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e


def test_one_token_works_on_every_service_and_reaches_only_its_organisation(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        token_a, token_b = stack.create_token("society-a"), stack.create_token("society-b")
        for service in ("registration", "notifications", "certificates"):
            base = url(stack, service)
            mine = requests.get(f"{base}/api/v1/organisation", headers={"Authorization": f"Bearer {token_a}"})
            assert mine.status_code == 200 and mine.json()["slug"] == "society-a"
            assert requests.get(f"{base}/api/v1/organisation").status_code == 401
            wrong = requests.get(f"{base}/api/v1/organisation", headers={"Authorization": "Bearer sto_forged"})
            assert wrong.status_code == 401
            assert wrong.json()["error"]["code"] == "unauthorized"
            for path in ("/healthz", "/readyz"):
                assert requests.get(base + path).json() == {"status": "ok"}
            spec = requests.get(f"{base}/openapi.json").json()
            assert spec["openapi"].startswith("3.") and "/api/v1/organisation" in spec["paths"]
            assert requests.get(f"{base}/docs").status_code == 200
            # Internal endpoints refuse callers without a service signature.
            assert requests.post(f"{base}/internal/v1/ping", json={}).status_code == 401

        registration = url(stack, "registration")
        created = requests.post(f"{registration}/api/v1/events", json=event_payload(slug="a-only"),
                                headers={"Authorization": f"Bearer {token_a}"})
        assert created.status_code == 201
        theirs = requests.get(f"{registration}/api/v1/events/a-only", headers={"Authorization": f"Bearer {token_b}"})
        assert theirs.status_code == 404
        listed = requests.get(f"{registration}/api/v1/events", headers={"Authorization": f"Bearer {token_b}"})
        assert listed.json()["items"] == []
