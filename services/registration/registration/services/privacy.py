"""One person's data across the suite: export, and erasure that keeps only what must be kept.

Registration answers the organiser: it collects its own records and asks notifications and
certificates for theirs over their internal APIs. Erasure anonymises registrations (names,
email, answers, billing details; links stop working) after cancelling live ones, keeps
consent records (time and text version, no personal data), and keeps receipts, invoices and
credit notes for the tax retention period; certificates keep their records for the
accreditation retention period. The answer says what was kept, why and until when.
"""
from __future__ import annotations

import os
import secrets
from typing import Any

import requests
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.client import ServiceClient
from suite_common.db import utcnow
from suite_common.errors import ApiError

from ..models import Document, Event, Registration, RegistrationStatus
from . import signup

PEERS = ("notifications", "certificates")


def tax_retention_years() -> int:
    return int(os.environ.get("TAX_RETENTION_YEARS") or 10)


def _registrations(session: Session, organisation_id: int, email: str) -> list[Registration]:
    return list(session.scalars(
        select(Registration).join(Event, Event.id == Registration.event_id)
        .where(Event.organisation_id == organisation_id, Registration.email_normalised == email.strip().lower())
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
        "consent": {"given_at": registration.consent_at.isoformat(), "text_version": registration.consent_version},
        "announcements_consent_at": (registration.announcements_consent_at.isoformat()
                                     if registration.announcements_consent_at else None),
        "amount_due": registration.amount_due, "amount_paid": registration.amount_paid,
        "amount_refunded": registration.amount_refunded, "currency": registration.currency,
        "billing": registration.billing, "created_at": registration.created_at.isoformat(),
        "documents": [{"kind": d.kind, "number": d.number, "amount": d.amount, "currency": d.currency,
                       "issued_at": d.issued_at.isoformat()} for d in documents],
    }


def export(session: Session, organisation_id: int, email: str) -> dict[str, Any]:
    return {
        "email": email, "generated_at": utcnow().isoformat(),
        "registration": {"registrations": [_registration_record(r, session)
                                           for r in _registrations(session, organisation_id, email)]},
        **{name: _peer(name, "export", organisation_id, email)["data"] for name in PEERS},
    }


def erase(session: Session, organisation_id: int, email: str) -> dict[str, Any]:
    """Idempotent; the other services first, so a failure there leaves registration intact to retry."""
    answers = {name: _peer(name, "erase", organisation_id, email) for name in PEERS}
    kept = [item for answer in answers.values() for item in answer["kept"]]
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
                         "until": now.replace(year=now.year + tax_retention_years()).date().isoformat()})
        anonymous = f"erased-{registration.id}@erased.invalid"
        registration.email = registration.email_normalised = anonymous
        registration.given_name = registration.family_name = "Erased"
        registration.answers, registration.billing = {}, None
        registration.announcements_consent_at = None
        # Old links (in mails, forwarded or not) must lead nowhere now.
        registration.manage_token = secrets.token_urlsafe(32)
        registration.unsubscribe_token = secrets.token_urlsafe(32)
        registration.updated_at = now
    kept.append({"what": "consent records (when, which text version), without personal data",
                 "why": "proof of the lawful basis of past processing", "until": "as long as the registrations"})
    return {
        "erased": {"registrations_anonymised": len(registrations),
                   **{f"{name}": answer["data"] for name, answer in answers.items()}},
        "kept": kept,
    }
