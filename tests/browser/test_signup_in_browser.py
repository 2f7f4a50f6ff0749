"""An attendee signs up in a real browser against the suite running as real processes.

Free webinar with one seat: the first person fixes a rejected form and is confirmed, the
second is waitlisted, the first cancels from their own page and the second moves up, as the
organiser's roster shows. Plus: the form refuses a POST without its CSRF token, and a name
corrected on the self-service page reaches the roster exactly as typed.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from devtools.stack import Stack
from tests.browser.conftest import Organiser
from tests.support.stack import url

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

GIVEN, FAMILY = "Zoë", "Łukasiewicz-Ωmega"
MANAGE_PATH = re.compile(r"^/r/[A-Za-z0-9_-]{20,64}$")


def open_form(page: Page, base: str, slug: str) -> None:
    page.goto(f"{base}/events/{slug}")
    page.get_by_role("link", name="Register").click()
    page.wait_for_url(f"{base}/events/{slug}/register")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Register for")


def submit(page: Page, button: str = "Continue") -> int:
    """Clicks a submit button, waits for the page it leads to, and returns the status of the POST's
    own answer (303 for a redirect, 422 for a form shown again with its errors)."""
    with page.expect_navigation(), page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=button, exact=True).click()
    return answer.value.status


def fill_form(page: Page, given: str, family: str, email: str, consent: bool) -> None:
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Free: free").check()
    page.locator("#consent").set_checked(consent)


def field_error(page: Page, field: str) -> Any:
    """The error printed inside the same .field block as the input, tied to it by aria-describedby."""
    control = page.locator(f"#{field}")
    expect(control).to_have_attribute("aria-invalid", "true")
    expect(control).to_have_attribute("aria-describedby", f"{field}-error")
    return page.locator(f".field:has(#{field}) #{field}-error.field-error")


def test_sign_up_waitlist_cancel_and_promotion(stack: Stack, organiser: Organiser, new_page: Any, shots: Path) -> None:
    base = url(stack, "registration")
    event = organiser.create_free_webinar(capacity=1)
    slug = event["slug"]

    # First attendee: a bad email and no consent are refused next to the fields, nothing typed is lost.
    first = new_page()
    open_form(first, base, slug)
    fill_form(first, GIVEN, FAMILY, "zoe.lukasiewicz(at)hospital", consent=False)
    first.get_by_label("Institution").fill("Universitätsklinikum Köln")
    assert submit(first) == 422
    expect(first.get_by_role("alert")).to_contain_text("Please check the form")
    expect(field_error(first, "email")).to_be_visible()
    expect(field_error(first, "consent")).to_have_text("Consent is required to register.")
    for field in ("given_name", "family_name"):
        expect(first.locator(f"#{field}")).not_to_have_attribute("aria-invalid", "true")
        expect(first.locator(f"#{field}-error")).to_have_count(0)
    expect(first.get_by_label("Given name")).to_have_value(GIVEN)
    expect(first.get_by_label("Family name")).to_have_value(FAMILY)
    expect(first.get_by_label("Email")).to_have_value("zoe.lukasiewicz(at)hospital")
    expect(first.get_by_label("Institution")).to_have_value("Universitätsklinikum Köln")
    expect(first.get_by_label("Free: free")).to_be_checked()
    expect(first.locator("#consent")).not_to_be_checked()
    assert organiser.roster(slug) == []
    first.screenshot(path=str(shots / "signup-form-error.png"), full_page=True)

    # Corrected and sent again: the attendee lands on their own page, confirmed.
    first.get_by_label("Email").fill("zoe.lukasiewicz@hospital.example")
    first.locator("#consent").check()
    assert submit(first) == 200  # the review step
    assert submit(first, "Confirm") == 303
    assert MANAGE_PATH.match(urlsplit(first.url).path), first.url
    expect(first.get_by_role("status")).to_contain_text("You are registered")
    expect(first.locator("#status")).to_have_text("Confirmed")
    expect(first.locator("#attendee-name")).to_have_text(f"{GIVEN} {FAMILY}")
    first.screenshot(path=str(shots / "signup-confirmed.png"), full_page=True)
    first_manage = urljoin(first.url, urlsplit(first.url).path)
    reference = first.locator("dt:text-is('Reference') + dd").inner_text().strip()

    # The calendar file: a download in the browser, and the same link fetched directly.
    calendar_link = first.get_by_role("link", name="Add to calendar (.ics)")
    with first.expect_download() as download_info:
        calendar_link.click()
    download = download_info.value
    assert download.suggested_filename == f"{slug}.ics"
    downloaded = Path(download.path()).read_text(encoding="utf-8")
    response = requests.get(urljoin(first.url, calendar_link.get_attribute("href") or ""), timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/calendar")
    uid_line = f"UID:registration-{reference}@{urlsplit(base).hostname}"
    for text in (response.text, downloaded):
        lines = text.replace("\r\n ", "").splitlines()  # unfold RFC 5545 continuation lines
        assert lines[0] == "BEGIN:VCALENDAR"
        assert uid_line in lines
        assert "STATUS:CONFIRMED" in lines
        assert any(re.match(r"SUMMARY[;:]", line) and event["title"] in line for line in lines)  # ;LANGUAGE=en

    # Second attendee, in a separate browser: the only seat is taken, so the waiting list.
    second = new_page()
    second.goto(f"{base}/events/{slug}")
    expect(second.get_by_role("status")).to_contain_text("fully booked")
    open_form(second, base, slug)
    fill_form(second, "Jürgen", "O’Brien-Nakamura", "j.obrien@clinic.example", consent=True)
    assert submit(second) == 200
    expect(second.locator("#next-step")).to_contain_text("you join the waiting list")
    assert submit(second, "Confirm") == 303
    assert MANAGE_PATH.match(urlsplit(second.url).path), second.url
    expect(second.get_by_role("status")).to_contain_text("you are on the waiting list")
    expect(second.locator("#status")).to_have_text(re.compile(r"^On the waiting list \(position 1\)$"))
    expect(second.locator("#status")).to_have_attribute("data-status", "waitlisted")

    # The first attendee cancels from their page, through the confirmation step.
    first.goto(first_manage)
    first.get_by_role("link", name="Cancel my registration").click()
    expect(first.get_by_role("heading", level=1)).to_have_text("Cancel your registration?")
    expect(first.get_by_role("main")).to_contain_text(reference)
    assert submit(first, "Yes, cancel my registration") == 303
    expect(first.get_by_role("status")).to_contain_text("Your registration is cancelled.")
    expect(first.locator("#status")).to_have_text("Cancelled")
    expect(first.get_by_role("link", name="Cancel my registration")).to_have_count(0)

    # The freed seat went to the second attendee, as their page and the organiser's roster show.
    second.reload()
    expect(second.locator("#status")).to_have_text("Confirmed")
    roster = {item["email"]: item for item in organiser.roster(slug)}
    assert {email: item["status"] for email, item in roster.items()} == {
        "zoe.lukasiewicz@hospital.example": "cancelled",
        "j.obrien@clinic.example": "confirmed",
    }
    zoe = roster["zoe.lukasiewicz@hospital.example"]
    assert (zoe["given_name"], zoe["family_name"], zoe["reference"]) == (GIVEN, FAMILY, reference)
    assert zoe["answers"] == {"institution": "Universitätsklinikum Köln"}
    assert (roster["j.obrien@clinic.example"]["given_name"], roster["j.obrien@clinic.example"]["family_name"]) == (
        "Jürgen", "O’Brien-Nakamura")


def test_form_post_without_csrf_token_is_refused(stack: Stack, organiser: Organiser) -> None:
    base = url(stack, "registration")
    slug = organiser.create_free_webinar(capacity=1)["slug"]
    form_url = f"{base}/events/{slug}/register"
    browser = requests.Session()
    page = browser.get(form_url, timeout=10)
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token, "the form carries no CSRF token"
    fields = {"given_name": GIVEN, "family_name": FAMILY, "email": "forged@hospital.example", "rate": "free",
              "consent": "yes", "form_key": "csrf-test"}

    # With the session cookie but no token, with a made-up token, and from a stranger with no session at all.
    attempts = {
        "no token": (browser, fields),
        "made-up token": (browser, {**fields, "csrf_token": "forged"}),
        "another session's token": (requests.Session(), {**fields, "csrf_token": token.group(1)}),
    }
    for attempt, (client, data) in attempts.items():
        refused = client.post(form_url, data=data, allow_redirects=False, timeout=10)
        assert refused.status_code == 400, f"{attempt}: {refused.status_code} {refused.headers.get('Location')}"
        assert "CSRF" in refused.text, attempt
    assert organiser.roster(slug) == []

    # The same form with its token goes through, so the refusals above were the CSRF check.
    accepted = browser.post(form_url, data={**fields, "csrf_token": token.group(1)}, allow_redirects=False, timeout=10)
    assert accepted.status_code == 303, accepted.text
    assert [item["email"] for item in organiser.roster(slug)] == ["forged@hospital.example"]


def test_name_corrected_on_self_service_page_reaches_roster(stack: Stack, organiser: Organiser,
                                                           new_page: Any) -> None:
    base = url(stack, "registration")
    slug = organiser.create_free_webinar(capacity=5)["slug"]
    response = requests.post(f"{base}/api/v1/events/{slug}/registrations", timeout=10, json={
        "email": "zoe@hospital.example", "given_name": "Zoe", "family_name": "Lukasiewicz-Omega", "rate": "free",
        "consent": True})
    assert response.status_code == 201, response.text
    manage = response.json()["manage_url"]

    page = new_page()
    page.goto(manage)
    expect(page.locator("#attendee-name")).to_have_text("Zoe Lukasiewicz-Omega")

    # An empty family name is refused next to the field, the given name typed so far is kept.
    page.get_by_label("Given name").fill(GIVEN)
    page.get_by_label("Family name").fill("   ")
    assert submit(page, "Save name") == 422
    expect(field_error(page, "family_name")).to_be_visible()
    expect(page.get_by_label("Given name")).to_have_value(GIVEN)
    before = organiser.roster(slug)
    assert [(i["given_name"], i["family_name"]) for i in before] == [("Zoe", "Lukasiewicz-Omega")]

    # Corrected: decomposed and precomposed letters, Greek and a typographic apostrophe, kept as typed.
    family = "Łukasiewicz-Ωmega D’Ängelo"
    given = "Zoë Ana\u0301"  # the á of Ana as a + combining acute: not normalised away
    page.get_by_label("Given name").fill(given)
    page.get_by_label("Family name").fill(family)
    assert submit(page, "Save name") == 303
    expect(page.get_by_role("status")).to_have_text("Your name is updated.")
    expect(page.locator("#attendee-name")).to_have_text(f"{given} {family}")
    after = organiser.roster(slug)
    assert [(i["given_name"], i["family_name"]) for i in after] == [(given, family)]
    moved = dt.datetime.fromisoformat(after[0]["updated_at"]) > dt.datetime.fromisoformat(before[0]["updated_at"])
    assert moved, "updated_at did not move: a roster sync by updated_since would miss the correction"
