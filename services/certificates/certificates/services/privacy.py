"""What certificates holds about one person, erasure, and retention.

Certificates and the attendance behind them are kept for the accreditation retention
period (accreditors expect participation to be verifiable for years: the ACCME asks for
six), even when the person asks for erasure; evaluation answers are not needed for that
and are erased, keeping only that the evaluation was completed. Once the period has passed
for an event (counted from its latest record), everything this service holds about the
event's participants is deleted.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app
from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.orm import Session

from suite_common.dates import add_years
from suite_common.emails import stored_spellings
from suite_common.retention import purge_delivered_outbox, purge_expired
from suite_common.settings import RetentionPeriods

from ..models import (
    AttendanceInterval,
    AttendanceReport,
    Certificate,
    CertificateRevision,
    CheckIn,
    Claim,
    Evaluation,
    IssueJob,
    LearnerIdentifier,
    Outbox,
    PresenceAttempt,
    PresenceConfirmation,
    RateLimitCounter,
    SeenSignature,
)
from . import transcripts

# Per table: the moment that starts its records' retention period.
RECORD_MOMENTS = ((Certificate, Certificate.updated_at), (AttendanceInterval, AttendanceInterval.ends_at),
                  (CheckIn, CheckIn.checked_in_at), (Evaluation, Evaluation.completed_at),
                  (AttendanceReport, AttendanceReport.uploaded_at), (IssueJob, IssueJob.created_at),
                  (Claim, Claim.claimed_at), (PresenceConfirmation, PresenceConfirmation.confirmed_at),
                  (LearnerIdentifier, LearnerIdentifier.consented_at))
# Records of one person that name them by registration, not by email.
BY_REGISTRATION = (Evaluation, Claim, PresenceConfirmation, PresenceAttempt)


def retention_years() -> int:
    return current_app.extensions["suite_settings"].retention.accreditation_years


def _by_email(model: Any, organisation_id: int, email: str) -> Any:
    return select(model).where(model.organisation_id == organisation_id,
                               func.lower(model.email).in_(stored_spellings(email)))


def _registration_ids(session: Session, organisation_id: int, email: str) -> set[int]:
    ids = set()
    for model in (Certificate, AttendanceInterval, CheckIn):
        ids |= {row.registration_id for row in session.scalars(_by_email(model, organisation_id, email))}
    return ids


def _of_person(session: Session, model: Any, organisation_id: int, email: str) -> list[Any]:
    """``model``'s rows (one of BY_REGISTRATION) of the person's registrations."""
    ids = _registration_ids(session, organisation_id, email)
    if not ids:
        return []
    return list(session.scalars(select(model).where(model.organisation_id == organisation_id,
                                                    model.registration_id.in_(ids)).order_by(model.id)))


def _evaluations(session: Session, organisation_id: int, email: str) -> list[Evaluation]:
    return _of_person(session, Evaluation, organisation_id, email)


def _identifiers(session: Session, organisation_id: int, email: str) -> list[LearnerIdentifier]:
    """Given under this address, or under another of the person's registrations found by it."""
    ids = _registration_ids(session, organisation_id, email)
    by_email = _by_email(LearnerIdentifier, organisation_id, email)
    found = {row.id: row for row in session.scalars(by_email)}
    if ids:
        found |= {row.id: row for row in session.scalars(select(LearnerIdentifier).where(
            LearnerIdentifier.organisation_id == organisation_id, LearnerIdentifier.registration_id.in_(ids)))}
    return [found[key] for key in sorted(found)]


