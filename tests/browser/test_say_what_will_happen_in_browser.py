"""The attendee's pages say what will happen, in a real browser against the suite as real processes and
the Stripe stand-in: the review step (with JavaScript and without), every error of a submit at once with
the focus on the summary, and the refund shown before a cancellation is confirmed. Each of these pages
passes axe-core at 1280 and 375 px.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from devtools.stack import Stack
from devtools.stripe_standin import StripeStandin
from tests.browser.axe import assert_accessible_at_all_widths
from tests.browser.conftest import TIMEOUT_MS, Organiser
from tests.support.factories import iso
from tests.support.stack import running_stack, url

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SECRET = "whsec_test_say_what_will_happen"
MEMBER_EMAIL = "zoe.lukasiewicz@szpital.example"


@pytest.fixture(scope="module")
def standin() -> Iterator[StripeStandin]:
    with StripeStandin(webhook_secret=SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, standin: StripeStandin) -> Iterator[Stack]:
    """The conftest's suite, paying on the stand-in, whose signed webhooks reach registration."""
    with running_stack(tmp_path_factory.mktemp("stack"), STRIPE_API_BASE=standin.url,
                       STRIPE_WEBHOOK_SECRET=SECRET) as running:
        response = requests.post(f"{standin.url}/_standin/webhook", timeout=10,
                                 json={"url": f"{url(running, 'registration')}/webhooks/stripe"})
        response.raise_for_status()
        yield running


def api(organiser: Organiser, method: str, path: str, expected: int = 201, **kwargs: Any) -> Any:
    response = requests.request(method, f"{organiser.base}/api/v1{path}", headers=organiser.headers, timeout=30,
                                **kwargs)
    assert response.status_code == expected, (path, response.text)
    return response.json()


def congress(organiser: Organiser) -> str:
    """Prices include 20% VAT; a €600 non-member and a €450 member rate, a €90 workshop, a 10% code for
    everyone; a full refund until 30 days from now, less a €25 cancellation fee."""
    api(organiser, "PUT", "/members", 200, files={"file": (
        "members.csv", f"email,member_number,name\n{MEMBER_EMAIL},M-1043,Zoë Łukasiewicz\n".encode(), "text/csv")})
    slug = f"congress-{uuid.uuid4().hex[:8]}"
    api(organiser, "POST", "/events", json={
        "slug": slug, "title": "Congress of Imaging Informatics", "kind": "conference", "starts_at": iso(days=40),
        "ends_at": iso(days=41), "timezone": "Europe/Vienna", "capacity": 50, "currency": "EUR",
        "venue": "Austria Center Vienna", "vat_rate": "20", "prices_include_vat": True,
        "refund_full_until": iso(days=30), "cancellation_fee": 2500})
    for rate in ({"code": "non-member", "name": "Non-member", "amount": 60000, "category": "non_member"},
                 {"code": "member", "name": "Member", "amount": 45000, "category": "member"}):
        api(organiser, "POST", f"/events/{slug}/rates", json={**rate, "currency": "EUR"})
    api(organiser, "POST", f"/events/{slug}/sessions", json={
        "code": "W1", "title": "Hands-on structured reporting", "starts_at": iso(days=40),
        "ends_at": iso(days=40, hours=2), "credits": "2", "is_workshop": True, "amount": 9000, "capacity": 20})
    api(organiser, "POST", f"/events/{slug}/discount-codes", json={"code": "RAD10", "percent_off": 10})
    return slug


def submit(page: Page, button: str) -> int:
    """Clicks a submit button and returns the status of the POST's own answer."""
    with page.expect_navigation(), page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=button, exact=True).click()
    return answer.value.status


def fill_person(page: Page, email: str) -> None:
    page.get_by_label("Given name").fill("Zoë")
    page.get_by_label("Family name").fill("Łukasiewicz")
    page.get_by_label("Email").fill(email)
    page.locator("#consent").check()


def test_review_step_shows_the_total_then_change_keeps_everything_and_confirm_goes_to_payment(
        stack: Stack, standin: StripeStandin, organiser: Organiser, new_page: Any) -> None:
    base = url(stack, "registration")
    slug = congress(organiser)
    page = new_page()
    page.goto(f"{base}/events/{slug}/register")
    fill_person(page, "zoe@hospital.example")
    page.get_by_role("radio", name=re.compile(r"^Non-member: ")).check()
    page.get_by_label(re.compile(r"^Hands-on structured reporting")).check()
    page.get_by_label("Discount code").fill("rad10")
    page.get_by_label("Institution").fill("AKH Wien")

    assert submit(page, "Continue") == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your registration")
    expect(page.locator("#line-rate")).to_contain_text("€600.00")
    expect(page.locator("#line-discount")).to_contain_text("−€60.00")
    expect(page.locator("#line-workshop-W1")).to_contain_text("€90.00")
    expect(page.locator("#line-total")).to_contain_text("€630.00")
    expect(page.locator("#line-vat")).to_contain_text("€105.00")
    expect(page.get_by_role("button", name="Confirm and pay", exact=True)).to_be_visible()
    assert_accessible_at_all_widths(page, "the review step")
    assert organiser.roster(slug) == [], "the review booked nothing"

    # Change: the form again, everything as it was typed and chosen.
    assert submit(page, "Change") == 200
    expect(page.get_by_label("Given name")).to_have_value("Zoë")
    expect(page.get_by_label("Email")).to_have_value("zoe@hospital.example")
    expect(page.get_by_label("Discount code")).to_have_value("rad10")
    expect(page.get_by_label("Institution")).to_have_value("AKH Wien")
    expect(page.get_by_role("radio", name=re.compile(r"^Non-member: "))).to_be_checked()
    expect(page.get_by_label(re.compile(r"^Hands-on structured reporting"))).to_be_checked()
    expect(page.locator("#consent")).to_be_checked()

    # Without the workshop, reviewed again, then confirmed: the payment page asks for the reviewed total.
    page.get_by_label(re.compile(r"^Hands-on structured reporting")).uncheck()
    assert submit(page, "Continue") == 200
    expect(page.locator("#line-total")).to_contain_text("€540.00")
    page.get_by_role("button", name="Confirm and pay", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(standin.url)}/pay/cs_test_\w+$"))
    expect(page.locator("#total")).to_have_text("540.00 EUR")
    [person] = organiser.roster(slug)
    assert (person["status"], person["amount_due"], person["workshops"]) == ("pending_payment", 54000, [])


