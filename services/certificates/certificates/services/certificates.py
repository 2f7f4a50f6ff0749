"""Reading certificates: lists, links, verification, explanations and evaluations."""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import insert_once, utcnow
from suite_common.errors import ApiError

from ..models import Certificate, Evaluation
from . import accreditation as accreditation_service
from . import attendance, issuing, registry

TOKEN_PATTERN_MAX = 64


def links(certificate: Certificate) -> dict[str, str]:
    base = current_app.extensions["suite_settings"].public_base_url
    return {"download_url": f"{base}/c/{certificate.download_token}",
            "badge_url": f"{base}/c/{certificate.download_token}/badge.json",
            "verify_url": f"{base}/verify/{certificate.code}"}


def with_links(certificate: Certificate) -> dict[str, Any]:
    fields = ("code", "registration_id", "email", "participant", "credits", "revision", "revoked_at",
              "revoked_reason", "issued_at", "updated_at")
    return {**{name: getattr(certificate, name) for name in fields}, **links(certificate),
            "revoked": certificate.revoked_at is not None}


def for_event(session: Session, organisation_id: int, slug: str) -> list[Certificate]:
    return list(session.scalars(select(Certificate).where(
        Certificate.organisation_id == organisation_id, Certificate.event_slug == slug)
        .order_by(Certificate.registration_id)))


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
        "event": certificate.snapshot["event_title"],
        "event_dates": certificate.snapshot["event_dates"],
        "credits": certificate.snapshot["credits"],
        "credit_body": certificate.snapshot["credit_body"],
        "issued_at": certificate.snapshot["issued_on"],
        "revoked": certificate.revoked_at is not None,
        "revision": certificate.revision,
    }


def explain(session: Session, organisation_id: int, slug: str, registration_id: int | None) -> list[dict[str, Any]]:
    event, people = registry.attendees(organisation_id, slug)  # 404 unless the event is this organisation's
    accreditation = accreditation_service.require(session, organisation_id, slug)  # then 409 without rules
    chosen = [p for p in people if registration_id is None or p.id == registration_id]
    intervals = attendance.intervals_by_registration(session, organisation_id, slug, [p.id for p in chosen])
    evaluated = issuing.evaluated_ids(session, organisation_id, slug)
    return [{"registration_id": p.id, "email": p.email, "participant": p.name,
             **issuing.assess(accreditation, event, intervals.get(p.id, []), p.id in evaluated).to_dict()}
            for p in chosen]


def record_evaluation(session: Session, organisation_id: int, slug: str, registration_id: int,
                      answers: dict[str, Any], recorded_by: str) -> Evaluation:
    existing = session.scalar(select(Evaluation).where(
        Evaluation.organisation_id == organisation_id, Evaluation.event_slug == slug,
        Evaluation.registration_id == registration_id))
    if existing is not None:
        return existing
    if recorded_by == "organiser":
        found = registry.person_by_id(registration_id)
        if found is None or found[1] != slug or found[2] != organisation_id:
            raise ApiError(404, "not_found", "No such registration for this event.")
    evaluation, _created = insert_once(session, Evaluation, {
        "organisation_id": organisation_id, "event_slug": slug, "registration_id": registration_id,
        "answers": answers, "recorded_by": recorded_by, "completed_at": utcnow(),
    }, key=("organisation_id", "event_slug", "registration_id"))  # recorded twice at once: the first stands
    return evaluation


def issued_on(certificate: Certificate) -> dt.date:
    return dt.date.fromisoformat(certificate.snapshot["issued_on"])
