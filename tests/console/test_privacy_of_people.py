"""A person of the console is personal data too: the privacy export shows their account, erasure removes it
(and signs them out), except the organisation's only owner, which the answer names as kept."""
from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.support.console import add_person, signed_in


@pytest.fixture
def peers_answer_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    """Notifications and certificates hold nothing of these people; registration's own part is under test."""
    monkeypatch.setattr("registration.services.privacy._peer",
                        lambda name, path, organisation_id, email: {"data": {}, "kept": []})


def _privacy(client: Any, auth: dict[str, str], action: str, email: str) -> dict[str, Any]:
    if action == "export":
        response = client.get("/api/v1/privacy/export", headers=auth, query_string={"email": email})
    else:
        response = client.post("/api/v1/privacy/erase", headers=auth, json={"email": email})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


@pytest.mark.usefixtures("peers_answer_empty")
def test_export_and_erasure_cover_console_accounts(registration_app: Flask, auth: dict[str, str]) -> None:
    client = registration_app.test_client()
    add_person(registration_app, "society-a", "owner", email="owner@society-a.example", name="Olga Owner")
    browser = signed_in(registration_app, "society-a", "staff")  # staff@society-a.example

    exported = _privacy(client, auth, "export", "Staff@Society-A.example")
    assert exported["registration"]["organiser_account"]["name"] == "Staff of society-a"
    assert exported["registration"]["organiser_account"]["role"] == "staff"

    erased = _privacy(client, auth, "erase", "staff@society-a.example")
    assert not any("console account" in item["what"] for item in erased["kept"])
    assert _privacy(client, auth, "export", "staff@society-a.example")["registration"]["organiser_account"] is None
    assert browser.get("/console/events").status_code == 303  # signed out with the account

    kept = _privacy(client, auth, "erase", "owner@society-a.example")["kept"]
    assert "the console account of the organisation's only owner" in [item["what"] for item in kept]
    assert _privacy(client, auth, "export", "owner@society-a.example")["registration"]["organiser_account"]
