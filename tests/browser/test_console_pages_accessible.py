"""Every page of the organiser console passes axe-core, at the default width and at 375 px without
sideways scrolling, in Debian's Chromium.

The pages are taken from registration's URL map (every GET route under /console/), so a new page is
checked without anyone listing it; a route with a URL parameter this module cannot fill fails the
test rather than being left out. Forms are also checked as they come back with errors, and the pages
that answer an action (a new token shown once, a refusal).
"""
from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from devtools.stack import Stack
from tests.browser.axe import assert_accessible_at_all_widths
from tests.support.factories import event_payload, iso
from tests.support.mail import eventually
from tests.support.stack import running_stack, url

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

OWNER = "owner@society.example"
SLUG = "console-a11y"


def console_get_rules() -> list[tuple[str, str]]:
    """(endpoint, rule) of every GET route under /console/, read from the app's URL map."""
    from registration import create_app
    from tests.support.apps import make_settings

    with tempfile.TemporaryDirectory() as directory:
        app = create_app(make_settings("registration", f"sqlite:///{directory}/map.db", Path(directory)))
        rules = [(rule.endpoint, rule.rule) for rule in app.url_map.iter_rules()
                 if rule.rule.startswith("/console/") and "GET" in (rule.methods or ())]
        app.extensions["suite_db"].engine.dispose()
    return sorted(rules, key=lambda item: item[1])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="module")
def objects(stack: Stack) -> dict[str, Any]:
    """One of everything a console URL can name, made through the APIs: an event with a session and a
    rate, a registration, credit rules, an issuing job, the owner (person 1) and a token (token 1)."""
    registration, certificates = url(stack, "registration"), url(stack, "certificates")
    auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
    subprocess.run([sys.executable, "-m", "flask", "--app", "registration", "organisers", "add", "--org", "society",
                    "--email", OWNER, "--name", "Olga Owner", "--role", "owner"],
                   env=stack.env, check=True, capture_output=True, timeout=60)
    # One moment for all: times taken one call apart could straddle a second, and a session ending a
    # second after its event is refused.
    starts, ends = iso(days=3), iso(days=3, hours=2)
    created = requests.post(f"{registration}/api/v1/events", headers=auth, timeout=10,
                            json=event_payload(slug=SLUG, starts_at=starts, ends_at=ends))
    assert created.status_code == 201, created.text
    for path, body in (("sessions", {"code": "LIVE", "title": "Live", "starts_at": starts, "ends_at": ends,
                                     "credits": "2"}),
                       ("rates", {"code": "free", "name": "Free", "amount": 0, "currency": "EUR",
                                  "category": "other"})):
        assert requests.post(f"{registration}/api/v1/events/{SLUG}/{path}", headers=auth, json=body,
                             timeout=10).status_code == 201
    person = requests.post(f"{registration}/api/v1/events/{SLUG}/registrations", timeout=10, json={
        "email": "zoe@szpital.example", "given_name": "Zoë", "family_name": "Łukasiewicz", "rate": "free",
        "consent": True}).json()
    rules = requests.put(f"{certificates}/api/v1/events/{SLUG}/accreditation", headers=auth, timeout=10, json={
        "body": "EACCME", "statement": "Accredited with 2 European CME credits.", "signatory": "Prof. Eva de Vries"})
    assert rules.status_code == 200, rules.text
    speaker = requests.post(f"{registration}/api/v1/events/{SLUG}/faculty", headers=auth, timeout=10, json={
        "name": "Dr Ada Quinn", "role": "speaker", "email": "ada@hospital.example", "sessions": ["LIVE"],
        "disclosures": [{"company": "Siemens Healthineers", "relationship": "Consultant"}]})
    assert speaker.status_code == 201, speaker.text
    job = requests.post(f"{certificates}/api/v1/events/{SLUG}/certificates", headers=auth, timeout=10).json()
    eventually(lambda: requests.get(f"{certificates}/api/v1/jobs/{job['id']}", headers=auth,
                                    timeout=10).json()["status"] == "done", timeout=60)
    return {"slug": SLUG, "registration_id": person["id"], "job_id": job["id"], "template": "registration_confirmed",
            "person_id": 1, "token_id": 1, "code": "LIVE", "faculty_id": speaker.json()["id"],
            "system": rules.json()["credit_systems"][0]["code"]}


