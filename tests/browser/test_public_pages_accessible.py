"""The pages attendees see pass axe-core (WCAG 2.0/2.1 A and AA, best practices) without a single
violation, at the browser's default width and 375 px wide, where they must not scroll sideways.

Registration: the list of events, an event page with its programme, the sign-up form (empty and
shown again with its errors), the attendee's own page (waiting for payment, just registered,
cancelled), the invoice request (empty and with errors), the cancel page, and the page a broken
link leads to. Certificates: the participant's page (the evaluation overall and of the session
attended, with their errors, then the certificate), and the verification page of a real
certificate and of an unknown code. Faculty and transcripts: the event page with its faculty, the
speaker's disclosure form (and its errors), the transcript request (and its error, and its answer),
and the transcript the mailed link opens.

The suite runs as real processes, with the Stripe stand-in so that a paid sign-up waits for payment.
"""
from __future__ import annotations

import datetime as dt
import re
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from playwright.sync_api import Page, Request, Route, expect

from devtools.smtp_sink import SmtpSink
from devtools.stack import Stack
from devtools.stripe_standin import StripeStandin
from tests.browser.axe import assert_accessible_at_all_widths
from tests.browser.conftest import Organiser
from tests.support.factories import iso
from tests.support.mail import eventually
from tests.support.stack import running_stack, url

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

EVALUATION = [
    {"id": "overall", "text": "How would you rate the programme overall?", "kind": "rating"},
    {"id": "unbiased", "text": "Was the programme free of commercial bias?", "kind": "yes_no"},
    {"id": "comments", "text": "What should we change next year?", "kind": "text", "required": False},
]


@pytest.fixture(scope="module")
def standin() -> Iterator[StripeStandin]:
    with StripeStandin() as running:
        yield running


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, standin: StripeStandin) -> Iterator[Stack]:
    """The conftest's suite, with registration creating its Checkout Sessions on the stand-in. Each page
    is loaded once per language: the limits on links and verification codes are raised to match."""
    with running_stack(tmp_path_factory.mktemp("stack"), STRIPE_API_BASE=standin.url,
                       TOKEN_RATE_LIMIT="600/minute", VERIFY_RATE_LIMIT="600/minute") as running:
        yield running


def api(organiser: Organiser, method: str, path: str, expected: int = 201, service: str = "",
        **kwargs: Any) -> Any:
    base = service or organiser.base
    response = requests.request(method, f"{base}/api/v1{path}", headers=organiser.headers, timeout=30, **kwargs)
    assert response.status_code == expected, (path, response.text)
    return response.json()


def paid_congress(organiser: Organiser) -> str:
    """A congress in Vienna with every part of the form: member, non-member and trainee rates, VAT, a
    paid workshop, discount codes, invoices for institutions, and a programme with CME credits."""
    api(organiser, "PUT", "/organisation/billing", 200, json={
        "legal_name": "European Society of Imaging Informatics", "address": "Am Gestade 1\n1010 Wien\nAustria",
        "vat_number": "ATU12345678"})
    slug = f"congress-{uuid.uuid4().hex[:8]}"
    api(organiser, "POST", "/events", json={
        "slug": slug, "title": "European Congress of Imaging Informatics", "kind": "conference",
        "starts_at": iso(days=40), "ends_at": iso(days=41, hours=2), "timezone": "Europe/Vienna", "capacity": 50,
        "currency": "EUR", "venue": "Austria Center Vienna, Bruno-Kreisky-Platz 1, 1220 Wien",
        "description": "Two days of imaging informatics: AI in the reading room, structured reporting, PACS.",
        "vat_rate": "20", "prices_include_vat": True, "allows_invoice": True})
    for code, title, days, extra in (
            ("OPEN", "Opening plenary: the radiology department of 2030", 40, {"credits": "1.5"}),
            ("W1", "Hands-on workshop: structured reporting templates", 40.2,
             {"is_workshop": True, "amount": 9000, "capacity": 20, "credits": "2"}),
            ("CLOSE", "Closing plenary", 40.9, {"credits": "1"})):
        api(organiser, "POST", f"/events/{slug}/sessions", json={
            "code": code, "title": title, "starts_at": iso(days=days), "ends_at": iso(days=days, hours=1.5), **extra})
    for rate in ({"code": "member", "name": "Member", "amount": 45000, "category": "member"},
                 {"code": "non-member", "name": "Non-member", "amount": 60000, "category": "non_member"},
                 {"code": "trainee", "name": "Resident or trainee", "amount": 15000, "category": "trainee"}):
        api(organiser, "POST", f"/events/{slug}/rates", json={**rate, "currency": "EUR"})
    return slug


