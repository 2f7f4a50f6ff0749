"""What a registration costs and what a cancellation gives back: the refund policy at each of its
boundaries, discount arithmetic in integer minor units, and the limits of discount codes (expiry,
rates, uses). The policy and the arithmetic are pure; codes are looked up in a real database; a
100 % code is checked end to end through the JSON sign-up API."""
from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from registration.models import DiscountCode, Event, Rate, Registration, RegistrationStatus
from registration.schemas.events import DiscountCodeInput, EventInput, RateInput
from registration.schemas.registrations import SignUpInput
from registration.services import events, organisations, pricing, signup
from suite_common.errors import ApiError
from tests.support.assertions import assert_error
from tests.support.factories import event_payload, iso, signup_payload

FULL_UNTIL = dt.datetime(2027, 2, 1, 0, 0, tzinfo=dt.UTC)
PARTIAL_UNTIL = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)


def policy(full_until: dt.datetime | None = FULL_UNTIL, partial_until: dt.datetime | None = PARTIAL_UNTIL,
           percent: int = 50, fee: int = 0) -> Event:
    """An event with a cancellation policy (in memory: ``refund_due`` reads nothing else)."""
    return Event(refund_full_until=full_until, refund_partial_until=partial_until,
                 refund_partial_percent=percent, cancellation_fee=fee)


# --- refund policy --------------------------------------------------------------------------


@pytest.mark.parametrize(("now", "expected"), [
    (FULL_UNTIL - dt.timedelta(days=30), 45000),
    (FULL_UNTIL - SECOND, 45000),  # the last second of the full-refund period
    (FULL_UNTIL, 22500),  # exactly at refund_full_until: the partial period has begun
    (FULL_UNTIL + SECOND, 22500),
    (PARTIAL_UNTIL - SECOND, 22500),  # the last second of the partial period
    (PARTIAL_UNTIL, 0),  # exactly at refund_partial_until: nothing any more
    (PARTIAL_UNTIL + dt.timedelta(days=300), 0),
])
def test_refund_at_each_boundary_of_the_policy(now: dt.datetime, expected: int) -> None:
    assert pricing.refund_due(policy(percent=50), 45000, now) == expected


@pytest.mark.parametrize(("paid", "percent", "expected"), [
    (12345, 50, 6173),  # 6172.5 rounds half up
    (12343, 50, 6172),  # 6171.5 rounds half up
    (150, 33, 50),  # 49.5
    (149, 33, 49),  # 49.17
    (1, 50, 1),  # 0.5 of a cent: half up is a whole cent
    (999, 25, 250),  # 249.75
    (1001, 25, 250),  # 250.25
    (45000, 0, 0),  # a 0 % partial period refunds nothing
    (45000, 100, 45000),
])
def test_partial_refund_percentages_round_half_up(paid: int, percent: int, expected: int) -> None:
    assert pricing.refund_due(policy(percent=percent), paid, FULL_UNTIL) == expected


@pytest.mark.parametrize(("now", "paid", "fee", "expected"), [
    (FULL_UNTIL - SECOND, 45000, 2500, 42500),  # full refund minus the fee
    (FULL_UNTIL, 45001, 2500, 20001),  # 22500.5 -> 22501, minus the fee
    (FULL_UNTIL - SECOND, 2500, 2500, 0),  # the fee eats the whole refund: 0, not negative
    (FULL_UNTIL - SECOND, 1000, 2500, 0),  # a fee larger than what was paid: still 0
    (FULL_UNTIL, 4000, 2500, 0),  # 50 % of 40.00 is 20.00, below the 25.00 fee
    (PARTIAL_UNTIL, 45000, 2500, 0),  # no refund at all: no fee to take either
])
def test_the_cancellation_fee_never_makes_a_refund_negative(now: dt.datetime, paid: int, fee: int,
                                                            expected: int) -> None:
    refund = pricing.refund_due(policy(percent=50, fee=fee), paid, now)
    assert refund == expected
    assert 0 <= refund <= paid


@pytest.mark.parametrize("now", [FULL_UNTIL - dt.timedelta(days=365), FULL_UNTIL, PARTIAL_UNTIL,
                                 PARTIAL_UNTIL + dt.timedelta(days=365)])
def test_no_policy_set_refunds_in_full_minus_the_fee(now: dt.datetime) -> None:
    assert pricing.refund_due(policy(None, None, percent=0), 45000, now) == 45000
    assert pricing.refund_due(policy(None, None, percent=0, fee=2500), 45000, now) == 42500
    assert pricing.refund_due(policy(None, None, percent=0, fee=2500), 2000, now) == 0


