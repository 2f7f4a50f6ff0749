"""Registration's service layer, called directly in one database session (no HTTP).

Inputs go through the same marshmallow schemas as the API, so the services see
the data they see in production.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from marshmallow import ValidationError
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from registration.models import DiscountCode, Event, Registration
from registration.schemas.events import DiscountCodeInput, EventInput, EventPatch, EventSessionInput, RateInput
from registration.schemas.registrations import SignUpInput
from registration.services import capacity, events, lifecycle, organisations, pricing, roster, signup
from suite_common.csvexport import neutralise
from suite_common.errors import ApiError
from tests.support.databases import BACKENDS
from tests.support.factories import event_payload, signup_payload

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def at(days: float = 0, hours: float = 0) -> dt.datetime:
    return NOW + dt.timedelta(days=days, hours=hours)


@pytest.fixture
def org_id(db_session: Session) -> int:
    return organisations.get_or_create_organisation(db_session, "society-a", "Society A").id


def new_event(session: Session, org_id: int, rate: str | None = "free", **overrides: Any) -> Event:
    event = events.create_event(session, org_id, EventInput().load(event_payload(**overrides)))
    if rate:
        events.add_rate(session, event, RateInput().load(
            {"code": rate, "name": rate.title(), "amount": 0, "currency": "EUR", "category": "other"}))
    return event


def join(session: Session, event: Event, key: str | None = None, now: dt.datetime | None = None,
         **overrides: Any) -> signup.SignUpOutcome:
    return signup.sign_up(session, event, SignUpInput().load(signup_payload(**overrides)), idempotency_key=key,
                          now=now)


def seats_taken(session: Session, event: Event) -> int:
    return session.scalar(select(Event.seats_taken).where(Event.id == event.id))


def statuses(session: Session, *registrations: Registration) -> list[str]:
    for registration in registrations:
        session.refresh(registration)
    return [r.status for r in registrations]


def refusal(excinfo: pytest.ExceptionInfo[ApiError]) -> tuple[int, str, set[str]]:
    error = excinfo.value
    return error.status, error.code, set(error.fields or {})


# --- events --------------------------------------------------------------------------


def test_create_event_fills_in_defaults(db_session, org_id):
    event = new_event(db_session, org_id, rate=None, capacity=None)
    assert event.id and event.seats_taken == 0 and event.sequence == 0 and event.capacity is None
    assert event.consent_text == events.DEFAULT_CONSENT_TEXT
    assert event.starts_at.tzinfo is not None


def test_duplicate_slug_refuses_without_undoing_the_callers_work(db_session, org_id):
    first = new_event(db_session, org_id)
    with pytest.raises(ApiError) as excinfo:
        new_event(db_session, org_id, rate=None, slug=first.slug)
    assert refusal(excinfo) == (409, "conflict", {"slug"})
    # Only the refused insert was undone: the first event, its rate and the organisation remain.
    db_session.flush()
    assert events.get_event(db_session, org_id, first.slug) is first
    assert [r.code for r in first.rates] == ["free"]
    assert db_session.scalar(select(func.count()).select_from(Event)) == 1


def test_get_event_is_scoped_to_the_organisation(db_session, org_id):
    event = new_event(db_session, org_id)
    other = organisations.get_or_create_organisation(db_session, "society-b").id
    with pytest.raises(ApiError) as excinfo:
        events.get_event(db_session, other, event.slug)
    assert excinfo.value.status == 404
    assert events.get_public_event(db_session, event.slug) is event


@pytest.mark.parametrize("slug", ["nope", "NOT-A-SLUG", "a\x00b", "", "x" * 65])
def test_lookups_of_impossible_or_unknown_slugs_are_404(db_session, org_id, slug):
    with pytest.raises(ApiError) as excinfo:
        events.get_public_event(db_session, slug)
    assert excinfo.value.status == 404
    with pytest.raises(ApiError):
        events.get_event(db_session, org_id, slug)


def test_list_events_in_start_order_for_one_organisation(db_session, org_id):
    later = new_event(db_session, org_id, starts_at=at(days=20).isoformat(), ends_at=at(days=21).isoformat())
    sooner = new_event(db_session, org_id, starts_at=at(days=5).isoformat(), ends_at=at(days=6).isoformat())
    other = organisations.get_or_create_organisation(db_session, "society-b").id
    new_event(db_session, other)
    assert events.list_events(db_session, org_id) == [sooner, later]


def test_update_event_bumps_sequence_only_when_time_or_place_changes(db_session, org_id):
    event = new_event(db_session, org_id)
    events.update_event(db_session, event, EventPatch(partial=True).load({"title": "New title"}))
    assert event.sequence == 0 and event.title == "New title"
    events.update_event(db_session, event, EventPatch(partial=True).load(
        {"starts_at": at(days=30).isoformat(), "ends_at": at(days=30, hours=3).isoformat()}))
    assert event.sequence == 1 and event.starts_at == at(days=30)
    events.update_event(db_session, event, EventPatch(partial=True).load({"starts_at": at(days=30).isoformat()}))
    assert event.sequence == 1  # the same moment again is no move


@pytest.mark.parametrize("changes, field", [
    ({"ends_at": at(days=1)}, "ends_at"),  # before the event's start (in 10 days)
    ({"starts_at": at(days=40)}, "ends_at"),
    ({"registration_opens_at": at(days=3), "registration_closes_at": at(days=2)}, "registration_closes_at"),
])
def test_update_event_checks_the_merged_times(db_session, org_id, changes, field):
    event = new_event(db_session, org_id)
    before = (event.starts_at, event.ends_at)
    with pytest.raises(ApiError) as excinfo:
        events.update_event(db_session, event, changes)
    assert refusal(excinfo) == (422, "validation_error", {field})
    assert (event.starts_at, event.ends_at) == before


def test_add_session_within_the_event_only(db_session, org_id):
    event = new_event(db_session, org_id)
    data = {"code": "S1", "title": "Keynote", "starts_at": event.starts_at.isoformat(),
            "ends_at": (event.starts_at + dt.timedelta(hours=1)).isoformat(), "credits": "1.25"}
    item = events.add_session(db_session, event, EventSessionInput().load(data))
    assert [s.code for s in event.sessions] == ["S1"] and str(item.credits) == "1.25"

    early = {**data, "code": "S0", "starts_at": (event.starts_at - dt.timedelta(minutes=1)).isoformat()}
    with pytest.raises(ApiError) as excinfo:
        events.add_session(db_session, event, EventSessionInput().load(early))
    assert refusal(excinfo) == (422, "validation_error", {"starts_at"})

    with pytest.raises(ApiError) as excinfo:
        events.add_session(db_session, event, EventSessionInput().load(data))
    assert refusal(excinfo) == (409, "conflict", {"code"})
    db_session.flush()
    assert [s.code for s in event.sessions] == ["S1"]


def test_add_rate_rules(db_session, org_id):
    event = new_event(db_session, org_id, rate=None)
    base = {"code": "member", "name": "Members", "amount": 0, "currency": "EUR", "category": "member",
            "requires_membership": False}
    with pytest.raises(ApiError) as excinfo:
        events.add_rate(db_session, event, RateInput().load({**base, "currency": "CHF"}))
    assert refusal(excinfo) == (422, "validation_error", {"currency"})
    events.add_rate(db_session, event, RateInput().load(base))
    # The event's rates are current at once, so a sign-up in the same transaction finds the rate.
    assert [r.code for r in event.rates] == ["member"]
    assert join(db_session, event, rate="member").registration.rate.code == "member"

    with pytest.raises(ApiError) as excinfo:
        events.add_rate(db_session, event, RateInput().load(base))
    assert refusal(excinfo) == (409, "conflict", {"code"})


def test_rates_on_offer_respect_valid_until(db_session, org_id):
    event = new_event(db_session, org_id)
    events.add_rate(db_session, event, RateInput().load({
        "code": "early", "name": "Early", "amount": 0, "currency": "EUR", "category": "member",
        "valid_until": at(days=2).isoformat()}))
    assert [r.code for r in events.rates_on_offer(event, at(days=1))] == ["free", "early"]
    assert [r.code for r in events.rates_on_offer(event, at(days=2))] == ["free"]


def test_registration_window(db_session, org_id):
    event = new_event(db_session, org_id, registration_opens_at=at(days=1).isoformat(),
                      registration_closes_at=at(days=5).isoformat())
    assert "not opened" in events.registration_window_refusal(event, at())
    assert events.registration_window_refusal(event, at(days=1)) is None
    assert events.registration_window_refusal(event, at(days=4, hours=23)) is None
    assert "closed" in events.registration_window_refusal(event, at(days=5))

    open_ended = new_event(db_session, org_id, rate=None)  # closes when the event ends
    assert events.registration_window_refusal(open_ended, open_ended.ends_at - dt.timedelta(seconds=1)) is None
    assert events.registration_window_refusal(open_ended, open_ended.ends_at) is not None


def test_consent_version_follows_the_text():
    assert events.consent_version("I agree.") == events.consent_version("I agree.")
    assert events.consent_version("I agree.") != events.consent_version("I agree!")
    assert len(events.consent_version("x")) == 16


# --- sign-up -------------------------------------------------------------------------


def test_sign_up_takes_seats_then_waitlists(db_session, org_id):
    event = new_event(db_session, org_id, capacity=2)
    outcomes = [join(db_session, event) for _ in range(3)]
    assert [o.created for o in outcomes] == [True, True, True]
    assert [o.registration.status for o in outcomes] == ["confirmed", "confirmed", "waitlisted"]
    assert seats_taken(db_session, event) == 2
    assert capacity.waitlist_position(db_session, outcomes[2].registration) == 1
    assert capacity.waitlist_position(db_session, outcomes[0].registration) is None


def test_sign_up_records_consent_and_keeps_names(db_session, org_id):
    event = new_event(db_session, org_id)
    registration = join(db_session, event, email="Anna.Berg@Hospital.Example", given_name="Zoë",
                        family_name="Łukasiewicz").registration
    assert registration.email == "Anna.Berg@Hospital.Example"
    assert registration.email_normalised == "anna.berg@hospital.example"
    assert (registration.given_name, registration.family_name) == ("Zoë", "Łukasiewicz")
    assert registration.consent_version == events.consent_version(event.consent_text)
    assert registration.reference.startswith("R") and len(registration.manage_token) == 43


def test_sign_up_outside_the_window_is_403(db_session, org_id):
    event = new_event(db_session, org_id, registration_opens_at=at(days=1).isoformat())
    with pytest.raises(ApiError) as excinfo:
        join(db_session, event, now=at())
    assert refusal(excinfo)[:2] == (403, "registration_closed")
    assert join(db_session, event, now=at(days=2)).registration.status == "confirmed"


def test_sign_up_with_unknown_rate_or_discount_is_422(db_session, org_id):
    event = new_event(db_session, org_id)
    with pytest.raises(ApiError) as excinfo:
        join(db_session, event, rate="gold")
    assert refusal(excinfo) == (422, "validation_error", {"rate"})
    with pytest.raises(ApiError) as excinfo:
        join(db_session, event, discount_code="SAVE10")
    assert refusal(excinfo) == (422, "validation_error", {"discount_code"})
    assert seats_taken(db_session, event) == 0


def test_duplicate_email_is_409_until_cancelled(db_session, org_id):
    event = new_event(db_session, org_id)
    first = join(db_session, event, email="anna@hospital.example").registration
    with pytest.raises(ApiError) as excinfo:
        join(db_session, event, email="ANNA@hospital.example")
    assert refusal(excinfo) == (409, "already_registered", {"email"})

    signup.cancel(db_session, first)
    again = join(db_session, event, email="Anna@Hospital.example").registration
    assert again.id != first.id and again.status == "confirmed"


def test_email_too_long_once_lower_cased_is_422():
    email = "\u0130" * 130 + "@x.example"  # "İ" lower-cases to two characters: the key is too long
    with pytest.raises(ValidationError) as excinfo:  # the sign-up schema's field makes the key
        SignUpInput().load(signup_payload(email=email))
    assert excinfo.value.messages == {"email": ["Use at most 254 characters."]}


def test_idempotent_sign_up(db_session, org_id):
    event = new_event(db_session, org_id)
    data = SignUpInput().load(signup_payload())
    first = signup.sign_up(db_session, event, data, idempotency_key="k-1")
    replay = signup.sign_up(db_session, event, dict(data), idempotency_key="k-1")
    assert first.created and not replay.created and replay.registration is first.registration
    assert seats_taken(db_session, event) == 1

    with pytest.raises(ApiError) as excinfo:
        signup.sign_up(db_session, event, {**data, "given_name": "Other"}, idempotency_key="k-1")
    assert refusal(excinfo)[:2] == (409, "idempotency_conflict")


def test_a_lost_insert_race_gives_the_seat_back_and_keeps_the_transaction(db_session, org_id, monkeypatch):
    """Two requests with one Idempotency-Key both pass the first check; the unique index stops the second."""
    event = new_event(db_session, org_id, capacity=5)
    winner = join(db_session, event, key="race").registration
    bystander = join(db_session, event).registration  # earlier work of the same transaction
    taken = seats_taken(db_session, event)

    real_replay = signup._replay
    calls = {"n": 0}

    def replay_missing_the_winner_once(*args: Any) -> Registration | None:
        calls["n"] += 1
        return None if calls["n"] == 1 else real_replay(*args)

    monkeypatch.setattr(signup, "_replay", replay_missing_the_winner_once)
    with pytest.raises(ApiError) as excinfo:
        join(db_session, event, key="race")  # other data under the same key
    assert refusal(excinfo)[:2] == (409, "idempotency_conflict")
    assert seats_taken(db_session, event) == taken
    assert db_session.get(Registration, bystander.id) is bystander and winner.status == "confirmed"
    assert db_session.scalar(select(func.count()).select_from(Registration)) == 2


def _workshop(session: Session, event: Event, code: str, capacity: int) -> None:
    events.add_session(session, event, EventSessionInput().load({
        "code": code, "title": f"Hands-on {code}", "starts_at": event.starts_at.isoformat(),
        "ends_at": event.ends_at.isoformat(), "credits": "1", "capacity": capacity, "is_workshop": True}))


def _held(session: Session, event: Event) -> tuple[int, dict[str, int], int]:
    """Event seats, workshop seats by code, discount code uses: what a refused sign-up must give back."""
    session.expire_all()
    return (seats_taken(session, event), {s.code: s.seats_taken for s in event.sessions},
            session.scalar(select(func.coalesce(func.sum(DiscountCode.uses), 0))))


def test_a_sign_up_refused_under_the_lock_gives_back_everything_it_took(db_session, org_id, monkeypatch):
    event = new_event(db_session, org_id, capacity=5)
    _workshop(db_session, event, "W1", capacity=5)
    _workshop(db_session, event, "W2", capacity=1)
    pricing.add_code(db_session, event, DiscountCodeInput().load({"code": "once", "percent_off": 10, "max_uses": 2}))
    join(db_session, event, workshops=["W2"], discount_code="once")
    before = _held(db_session, event)
    assert before == (1, {"W1": 0, "W2": 1}, 1)

    # A full workshop: the event seat and the workshop seats taken before it go back.
    with pytest.raises(ApiError) as excinfo:
        join(db_session, event, workshops=["W1", "W2"])
    assert refusal(excinfo) == (422, "validation_error", {"workshops"})
    assert _held(db_session, event) == before

    # The code's last use taken by someone else between the price and the claim.
    real_price = pricing.price

    def price_then_someone_else_claims(session: Session, *args: Any) -> pricing.Price:
        found = real_price(session, *args)
        assert found.discount_code is not None and pricing.try_claim_use(session, found.discount_code.id)
        return found

    monkeypatch.setattr(pricing, "price", price_then_someone_else_claims)
    with pytest.raises(ApiError) as excinfo:
        join(db_session, event, workshops=["W1"], discount_code="once")
    assert refusal(excinfo) == (422, "validation_error", {"discount_code"})
    assert _held(db_session, event) == (1, {"W1": 0, "W2": 1}, 2)
    monkeypatch.undo()
    assert db_session.scalar(select(func.count()).select_from(Registration)) == 1


def test_a_lost_insert_race_gives_back_workshop_seats_and_the_discount_use(db_session, org_id, monkeypatch):
    event = new_event(db_session, org_id, capacity=5)
    _workshop(db_session, event, "W1", capacity=5)
    pricing.add_code(db_session, event, DiscountCodeInput().load({"code": "half", "percent_off": 50}))
    winner = join(db_session, event, key="race", workshops=["W1"], discount_code="half").registration
    before = _held(db_session, event)
    assert before == (1, {"W1": 1}, 1)
    monkeypatch.setattr(signup, "_replay", lambda *args: None)  # misses the winner: the unique index stops it
    with pytest.raises(ApiError) as excinfo:
        join(db_session, event, key="race", email=winner.email, workshops=["W1"], discount_code="half")
    assert refusal(excinfo)[:2] == (409, "already_registered")
    assert _held(db_session, event) == before


def test_lock_event_taking_seat_takes_the_last_seat_once_and_locks_the_event_even_when_full(db_session, org_id):
    event = new_event(db_session, org_id, capacity=2)
    assert [capacity.lock_event_taking_seat(db_session, event.id) for _ in range(3)] == [True, True, False]
    assert seats_taken(db_session, event) == 2
    unlimited = new_event(db_session, org_id, capacity=None)
    assert all(capacity.lock_event_taking_seat(db_session, unlimited.id) for _ in range(5))
    if db_session.get_bind().dialect.name == "postgresql":  # SQLite: the whole database is locked since BEGIN
        db_session.commit()
        assert capacity.lock_event_taking_seat(db_session, event.id) is False
        with db_session.get_bind().connect() as other, pytest.raises(OperationalError, match="could not obtain lock"):
            other.execute(select(Event.id).where(Event.id == event.id).with_for_update(nowait=True))


def test_a_sign_up_runs_four_statements_at_most_while_it_holds_the_event_lock(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    db_session.commit()
    statements: list[str] = []
    engine = db_session.get_bind()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    sa_event.listen(engine, "before_cursor_execute", listener)
    try:
        for _ in range(2):  # the last seat, then the waiting list (which counts the position)
            statements.clear()
            join(db_session, event)
            db_session.flush()
            locked = statements[next(i for i, sql in enumerate(statements) if sql.startswith("UPDATE events")):]
            assert len(locked) <= 4, locked
    finally:
        sa_event.remove(engine, "before_cursor_execute", listener)


def test_cancel_frees_the_seat_for_the_first_in_line(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    first, second, third = (join(db_session, event).registration for _ in range(3))
    promoted = signup.cancel(db_session, first)
    assert promoted == [second]
    assert statuses(db_session, first, second, third) == ["cancelled", "confirmed", "waitlisted"]
    assert first.cancelled_at is not None and seats_taken(db_session, event) == 1
    assert capacity.waitlist_position(db_session, third) == 1

    assert signup.cancel(db_session, first) == []  # twice is harmless
    assert seats_taken(db_session, event) == 1


def test_cancelling_a_waitlisted_registration_frees_no_seat(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    first, second, third = (join(db_session, event).registration for _ in range(3))
    assert signup.cancel(db_session, second) == []
    assert statuses(db_session, first, second, third) == ["confirmed", "cancelled", "waitlisted"]
    assert seats_taken(db_session, event) == 1 and capacity.waitlist_position(db_session, third) == 1


def test_correct_name(db_session, org_id):
    event = new_event(db_session, org_id)
    registration = join(db_session, event).registration
    signup.correct_name(db_session, registration, "Ngọc Anh", "Nguyễn")
    assert (registration.given_name, registration.family_name) == ("Ngọc Anh", "Nguyễn")
    signup.cancel(db_session, registration)
    with pytest.raises(ApiError) as excinfo:
        signup.correct_name(db_session, registration, "X", "Y")
    assert excinfo.value.status == 409


def test_by_manage_token(db_session, org_id):
    registration = join(db_session, new_event(db_session, org_id)).registration
    assert signup.by_manage_token(db_session, registration.manage_token) is registration
    for token in ("", "unknown", "a\x00b", "x" * 65, "../etc/passwd", registration.manage_token + "x"):
        assert signup.by_manage_token(db_session, token) is None


def test_fingerprint_and_normalise_email():
    assert signup.fingerprint({"a": 1, "b": [1, 2]}) == signup.fingerprint({"b": [1, 2], "a": 1})
    assert signup.fingerprint({"a": 1}) != signup.fingerprint({"a": 2})
    assert signup.normalise_email("  Anna.Berg@Hospital.EXAMPLE ") == "anna.berg@hospital.example"
    references = {signup.new_reference() for _ in range(200)}
    assert len(references) == 200
    assert all(len(r) == 10 and not set(r[1:]) & set("01IO") for r in references)


# --- capacity ------------------------------------------------------------------------


def test_take_and_release_seats(db_session, org_id):
    event = new_event(db_session, org_id, capacity=2)
    assert [capacity.take_seat(db_session, event.id) for _ in range(3)] == [True, True, False]
    assert seats_taken(db_session, event) == 2
    for _ in range(3):
        capacity.release_seat(db_session, event.id)
    assert seats_taken(db_session, event) == 0  # never below zero

    unlimited = new_event(db_session, org_id, capacity=None)
    assert all(capacity.take_seat(db_session, unlimited.id) for _ in range(50))


def test_change_capacity_promotes_in_arrival_order(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    people = [join(db_session, event).registration for _ in range(5)]

    promoted = lifecycle.change_capacity(db_session, event, 3, NOW).promoted
    assert promoted == people[1:3]
    assert statuses(db_session, *people) == ["confirmed"] * 3 + ["waitlisted"] * 2
    assert event.capacity == 3 and event.seats_taken == 3
    assert [capacity.waitlist_position(db_session, p) for p in people[3:]] == [1, 2]

    assert lifecycle.change_capacity(db_session, event, 1, NOW).promoted == []  # smaller takes no seat away
    assert statuses(db_session, *people) == ["confirmed"] * 3 + ["waitlisted"] * 2

    assert lifecycle.change_capacity(db_session, event, None, NOW).promoted == people[3:]
    assert event.seats_taken == 5


def test_update_event_capacity_goes_through_the_waiting_list(db_session, org_id):
    event = new_event(db_session, org_id, capacity=0)
    people = [join(db_session, event).registration for _ in range(2)]
    events.update_event(db_session, event, EventPatch(partial=True).load({"capacity": 1, "title": "Bigger room"}))
    assert statuses(db_session, *people) == ["confirmed", "waitlisted"]
    assert event.title == "Bigger room" and event.capacity == 1 and event.seats_taken == 1


def test_promote_waitlisted_stops_when_full(db_session, org_id):
    event = new_event(db_session, org_id, capacity=1)
    people = [join(db_session, event).registration for _ in range(3)]
    assert lifecycle.promote(db_session, event.id, NOW).promoted == []
    capacity.release_seat(db_session, event.id)
    assert lifecycle.promote(db_session, event.id, NOW).promoted == [people[1]]


# --- roster --------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"),
    ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
    ("+43 1 234", "'+43 1 234"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("Anna", "Anna"),
    ("Zoë Łukasiewicz", "Zoë Łukasiewicz"),
    ("a=b", "a=b"),
    ("", ""),
    (None, ""),
    (42, "42"),
    (dt.datetime(2031, 3, 4, 8, 0, tzinfo=dt.UTC), "2031-03-04T08:00:00+00:00"),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


@pytest.mark.parametrize("last_id", [0, 1, 12345, 2**31 - 1])
def test_cursor_round_trip(last_id):
    cursor = roster.encode_cursor(last_id)
    assert roster.decode_cursor(cursor) == last_id
    assert "=" not in cursor


@pytest.mark.parametrize("cursor", ["", "garbage", "e30", "W10", roster.encode_cursor(0)[:-2] + "!!",
                                    "eyJhZnRlciI6IHRydWV9", "eyJhZnRlciI6ICIxIn0", "eyJhZnRlciI6IC0xfQ"])
def test_decode_cursor_refuses_what_it_did_not_give_out(cursor):
    with pytest.raises(ApiError) as excinfo:
        roster.decode_cursor(cursor)
    assert refusal(excinfo) == (422, "validation_error", {"cursor"})


def test_roster_page_walks_everything_once(db_session, org_id):
    event = new_event(db_session, org_id, capacity=None)
    ids = [join(db_session, event).registration.id for _ in range(5)]
    seen, filters = [], {"limit": 2}
    while True:
        items, cursor = roster.roster_page(db_session, event, filters)
        seen.extend(r.id for r in items)
        if cursor is None:
            break
        filters = {"limit": 2, "cursor": cursor}
    assert seen == ids


def test_roster_csv_reads_in_batches_of_its_own(registration_app, db_session, org_id, monkeypatch):
    event = new_event(db_session, org_id, capacity=None)
    people = [join(db_session, event, given_name="=cmd|' /C calc'!A0").registration for _ in range(5)]
    db_session.commit()
    monkeypatch.setattr(roster, "CSV_BATCH", 2)

    chunks = roster.roster_csv(registration_app.extensions["suite_db"].session_factory, event, {}, bom=True)
    db_session.commit()  # as in a request: the request's session is done before the body is read
    text = b"".join(chunks).decode()

    lines = text.split("\r\n")
    assert lines[0] == "\ufeff" + ",".join(roster.CSV_COLUMNS)
    assert [int(line.split(",")[0]) for line in lines[1:-1]] == [p.id for p in people]
    assert lines[-1] == ""
    assert all("'=cmd|' /C calc'!A0" in line for line in lines[1:-1])


TRICKY_NAMES = ["=1+1", "+43 1 234", "-2+3", "@SUM(A1)", "\t=1", "\r=1", 'Anna "Nan" Berg', "Müller, Hans",
                "two\nlines", "cr\r\nlf", "王芳", "Γιώργος", "Zoë Łukasiewicz", "O'Brien", "\\.", " spaced ", "a=b"]


# COPY is PostgreSQL's: on SQLite the Python path is the only one, so this runs where PostgreSQL is under test.
@pytest.mark.parametrize("database_url", [b for b in BACKENDS if b == "postgresql"], indirect=True)
def test_copy_writes_the_same_bytes_as_the_python_path(registration_app, db_session, org_id, monkeypatch):
    """On PostgreSQL the roster CSV comes from COPY; it must be byte for byte what the Python path
    writes (which SQLite uses): the formula guard, quoting, empty cells, timestamps, CRLF, the BOM."""
    event = new_event(db_session, org_id, capacity=3)
    events.add_rate(db_session, event, RateInput().load(
        {"code": "plus-rate", "name": "Plus", "amount": 0, "currency": "EUR", "category": "other"}))
    people = [join(db_session, event, rate="plus-rate" if n % 3 == 0 else "free").registration
              for n in range(len(TRICKY_NAMES))]
    for n, (person, name) in enumerate(zip(people, TRICKY_NAMES, strict=True)):
        # Written directly: the API now refuses control characters, older rows may hold them.
        person.given_name, person.family_name = name, TRICKY_NAMES[-1 - n]
        person.email = f"-{n}@x.example" if n % 4 == 0 else person.email
        person.invoice_number = "" if n % 5 == 0 else "=INV-1" if n % 5 == 1 else None
        person.updated_at = person.updated_at.replace(microsecond=0 if n % 2 else 1234 * n + 1)
        person.amount_due = 150_000 if n == 7 else 0
    db_session.commit()
    sessions = registration_app.extensions["suite_db"].session_factory

    def python_path(filters: dict[str, Any], bom: bool) -> bytes:
        rate_cells = {rate.id: neutralise(rate.code) for rate in event.rates}
        return b"".join(chunk.encode() for chunk in roster._csv_chunks(
            sessions, roster.roster_query(event, filters), rate_cells,
            pricing.amount_to_pay_sql(event).label("amount_due"), bom))

    for batch in (roster.CSV_BATCH, 4):
        monkeypatch.setattr(roster, "CSV_BATCH", batch)
        for filters in ({}, {"status": "waitlisted"}, {"status": "cancelled"}, {"rate": "plus-rate"}):
            for bom in (False, True):
                copied = b"".join(roster.roster_csv(sessions, event, filters, bom))
                assert copied == python_path(filters, bom), (filters, bom, batch)
    everything = b"".join(roster.roster_csv(sessions, event, {}, bom=True)).decode()
    assert everything.startswith("\ufeffid,reference,") and "'=1+1" in everything and '"two\nlines"' in everything
    assert everything.count("\r\n") == 1 + len(people) + 2  # header, rows, and "cr\r\nlf" as given and family name
    assert len(list(csv.reader(io.StringIO(everything.removeprefix("\ufeff"), newline="")))) == len(people) + 1


def test_roster_csv_checks_the_cursor_before_streaming(registration_app, db_session, org_id):
    event = new_event(db_session, org_id)
    with pytest.raises(ApiError) as excinfo:
        roster.roster_csv(registration_app.extensions["suite_db"].session_factory, event,
                          {"cursor": "bogus"}, bom=False)
    assert excinfo.value.status == 422
