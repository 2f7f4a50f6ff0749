"""Signing people in to the organiser console of an in-process registration app."""
from __future__ import annotations

import re

import requests
from flask import Flask
from flask.testing import FlaskClient

from devtools.stack import Stack
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


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form of a console page."""
    found = CSRF_FIELD.search(html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def browser_session(stack: Stack, org: str, email: str) -> tuple[requests.Session, str]:
    """A signed-in ``requests`` browser of a running stack, as a person clicking their mailed link:
    the link's page, then its Sign in button. Returns the browser and the session's secret."""
    link = stack.sign_in_link(org, email)
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    assert page.status_code == 200, page.text
    answer = browser.post(link, data={"csrf_token": csrf_token(page.text)}, allow_redirects=False, timeout=10)
    assert answer.status_code == 303, answer.text
    return browser, browser.cookies.get("suite_console", path="/console")