LANGUAGES = ("en", "nl", "de", "fr")  # the browser's own (en-GB) first, then each other one


@pytest.fixture
def new_page(new_page: Any) -> Any:
    """The conftest's pages, each remembering the request that loaded what it shows (``Audit`` shows
    that same page again in every language)."""

    def _open() -> Page:
        page = new_page()

        def remember(request: Request) -> None:
            if request.is_navigation_request() and request.frame == page.main_frame:
                page.shown_by = request  # type: ignore[attr-defined]

        page.on("request", remember)
        return page

    return _open


class Audit:
    """Checks each page in English, Dutch, German and French, at both widths, and keeps going, so that
    one run names every page's violations; ``done`` fails with all of them.

    The page is checked as the test reached it (in the browser's English), then the request that
    loaded it is made again with the ``lang`` cookie of each other language: a GET as it was, a
    form's POST with the same body (its CSRF token included), so a form shown with its errors is
    checked with its errors in every language. A POST is only ever one the page answered without
    changing anything (a refusal, a preview, a verification) or one that answers the same when
    repeated (a transcript request): the replayed answer must have the original's status. Then the
    page is shown in English again, as the test left it, for its next steps.
    """

    def __init__(self) -> None:
        self.problems: list[str] = []

    def __call__(self, page: Page, what: str) -> None:
        request: Request = page.shown_by  # type: ignore[attr-defined]
        response = request.response()
        expected = response.status if response else None
        for language in LANGUAGES:
            if language != LANGUAGES[0]:
                _show_again(page, request, language, expected)
            try:
                assert_accessible_at_all_widths(page, f"{what} [{language}]")
            except AssertionError as failure:
                self.problems.append(str(failure))
        _show_again(page, request, LANGUAGES[0], expected)

    def done(self) -> None:
        assert not self.problems, "\n\n".join(self.problems)


def _show_again(page: Page, request: Request, language: str, expected: int | None) -> None:
    """Loads ``request`` again in ``language`` (the ``lang`` cookie every service reads: one host)."""
    page.context.add_cookies([{"name": "lang", "value": language, "url": request.url}])
    if request.method != "GET":
        body, content_type = request.post_data_buffer, request.headers.get("content-type", "")

        def resend(route: Route) -> None:
            route.continue_(method=request.method, post_data=body,
                            headers={**route.request.headers, "content-type": content_type})

        page.route(lambda address: address == request.url, resend, times=1)
    answer = page.goto(request.url)
    status = answer.status if answer else None
    assert status == expected, f"{request.method} {request.url} again in {language}: {status}, not {expected}"
    assert page.locator("html").get_attribute("lang") == language, f"{request.url} is not in {language}"


@pytest.fixture
def check() -> Audit:
    return Audit()


def submit(page: Page, button: str) -> int:
    """Clicks a submit button and returns the status of the POST's own answer."""
    with page.expect_navigation(), page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.get_by_role("button", name=button, exact=True).click()
    return answer.value.status


