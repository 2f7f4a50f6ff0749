"""Reading certificates: lists, links, verification and explanations (evaluations: services/evaluations.py)."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import utcnow
from suite_common.errors import not_found

from ..models import Certificate
from . import accreditation as accreditation_service
from . import issuing, registry, status_list

TOKEN_PATTERN_MAX = 64


def links(certificate: Certificate) -> dict[str, str]:
    base = current_app.extensions["suite_settings"].public_base_url
    return {"download_url": f"{base}/c/{certificate.download_token}",
            "badge_url": f"{base}/c/{certificate.download_token}/badge.json",
            "credential_url": f"{base}/c/{certificate.download_token}/credential.jwt",
            "verify_url": f"{base}/verify/{certificate.code}"}


def with_links(certificate: Certificate) -> dict[str, Any]:
    fields = ("code", "registration_id", "email", "participant", "credits", "revision", "revoked_at",
              "revoked_reason", "issued_at", "updated_at")
    return {**{name: getattr(certificate, name) for name in fields},
            "credits_by_system": certificate.credits_by_system, "supported_by_system": certificate.supported_by_system,
            **links(certificate),
            "revoked": certificate.revoked_at is not None}


def for_event(session: Session, organisation_id: int, slug: str) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(
        Certificate.organisation_id == organisation_id, Certificate.event_slug == slug)
        .order_by(Certificate.registration_id)))


def system_codes(session: Session, organisation_id: int, slug: str,
                 issued: list[Certificate]) -> tuple[list[str], list[str]]:
    """The credit system codes of an event's certificate columns: printed credits of every system (the
    claim, in a claim-required one), then supported ones (claim-required systems), in the event's order,
    then any only older certificates name."""
    rules = accreditation_service.get(session, organisation_id, slug)
    current = [system.code for system in rules.credit_systems] if rules else []
    claimed = [system.code for system in rules.credit_systems if system.claim_required] if rules else []

    def ordered(first: list[str], seen: set[str]) -> list[str]:
        return [*first, *sorted(seen - set(first))]

    printed = ordered(current, {code for c in issued for code in c.credits_by_system})
    supported = ordered(claimed, {code for c in issued for code in c.supported_by_system})
    return printed, supported


def for_registration(session: Session, organisation_id: int, slug: str, registration_id: int) -> Certificate | None:
    """The person's current certificate, else the last one revoked, else None."""
    return session.scalar(select(Certificate).where(
        Certificate.organisation_id == organisation_id, Certificate.event_slug == slug,
        Certificate.registration_id == registration_id)
        .order_by(Certificate.revoked_at.is_(None).desc(), Certificate.id.desc()).limit(1))


def by_download_token(session: Session, token: str) -> Certificate | None:
    if not token or len(token) > TOKEN_PATTERN_MAX:
        return None
    return session.scalar(select(Certificate).where(Certificate.download_token == token))


def by_code(session: Session, code: str) -> Certificate | None:
    if not code or len(code) > 20:
        return None
    return session.scalar(select(Certificate).where(Certificate.code == issuing.normalise_code(code)))


def verification(certificate: Certificate) -> dict[str, Any]:
    """What anyone holding the code may learn: enough to check the paper, nothing more."""
    return {
        "valid": certificate.revoked_at is None,
        "participant": certificate.participant,
        # The society that issued it, as printed on the certificate.
        "issuer": certificate.snapshot["organisation_name"],
        "event": certificate.snapshot["event_title"],
        "event_dates": certificate.snapshot["event_dates"],
        "credits": certificate.snapshot["credits"],
        "credit_body": certificate.snapshot["credit_body"],
        "credits_by_system": certificate.credits_by_system,
        "issued_at": certificate.snapshot["issued_on"],
        "revoked": certificate.revoked_at is not None,
        "revision": certificate.revision,
    }


def revoke(session: Session, organisation_id: int, code: str, reason: str) -> Certificate:
    """Revokes the organisation's certificate (again: nothing changes) and sets its bit in the status list
    that its signed credential points to, in the same transaction."""
    certificate = session.scalar(select(Certificate).where(Certificate.code == issuing.normalise_code(code)[:20],
                                                           Certificate.organisation_id == organisation_id))
    if certificate is None:
        raise not_found("certificate")
    if certificate.revoked_at is None:
        certificate.revoked_at, certificate.revoked_reason = utcnow(), reason
        status_list.revoke(session, certificate)
    return certificate


def explain(session: Session, organisation_id: int, slug: str, registration_id: int | None) -> list[dict[str, Any]]:
    event, people = registry.attendees(organisation_id, slug)  # 404 unless the event is this organisation's
    accreditation = accreditation_service.require(session, organisation_id, slug)  # then 409 without rules
    chosen = [p for p in people if registration_id is None or p.id == registration_id]
    evidence = issuing.gather(session, organisation_id, slug, event, [p.id for p in chosen])
    return [{"registration_id": p.id, "email": p.email, "participant": p.name,
             **issuing.assess(accreditation, event, evidence, p.id).to_dict()}
            for p in chosen]


def issued_on(certificate: Certificate) -> dt.date:
    return dt.date.fromisoformat(certificate.snapshot["issued_on"])
