"""The whole paid journey in a real browser, against the suite running as real processes and the
Stripe stand-in (the real stripe library on the server side, signed webhooks back to registration).

An attendee opens the conference page, registers at the member rate with a discount code, is sent
to the stand-in's checkout page, pays, comes back to their own page, sees it confirmed once the
webhook has landed, and downloads a receipt whose text says what they paid, the VAT in it, the
society's details and their name.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests
from playwright.sync_api import Page, expect

from devtools.stack import Stack
from devtools.stripe_standin import StripeStandin
from tests.browser.conftest import Organiser
from tests.support.factories import iso
from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SECRET = "whsec_test_paid_journey"
GIVEN, FAMILY = "Zoë", "Łukasiewicz"
EMAIL = "zoe.lukasiewicz@szpital.example"
MANAGE_PATH = re.compile(r"^/r/[A-Za-z0-9_-]{20,64}$")


@pytest.fixture(scope="module")
def standin() -> Iterator[StripeStandin]:
    with StripeStandin(webhook_secret=SECRET) as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, standin: StripeStandin) -> Iterator[Stack]:
    """The conftest's suite, with registration talking to the in-process stand-in instead of Stripe."""
    with running_stack(tmp_path_factory.mktemp("stack"), STRIPE_API_BASE=standin.url,
                       STRIPE_WEBHOOK_SECRET=SECRET) as running:
        response = requests.post(f"{standin.url}/_standin/webhook", timeout=10,
                                 json={"url": f"{url(running, 'registration')}/webhooks/stripe"})
        response.raise_for_status()
        yield running


def paid_conference(organiser: Organiser) -> str:
    headers, base = organiser.headers, organiser.base
    response = requests.put(f"{base}/api/v1/organisation/billing", headers=headers, timeout=10, json={
        "legal_name": "European Society of Imaging Informatics", "address": "Am Gestade 1\n1010 Wien\nAustria",
        "vat_number": "ATU12345678", "billing_email": "office@esii.example"})
    assert response.status_code == 200, response.text
    response = requests.put(f"{base}/api/v1/members", headers=headers, timeout=10, files={"file": (
        "members.csv", f"email,member_number,name\n{EMAIL},M-1043,{GIVEN} {FAMILY}\n".encode(), "text/csv")})
    assert response.status_code == 200, response.text
    slug = f"congress-{uuid.uuid4().hex[:8]}"
    response = requests.post(f"{base}/api/v1/events", headers=headers, timeout=10, json={
        "slug": slug, "title": "Congress of Imaging Informatics", "kind": "conference",
        "starts_at": iso(days=40), "ends_at": iso(days=41), "timezone": "Europe/Vienna", "capacity": 50,
        "currency": "EUR", "venue": "Austria Center Vienna", "vat_rate": "20", "prices_include_vat": True,
        "refund_full_until": iso(days=30), "cancellation_fee": 2500})
    assert response.status_code == 201, response.text
    for rate in ({"code": "member", "name": "Member", "amount": 45000, "category": "member"},
                 {"code": "non-member", "name": "Non-member", "amount": 60000, "category": "non_member"}):
        response = requests.post(f"{base}/api/v1/events/{slug}/rates", headers=headers, timeout=10,
                                 json={**rate, "currency": "EUR"})
        assert response.status_code == 201, response.text
    response = requests.post(f"{base}/api/v1/events/{slug}/discount-codes", headers=headers, timeout=10, json={
        "code": "RAD10", "percent_off": 10, "max_uses": 5, "rates": ["member"]})
    assert response.status_code == 201, response.text
    return slug


def wait_for_status(page: Page, label: str, timeout: float = 30.0) -> None:
    """Reloads the attendee's page until it shows ``label``: the webhook arrives when Stripe sends it."""
    deadline = time.monotonic() + timeout
    while page.locator("#status").inner_text().strip() != label:
        if time.monotonic() > deadline:
            raise AssertionError(f"the page still shows {page.locator('#status').inner_text()!r} after {timeout}s")
        time.sleep(0.5)
        page.reload()


