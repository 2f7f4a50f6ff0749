from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from suite_common.auth import Organisation, sign
from tests.support.apps import make_settings

ORG_A = Organisation(id=1, slug="society-a", name="Society A")
ORG_B = Organisation(id=2, slug="society-b", name="Society B")
TOKENS = {"token-a": ORG_A, "token-b": ORG_B}
EVENTS = {(ORG_A.id, "w")}  # the events registration knows, by (organisation id, slug)


@pytest.fixture
def notifications_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    from notifications import create_app
    from notifications.models import Base

    app = create_app(make_settings("notifications", database_url, tmp_path))
    # Organiser tokens are registration's; here a fixed table stands in for its introspection endpoint.
    app.extensions["suite_token_resolver"] = TOKENS.get
    app.extensions["suite_event_lookup"] = lambda org, slug: {"slug": slug} if (org, slug) in EVENTS else None
    Base.metadata.create_all(app.extensions["suite_db"].engine)
    yield app
    app.extensions["suite_db"].engine.dispose()


class InternalClient:
    """Calls internal endpoints signed as a given service."""

    def __init__(self, client: FlaskClient, service: str = "registration") -> None:
        self.client = client
        self.service = service

    def request(self, method: str, path: str, json_body: object = None):  # type: ignore[no-untyped-def]
        import json

        body = b"" if json_body is None else json.dumps(json_body).encode()
        headers = sign(self.service, f"dev-insecure-{self.service}-key", method, path, body)
        return self.client.open(path, method=method, data=body, headers={**headers, "Content-Type": "application/json"})


@pytest.fixture
def internal(notifications_app: Flask) -> InternalClient:
    return InternalClient(notifications_app.test_client())


@pytest.fixture
def organiser(notifications_app: Flask) -> FlaskClient:
    return notifications_app.test_client()
