"""Signing up, cancelling and correcting a name: the attendee's side of registration."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import insert_ignoring_conflicts, utcnow
from suite_common.emails import email_key
from suite_common.errors import ApiError, not_found, validation_error
from suite_common.i18n import DEFAULT_LANGUAGE
from suite_common.names import written_family_first

from ..models import Event, EventSession, Rate, Registration, RegistrationStatus, RegistrationWorkshop
from . import capacity, lifecycle, members, notify, payments, pricing
from .events import consent_version, rates_on_offer, registration_window_refusal
from .zoom import registrants as zoom_registrants

REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud on the phone
EMAIL_MAX = 254
# What secrets.token_urlsafe(32) gives out; anything else cannot be a manage token.
MANAGE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class SignUpOutcome:
    registration: Registration
    created: bool
    # Counted once, in the sign-up's transaction (the waiting-list mail says it too).
    waitlist_position: int | None


def normalise_email(email: str) -> str:
    """The key that duplicates are found by: NFKC, case-folded, IDNA domain (suite_common.emails)."""
    return email_key(email)


def new_reference() -> str:
    return "R" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(9))


def new_ticket_code() -> str:
    """120 random bits in an alphabet that survives being read aloud or typed from paper."""
    return "T" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(24))


def fingerprint(data: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def _replay(session: Session, event: Event, key: str, request_fingerprint: str) -> Registration | None:
    existing = session.scalar(
        select(Registration).where(Registration.event_id == event.id, Registration.idempotency_key == key)
    )
    if existing is not None and existing.request_fingerprint != request_fingerprint:
        raise ApiError(409, "idempotency_conflict",
                       "This Idempotency-Key was already used with a different request.")
    return existing


def _replayed(session: Session, registration: Registration) -> SignUpOutcome:
    return SignUpOutcome(registration, created=False,
                         waitlist_position=capacity.waitlist_position(session, registration))


def _duplicate_email() -> ApiError:
    return ApiError(409, "already_registered", gettext("This email address is already registered for this event."),
                    {"email": [gettext("Already registered for this event.")]})


def sign_up(session: Session, event: Event, data: dict[str, Any], idempotency_key: str | None = None,
            now: dt.datetime | None = None, language: str = DEFAULT_LANGUAGE) -> SignUpOutcome:
    """Stores the sign-up and takes a seat (or a place on the waiting list) in one transaction.

    The registration's language is the sign-up's ``"language"``, else ``language`` (the request's, which
    is kept out of the idempotency fingerprint: a retry from another browser is the same request).

    A member rate is refused unless the email or member number is on the member list; a rate
    that requires approval takes no seat yet: the registration waits as ``pending_approval``.

    The caller commits. The same ``idempotency_key`` with the same data returns the
    registration made the first time.

    Everything that does not depend on the seat is checked and built before the event lock
    (the registration's fields, the confirmation's calendar file and ticket), so the lock is
    held for a few statements: the seat, the registration, its mails, the commit.
    """
    now = now or utcnow()
    request_fingerprint = fingerprint(data)
    if idempotency_key:
        existing = _replay(session, event, idempotency_key, request_fingerprint)
        if existing is not None:
            return _replayed(session, existing)
    refusal = registration_window_refusal(event, now)
    if refusal:
        raise ApiError(403, "registration_closed", refusal)
    checked = _check(session, event, data, now)
    if checked.errors:
        raise validation_error(checked.errors)
    assert checked.rate is not None and checked.quote is not None and checked.email_normalised is not None
    rate, quote, workshops = checked.rate, checked.quote, checked.workshops
    price, amount_due, email_normalised = quote.price, quote.amount_due, checked.email_normalised
    member_number = (data.get("member_number") or "").strip() or None
    # A second live registration with this email is refused by the INSERT below (a unique index),
    # which gives back what the sign-up took: no look-up beforehand for the rare duplicate.
    fields: dict[str, Any] = {
        "event_id": event.id, "rate_id": rate.id, "reference": new_reference(),
        "manage_token": secrets.token_urlsafe(32), "unsubscribe_token": secrets.token_urlsafe(32),
        "ticket_code": new_ticket_code(), "announcements_consent_at": now if data.get("announcements") else None,
        "amount_due": amount_due, "discount_code_id": price.discount_code.id if price.discount_code else None,
        "payment_method": "card" if amount_due > 0 else None,
        "email": data["email"].strip(), "email_normalised": email_normalised, "member_number": member_number,
        "given_name": data["given_name"], "family_name": data["family_name"], "answers": data.get("answers") or {},
        "family_name_first": name_order(data),
        "language": data.get("language") or language,
        "amount_paid": 0, "currency": rate.currency, "consent_at": now,
        "consent_version": consent_version(event.consent_text), "idempotency_key": idempotency_key,
        "request_fingerprint": request_fingerprint if idempotency_key else None, "created_at": now, "updated_at": now,
    }
    # The other outcomes build their mails under the lock; they are cheap, or rare.
    confirmation = lifecycle.likely_confirmation(fields, event, rate, now)

    if not rate.requires_approval:
        seated = capacity.lock_event_taking_seat(session, event.id)
    else:  # a sign-up that waits for the organiser's approval takes no seat until it is approved
        capacity.lock_event(session, event.id)
        seated = False
    # From here on a refusal gives back what was taken (one lock order, as in lifecycle._reseat:
    # the event, its workshops by id, the discount code), so the caller's transaction stays usable.
    _take_workshops(session, event.id, workshops, seated)
    if price.discount_code is not None and not pricing.try_claim_use(session, price.discount_code.id):
        _give_back(session, event.id, seated, [w.id for w in workshops])
        raise validation_error({"discount_code": [gettext("This discount code has been used up.")]})
    status, hold = lifecycle.initial_state(event, rate, seated, amount_due, now)
    registration = _insert(session, {**fields, "status": status, "hold_expires_at": hold})
    if registration is None:
        # A concurrent request won the race: same email, or the same idempotency key.
        _give_back(session, event.id, seated, [w.id for w in workshops], fields["discount_code_id"])
        existing = _replay(session, event, idempotency_key, request_fingerprint) if idempotency_key else None
        if existing is not None:
            return _replayed(session, existing)
        raise _duplicate_email()
    session.add_all(RegistrationWorkshop(registration_id=registration.id, session_id=w.id, amount=w.amount)
                    for w in workshops)
    position = capacity.waitlist_position(session, registration)
    notify.queue(session, lifecycle.signed_up(registration, position, now, confirmation))
    return SignUpOutcome(registration, created=True, waitlist_position=position)


@dataclass
class Checked:
    """What a sign-up would be, found by every check that needs no lock, and every refusal at once."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    rate: Rate | None = None
    quote: pricing.Quote | None = None
    workshops: list[EventSession] = field(default_factory=list)
    email_normalised: str | None = None
    # What confirming would most likely make of it (the seats as read now): the review says what comes next.
    likely_status: RegistrationStatus | None = None


