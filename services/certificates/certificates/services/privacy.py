"""What certificates holds about one person, and erasure.

Certificates and the attendance behind them are kept for the accreditation retention
period (accreditors expect participation to be verifiable for years: the ACCME asks for
six), even when the person asks for erasure; evaluation answers are not needed for that
and are erased, keeping only that the evaluation was completed.
"""
from __future__ import annotations

import datetime as dt
import os
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import AttendanceInterval, Certificate, CheckIn, Evaluation


def retention_years() -> int:
    return int(os.environ.get("ACCREDITATION_RETENTION_YEARS") or 6)


def _by_email(model: Any, organisation_id: int, email: str) -> Any:
    return select(model).where(model.organisation_id == organisation_id,
                               func.lower(model.email) == email.strip().lower())


def _registration_ids(session: Session, organisation_id: int, email: str) -> set[int]:
    ids = set()
    for model in (Certificate, AttendanceInterval, CheckIn):
        ids |= {row.registration_id for row in session.scalars(_by_email(model, organisation_id, email))}
    return ids


def _evaluations(session: Session, organisation_id: int, email: str) -> list[Evaluation]:
    ids = _registration_ids(session, organisation_id, email)
    if not ids:
        return []
    return list(session.scalars(select(Evaluation).where(Evaluation.organisation_id == organisation_id,
                                                         Evaluation.registration_id.in_(ids))))


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
    }


def erase(session: Session, organisation_id: int, email: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    evaluations = _evaluations(session, organisation_id, email)
    for evaluation in evaluations:
        evaluation.answers = {}
    certificates = list(session.scalars(_by_email(Certificate, organisation_id, email)))
    kept = []
    if certificates or session.scalar(_by_email(AttendanceInterval, organisation_id, email).limit(1)) is not None:
        latest = max((c.issued_at for c in certificates), default=dt.datetime.now(dt.UTC))
        kept.append({
            "what": "certificates and the attendance records behind them",
            "why": "accreditation bodies require participation to stay verifiable for the retention period",
            "until": latest.replace(year=latest.year + retention_years()).date().isoformat(),
        })
    return {"evaluation_answers_erased": len(evaluations)}, kept
