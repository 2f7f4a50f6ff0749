from __future__ import annotations

import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.apps import make_settings
from tests.support.databases import BACKENDS, fresh_database

# The suite makes thousands of sign-ups and many deliberately wrong-token calls from one loopback
# address, in-process and through the stacks it starts (which inherit this environment). The rate
# limits' own tests (tests/common/test_rate_limits.py, the verification limit in the e2e tests) set
# tight limits of their own.
for _name, _limit in (("SIGNUP_RATE_LIMIT", "100000/minute"), ("TOKEN_RATE_LIMIT", "100000/minute"),
                      ("TOKEN_FAILURE_RATE_LIMIT", "100000/minute")):
    os.environ.setdefault(_name, _limit)


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test``), the fuzz seed is drawn here, in the controller, whose
    environment the workers inherit: a worker's own output never reaches the console, this one's
    report header does."""
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        os.environ.setdefault("FUZZ_SEED", str(random.SystemRandom().randrange(2**32)))


def pytest_report_header(config: pytest.Config) -> str | None:
    seed = os.environ.get("FUZZ_SEED")
    return f"fuzz seed: {seed} (run again with FUZZ_SEED={seed})" if seed else None


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend under test (SQLite always, PostgreSQL when DATABASE_URL_TEST is set)."""
    with fresh_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def registration_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    from registration import create_app
    from registration.models import Base
    app = create_app(make_settings("registration", database_url, tmp_path))
    app.config["WTF_CSRF_ENABLED"] = False
    database = app.extensions["suite_db"]
    Base.metadata.create_all(database.engine)
    yield app
    database.engine.dispose()


@pytest.fixture
def client(registration_app: Flask) -> FlaskClient:
    return registration_app.test_client()


@pytest.fixture
def db_session(registration_app: Flask):  # type: ignore[no-untyped-def]
    """A session inside the app's context, as the service layer always runs (it builds public links)."""
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        yield session


def _token(app: Flask, org: str) -> str:
    from registration.services import organisations

    with app.extensions["suite_db"].session_scope() as session:
        organisation = organisations.get_or_create_organisation(session, org, org.title())
        return organisations.create_token(session, organisation, "tests")


@pytest.fixture
def token(registration_app: Flask) -> str:
    return _token(registration_app, "society-a")


@pytest.fixture
def other_token(registration_app: Flask) -> str:
    return _token(registration_app, "society-b")


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each database backend under test, for tests that make their own databases."""
    return request.param