def test_only_a_full_refund_date_refunds_nothing_after_it() -> None:
    event = policy(full_until=FULL_UNTIL, partial_until=None, percent=50)
    assert pricing.refund_due(event, 45000, FULL_UNTIL - SECOND) == 45000
    assert pricing.refund_due(event, 45000, FULL_UNTIL) == 0


def test_only_a_partial_refund_date_gives_the_percentage_until_then() -> None:
    event = policy(full_until=None, partial_until=PARTIAL_UNTIL, percent=80)
    assert pricing.refund_due(event, 45000, PARTIAL_UNTIL - dt.timedelta(days=100)) == 36000
    assert pricing.refund_due(event, 45000, PARTIAL_UNTIL - SECOND) == 36000
    assert pricing.refund_due(event, 45000, PARTIAL_UNTIL) == 0


@pytest.mark.parametrize("event", [policy(), policy(None, None), policy(fee=2500)])
@pytest.mark.parametrize("paid", [0, -100])
def test_nothing_paid_refunds_nothing(event: Event, paid: int) -> None:
    for now in (FULL_UNTIL - SECOND, FULL_UNTIL, PARTIAL_UNTIL):
        assert pricing.refund_due(event, paid, now) == 0


# --- discount arithmetic --------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "percent", "expected"), [
    (45000, 10, 40500),
    (45005, 10, 40504),  # 4500.5 off rounds half up to 4501
    (45004, 10, 40504),  # 4500.4 off rounds to 4500
    (333, 15, 283),  # 49.95 off -> 50
    (1, 50, 0),  # half a cent off rounds up: nothing left to pay
    (3, 50, 1),  # 1.5 off -> 2
    (99, 1, 98),  # 0.99 off -> 1
    (45000, 99, 450),
    (45000, 100, 0),
    (0, 50, 0),
])
def test_percentage_codes_round_the_discount_half_up(amount: int, percent: int, expected: int) -> None:
    assert pricing.discounted(amount, DiscountCode(percent_off=percent)) == expected


@pytest.mark.parametrize(("amount", "off", "expected"), [
    (45000, 5000, 40000),
    (45000, 44999, 1),
    (45000, 45000, 0),
    (45000, 45001, 0),  # more off than the price: free, never negative
    (1000, 100_000_000, 0),
])
def test_amount_codes_never_go_below_zero(amount: int, off: int, expected: int) -> None:
    assert pricing.discounted(amount, DiscountCode(amount_off=off)) == expected


def test_no_code_leaves_the_price() -> None:
    assert pricing.discounted(45000, None) == 45000


# --- codes in the database: expiry, rates, uses ---------------------------------------------


@pytest.fixture
def paid_event(db_session: Session) -> Event:
    organisation = organisations.get_or_create_organisation(db_session, "society-a", "Society A")
    event = events.create_event(db_session, organisation.id, EventInput().load(event_payload(
        kind="conference", join_url=None, venue="Vienna", vat_rate="20", capacity=100)))
    for code, name, amount, category in (("member", "Member", 45000, "member"),
                                         ("non-member", "Non-member", 60000, "non_member"),
                                         ("trainee", "Trainee", 15001, "trainee")):
        # Prices only: who may take a rate (member list, approval) is tested in test_members_and_approval.
        events.add_rate(db_session, event, RateInput().load(
            {"code": code, "name": name, "amount": amount, "currency": "EUR", "category": category,
             "requires_membership": False, "requires_approval": False}))
    db_session.flush()
    return event


def rate(event: Event, code: str) -> Rate:
    return next(r for r in event.rates if r.code == code)


def add_code(session: Session, event: Event, **data: Any) -> DiscountCode:
    code = pricing.add_code(session, event, DiscountCodeInput().load(data))
    session.flush()
    return code


def refused(excinfo: pytest.ExceptionInfo[ApiError]) -> str:
    error = excinfo.value
    assert (error.status, error.code, set(error.fields or {})) == (422, "validation_error", {"discount_code"})
    return error.fields["discount_code"][0]


def test_a_code_expires_exactly_at_its_valid_until(db_session: Session, paid_event: Event) -> None:
    until = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=5)
    add_code(db_session, paid_event, code="early", percent_off=20, valid_until=until.isoformat())
    member = rate(paid_event, "member")

    price = pricing.price(db_session, paid_event, member, "early", until - SECOND)
    assert (price.amount, price.list_amount, price.discount) == (36000, 45000, 9000)
    assert price.discount_code is not None and price.discount_code.code == "EARLY"
    for now in (until, until + SECOND, until + dt.timedelta(days=1)):
        with pytest.raises(ApiError) as excinfo:
            pricing.price(db_session, paid_event, member, "early", now)
        assert refused(excinfo) == "This discount code has expired."