def _refusals(checked: Checked, failing: Callable[[], Any]) -> Any:
    """Runs one check; its refusal's field messages join the others instead of hiding them."""
    try:
        return failing()
    except ApiError as exc:
        for name, messages in (exc.fields or {"_form": [exc.message]}).items():
            checked.errors.setdefault(name, []).extend(messages)
        return None


def _check(session: Session, event: Event, data: dict[str, Any], now: dt.datetime) -> Checked:
    """Every check of a sign-up made before the event is locked, each on the fields it needs: ``data`` may
    hold only the fields the schema accepted (the form's review shows the rest of its refusals beside these).

    Workshop seats and the discount code's uses are read here as they are now; the sign-up takes them
    under the lock and refuses then if another sign-up took the last one in between."""
    checked = Checked()
    if data.get("rate"):
        checked.rate = next((r for r in rates_on_offer(event, now) if r.code == data["rate"]), None)
        if checked.rate is None:
            checked.errors["rate"] = [gettext("Unknown rate, or no longer on offer.")]
    rate = checked.rate
    workshops = _refusals(checked, lambda: _chosen_workshops(event, data.get("workshops") or [])) or []
    checked.workshops = workshops
    if workshops and rate is not None and rate.requires_approval:
        checked.errors["workshops"] = [gettext("Workshops are chosen once the registration is approved.")]
    elif workshops and rate is not None and event.capacity is not None and event.seats_taken >= event.capacity:
        checked.errors["workshops"] = [gettext("The event is full: join the waiting list without workshops.")]
    else:
        full = [w.title for w in workshops if w.capacity is not None and w.seats_taken >= w.capacity]
        if full:
            checked.errors["workshops"] = [gettext("%(workshop)s is full.", workshop=title) for title in full]
    if data.get("email"):
        checked.email_normalised = normalise_email(data["email"])
        if len(checked.email_normalised) > EMAIL_MAX:  # lower-casing can lengthen some letters (e.g. "İ")
            checked.errors.setdefault("email", []).append(
                gettext("Use at most %(num)d characters.", num=EMAIL_MAX))
    if rate is None:
        if data.get("discount_code"):
            _refusals(checked, lambda: pricing.find_code(session, event, None, data["discount_code"], now))
        return checked
    price = _refusals(checked, lambda: pricing.price(session, event, rate, data.get("discount_code"), now))
    if price is not None:
        checked.quote = pricing.quote(event, rate, price, workshops)
    member_number = (data.get("member_number") or "").strip() or None
    if rate.requires_membership and (checked.email_normalised or member_number):
        _refusals(checked, lambda: members.check_membership(session, event, checked.email_normalised or "",
                                                            member_number))
    return checked


