"""One person's data across the suite: export, and erasure that keeps only what must be kept.

Registration answers the organiser: it collects its own records and asks notifications and
certificates for theirs over their internal APIs. Erasure anonymises registrations (names,
email, answers, billing details; links stop working) after cancelling live ones, keeps
consent records (time and text version, no personal data), and keeps receipts, invoices and
credit notes for the tax retention period; certificates keep their records for the
accreditation retention period. The answer says what was kept, why and until when.
"""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

import requests
from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from suite_common.client import ServiceClient
from suite_common.dates import add_years
from suite_common.db import utcnow
from suite_common.emails import loose_email_key
from suite_common.errors import ApiError
from suite_common.retention import purge_delivered_outbox, purge_expired
from suite_common.settings import RetentionPeriods

from ..models import (
    Document,
    Event,
    OrganiserAccount,
    Outbox,
    RateLimitCounter,
    Registration,
    RegistrationStatus,
    SeenSignature,
    StripeEvent,
    ZoomWebhookEvent,
)
from . import accounts, faculty, pricing, signup
from .zoom import registrants as zoom_registrants

PEERS = ("notifications", "certificates")
ERASED_DOMAIN = "erased.invalid"


def tax_retention_years() -> int:
    return current_app.extensions["suite_settings"].retention.tax_years


def _registrations(session: Session, organisation_id: int, email: str) -> list[Registration]:
    return list(session.scalars(
        select(Registration).join(Event, Event.id == Registration.event_id)
        .where(Event.organisation_id == organisation_id, Registration.email_normalised == loose_email_key(email))
        .order_by(Registration.id)))


def _peer(name: str, path: str, organisation_id: int, email: str) -> dict[str, Any]:
    settings = current_app.extensions["suite_settings"]
    client = ServiceClient(getattr(settings, f"{name}_url"), settings.service, settings.own_signing_key, timeout=30)
    try:
        response = client.post(f"/internal/v1/privacy/{path}", json={"organisation_id": organisation_id,
                                                                      "email": email})
    except requests.RequestException as exc:
        raise ApiError(503, "unavailable", f"{name} cannot be reached; nothing was changed there. Try again.") from exc
    if response.status_code != 200:
        raise ApiError(503, "unavailable", f"{name} answered {response.status_code}; try again.")
    return response.json()


def _registration_record(registration: Registration, session: Session) -> dict[str, Any]:
    documents = session.scalars(select(Document).where(Document.registration_id == registration.id))
    return {
        "event": registration.event.slug, "reference": registration.reference, "status": registration.status,
        "email": registration.email, "given_name": registration.given_name,
        "family_name": registration.family_name, "rate": registration.rate.code, "answers": registration.answers,
        "language": registration.language,
        "consent": {"given_at": registration.consent_at.isoformat(), "text_version": registration.consent_version},
        "announcements_consent_at": (registration.announcements_consent_at.isoformat()
                                     if registration.announcements_consent_at else None),
        "amount_due": pricing.amount_to_pay(registration), "amount_paid": registration.amount_paid,
        "amount_refunded": registration.amount_refunded, "currency": registration.currency,
        "billing": registration.billing, "created_at": registration.created_at.isoformat(),
        "documents": [{"kind": d.kind, "number": d.number, "amount": d.amount, "currency": d.currency,
                       "issued_at": d.issued_at.isoformat()} for d in documents],
        "zoom_registrant": zoom_registrants.export(registration),
    }


def export(session: Session, organisation_id: int, email: str) -> dict[str, Any]:
    return {
        "email": email, "generated_at": utcnow().isoformat(),
        "registration": {"registrations": [_registration_record(r, session)
                                           for r in _registrations(session, organisation_id, email)],
                         "organiser_account": _organiser_record(session, organisation_id, email),
                         "faculty": [faculty.export_record(member)
                                     for member in faculty.privacy_records(session, organisation_id, email)]},
        **{name: _peer(name, "export", organisation_id, email)["data"] for name in PEERS},
    }


def _organiser_account(session: Session, organisation_id: int, email: str) -> OrganiserAccount | None:
    return session.scalar(select(OrganiserAccount).where(OrganiserAccount.organisation_id == organisation_id,
                                                         OrganiserAccount.email_key == loose_email_key(email)))


def _organiser_record(session: Session, organisation_id: int, email: str) -> dict[str, Any] | None:
    """The person's console account, if they are one of the organisation's people."""
    account = _organiser_account(session, organisation_id, email)
    if account is None:
        return None
    return {"email": account.email, "name": account.name, "role": account.role,
            "created_at": account.created_at.isoformat(),
            "last_signed_in_at": account.last_signed_in_at.isoformat() if account.last_signed_in_at else None}