def test_a_code_limited_to_some_rates_applies_only_to_those(db_session: Session, paid_event: Event) -> None:
    add_code(db_session, paid_event, code="members-only", amount_off=5000, rates=["member", "trainee"])
    assert pricing.price(db_session, paid_event, rate(paid_event, "member"), "MEMBERS-ONLY", dt.datetime.now(dt.UTC)
                         ).amount == 40000
    assert pricing.price(db_session, paid_event, rate(paid_event, "trainee"), "members-only",
                         dt.datetime.now(dt.UTC)).amount == 10001
    with pytest.raises(ApiError) as excinfo:
        pricing.price(db_session, paid_event, rate(paid_event, "non-member"), "members-only", dt.datetime.now(dt.UTC))
    assert refused(excinfo) == "This discount code does not apply to this rate."


def test_a_code_for_an_unknown_rate_is_refused_when_it_is_made(db_session: Session, paid_event: Event) -> None:
    with pytest.raises(ApiError) as excinfo:
        add_code(db_session, paid_event, code="typo", percent_off=10, rates=["membr"])
    assert (excinfo.value.status, set(excinfo.value.fields or {})) == (422, {"rates"})


def test_codes_are_matched_without_case_or_surrounding_spaces(db_session: Session, paid_event: Event) -> None:
    add_code(db_session, paid_event, code="Rad10", percent_off=10)
    member = rate(paid_event, "member")
    for typed in ("RAD10", "rad10", "  rAd10 "):
        assert pricing.price(db_session, paid_event, member, typed, dt.datetime.now(dt.UTC)).amount == 40500
    with pytest.raises(ApiError) as excinfo:
        pricing.price(db_session, paid_event, member, "RAD11", dt.datetime.now(dt.UTC))
    assert refused(excinfo) == "Unknown discount code."


def test_a_codes_last_use_is_claimed_once(db_session: Session, paid_event: Event) -> None:
    code = add_code(db_session, paid_event, code="once", percent_off=10, max_uses=1)
    member = rate(paid_event, "member")
    found = pricing.price(db_session, paid_event, member, "once", dt.datetime.now(dt.UTC)).discount_code
    assert found is not None
    assert pricing.try_claim_use(db_session, found.id)
    # A second claim by someone who looked the code up before the first claim: the UPDATE refuses it.
    assert not pricing.try_claim_use(db_session, found.id)
    assert db_session.scalar(select(DiscountCode.uses).where(DiscountCode.id == code.id)) == 1
    db_session.expire_all()
    with pytest.raises(ApiError) as excinfo:
        pricing.price(db_session, paid_event, member, "once", dt.datetime.now(dt.UTC))
    assert refused(excinfo) == "This discount code has been used up."

    # Given back (a cancellation before payment), it can be claimed again.
    pricing.release_use(db_session, code.id)
    db_session.expire_all()
    assert pricing.price(db_session, paid_event, member, "once", dt.datetime.now(dt.UTC)).amount == 40500


def test_a_refused_code_at_sign_up_takes_no_seat_and_no_use(db_session: Session, paid_event: Event) -> None:
    add_code(db_session, paid_event, code="members-only", percent_off=100, rates=["member"], max_uses=5)
    with pytest.raises(ApiError) as excinfo:
        signup.sign_up(db_session, paid_event, SignUpInput().load(signup_payload(
            rate="non-member", discount_code="members-only")))
    assert refused(excinfo) == "This discount code does not apply to this rate."
    db_session.refresh(paid_event)
    assert paid_event.seats_taken == 0
    assert db_session.scalar(select(DiscountCode.uses).where(DiscountCode.code == "MEMBERS-ONLY")) == 0
    assert db_session.scalar(select(Registration.id)) is None


def test_a_free_sign_up_with_a_100_percent_code_is_confirmed_and_counts_one_use(db_session: Session,
                                                                               paid_event: Event) -> None:
    add_code(db_session, paid_event, code="speaker", percent_off=100, max_uses=2)
    outcome = signup.sign_up(db_session, paid_event, SignUpInput().load(signup_payload(
        rate="member", discount_code="speaker")))
    registration = outcome.registration
    assert (registration.status, registration.amount_due, registration.payment_method,
            registration.hold_expires_at) == (RegistrationStatus.CONFIRMED, 0, None, None)
    assert db_session.scalar(select(DiscountCode.uses).where(DiscountCode.code == "SPEAKER")) == 1


# --- a 100 % code through the JSON API ------------------------------------------------------


