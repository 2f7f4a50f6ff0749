"""No lock is held while Stripe is called: a paid sign-up, an approval and the attendee's pay link
commit their work before creating the Checkout Session, so another sign-up to the same event can
write meanwhile (the event's seat row on PostgreSQL, the database file on SQLite)."""
from __future__ import annotations

import sqlite3
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.support.factories import create_event, signup_payload


class WritesWhileCalled:
    """Stands in for Stripe's Checkout Sessions: while "Stripe" is being called, another connection
    must be able to write the event's row at once."""

    def __init__(self, database_url: str, slug: str) -> None:
        self.database_url, self.slug = database_url, slug
        self.calls: list[str] = []

    def create(self, params: dict[str, Any], options: dict[str, Any]) -> SimpleNamespace:
        self.calls.append(params["client_reference_id"])
        self._write_event_row()
        number = len(self.calls)
        return SimpleNamespace(id=f"cs_test_{number}", url=f"https://checkout.example/pay/{number}")

    def _write_event_row(self) -> None:
        url = make_url(self.database_url)
        update = "UPDATE events SET seats_taken = seats_taken WHERE slug = :slug"
        if url.get_backend_name() == "sqlite":
            connection = sqlite3.connect(url.database, timeout=0.2)
            try:
                connection.execute("BEGIN IMMEDIATE")  # "database is locked" if the request still writes
                connection.execute(update, {"slug": self.slug})
                connection.rollback()
            finally:
                connection.close()
            return
        engine = create_engine(self.database_url)
        try:
            with engine.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '200ms'"))  # fails if the row is locked
                connection.execute(text(update), {"slug": self.slug})
        finally:
            engine.dispose()


@pytest.fixture
def paid(registration_app: Flask, client: FlaskClient, auth: dict[str, str], database_url: str) -> WritesWhileCalled:
    event = create_event(client, auth, rate=None, kind="conference", capacity=5)
    response = client.post(f"/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "standard", "name": "Standard", "amount": 30000, "currency": "EUR", "category": "non_member"})
    assert response.status_code == 201, response.get_json()
    response = client.post(f"/api/v1/events/{event['slug']}/rates", headers=auth, json={
        "code": "trainee", "name": "Trainee", "amount": 9000, "currency": "EUR", "category": "trainee",
        "requires_approval": True})
    assert response.status_code == 201, response.get_json()
    sessions = WritesWhileCalled(database_url, event["slug"])
    registration_app.extensions["stripe_client"] = SimpleNamespace(v1=SimpleNamespace(checkout=SimpleNamespace(
        sessions=sessions)))
    return sessions


def test_a_paid_sign_up_is_committed_before_stripe_is_called(client: FlaskClient, paid: WritesWhileCalled) -> None:
    response = client.post(f"/api/v1/events/{paid.slug}/registrations", json=signup_payload(rate="standard"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "pending_payment"
    assert body["payment_url"] == "https://checkout.example/pay/1"
    assert paid.calls == [body["reference"]]
    # The session's id was recorded: the pay link reuses it and Stripe is not called again.
    token = body["manage_url"].rsplit("/", 1)[-1]
    assert client.get(f"/r/{token}/pay").headers["Location"] == "https://checkout.example/pay/1"
    assert len(paid.calls) == 1


def test_an_approval_is_committed_before_stripe_is_called(client: FlaskClient, auth: dict[str, str],
                                                          paid: WritesWhileCalled) -> None:
    response = client.post(f"/api/v1/events/{paid.slug}/registrations", json=signup_payload(rate="trainee"))
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "pending_approval" and paid.calls == []
    approved = client.post(f"/api/v1/registrations/{response.get_json()['id']}/approve", headers=auth)
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "pending_payment"
    assert approved.get_json()["payment_url"] == "https://checkout.example/pay/1"
    assert len(paid.calls) == 1
