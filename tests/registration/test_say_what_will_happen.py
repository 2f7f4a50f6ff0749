"""The attendee's pages say what will happen before it happens (issue 14).

- The sign-up form goes to a review step that shows the total (rate, discount, workshops, VAT)
  before anything is stored; "Change" brings the form back with everything kept; "Confirm" signs
  up once, however often it is posted.
- Cancelling shows the refund (or what the policy keeps) before the attendee confirms.
- The form's refusals are words, all of them at once (the schema's and the service's), with a
  summary that takes the focus and links to each field.
"""
from __future__ import annotations

import datetime as dt
import html
import io
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.support.factories import create_event, iso

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)  # every time of this module's fixtures comes from here
HEADER = "email,member_number,name\n"


def api(client: FlaskClient, auth: dict[str, str], path: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1{path}", headers=auth, json=payload)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def congress(client: FlaskClient, auth: dict[str, str], *, include_vat: bool = True, vat: str = "20",
             **overrides: Any) -> str:
    """A paid congress: a non-member rate of €600, a members' rate, a €90 workshop and a 10% code."""
    event = create_event(client, auth, rate=None, kind="conference", vat_rate=vat, prices_include_vat=include_vat,
                         starts_at=(NOW + dt.timedelta(days=30)).isoformat(),
                         ends_at=(NOW + dt.timedelta(days=30, hours=8)).isoformat(), **overrides)
    slug = event["slug"]
    for code, name, amount, category in (("non-member", "Non-member", 60000, "non_member"),
                                         ("member", "Member", 45000, "member"), ("free", "Faculty", 0, "other")):
        api(client, auth, f"/events/{slug}/rates", {"code": code, "name": name, "amount": amount, "currency": "EUR",
                                                    "category": category})
    api(client, auth, f"/events/{slug}/sessions", {
        "code": "W1", "title": "Hands-on structured reporting", "starts_at": event["starts_at"],
        "ends_at": event["ends_at"], "credits": "1", "capacity": 5, "is_workshop": True, "amount": 9000})
    api(client, auth, f"/events/{slug}/discount-codes", {"code": "RAD10", "percent_off": 10})
    return slug