def signed_in_page(stack: Stack, new_page: Any) -> Page:
    page = new_page()
    page.goto(stack.sign_in_link("society", OWNER))
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    return page


def check(page: Page, what: str, problems: list[str]) -> None:
    try:
        assert_accessible_at_all_widths(page, what)
    except AssertionError as problem:
        problems.append(str(problem))


def test_every_console_page_passes_axe(stack: Stack, objects: dict[str, Any], new_page: Any) -> None:
    base = url(stack, "registration")
    problems: list[str] = []
    page = signed_in_page(stack, new_page)
    checked = 0
    for endpoint, rule in console_get_rules():
        if endpoint in ("console.redeem", "console.index"):
            continue  # the link's page is checked below, signed out; /console/ only redirects
        # An accreditor report is one of a few files: the learners' CSV stands for them (a download).
        path = re.sub(r"<any\([^)]*\):report>", "learners.csv", rule)
        for name, value in objects.items():
            path = path.replace(f"<slug:{name}>", str(value)).replace(f"<int:{name}>", str(value))
            path = path.replace(f"<{name}>", str(value))
        assert "<" not in path, f"{endpoint}: no object for a parameter of {rule}"
        if path.endswith(".csv"):
            assert page.request.get(base + path).headers["content-type"].startswith("text/csv"), path
            continue  # a download, not a page
        answer = page.goto(base + path)
        assert answer is not None and answer.status == 200, f"{endpoint} {path}: {answer and answer.status}"
        check(page, f"{endpoint} ({path})", problems)
        checked += 1
    assert checked >= 25, checked

    # Forms shown again with their errors, and pages that answer an action.
    page.goto(f"{base}/console/events/new")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the event").click()
    expect(page.locator("#error-summary, .error-summary").first).to_be_visible()
    check(page, "new event with errors", problems)
    page.goto(f"{base}/console/tokens")
    page.get_by_label("Name").fill("society web site")
    with page.expect_navigation():
        page.get_by_role("button", name="Create token").click()
    expect(page.get_by_text("not shown again")).to_be_visible()
    check(page, "a new token, shown once", problems)
    page.goto(f"{base}/console/events/{SLUG}/faculty")
    page.get_by_label("Financial relationships, listed below").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Add to the faculty").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, "the faculty form with errors", problems)
    with page.expect_navigation():
        page.get_by_role("button", name="Email the disclosure link to Dr Ada Quinn").click()
    expect(page.get_by_text("on its way to Dr Ada Quinn")).to_be_visible()
    check(page, "the faculty page after sending a link", problems)
    page.goto(f"{base}/console/integrations/zoom")
    with page.expect_navigation():
        page.get_by_role("button", name="Connect Zoom").click()
    expect(page.locator("#error-summary")).to_be_visible()
    check(page, "the Zoom connection form with errors", problems)
    page.goto(f"{base}/console/events/{SLUG}/edit")
    with page.expect_navigation():
        page.get_by_role("button", name="Create the Zoom webinar").click()
    expect(page.get_by_text("Zoom is not connected")).to_be_visible()
    check(page, "the event's settings after Create the Zoom webinar was refused", problems)
    page.goto(f"{base}/console/events/no-such-event")
    check(page, "the console's 404 page", problems)

    signed_out = new_page()
    for path in ("/console/sign-in", "/console/sign-in/not-a-real-link"):
        signed_out.goto(base + path)
        check(signed_out, f"signed out: {path}", problems)
    signed_out.goto(stack.sign_in_link("society", OWNER))
    check(signed_out, "the sign-in link's page", problems)
    assert not problems, "\n\n".join(problems)


def test_the_console_at_375_px_has_its_navigation_and_forms_usable(stack: Stack, objects: dict[str, Any],
                                                                   new_page: Any) -> None:
    """On a phone the navigation wraps: every link of it is on the screen, and nothing scrolls sideways."""
    page = signed_in_page(stack, new_page)
    page.set_viewport_size({"width": 375, "height": 800})
    base = url(stack, "registration")
    page.goto(f"{base}/console/events/{SLUG}/check-in")
    for link in ("Events", "Members", "Messages", "Audit log", "People", "API tokens"):
        expect(page.get_by_role("navigation", name="Console").get_by_role("link", name=link)).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