def export(session: Session, organisation_id: int, email: str) -> dict[str, Any]:
    return {
        "certificates": [{"code": c.code, "event": c.event_slug, "participant": c.participant,
                          "credits": str(c.credits), "revision": c.revision, "issued_at": c.issued_at.isoformat(),
                          "revoked": c.revoked_at is not None}
                         for c in session.scalars(_by_email(Certificate, organisation_id, email))],
        "attendance": [{"event": a.event_slug, "start": a.starts_at.isoformat(), "end": a.ends_at.isoformat(),
                        "session": a.session_code, "source": a.source}
                       for a in session.scalars(_by_email(AttendanceInterval, organisation_id, email))],
        "check_ins": [{"event": c.event_slug, "day": c.day.isoformat(), "session": c.session_code or None,
                       "checked_in_at": c.checked_in_at.isoformat()}
                      for c in session.scalars(_by_email(CheckIn, organisation_id, email))],
        "evaluations": [{"event": e.event_slug, "completed_at": e.completed_at.isoformat(), "answers": e.answers}
                        for e in _evaluations(session, organisation_id, email)],
        "claims": [{"event": c.event_slug, "system": c.system_code, "credits": str(c.credits),
                    "attestation": c.attestation, "claimed_at": c.claimed_at.isoformat()}
                   for c in _of_person(session, Claim, organisation_id, email)],
        "presence_checks": [{"event": p.event_slug, "session": p.session_code, "source": p.source,
                             "confirmed_at": p.confirmed_at.isoformat()}
                            for p in _of_person(session, PresenceConfirmation, organisation_id, email)],
        "learner_identifiers": [{"event": i.event_slug, "system": i.system_code, "kind": i.kind, "value": i.value,
                                 "board": i.board, "birth_month": i.birth_month, "birth_day": i.birth_day,
                                 "consent_text": i.consent_text, "consent_version": i.consent_version,
                                 "consented_at": i.consented_at.isoformat()}
                                for i in _identifiers(session, organisation_id, email)],
        "transcript_links": transcripts.links_of(session, organisation_id, email),
    }


def erase(session: Session, organisation_id: int, email: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    evaluations = _evaluations(session, organisation_id, email)
    for evaluation in evaluations:
        evaluation.answers = {}
    # Wrong codes typed only guard against guessing: nothing to keep.
    for attempt in _of_person(session, PresenceAttempt, organisation_id, email):
        session.delete(attempt)
    # Identifiers serve reporting to accreditors only, on the person's consent: erasure withdraws it.
    identifiers = _identifiers(session, organisation_id, email)
    for identifier in identifiers:
        session.delete(identifier)
    certificates = list(session.scalars(_by_email(Certificate, organisation_id, email)))
    kept = []
    if certificates or session.scalar(_by_email(AttendanceInterval, organisation_id, email).limit(1)) is not None:
        latest = max((c.issued_at for c in certificates), default=dt.datetime.now(dt.UTC))
        kept.append({
            "what": "certificates and the records behind them (attendance, presence checks, claims)",
            "why": "accreditation bodies require participation to stay verifiable for the retention period",
            "until": add_years(latest, retention_years()).date().isoformat(),
        })
    return {"evaluation_answers_erased": len(evaluations), "learner_identifiers_erased": len(identifiers),
            "transcript_links_erased": transcripts.erase(session, organisation_id, email)}, kept


def expired_events(session: Session, now: dt.datetime, years: int) -> list[tuple[int, str]]:
    """Events (organisation, slug) whose latest record of any kind is older than the retention period."""
    latest: dict[tuple[int, str], dt.datetime] = {}
    for model, moment in RECORD_MOMENTS:
        rows = session.execute(select(model.organisation_id, model.event_slug, func.max(moment))
                               .group_by(model.organisation_id, model.event_slug))
        for organisation_id, slug, at in rows:
            at = at if at.tzinfo else at.replace(tzinfo=dt.UTC)
            key = (organisation_id, slug)
            latest[key] = max(latest.get(key, at), at)
    cutoff = add_years(now, -years)
    return sorted(key for key, at in latest.items() if at < cutoff)


def purge(session: Session, now: dt.datetime, periods: RetentionPeriods) -> dict[str, int]:
    """Retention: every record of an event past the accreditation period (certificates and their
    revisions, attendance, check-ins, evaluations, claims, presence checks, learner identifiers, reports,
    jobs); the
    event's credit rules and presence codes, which name no one, stay. Then what every service purges."""
    events = expired_events(session, now, periods.accreditation_years)
    deleted = 0
    if events:
        of_events = tuple_(Certificate.organisation_id, Certificate.event_slug).in_(events)
        deleted += session.execute(delete(CertificateRevision).where(
            CertificateRevision.certificate_id.in_(select(Certificate.id).where(of_events)))).rowcount
        for model in (Certificate, AttendanceInterval, CheckIn, AttendanceReport, IssueJob, LearnerIdentifier,
                      *BY_REGISTRATION):
            deleted += session.execute(delete(model).where(
                tuple_(model.organisation_id, model.event_slug).in_(events))).rowcount
    repeats = now - periods.idempotency
    return {
        "events_past_retention": len(events),
        "event_records_deleted": deleted,
        "outbox_rows_deleted": purge_delivered_outbox(session, Outbox, repeats),
        "seen_signatures_deleted": purge_expired(session, SeenSignature, now),
        "rate_limit_counters_deleted": purge_expired(session, RateLimitCounter, now),
        "transcript_links_deleted": transcripts.purge_expired(session, now),
    }
