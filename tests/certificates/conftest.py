"""The certificates application on the test's database (SQLite, and PostgreSQL where configured)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.apps import make_settings


@pytest.fixture
def certificates_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """Its tables made from the models (the migrations are tested on their own in tests/test_migrations.py);
    forms without CSRF tokens, as the tests post them directly."""
    from certificates import create_app
    from certificates.models import Base

    app = create_app(make_settings("certificates", database_url, tmp_path))
    app.config["WTF_CSRF_ENABLED"] = False
    Base.metadata.create_all(app.extensions["suite_db"].engine)
    yield app
    app.extensions["suite_db"].engine.dispose()