def test_event_list_event_page_and_sign_up_form(stack: Stack, organiser: Organiser, new_page: Any,
                                                check: Audit) -> None:
    base = url(stack, "registration")
    slug = paid_congress(organiser)
    organiser.create_free_webinar(capacity=10)
    page = new_page()

    page.goto(f"{base}/")
    expect(page.get_by_role("link", name="European Congress of Imaging Informatics")).to_be_visible()
    check(page, "the list of upcoming events")

    page.get_by_role("link", name="European Congress of Imaging Informatics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("European Congress of Imaging Informatics")
    expect(page.get_by_role("table")).to_contain_text("Opening plenary")
    check(page, "the event page")

    page.get_by_role("link", name="Register").click()
    page.wait_for_url(f"{base}/events/{slug}/register")
    expect(page.get_by_label("Discount code")).to_be_visible()
    expect(page.get_by_label(re.compile("^Hands-on workshop"))).to_be_visible()
    check(page, "the sign-up form")

    # Sent empty: shown again with the summary of errors and each error next to its field.
    assert submit(page, "Continue") == 422
    expect(page.get_by_role("alert")).to_contain_text("Please check the form")
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    check(page, "the sign-up form with its errors")
    check.done()


def test_self_service_invoice_and_cancel_pages(stack: Stack, organiser: Organiser, new_page: Any,
        check: Audit) -> None:
    base = url(stack, "registration")
    slug = paid_congress(organiser)
    signed_up = requests.post(f"{base}/api/v1/events/{slug}/registrations", timeout=30, json={
        "email": "jurgen.obrien@klinikum.example", "given_name": "Jürgen", "family_name": "O’Brien-Nakamura",
        "rate": "non-member", "consent": True})
    assert signed_up.status_code == 201 and signed_up.json()["status"] == "pending_payment", signed_up.text
    page = new_page()

    # Waiting for payment: the pay link and the invoice request.
    page.goto(signed_up.json()["manage_url"])
    expect(page.locator("#status")).to_have_attribute("data-status", "pending_payment")
    expect(page.get_by_role("link", name="Pay by card")).to_be_visible()
    check(page, "the attendee's page, waiting for payment")
    manage = page.url

    page.get_by_role("link", name="pay by invoice (institutions)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pay by invoice")
    check(page, "the invoice request")
    page.get_by_label("Institution (invoice addressee)").fill("Klinikum Nord")
    page.get_by_label("Billing address").fill("Klinikum Nord\nAllee 1\n20099 Hamburg")
    page.get_by_label("Accounts payable email (optional)").fill("not an address")
    assert submit(page, "Issue the invoice") == 422
    expect(page.locator("#email")).to_have_attribute("aria-invalid", "true")
    check(page, "the invoice request with its errors")

    page.goto(manage)
    page.get_by_role("link", name="Cancel my registration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Cancel your registration?")
    check(page, "the cancel page")

    # A free webinar, through the form: the page that greets a new registrant, then cancelled.
    webinar = organiser.create_free_webinar(capacity=10)["slug"]
    page.goto(f"{base}/events/{webinar}/register")
    page.get_by_label("Given name").fill("Zoë")
    page.get_by_label("Family name").fill("Łukasiewicz")
    page.get_by_label("Email").fill("zoe@hospital.example")
    page.get_by_label("Free: free").check()
    page.locator("#consent").check()
    assert submit(page, "Continue") == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your registration")
    check(page, "the review step of the sign-up")
    assert submit(page, "Confirm") == 303
    expect(page.get_by_role("status")).to_contain_text("You are registered")
    check(page, "the attendee's page, just registered")
    page.get_by_role("link", name="Cancel my registration").click()
    assert submit(page, "Yes, cancel my registration") == 303
    expect(page.locator("#status")).to_have_text("Cancelled")
    check(page, "the attendee's page, cancelled")

    page.goto(f"{base}/r/{'x' * 32}")
    expect(page.get_by_role("heading", level=1)).to_have_text("404")
    check(page, "the page of a link that leads nowhere")
    check.done()


def test_participant_and_verification_pages(stack: Stack, organiser: Organiser, new_page: Any,
        check: Audit) -> None:
    base, certificates = url(stack, "registration"), url(stack, "certificates")
    slug = f"past-congress-{uuid.uuid4().hex[:8]}"
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=10)
    api(organiser, "POST", "/events", json={
        "slug": slug, "title": "Nuclear Medicine Update", "kind": "conference", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=8)).isoformat(), "timezone": "Europe/Vienna", "capacity": 100,
        "currency": "EUR", "venue": "Congress Innsbruck", "registration_closes_at": iso(days=1)})
    api(organiser, "POST", f"/events/{slug}/sessions", json={
        "code": "AM", "title": "PET/CT in oncology", "credits": {"ECMEC": "3", "RCT": "3"},
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=3)).isoformat()})
    api(organiser, "POST", f"/events/{slug}/rates", json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"})
    people = {}
    for key, given, family in (("ana", "Ana", "Satō"), ("ben", "Ben", "Okafor")):
        signed_up = requests.post(f"{base}/api/v1/events/{slug}/registrations", timeout=30, json={
            "email": f"{key}@hospital.example", "given_name": given, "family_name": family, "rate": "free",
            "consent": True})
        assert signed_up.status_code == 201, signed_up.text
        people[key] = signed_up.json()
        api(organiser, "POST", f"/events/{slug}/check-ins", service=certificates,
            json={"registration_id": people[key]["id"], "session": "AM"})
    api(organiser, "PUT", f"/events/{slug}/accreditation", 200, service=certificates, json={
        "credit_systems": [
            {"code": "ECMEC", "name": "European CME credits (ECMEC®s)", "body": "EACCME®",
             "statement": "The event is accredited with 3 European CME credits (ECMEC®s).",
             "evaluation_required": True, "identifiers": [
                 {"kind": "abim_pars", "required": True, "consent_text": "Report my board ID to ACCME's PARS."},
                 {"kind": "gmc", "consent_text": "Report my GMC number."}]},
            {"code": "RCT", "name": "radiographer CE credits", "body": "RCT", "credit_step": 0.25,
             "statement": "Approved for 3 radiographer CE credits.", "claim_required": True}],
        "signatory": "Prof. Dr. Eva de Vries", "signatory_title": "Chair, Education Committee",
        "evaluation_questions": EVALUATION, "session_questions": [
            {"id": "quality", "text": "How would you rate this session?", "kind": "rating"},
            {"id": "use", "text": "What will you use in your practice?", "kind": "text", "required": False}]})
    page = new_page()

    # Ana, confirmed for an in-person event: her page with the ticket, then the evaluation.
    page.goto(people["ana"]["manage_url"])
    expect(page.locator("#ticket-code")).to_be_visible()
    check(page, "the attendee's page with the ticket")
    page.get_by_role("link", name="Complete the evaluation and get your attendance certificate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your attendance certificate")
    assert urlsplit(page.url).netloc == urlsplit(certificates).netloc
    check(page, "the participant's page with the evaluation")
    page.get_by_label("What should we change next year?").fill("More hands-on sessions, please.")
    assert submit(page, "Submit the evaluation") == 422
    expect(page.locator("#overall-error")).to_be_visible()
    expect(page.locator("#s-AM-quality-error")).to_be_visible()  # the session's, shown with the rest
    check(page, "the participant's page with the evaluation's errors")

    # Ben's evaluation on paper: the organiser records it and issues his certificate.
    api(organiser, "POST", f"/events/{slug}/evaluations", service=certificates,
        json={"registration_id": people["ben"]["id"]})
    job = api(organiser, "POST", f"/events/{slug}/certificates", 202, service=certificates)["id"]
    deadline = time.monotonic() + 30
    while (status := api(organiser, "GET", f"/jobs/{job}", 200, service=certificates)["status"]) not in (
            "done", "failed"):
        assert time.monotonic() < deadline, f"the issuing job is still {status}"
        time.sleep(0.3)
    assert status == "done"
    [issued] = api(organiser, "GET", f"/events/{slug}/certificates", 200, service=certificates)["items"]

    page.goto(people["ben"]["manage_url"])
    page.get_by_role("link", name="Complete the evaluation and get your attendance certificate").click()
    expect(page.get_by_role("status").filter(has_text="Your certificate is ready")).to_be_visible()
    check(page, "the participant's page with the certificate")

    # A presence code announced (its window long past) and a credit system that takes a claim.
    api(organiser, "POST", f"/events/{slug}/presence-codes", 201, service=certificates, json={"session": "AM"})
    page.reload()
    page.get_by_label("Presence code").fill("WRONG42")
    assert submit(page, "Enter the code") == 422
    expect(page.locator("#code-message")).to_be_visible()
    check(page, "the participant's page with a refused presence code")
    page.get_by_label("Credits you claim (radiographer CE credits)").select_option("2.5")
    assert submit(page, "Claim radiographer CE credits") == 422
    expect(page.locator("#attest-RCT-error")).to_be_visible()
    check(page, "the participant's page with the claim form's errors")
    page.get_by_label("GMC reference number (optional)").fill("12")
    assert submit(page, "Save my identifiers") == 422
    expect(page.locator("#ident-ECMEC-gmc-error")).to_be_visible()
    check(page, "the participant's page with the identifiers' errors")

    page.goto(issued["verify_url"])
    expect(page.get_by_role("status")).to_contain_text("Valid certificate")
    check(page, "the verification page of a certificate")

    # The signed credential, pasted into the public verification page (a plain form).
    page.get_by_role("link", name="Verify a signed credential").click()
    check(page, "the signed credential's verification page")
    page.get_by_label("Signed credential").fill(requests.get(issued["credential_url"], timeout=30).text)
    assert submit(page, "Verify") == 200
    expect(page.get_by_role("status")).to_contain_text("Valid credential")
    check(page, "the signed credential's verification page with a valid credential")
    page.get_by_label("Signed credential").fill("not a credential")
    assert submit(page, "Verify") == 200
    expect(page.get_by_role("status")).to_contain_text("does not verify")
    check(page, "the signed credential's verification page with a refused credential")

    page.goto(f"{certificates}/verify/NOSUCHCODE42")
    expect(page.get_by_role("status")).to_contain_text("No certificate has the code")
    check(page, "the verification page of an unknown code")
    check.done()


def test_faculty_disclosure_and_transcript_pages(stack: Stack, organiser: Organiser, new_page: Any, check: Audit,
                                                 tmp_path: Any) -> None:
    """The event page with its faculty, the speaker's disclosure form (and its errors), and the learner's
    transcript: the request form (and its error), the answer, and the page the mailed link opens."""
    base, certificates = url(stack, "registration"), url(stack, "certificates")
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0)
    slug = f"faculty-webinar-{uuid.uuid4().hex[:8]}"
    start = moment + dt.timedelta(days=20)
    api(organiser, "POST", "/events", json={
        "slug": slug, "title": "Structured reporting in practice", "kind": "webinar", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat(), "timezone": "Europe/Vienna", "capacity": 50,
        "currency": "EUR"})
    api(organiser, "POST", f"/events/{slug}/sessions", json={
        "code": "LIVE", "title": "Templates that radiologists use", "credits": "2", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat()})
    api(organiser, "POST", f"/events/{slug}/faculty", json={
        "name": "Dr. Marco Rossi", "role": "speaker", "sessions": ["LIVE"], "mitigation": "Peer-reviewed.",
        "disclosures": [{"company": "Siemens Healthineers", "relationship": "Consultant"}]})
    api(organiser, "POST", f"/events/{slug}/faculty", json={"name": "Prof. Lena Hoffmann", "role": "planner",
                                                             "none": True})
    pending = api(organiser, "POST", f"/events/{slug}/faculty", json={
        "name": "Dr. Sofia Lindqvist", "role": "speaker", "sessions": ["LIVE"]})
    page = new_page()
    page.goto(f"{base}/events/{slug}")
    expect(page.get_by_role("heading", name="Faculty and disclosures")).to_be_visible()
    check(page, "the event page with its faculty and disclosures")

    link = api(organiser, "POST", f"/events/{slug}/faculty/{pending['id']}/disclosure-link", json={})["url"]
    page.goto(link)
    expect(page.get_by_label("I attest that this is a complete list", exact=False)).to_be_visible()
    check(page, "the speaker's disclosure form")
    page.get_by_label("Ineligible company").first.fill("Bayer")
    assert submit(page, "Save my disclosure") == 422
    expect(page.locator("#relationship-0-error")).to_be_visible()  # the company's row needs its nature
    check(page, "the speaker's disclosure form with its errors")

    # A past congress with one certificate, and its participant's transcript.
    past = moment - dt.timedelta(days=15)
    congress = f"transcript-congress-{uuid.uuid4().hex[:8]}"
    api(organiser, "POST", "/events", json={
        "slug": congress, "title": "Cardiac Imaging Day", "kind": "conference", "starts_at": past.isoformat(),
        "ends_at": (past + dt.timedelta(hours=8)).isoformat(), "timezone": "Europe/Vienna", "capacity": 50,
        "currency": "EUR", "registration_closes_at": (moment + dt.timedelta(days=1)).isoformat()})
    api(organiser, "POST", f"/events/{congress}/sessions", json={
        "code": "AM", "title": "Cardiac MR", "credits": "3", "starts_at": past.isoformat(),
        "ends_at": (past + dt.timedelta(hours=3)).isoformat()})
    api(organiser, "POST", f"/events/{congress}/rates", json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"})
    email = f"learner-{uuid.uuid4().hex[:8]}@hospital.example"
    person = requests.post(f"{base}/api/v1/events/{congress}/registrations", timeout=30, json={
        "email": email, "given_name": "Ana", "family_name": "Satō", "rate": "free", "consent": True}).json()
    api(organiser, "POST", f"/events/{congress}/check-ins", service=certificates,
        json={"registration_id": person["id"], "session": "AM"})
    api(organiser, "PUT", f"/events/{congress}/accreditation", 200, service=certificates, json={
        "body": "EACCME®", "statement": "Accredited with 3 European CME credits (ECMEC®s).",
        "signatory": "Prof. Dr. Eva de Vries"})
    job = api(organiser, "POST", f"/events/{congress}/certificates", 202, service=certificates)["id"]
    eventually(lambda: api(organiser, "GET", f"/jobs/{job}", 200, service=certificates)["status"] == "done",
               timeout=60)
    organisation_id = api(organiser, "GET", "/organisation", 200)["id"]

    page.goto(f"{certificates}/o/{organisation_id}/transcript")
    check(page, "the transcript request form")
    page.get_by_label("Email").fill("not an address")
    assert submit(page, "Send me the link") == 422
    expect(page.locator("#email-error")).to_be_visible()
    check(page, "the transcript request form with its error")
    with SmtpSink(tmp_path / "mail", port=int(stack.env["SMTP_PORT"])) as sink:
        page.get_by_label("Email").fill(email)
        assert submit(page, "Send me the link") == 200
        expect(page.get_by_role("status")).to_contain_text("a link to your transcript is on its way")
        check(page, "the transcript request's answer")
        # The learner's sign-up confirmation, refused while no sink listened, may arrive here too.
        mail = eventually(lambda: next((m for m in sink.wait_for(1, timeout=60) if m["To"] == email
                                        and "/transcript/" in m.get_body(("plain",)).get_content()), None),
                          timeout=60)
    transcript_url = re.search(r"https?://\S+/transcript/\S+", mail.get_body(("plain",)).get_content()).group(0)
    page.goto(transcript_url)
    expect(page.get_by_role("heading", level=1)).to_have_text("Transcript of certificates")
    expect(page.get_by_role("table")).to_contain_text("3")
    check(page, "the learner's transcript")
    check.done()


def test_waiting_list_payment_result_unsubscribe_and_revoked_pages(stack: Stack, organiser: Organiser,
                                                                    new_page: Any, check: Audit,
                                                                    tmp_path: Any) -> None:
    """The pages no journey above passes through: a place on the waiting list, the return from payment,
    the unsubscribe link of an announcement (asked, then done), a revoked certificate's verification
    and the verification page without a code."""
    base, certificates = url(stack, "registration"), url(stack, "certificates")
    webinar = organiser.create_free_webinar(capacity=1)["slug"]
    people = [requests.post(f"{base}/api/v1/events/{webinar}/registrations", timeout=30, json={
        "email": f"{name.lower()}@hospital.example", "given_name": name, "family_name": "Nowak", "rate": "free",
        "consent": True, "announcements": True}).json() for name in ("Ada", "Bea")]
    assert [person["status"] for person in people] == ["confirmed", "waitlisted"], people
    page = new_page()
    page.goto(people[1]["manage_url"])
    expect(page.locator("#status")).to_have_attribute("data-status", "waitlisted")
    check(page, "the attendee's page on the waiting list")

    slug = paid_congress(organiser)
    unpaid = requests.post(f"{base}/api/v1/events/{slug}/registrations", timeout=30, json={
        "email": "cy@klinikum.example", "given_name": "Cy", "family_name": "Lee", "rate": "non-member",
        "consent": True}).json()
    page.goto(unpaid["manage_url"] + "?paid=1")  # where Stripe's Checkout returns after paying
    expect(page.locator("#status")).to_have_attribute("data-status", "pending_payment")
    check(page, "the attendee's page on return from payment")

    with SmtpSink(tmp_path / "mail", port=int(stack.env["SMTP_PORT"])) as sink:
        api(organiser, "POST", f"/events/{webinar}/announcements", 202, json={
            "subject": "Slides are online", "body": "The slides of the webinar are online."})
        mail = eventually(lambda: next((m for m in sink.wait_for(1, timeout=60) if m["To"] == "ada@hospital.example"
                                        and "/u/" in m.get_body(("plain",)).get_content()), None), timeout=60)
    unsubscribe = re.search(r"https?://\S+/u/[\w-]+", mail.get_body(("plain",)).get_content()).group(0)
    page.goto(unsubscribe)
    check(page, "the unsubscribe page")
    assert submit_first_form(page) == 200
    check(page, "the unsubscribe page, done")

    past = f"revoked-day-{uuid.uuid4().hex[:8]}"
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=5)
    api(organiser, "POST", "/events", json={
        "slug": past, "title": "Breast Imaging Day", "kind": "conference", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=6)).isoformat(), "timezone": "Europe/Vienna", "capacity": 20,
        "currency": "EUR", "registration_closes_at": iso(days=1)})
    api(organiser, "POST", f"/events/{past}/sessions", json={
        "code": "AM", "title": "Tomosynthesis", "credits": "3", "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=3)).isoformat()})
    api(organiser, "POST", f"/events/{past}/rates", json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"})
    person = requests.post(f"{base}/api/v1/events/{past}/registrations", timeout=30, json={
        "email": "dora@hospital.example", "given_name": "Dora", "family_name": "Kim", "rate": "free",
        "consent": True}).json()
    api(organiser, "POST", f"/events/{past}/check-ins", service=certificates,
        json={"registration_id": person["id"], "session": "AM"})
    api(organiser, "PUT", f"/events/{past}/accreditation", 200, service=certificates, json={
        "body": "EACCME®", "statement": "Accredited with 3 European CME credits (ECMEC®s).",
        "signatory": "Prof. Dr. Eva de Vries"})
    job = api(organiser, "POST", f"/events/{past}/certificates", 202, service=certificates)["id"]
    eventually(lambda: api(organiser, "GET", f"/jobs/{job}", 200, service=certificates)["status"] == "done",
               timeout=60)
    [issued] = api(organiser, "GET", f"/events/{past}/certificates", 200, service=certificates)["items"]
    api(organiser, "POST", f"/certificates/{issued['code']}/revoke", 200, service=certificates,
        json={"reason": "Attendance not confirmed"})
    page.goto(issued["verify_url"])
    expect(page.locator("main")).to_contain_text(issued["code"])
    check(page, "the verification page of a revoked certificate")
    page.goto(f"{certificates}/verify/")
    check(page, "the verification page without a code")
    check.done()


def submit_first_form(page: Page) -> int:
    """Sends the page's first form by its submit button, in whatever language the page is."""
    with page.expect_navigation(), page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.locator("main form button[type=submit]").first.click()
    return answer.value.status