def review(session: Session, event: Event, data: dict[str, Any], now: dt.datetime | None = None) -> Checked:
    """A sign-up checked without being stored, for the form's review step: its total (``quote``) and every
    refusal the sign-up would give, the closed window and an email already registered included.

    Nothing is taken or written, so a review may be repeated (the "Change" button) at no cost."""
    now = now or utcnow()
    checked = _check(session, event, data, now)
    refusal = registration_window_refusal(event, now)
    if refusal:
        checked.errors.setdefault("_form", []).append(refusal)
    if checked.email_normalised and not checked.errors.get("email") and _live_registration_exists(
            session, event, checked.email_normalised):
        checked.errors["email"] = _duplicate_email().fields["email"]
    if checked.rate is not None and checked.quote is not None:
        seat_free = event.capacity is None or event.seats_taken < event.capacity
        checked.likely_status = lifecycle.initial_state(event, checked.rate, seat_free, checked.quote.amount_due,
                                                        now)[0]
    return checked


def _live_registration_exists(session: Session, event: Event, email_normalised: str) -> bool:
    ended = [RegistrationStatus.CANCELLED.value, RegistrationStatus.REFUNDED.value]
    return session.scalar(select(Registration.id).where(
        Registration.event_id == event.id, Registration.email_normalised == email_normalised,
        Registration.status.not_in(ended)).limit(1)) is not None


def _insert(session: Session, values: dict[str, Any]) -> Registration | None:
    """INSERT ... ON CONFLICT DO NOTHING: None when a live registration has the email, or one has
    the idempotency key (no savepoint needed: nothing failed, the transaction goes on)."""
    return session.scalar(insert_ignoring_conflicts(session, Registration).returning(Registration), values)


def _give_back(session: Session, event_id: int, seated: bool, workshop_ids: list[int] | None = None,
               discount_code_id: int | None = None) -> None:
    """Undoes a refused sign-up's seat, workshop seats and discount code use, all taken under the lock."""
    if seated:
        capacity.release_seat(session, event_id)
    if workshop_ids:
        capacity.give_back_workshop_seats(session, workshop_ids)
    if discount_code_id is not None:
        pricing.release_use(session, discount_code_id)


