"""Fixtures for the browser tests: Debian's Chromium through Playwright, the suite as real processes
(exactly what ``make run`` starts, through ``tests.support.stack``) and an organiser of that suite."""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.stack import Stack
from tests.support.stack import running_stack, url

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIMEOUT_MS = 15_000
SCREENSHOTS_ENV = "BROWSER_SCREENSHOTS"  # a directory; the tests save screenshots of key pages there


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium, headless. Never skipped: a missing browser is a broken test environment."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs Debian's chromium package "
                    "(devtools/system-packages.sh) before running the tests.", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def new_page(chromium: Any) -> Iterator[Any]:
    """Opens a page in a fresh browser context (its own cookies: one attendee each)."""
    contexts = []

    def _open() -> Any:
        context = chromium.new_context(locale="en-GB", accept_downloads=True)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    directory = Path(os.environ.get(SCREENSHOTS_ENV) or tmp_path / "shots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The whole suite on SQLite and free loopback ports, shared by the tests of one module."""
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@dataclass
class Organiser:
    base: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def create_free_webinar(self, capacity: int | None) -> dict[str, Any]:
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=14)
        response = requests.post(f"{self.base}/api/v1/events", headers=self.headers, timeout=10, json={
            "slug": f"e2e-webinar-{uuid.uuid4().hex[:8]}", "title": "Photon-counting CT: first clinical results",
            "kind": "webinar", "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
            "timezone": "Europe/Vienna", "capacity": capacity, "currency": "EUR", "join_url": "https://zoom.us/j/123",
        })
        assert response.status_code == 201, response.text
        event = response.json()
        response = requests.post(f"{self.base}/api/v1/events/{event['slug']}/rates", headers=self.headers, timeout=10,
                                 json={"code": "free", "name": "Free", "amount": 0, "currency": "EUR",
                                       "category": "other"})
        assert response.status_code == 201, response.text
        return event

    def roster(self, slug: str) -> list[dict[str, Any]]:
        response = requests.get(f"{self.base}/api/v1/events/{slug}/registrations", headers=self.headers, timeout=10)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["next_cursor"] is None
        return body["items"]


@pytest.fixture(scope="module")
def organiser(stack: Stack) -> Organiser:
    """A token made with the documented command, run against the stack's own database."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "registration", "tokens", "create", "--org", "society", "--name", "e2e"],
        env=stack.env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return Organiser(url(stack, "registration"), result.stdout.strip().splitlines()[-1].strip())