def form(**overrides: Any) -> dict[str, Any]:
    data = {"given_name": "Zoë", "family_name": "Łukasiewicz", "email": "zoe@hospital.example",
            "rate": "non-member", "consent": "yes", "form_key": "key-1", "institution": "AKH Wien"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def text(response: Any) -> str:
    """The page's visible text, tags dropped and entities decoded, spaces collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def row(response: Any, row_id: str) -> str:
    found = re.search(rf'<tr[^>]*id="{row_id}"[^>]*>(.*?)</tr>', response.get_data(as_text=True), re.S)
    assert found, f"no row {row_id}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())


def hidden(response: Any) -> MultiDict[str, str]:
    """The page's hidden fields, as a browser sends them back (a field may repeat: workshops)."""
    return MultiDict([(name, html.unescape(value)) for name, value in re.findall(
        r'<input type="hidden" name="([^"]+)" value="([^"]*)">', response.get_data(as_text=True))])


def roster(client: FlaskClient, auth: dict[str, str], slug: str) -> list[dict[str, Any]]:
    return client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"]


# --- the review step ------------------------------------------------------------------------


def test_review_shows_rate_discount_workshop_and_included_vat_before_anything_is_stored(client, auth) -> None:
    slug = congress(client, auth)
    response = client.post(f"/events/{slug}/register/review",
                           data=form(discount_code="rad10", workshops="W1"))
    assert response.status_code == 200, text(response)
    assert row(response, "line-rate") == "Non-member €600.00"
    assert row(response, "line-discount") == "Discount (code RAD10) −€60.00"
    assert row(response, "line-workshop-W1") == "Workshop: Hands-on structured reporting €90.00"
    assert row(response, "line-total") == "Total €630.00"
    assert row(response, "line-vat") == "Of which VAT (20%) €105.00"  # 630 × 20/120
    page = text(response)
    assert "Confirm and pay" in page and "card payment page to pay €630.00" in page
    assert roster(client, auth, slug) == [], "a review stores nothing"
    # The confirm form carries everything back, the form's key included.
    fields = hidden(response)
    for expected in (("given_name", "Zoë"), ("email", "zoe@hospital.example"), ("discount_code", "rad10"),
                     ("workshops", "W1"), ("consent", "yes"), ("form_key", "key-1"), ("institution", "AKH Wien")):
        assert expected[1] in fields.getlist(expected[0]), expected


def test_review_adds_vat_when_prices_exclude_it(client, auth) -> None:
    slug = congress(client, auth, include_vat=False, vat="10")
    response = client.post(f"/events/{slug}/register/review", data=form(discount_code="RAD10"))
    assert response.status_code == 200, text(response)
    assert row(response, "line-net") == "Total excluding VAT €540.00"
    assert row(response, "line-vat") == "VAT (10%) €54.00"
    assert row(response, "line-total") == "Total €594.00"


def test_review_of_a_free_rate_says_free_and_confirms_without_payment(client, auth) -> None:
    slug = congress(client, auth)
    response = client.post(f"/events/{slug}/register/review", data=form(rate="free"))
    assert response.status_code == 200, text(response)
    assert row(response, "line-total") == "Total free"
    assert "line-vat" not in response.get_data(as_text=True)
    page = text(response)
    assert "You are registered at once" in page and "Confirm and pay" not in page
    confirmed = client.post(f"/events/{slug}/register", data=hidden(response))
    assert confirmed.status_code == 303 and "new=1" in confirmed.headers["Location"]
    assert [(p["rate"], p["status"], p["amount_due"]) for p in roster(client, auth, slug)] == [
        ("free", "confirmed", 0)]


def test_change_shows_the_form_again_with_every_value_kept(client, auth) -> None:
    slug = congress(client, auth)
    review = client.post(f"/events/{slug}/register/review",
                         data=form(discount_code="RAD10", workshops="W1", announcements="yes"))
    back = client.post(f"/events/{slug}/register/review", data=MultiDict([*hidden(review).items(multi=True), ("change", "yes")]))
    assert back.status_code == 200
    page = back.get_data(as_text=True)
    assert "<form" in page and f'action="/events/{slug}/register/review"' in page
    for kept in ('id="given_name" name="given_name" autocomplete="given-name" required maxlength="100" value="Zoë"',
                 'value="zoe@hospital.example"', 'value="RAD10"', 'value="AKH Wien"', 'value="non-member" checked',
                 'value="W1" checked', 'id="consent" name="consent" value="yes" checked',
                 'id="announcements" name="announcements" value="yes" checked', 'value="key-1"'):
        assert kept in page, kept
    assert "error-summary" not in page
    assert roster(client, auth, slug) == []


def test_confirm_posted_twice_signs_up_once(client, auth) -> None:
    slug = congress(client, auth)
    review = client.post(f"/events/{slug}/register/review", data=form(discount_code="RAD10", workshops="W1"))
    first = client.post(f"/events/{slug}/register", data=hidden(review))
    second = client.post(f"/events/{slug}/register", data=hidden(review))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"], "the second Confirm replays the first"
    [person] = roster(client, auth, slug)
    assert (person["status"], person["amount_due"], person["workshops"]) == ("pending_payment", 63000, ["W1"])
    workshop = client.get(f"/api/v1/events/{slug}", headers=auth).get_json()["sessions"][0]
    assert workshop["seats_taken"] == 1
    # The review of the same person again now says they are registered (no second registration possible).
    again = client.post(f"/events/{slug}/register/review", data=form(form_key="key-2"))
    assert again.status_code == 422 and "Already registered for this event." in text(again)


# --- errors: words, all at once ----------------------------------------------------------------


def test_an_unknown_discount_code_and_a_member_number_not_on_the_list_are_shown_together(client, auth) -> None:
    upload = client.put("/api/v1/members", headers=auth, content_type="multipart/form-data",
                        data={"file": (io.BytesIO((HEADER + ",M-9,\n").encode()), "members.csv")})
    assert upload.status_code == 200, upload.get_json()
    slug = congress(client, auth)
    for action in ("register/review", "register"):  # the review, and a Confirm whose values went stale
        response = client.post(f"/events/{slug}/{action}", data=form(rate="member", member_number="M-8",
                                                                     discount_code="NOPE", workshops="W1"))
        assert response.status_code == 422, action
        page = text(response)
        assert "Unknown discount code." in page, action
        assert "your email or member number is not on the member list" in page, action
        assert "Please check the form: 2 problems" in page, action
    assert roster(client, auth, slug) == []


def test_schema_and_service_refusals_come_in_one_submit_in_words(client, auth) -> None:
    slug = congress(client, auth)
    response = client.post(f"/events/{slug}/register/review", data=form(
        given_name="  ", email="zoe(at)hospital", consent=None, discount_code="NOPE", workshops="W9"))
    assert response.status_code == 422
    page = text(response)
    for words in ("Enter your given name.", "Enter an email address in the form name@example.org.",
                  "Consent is required to register.", "Unknown discount code.", "No such workshop: W9."):
        assert words in page, words
    assert "Please check the form: 5 problems" in page


def test_an_empty_form_is_refused_in_words_not_schema_jargon(client, auth) -> None:
    slug = congress(client, auth)
    response = client.post(f"/events/{slug}/register/review", data={"form_key": "k"})
    assert response.status_code == 422
    page = text(response)
    for words in ("Choose a rate.", "Enter your email address.", "Enter your given name.", "Enter your family name.",
                  "Consent is required to register."):
        assert words in page, words
    for jargon in ("Missing data", "Length must be", "Not a valid", "Field may not be null", "Must not be blank"):
        assert jargon not in page, jargon
    too_long = client.post(f"/events/{slug}/register/review", data=form(family_name="x" * 101))
    assert "Use at most 100 characters." in text(too_long)


def test_the_error_summary_takes_the_focus_and_links_each_field_described_by_its_message(client, auth) -> None:
    slug = congress(client, auth)
    response = client.post(f"/events/{slug}/register/review", data=form(email="", rate="", discount_code="NOPE"))
    page = response.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary"([^>]*)>(.*?)</div>', page, re.S)
    assert summary, "no error summary"
    attributes, content = summary.groups()
    for attribute in ('role="alert"', 'tabindex="-1"', "autofocus"):
        assert attribute in attributes, attribute
    links = re.findall(r'<a href="#([^"]+)">', content)
    assert links == ["email", "rate-non-member", "discount_code"]
    for field in ("email", "discount_code"):
        control = re.search(rf'<input id="{field}"[^>]*>', page).group(0)
        assert 'aria-invalid="true"' in control and f'aria-describedby="{field}-error"' in control, control
        assert f'id="{field}-error"' in page
    assert 'aria-describedby="rate-error"' in page and 'id="rate-error"' in page


# --- the refund preview -----------------------------------------------------------------------


def paid_registration(client, auth, registration_app, **policy: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """A €300 registration, paid by card (as Stripe's webhook would record it)."""
    from registration.models import Registration
    from registration.services import lifecycle

    event = create_event(client, auth, rate=None, kind="conference", starts_at=iso(days=30),
                         ends_at=iso(days=30, hours=8), **policy)
    api(client, auth, f"/events/{event['slug']}/rates", {"code": "regular", "name": "Regular", "amount": 30000,
                                                         "currency": "EUR", "category": "other"})
    response = client.post(f"/api/v1/events/{event['slug']}/registrations", json={
        "email": "ana@hospital.example", "given_name": "Ana", "family_name": "Satō", "rate": "regular",
        "consent": True})
    assert response.status_code == 201, response.get_json()
    signed_up = response.get_json()
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        registration = session.scalar(select(Registration).where(Registration.id == signed_up["id"]))
        assert lifecycle.pay(session, registration, 30000, "pi_test_1", NOW) is not None
    return signed_up


def test_cancelling_shows_the_partial_refund_and_fee_before_confirming(client, auth, registration_app) -> None:
    signed_up = paid_registration(client, auth, registration_app,
                                  refund_full_until=(NOW - dt.timedelta(days=1)).isoformat(),
                                  refund_partial_until=(NOW + dt.timedelta(days=10)).isoformat(),
                                  refund_partial_percent=50, cancellation_fee=2500)
    path = signed_up["manage_url"].removeprefix("http://registration.test") + "/cancel"
    page = client.get(path)
    assert page.status_code == 200
    words = text(page)
    assert ("You get back €125.00 of the €300.00 you paid, to your original payment method; €175.00 is kept "
            "under the event's cancellation policy.") in words
    assert "A cancellation fee of €25.00 is deducted from any refund." in words
    assert hidden(page)["refund"] == "12500"
    assert client.get(f"/api/v1/registrations/{signed_up['id']}", headers=auth).get_json()["status"] == "confirmed"

    done = client.post(path, data=hidden(page))
    assert done.status_code == 303
    person = client.get(f"/api/v1/registrations/{signed_up['id']}", headers=auth).get_json()
    assert person["status"] == "refunded"


def test_a_refund_that_changed_since_the_page_was_shown_is_shown_again_not_applied(client, auth,
                                                                                  registration_app) -> None:
    signed_up = paid_registration(client, auth, registration_app)  # no policy: refunded in full
    path = signed_up["manage_url"].removeprefix("http://registration.test") + "/cancel"
    page = client.get(path)
    assert "You get back the full €300.00 you paid" in text(page)
    stale = client.post(path, data={**hidden(page).to_dict(), "refund": "0"})  # what an older page had shown
    assert stale.status_code == 409
    assert "What cancelling refunds has changed" in text(stale) and hidden(stale)["refund"] == "30000"
    assert client.get(f"/api/v1/registrations/{signed_up['id']}", headers=auth).get_json()["status"] == "confirmed"


def test_cancelling_a_free_or_unpaid_registration_says_nothing_is_refunded(client, auth) -> None:
    slug = congress(client, auth)
    for rate, expected in (("free", "This registration is free: there is nothing to refund."),
                           ("non-member", "You have not paid for this registration, so there is nothing to refund.")):
        response = client.post(f"/api/v1/events/{slug}/registrations", json={
            "email": f"{rate}@hospital.example", "given_name": "Ana", "family_name": "Satō", "rate": rate,
            "consent": True})
        path = response.get_json()["manage_url"].removeprefix("http://registration.test")
        assert expected in text(client.get(path + "/cancel"))
        manage = client.get(path).get_data(as_text=True)
        assert re.search(r'<span id="status" class="badge badge-[a-z_]+" data-status="[a-z_]+">', manage)
        for section in ('id="ticket"', 'id="documents"', 'id="changes"'):
            assert section in manage, section


def test_a_name_correction_is_refused_in_words_too(client, auth) -> None:
    slug = congress(client, auth)
    response = client.post(f"/api/v1/events/{slug}/registrations", json={
        "email": "ana@hospital.example", "given_name": "Ana", "family_name": "Satō", "rate": "free", "consent": True})
    path = response.get_json()["manage_url"].removeprefix("http://registration.test")
    refused = client.post(path + "/name", data={"given_name": "Ana", "family_name": "   "})
    assert refused.status_code == 422
    assert "Enter your family name." in text(refused) and "Must not be blank" not in text(refused)


def test_the_json_sign_up_names_every_field_at_fault_in_one_answer(client, auth) -> None:
    upload = client.put("/api/v1/members", headers=auth, content_type="multipart/form-data",
                        data={"file": (io.BytesIO((HEADER + ",M-9,\n").encode()), "members.csv")})
    assert upload.status_code == 200, upload.get_json()
    slug = congress(client, auth)
    response = client.post(f"/api/v1/events/{slug}/registrations", json={
        "email": "stranger@hospital.example", "given_name": "Ana", "family_name": "Satō", "rate": "member",
        "member_number": "M-8", "discount_code": "NOPE", "workshops": ["W9"], "consent": True})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields == {"discount_code": ["Unknown discount code."], "workshops": ["No such workshop: W9."],
                      "rate": ["This rate is for members of Society-A; your email or member number is not on the "
                               "member list."]}