def test_review_step_works_without_javascript(stack: Stack, organiser: Organiser, chromium: Any) -> None:
    base = url(stack, "registration")
    slug = organiser.create_free_webinar(capacity=10)["slug"]
    context = chromium.new_context(locale="en-GB", java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(f"{base}/events/{slug}/register")
        fill_person(page, "nojs@hospital.example")
        assert submit(page, "Continue") == 200
        expect(page.locator("#line-total")).to_contain_text("free")
        assert submit(page, "Change") == 200
        expect(page.get_by_label("Email")).to_have_value("nojs@hospital.example")
        assert submit(page, "Continue") == 200
        assert submit(page, "Confirm") == 303
        expect(page.get_by_role("status")).to_contain_text("You are registered")
        expect(page.locator("#status")).to_have_text("Confirmed")
    finally:
        context.close()
    assert [(p["email"], p["status"]) for p in organiser.roster(slug)] == [("nojs@hospital.example", "confirmed")]


def test_every_error_of_a_submit_is_shown_at_once_and_the_summary_takes_the_focus(
        stack: Stack, organiser: Organiser, new_page: Any) -> None:
    base = url(stack, "registration")
    slug = congress(organiser)
    page = new_page()
    page.goto(f"{base}/events/{slug}/register")
    fill_person(page, "stranger@hospital.example")
    page.get_by_label("Given name").fill("")
    page.get_by_role("radio", name=re.compile(r"^Member: ")).check()
    page.get_by_label(re.compile(r"^Member number")).fill("M-9999")
    page.get_by_label("Discount code").fill("NOPE")

    assert submit(page, "Continue") == 422
    summary = page.get_by_role("alert")
    expect(summary).to_contain_text("Please check the form: 3 problems")
    expect(summary).to_contain_text("Enter your given name.")
    expect(summary).to_contain_text("not on the member list")
    expect(summary).to_contain_text("Unknown discount code.")
    expect(page.locator("#error-summary")).to_be_focused()
    for field in ("given_name", "discount_code"):
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
        expect(page.locator(f"#{field}-error")).to_be_visible()
    for jargon in ("Missing data", "Length must be"):
        expect(page.get_by_role("main")).not_to_contain_text(jargon)
    assert_accessible_at_all_widths(page, "the sign-up form with every error at once")
    page.get_by_role("link", name=re.compile(r"^Discount code: ")).click()
    assert page.url.endswith("#discount_code")
    assert organiser.roster(slug) == []


def test_cancelling_shows_the_refund_before_it_is_confirmed(stack: Stack, organiser: Organiser,
                                                             new_page: Any) -> None:
    base = url(stack, "registration")
    slug = congress(organiser)
    signed_up = requests.post(f"{base}/api/v1/events/{slug}/registrations", timeout=30, json={
        "email": "ana@hospital.example", "given_name": "Ana", "family_name": "Satō", "rate": "non-member",
        "consent": True})
    assert signed_up.status_code == 201, signed_up.text
    page = new_page()
    page.goto(signed_up.json()["payment_url"])
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/r/[A-Za-z0-9_-]+\?paid=1$"))
    deadline = time.monotonic() + 30
    while page.locator("#status").inner_text().strip() != "Confirmed":
        assert time.monotonic() < deadline, "the payment's webhook did not confirm the registration"
        time.sleep(0.5)
        page.reload()
    expect(page.locator("#status")).to_have_class(re.compile(r"\bbadge-confirmed\b"))
    assert_accessible_at_all_widths(page, "the attendee's page, grouped, paid")

    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your registration?")
    expect(page.locator("#refund-outcome")).to_have_text(
        "You get back €575.00 of the €600.00 you paid, to your original payment method; €25.00 is kept under "
        "the event's cancellation policy.")
    expect(page.locator("#refund-policy")).to_contain_text("A cancellation fee of €25.00")
    assert_accessible_at_all_widths(page, "the cancel page with its refund")
    [person] = organiser.roster(slug)
    assert person["status"] == "confirmed", "showing the refund cancelled nothing"

    assert submit(page, "Yes, cancel my registration") == 303
    expect(page.locator("#status")).to_have_text("Cancelled and refunded")
    [person] = organiser.roster(slug)
    assert (person["status"], person["amount_paid"]) == ("refunded", 60000)
