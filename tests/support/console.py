"""Signing people in to the organiser console of an in-process registration app."""
from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from suite_common.db import utcnow


def add_person(app: Flask, org: str, role: str, email: str | None = None, name: str | None = None) -> str:
    """A person of ``org`` (created if missing) with ``role``; returns a fresh one-time sign-in link path."""
    from sqlalchemy import select

    from registration.models import OrganiserAccount, Role
    from registration.services import accounts, organisations

    email = email or f"{role}@{org}.example"
    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        organisation = organisations.get_or_create_organisation(session, org, org.title())
        account = session.scalar(select(OrganiserAccount).where(
            OrganiserAccount.organisation_id == organisation.id, OrganiserAccount.email == email))
        if account is None:
            account = accounts.add_account(session, organisation.id, email, name or f"{role.title()} of {org}",
                                           Role(role))
        return f"/console/sign-in/{accounts.create_sign_in_link(session, account, utcnow())}"


def signed_in(app: Flask, org: str, role: str) -> FlaskClient:
    """A browser (test client with cookies) signed in as a ``role`` of ``org``."""
    client = app.test_client()
    response = client.post(add_person(app, org, role))
    assert response.status_code == 303, response.get_data(as_text=True)
    return client