def _erase_organiser(session: Session, organisation_id: int, email: str) -> list[dict[str, str]]:
    """Removes the person's console account (signing them out); the organisation's only owner is
    kept, as the organisation cannot be run without one: the answer says so."""
    account = _organiser_account(session, organisation_id, email)
    if account is None:
        return []
    try:
        accounts.remove_account(session, account)
    except ApiError:
        return [{"what": "the console account of the organisation's only owner",
                 "why": "an organisation needs an owner; make someone else owner, then erase again",
                 "until": "another owner exists"}]
    return []


def anonymise(registration: Registration, now: dt.datetime) -> None:
    """Takes the person out of a registration; what happened (event, rate, status, amounts, the consent
    record) stays. Documents keep their own frozen copy for the tax period."""
    registration.email = registration.email_normalised = f"erased-{registration.id}@{ERASED_DOMAIN}"
    registration.given_name = registration.family_name = "Erased"
    registration.answers, registration.billing = {}, None
    registration.member_number = None
    registration.announcements_consent_at = None
    # The Zoom registrant keeps its ID (attendance already matched to it stays explained) without the name;
    # the cancellation that erasure's cancel queued takes it out of the webinar at Zoom.
    if registration.zoom_registrant is not None:
        registration.zoom_registrant.given_name = registration.zoom_registrant.family_name = "Erased"
    # Old links (in mails, forwarded or not) must lead nowhere now.
    registration.manage_token = secrets.token_urlsafe(32)
    registration.unsubscribe_token = secrets.token_urlsafe(32)
    registration.updated_at = now


def erase(session: Session, organisation_id: int, email: str) -> dict[str, Any]:
    """Idempotent; the other services first, so a failure there leaves registration intact to retry."""
    answers = {name: _peer(name, "erase", organisation_id, email) for name in PEERS}
    kept = [item for answer in answers.values() for item in answer["kept"]]
    kept.extend(_erase_organiser(session, organisation_id, email))
    kept.extend(faculty.erase(session, organisation_id, email))
    registrations = _registrations(session, organisation_id, email)
    now = utcnow()
    for registration in registrations:
        if not RegistrationStatus(registration.status).ended:
            signup.cancel(session, registration)
        has_documents = session.scalar(select(Document.id).where(Document.registration_id == registration.id)
                                       .limit(1)) is not None
        if has_documents:
            kept.append({"what": f"receipts, invoices and credit notes of registration {registration.reference}",
                         "why": "payment records must be kept for the tax retention period",
                         "until": add_years(now, tax_retention_years()).date().isoformat()})
        anonymise(registration, now)
    kept.append({"what": "consent records (when, which text version), without personal data",
                 "why": "proof of the lawful basis of past processing", "until": "as long as the registrations"})
    return {
        "erased": {"registrations_anonymised": len(registrations),
                   **{f"{name}": answer["data"] for name, answer in answers.items()}},
        "kept": kept,
    }


def purge(session: Session, now: dt.datetime, periods: RetentionPeriods) -> dict[str, int]:
    """Retention: registrations of events that ended more than the personal-data period ago are
    anonymised (as by erasure, without cancelling or mailing anyone); receipts, invoices and credit
    notes are deleted once the tax period has passed; records that only recognise repeats go after
    the idempotency period."""
    ended = session.scalars(
        select(Registration).join(Event, Event.id == Registration.event_id)
        .where(Event.ends_at < now - periods.personal_data,
               Registration.email_normalised.not_like(f"%@{ERASED_DOMAIN}")))
    anonymised = 0
    for registration in ended:
        anonymise(registration, now)
        anonymised += 1
    repeats = now - periods.idempotency
    return {
        "registrations_anonymised": anonymised,
        "documents_deleted": session.execute(
            delete(Document).where(Document.issued_at < add_years(now, -periods.tax_years))).rowcount,
        "idempotency_keys_cleared": session.execute(
            update(Registration).where(Registration.idempotency_key.is_not(None), Registration.created_at < repeats)
            .values(idempotency_key=None, request_fingerprint=None, updated_at=Registration.updated_at)).rowcount,
        "stripe_event_ids_deleted": session.execute(
            delete(StripeEvent).where(StripeEvent.received_at < repeats)).rowcount,
        "outbox_rows_deleted": purge_delivered_outbox(session, Outbox, repeats),
        "seen_signatures_deleted": purge_expired(session, SeenSignature, now),
        "rate_limit_counters_deleted": purge_expired(session, RateLimitCounter, now),
        "console_links_and_sessions_deleted": accounts.purge_expired(session, now),
        # Zoom's deliveries, like Stripe's ids, only recognise a repeat: a signature older than five
        # minutes is refused anyway. Zoom registrants are anonymised with their registration above.
        "zoom_webhook_events_deleted": session.execute(
            delete(ZoomWebhookEvent).where(ZoomWebhookEvent.received_at < repeats)).rowcount,
        **faculty.purge(session, now, periods),
    }