def receipt_pdf(page: Page, link: Any) -> bytes:
    """Follows the link as the attendee does (Chromium opens the PDF in its viewer, whose page is not
    the file), then takes the file's bytes with the browser's own cookies and headers."""
    href = urljoin(page.url, link.get_attribute("href") or "")
    with page.expect_response(href) as answer:
        link.click()
    assert answer.value.status == 200 and answer.value.headers["content-type"] == "application/pdf"
    response = page.context.request.get(href)
    assert response.ok and response.headers["content-type"] == "application/pdf", response.status
    return response.body()


def test_member_rate_with_discount_code_paid_on_checkout_page_gives_a_receipt(
        stack: Stack, standin: StripeStandin, organiser: Organiser, new_page: Any, shots: Path) -> None:
    base = url(stack, "registration")
    slug = paid_conference(organiser)

    page = new_page()
    page.goto(f"{base}/events/{slug}")
    page.get_by_role("link", name="Register").click()
    page.wait_for_url(f"{base}/events/{slug}/register")
    page.get_by_label("Given name").fill(GIVEN)
    page.get_by_label("Family name").fill(FAMILY)
    page.get_by_label("Email").fill(EMAIL)
    member = page.get_by_role("radio", name=re.compile(r"^Member: "))
    expect(page.locator("label[for=rate-member]")).to_contain_text("450.00")
    expect(page.locator("label[for=rate-member]")).to_contain_text("VAT")
    expect(page.locator("label[for=rate-member]")).to_contain_text("members only")
    member.check()
    page.get_by_label("Discount code").fill("rad10")
    page.locator("#consent").check()
    page.screenshot(path=str(shots / "paid-signup-form.png"), full_page=True)

    # The review step shows the discounted total first; confirming leads to the stand-in's checkout page.
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your registration")
    expect(page.locator("#line-total")).to_contain_text("405.00")
    page.get_by_role("button", name="Confirm and pay", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(standin.url)}/pay/cs_test_\w+$"))
    expect(page.locator("#total")).to_have_text("405.00 EUR")
    expect(page.locator("#email")).to_have_text(EMAIL)
    expect(page.get_by_role("main")).to_contain_text("Congress of Imaging Informatics: Member")
    page.screenshot(path=str(shots / "paid-checkout.png"), full_page=True)

    # Pay: back on the attendee's own page, which shows Confirmed once the webhook has landed.
    page.get_by_role("button", name="Pay", exact=True).click()
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/r/[A-Za-z0-9_-]+\?paid=1$"))
    assert MANAGE_PATH.match(urlsplit(page.url).path), page.url
    expect(page.locator("#attendee-name")).to_have_text(f"{GIVEN} {FAMILY}")
    wait_for_status(page, "Confirmed")
    expect(page.locator("#status")).to_have_attribute("data-status", "confirmed")
    expect(page.locator("#ticket-code")).to_be_visible()
    expect(page.get_by_role("link", name="Pay by card")).to_have_count(0)
    page.screenshot(path=str(shots / "paid-confirmed.png"), full_page=True)

    # The organiser's roster agrees: paid by card, the discounted amount, a receipt number.
    [person] = organiser.roster(slug)
    assert (person["status"], person["rate"], person["amount_due"], person["amount_paid"],
            person["payment_method"]) == ("confirmed", "member", 40500, 40500, "card")
    number = person["receipt_number"]
    assert number and re.fullmatch(r"R\d{4}-\d{6}", number), number

    # The receipt, from the link on the page.
    link = page.get_by_role("link", name=f"Download your receipt {number} (PDF)")
    text = " ".join(pdf_text(receipt_pdf(page, link)).split())
    for expected in (number, f"{GIVEN} {FAMILY}", "European Society of Imaging Informatics", "ATU12345678",
                     "Congress of Imaging Informatics: Member", "405.00", "337.50", "67.50"):
        assert expected in text, f"{expected!r} is not on the receipt: {text}"
    assert re.search(r"VAT[^0-9]*20(\.00)?\s*%", text), f"no VAT line at 20 %: {text}"
    assert "Discount 1 -45.00" in text, f"the discount is not a line of its own: {text}"  # 450.00 then -45.00
