"""``make run`` prints ``Organiser console: <link>``, and the link signs the demo owner in.

Runs ``python -m devtools.stack`` exactly as ``make run`` does (on free loopback ports, in a
temporary VAR_DIR, with its own SMTP sink and Stripe stand-in), reads what it prints, and follows
the printed link with a browser-like ``requests.Session``: the link's page, its Sign in button
(with the form's CSRF token), the events page. Entering the same address on the sign-in page
mails a fresh link, which arrives at the sink (read through its web view, as a person would).
A second run prints a new link that works, though the first one has been used.
"""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests

from devtools.stack import DEMO_OWNER
from tests.support.console import csrf_token
from tests.support.mail import eventually
from tests.support.stack import free_port, stack_env

pytestmark = pytest.mark.e2e

REPOSITORY = Path(__file__).resolve().parents[2]
START_UP_SECONDS = 240


@contextmanager
def make_run(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """``make run`` in the foreground until it says "Press Ctrl-C"; yields its printed lines by
    label ("Organiser token", "Organiser console", ...); Ctrl-C afterwards, as a person would."""
    process = subprocess.Popen([sys.executable, "-m", "devtools.stack"], cwd=REPOSITORY, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # A start-up that hangs is stopped, so the readline below ends.
    watchdog = threading.Timer(START_UP_SECONDS, process.send_signal, (signal.SIGINT,))
    watchdog.start()
    printed: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            printed.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl-C"):
                break
        watchdog.cancel()
        assert printed and printed[-1].startswith("Press Ctrl-C"), "\n".join(printed)
        yield {label.strip(): value.strip() for label, value in
               (line.split(": ", 1) for line in printed if line.startswith("Organiser "))}
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()


def _link(lines: dict[str, str]) -> str:
    found = re.fullmatch(r"(http://\S+/console/sign-in/[\w-]+)\s.*", lines["Organiser console"])
    assert found, lines["Organiser console"]
    return found.group(1)


def _sign_in_with(link: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(link, timeout=10)
    assert page.status_code == 200 and "Sign in as Demo Organiser" in page.text, page.text
    entered = browser.post(link, data={"csrf_token": csrf_token(page.text)}, allow_redirects=False, timeout=10)
    assert entered.status_code == 303, entered.text
    assert entered.headers["Location"].endswith("/console/events")
    events = browser.get(urljoin(link, entered.headers["Location"]), timeout=10)
    assert events.status_code == 200, events.text
    return browser


def test_make_run_prints_a_console_link_that_signs_the_demo_owner_in(tmp_path: Path) -> None:
    sink_web = f"127.0.0.1:{free_port()}"
    env = stack_env(tmp_path / "var", SMTP_SINK_WEB=sink_web, STRIPE_STANDIN_LISTEN=f"127.0.0.1:{free_port()}",
                    ZOOM_STANDIN_LISTEN=f"127.0.0.1:{free_port()}")
    for own_services in ("SMTP_HOST", "STRIPE_API_KEY"):  # make run's own sink and stand-in
        env.pop(own_services, None)
    registration = env["REGISTRATION_URL"]

    with make_run(env) as lines:
        assert lines["Organiser token"].startswith("sto_")
        first = _link(lines)
        assert first.startswith(f"{registration}/console/sign-in/")
        _sign_in_with(first)
        assert requests.post(first, timeout=10).status_code in (400, 410)  # spent (or refused without a token)

        # The same address on the sign-in page: a fresh link, mailed through notifications.
        browser = requests.Session()
        form = browser.get(f"{registration}/console/sign-in", timeout=10)
        sent = browser.post(f"{registration}/console/sign-in", timeout=10,
                            data={"email": DEMO_OWNER, "csrf_token": csrf_token(form.text)})
        assert sent.status_code == 200 and "Check your mail" in sent.text

        def mailed() -> list[dict[str, str]]:
            caught = requests.get(f"http://{sink_web}/api/messages", timeout=5).json()
            return [mail for mail in caught if DEMO_OWNER in mail["to"]]

        mail = eventually(mailed, timeout=60)[0]
        shown = requests.get(f"http://{sink_web}/messages/{mail['name']}", timeout=5).text
        mailed_link = re.search(rf"{re.escape(registration)}/console/sign-in/[\w-]+", shown)
        assert mailed_link, shown
        _sign_in_with(mailed_link.group(0))

    with make_run(env) as again:  # the second make run, on the same data
        second = _link(again)
        assert second != first
        _sign_in_with(second)


def test_the_demo_owner_is_seeded_once(tmp_path: Path) -> None:
    """A second seed-demo (every make run seeds) keeps the one owner, and the CLI refuses a second
    person with their address."""
    env = stack_env(tmp_path / "var")

    def flask(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "flask", "--app", "registration", *args], cwd=REPOSITORY,
                              env=env, capture_output=True, text=True)

    assert flask("db", "upgrade").returncode == 0
    for _ in range(2):
        seeded = flask("seed-demo", "--token-file", str(tmp_path / "var" / "demo-token"))
        assert seeded.returncode == 0, seeded.stderr
    added = flask("organisers", "add", "--org", "demo", "--email", DEMO_OWNER, "--name", "Someone", "--role", "viewer")
    assert added.returncode != 0 and "already belongs" in added.stderr
    link = flask("organisers", "link", "--org", "demo", "--email", DEMO_OWNER.upper())
    assert link.returncode == 0 and "/console/sign-in/" in link.stdout
