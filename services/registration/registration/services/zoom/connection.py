"""An organisation's Zoom connection: its Server-to-Server OAuth app and webhook secret token.

Secrets are write-only: they are stored encrypted (suite_common.secretbox, ``INTEGRATIONS_KEY``),
decrypted in memory only to call Zoom or check a webhook's signature, and what the API and the
console show of them is whether they are set. Nothing here logs a secret.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import Database, utcnow
from suite_common.errors import validation_error
from suite_common.secretbox import SecretBox
from suite_common.settings import Settings

from ...models import ZoomConnection
from .client import TokenStore, ZoomClient, ZoomCredentials


class ZoomNotConnected(Exception):
    """The organisation has no Zoom connection (or its first one lacks a secret)."""


def secret_box(settings: Settings | None = None) -> SecretBox:
    """The box of the configured ``INTEGRATIONS_KEY``; in a request, the app's settings."""
    settings = settings or current_app.extensions["suite_settings"]
    return SecretBox(settings.integrations_keys)


def get_connection(session: Session, organisation_id: int) -> ZoomConnection | None:
    return session.scalar(select(ZoomConnection).where(ZoomConnection.organisation_id == organisation_id))


def describe(connection: ZoomConnection | None) -> dict[str, Any]:
    """What may be shown of a connection: never a secret, only whether each is set."""
    if connection is None:
        return {"connected": False, "account_id": None, "client_id": None, "client_secret_set": False,
                "webhook_secret_token_set": False, "updated_at": None}
    return {"connected": True, "account_id": connection.account_id, "client_id": connection.client_id,
            "client_secret_set": bool(connection.client_secret_encrypted),
            "webhook_secret_token_set": bool(connection.webhook_secret_token_encrypted),
            "updated_at": connection.updated_at}


def set_connection(session: Session, organisation_id: int, box: SecretBox, account_id: str, client_id: str,
                   client_secret: str | None, webhook_secret_token: str | None) -> ZoomConnection:
    """Creates or replaces the organisation's connection. A secret left out keeps the stored one (the
    console cannot show it back to be resubmitted); the first connection needs both. Any change of
    the app's identity or secret drops the cached access token, which belonged to the old app."""
    connection = get_connection(session, organisation_id)
    if connection is None:
        if not client_secret or not webhook_secret_token:
            raise ZoomNotConnected("client_secret and webhook_secret_token are required to connect Zoom")
        connection = ZoomConnection(organisation_id=organisation_id, created_at=utcnow())
        session.add(connection)
    if (connection.account_id, connection.client_id) != (account_id, client_id) or client_secret:
        connection.access_token_encrypted = None
        connection.access_token_expires_at = None
    connection.account_id = account_id
    connection.client_id = client_id
    if client_secret:
        connection.client_secret_encrypted = box.encrypt(client_secret)
    if webhook_secret_token:
        connection.webhook_secret_token_encrypted = box.encrypt(webhook_secret_token)
    connection.updated_at = utcnow()
    session.flush()
    return connection


def connect(session: Session, organisation_id: int, box: SecretBox, data: dict[str, Any]) -> ZoomConnection:
    """``set_connection`` from ``ZoomConnectionInput``'s data, as the API's PUT and the console's form
    both save it: the first connection without a secret is refused on the missing secret's field (422)."""
    try:
        return set_connection(session, organisation_id, box, data["account_id"], data["client_id"],
                              data.get("client_secret"), data.get("webhook_secret_token"))
    except ZoomNotConnected:
        missing = [name for name in ("client_secret", "webhook_secret_token") if not data.get(name)]
        raise validation_error({name: ["Required to connect Zoom the first time."] for name in missing}) from None


def remove_connection(session: Session, organisation_id: int) -> bool:
    """Forgets the app and its secrets; True if there was one. Registrants already made stay at Zoom."""
    connection = get_connection(session, organisation_id)
    if connection is None:
        return False
    session.delete(connection)
    session.flush()
    return True


def client_secret(connection: ZoomConnection, box: SecretBox) -> str:
    return box.decrypt(connection.client_secret_encrypted)


def webhook_secret_token(connection: ZoomConnection, box: SecretBox) -> str:
    return box.decrypt(connection.webhook_secret_token_encrypted)


@dataclass(frozen=True)
class WebhookSecret:
    """An organisation whose Zoom app belongs to a webhook's account, and that app's secret token."""

    organisation_id: int
    secret_token: str


def webhook_secrets_for_account(session: Session, account_id: str, box: SecretBox) -> list[WebhookSecret]:
    """The organisations connected to Zoom account ``account_id`` (a webhook's ``payload.account_id``)
    with their webhook secret tokens, to check ``x-zm-signature`` against: usually one; several when
    organisations share one Zoom account (each with its own app, so its own token)."""
    connections = session.scalars(select(ZoomConnection).where(ZoomConnection.account_id == account_id)
                                  .order_by(ZoomConnection.id))
    return [WebhookSecret(c.organisation_id, webhook_secret_token(c, box)) for c in connections]


class DatabaseTokenStore(TokenStore):
    """The access token cached on the connection's row, encrypted, in a short transaction of its own,
    so every worker and replica reuses one token until it expires (Zoom's tokens live an hour, and a
    new token per call would hit Zoom's limits). In a request, call ``commit_before_calling_out`` first."""

    def __init__(self, database: Database, organisation_id: int, box: SecretBox) -> None:
        self.database = database
        self.organisation_id = organisation_id
        self.box = box

    def load(self) -> tuple[str, dt.datetime] | None:
        with self.database.session_scope() as session:
            connection = get_connection(session, self.organisation_id)
            if connection is None or not connection.access_token_encrypted or not connection.access_token_expires_at:
                return None
            return self.box.decrypt(connection.access_token_encrypted), connection.access_token_expires_at

    def save(self, token: str, expires_at: dt.datetime) -> None:
        with self.database.session_scope() as session:
            connection = get_connection(session, self.organisation_id)
            if connection is not None:
                connection.access_token_encrypted = self.box.encrypt(token)
                connection.access_token_expires_at = expires_at

    def forget(self) -> None:
        with self.database.session_scope() as session:
            connection = get_connection(session, self.organisation_id)
            if connection is not None:
                connection.access_token_encrypted = None
                connection.access_token_expires_at = None


def client_for(database: Database, settings: Settings, organisation_id: int) -> ZoomClient:
    """A client of the organisation's Zoom account; ``ZoomNotConnected`` without a connection."""
    box = secret_box(settings)
    with database.session_scope() as session:
        connection = get_connection(session, organisation_id)
        if connection is None:
            raise ZoomNotConnected("this organisation has not connected Zoom")
        credentials = ZoomCredentials(connection.account_id, connection.client_id, client_secret(connection, box))
    return ZoomClient(credentials, DatabaseTokenStore(database, organisation_id, box), settings.zoom)