# On the member list: the member rate is for members only.
MEMBER, OTHER_MEMBER = "member@hospital.example", "other.member@klinikum.example"


def create_paid_event(client: FlaskClient, auth: dict[str, str], **overrides: Any) -> str:
    response = client.put("/api/v1/members", headers=auth, content_type="multipart/form-data", data={
        "file": (io.BytesIO(f"email,name\n{MEMBER},Zoë Łukasiewicz\n{OTHER_MEMBER},Jürgen Öztürk\n".encode()), "members.csv")})
    assert response.status_code == 200, response.get_json()
    response = client.post("/api/v1/events", headers=auth, json=event_payload(
        kind="conference", join_url=None, venue="Vienna", vat_rate="20", capacity=10, **overrides))
    assert response.status_code == 201, response.get_json()
    slug = response.get_json()["slug"]
    for code, amount, category in (("member", 45000, "member"), ("non-member", 60000, "non_member")):
        response = client.post(f"/api/v1/events/{slug}/rates", headers=auth, json={
            "code": code, "name": code.title(), "amount": amount, "currency": "EUR", "category": category})
        assert response.status_code == 201, response.get_json()
    return slug


def test_a_100_percent_code_confirms_a_paid_rate_without_payment(client: FlaskClient, auth: dict[str, str]) -> None:
    slug = create_paid_event(client, auth)
    response = client.post(f"/api/v1/events/{slug}/discount-codes", headers=auth, json={
        "code": "FACULTY", "percent_off": 100, "max_uses": 1, "rates": ["member"]})
    assert response.status_code == 201, response.get_json()

    response = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(
        email=MEMBER, rate="member", discount_code="faculty"))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["status"], body["amount_due"], body["currency"], body["payment_url"]) == (
        "confirmed", 0, "EUR", None)

    person = client.get(f"/api/v1/registrations/{body['id']}", headers=auth).get_json()
    assert (person["status"], person["amount_due"], person["amount_paid"], person["payment_method"],
            person["hold_expires_at"], person["receipt_number"]) == ("confirmed", 0, 0, None, None, None)
    free = client.get(f"/api/v1/events/{slug}/registrations", headers=auth, query_string={"payment": "free"})
    assert [item["id"] for item in free.get_json()["items"]] == [body["id"]]
    assert client.get(f"/api/v1/events/{slug}", headers=auth).get_json()["seats_taken"] == 1

    # Its one use is taken: the next person is told so, and nothing is stored for them.
    again = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(
        email=OTHER_MEMBER, rate="member", discount_code="FACULTY"))
    assert "used up" in assert_error(again, 422, "validation_error", "discount_code")["fields"]["discount_code"][0]
    assert len(client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"]) == 1


def test_an_amount_code_larger_than_the_price_makes_the_registration_free(client: FlaskClient,
                                                                          auth: dict[str, str]) -> None:
    slug = create_paid_event(client, auth)
    response = client.post(f"/api/v1/events/{slug}/discount-codes", headers=auth,
                           json={"code": "GRANT", "amount_off": 100_000})
    assert response.status_code == 201, response.get_json()
    body = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(
        rate="non-member", discount_code="grant")).get_json()
    assert (body["status"], body["amount_due"], body["payment_url"]) == ("confirmed", 0, None)


@pytest.mark.parametrize(("code", "rate_code", "message"), [
    ({"code": "OLD", "percent_off": 10, "valid_until": iso(days=-1)}, "member", "expired"),
    ({"code": "MEMBERS", "percent_off": 10, "rates": ["member"]}, "non-member", "does not apply"),
    ({"code": "REAL", "percent_off": 10}, "member", "Unknown"),
])
def test_sign_up_with_a_code_that_does_not_apply_is_422_on_discount_code(
        client: FlaskClient, auth: dict[str, str], code: dict[str, Any], rate_code: str, message: str) -> None:
    slug = create_paid_event(client, auth)
    assert client.post(f"/api/v1/events/{slug}/discount-codes", headers=auth, json=code).status_code == 201
    typed = "NOT-REAL" if message == "Unknown" else code["code"]
    response = client.post(f"/api/v1/events/{slug}/registrations", json=signup_payload(
        email=MEMBER, rate=rate_code, discount_code=typed))
    error = assert_error(response, 422, "validation_error", "discount_code")
    assert message in error["fields"]["discount_code"][0]
    assert client.get(f"/api/v1/events/{slug}/registrations", headers=auth).get_json()["items"] == []
    assert client.get(f"/api/v1/events/{slug}", headers=auth).get_json()["seats_taken"] == 0