def _chosen_workshops(event: Event, codes: list[str]) -> list[EventSession]:
    if not codes:  # most sign-ups: the event's sessions need not be loaded
        return []
    offered = {s.code: s for s in event.sessions if s.is_workshop}
    unknown = [code for code in codes if code not in offered]
    if unknown:
        raise validation_error({"workshops": [gettext("No such workshop: %(codes)s.", codes=", ".join(unknown))]})
    return sorted({offered[code] for code in codes}, key=lambda s: s.id)  # one lock order: by id


def _take_workshops(session: Session, event_id: int, workshops: list[EventSession], seated: bool) -> None:
    """All chosen workshops or none: a full one gives back what the sign-up took and refuses it."""
    if workshops and not seated:
        raise validation_error({"workshops": [gettext("The event is full: join the waiting list without workshops.")]})
    taken: list[int] = []
    for workshop in workshops:
        if not capacity.take_workshop_seat(session, workshop.id):
            _give_back(session, event_id, seated, taken)
            raise validation_error({"workshops": [gettext("%(workshop)s is full.", workshop=workshop.title)]})
        taken.append(workshop.id)


def cancel(session: Session, registration: Registration, refund_shown: str | None = None) -> list[Registration]:
    """Cancels, refunds what the event's policy gives back, and hands a freed seat to the
    waiting list; returns who was promoted.

    ``refund_shown`` is the refund the attendee's confirm page showed (``pricing.refund_preview``): when a
    deadline of the policy passed or a payment arrived since, the refund differs and nothing is cancelled
    (409 ``refund_changed``), so that nobody confirms one amount and receives another."""
    capacity.lock_event(session, registration.event_id)
    session.refresh(registration)
    now = utcnow()
    if refund_shown is not None and not RegistrationStatus(registration.status).ended and (
            refund_shown != str(pricing.refund_on_cancel(registration, now))):
        raise ApiError(409, "refund_changed", gettext("What cancelling refunds has changed since this page was "
                                                      "shown. Please check the amount below again."))
    cancelled = lifecycle.cancel(session, registration, now)
    if cancelled is None:
        return []  # cancelled already
    payments.expire_checkout(session, registration)
    payments.refund(session, registration, cancelled.refund, "cancelled under the event's policy")
    notify.queue(session, cancelled.mails)
    return cancelled.promoted


def name_order(data: dict[str, Any]) -> bool:
    """Family name first when the person said so; when they did not, by the script of the name."""
    chosen = data.get("family_name_first")
    return written_family_first(data["given_name"], data["family_name"]) if chosen is None else bool(chosen)


def correct_name(session: Session, registration: Registration, given_name: str, family_name: str) -> None:
    """Names are kept exactly as typed (no case folding, no transliteration): they go on certificates."""
    if RegistrationStatus(registration.status).ended:
        raise ApiError(409, "cancelled", gettext("This registration is cancelled."))
    registration.given_name = given_name
    registration.family_name = family_name
    session.flush()
    zoom_registrants.changed(session, registration)  # Zoom shows the name in the webinar and its reports


def by_manage_token(session: Session, token: str) -> Registration | None:
    if not MANAGE_TOKEN.match(token):
        return None
    return session.scalar(select(Registration).where(Registration.manage_token == token))


def by_unsubscribe_token(session: Session, token: str) -> Registration | None:
    if not MANAGE_TOKEN.match(token):
        return None
    return session.scalar(select(Registration).where(Registration.unsubscribe_token == token))


def unsubscribe(session: Session, registration: Registration) -> None:
    """Withdraws consent to announcements; repeating it changes nothing (one-click clients retry)."""
    registration.announcements_consent_at = None
    session.flush()


def by_ticket_code(session: Session, code: str) -> Registration | None:
    if not MANAGE_TOKEN.match(code):
        return None
    return session.scalar(select(Registration).where(Registration.ticket_code == code))


def registration_of_organisation(session: Session, organisation_id: int, registration_id: int) -> Registration:
    registration = session.scalar(
        select(Registration).join(Event, Event.id == Registration.event_id)
        .where(Registration.id == registration_id, Event.organisation_id == organisation_id))
    if registration is None:
        raise not_found("registration")
    return registration
