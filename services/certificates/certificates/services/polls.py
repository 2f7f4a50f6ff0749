"""Zoom's poll report as presence evidence: each poll a participant answered while a session ran is one
presence check of that session, counted by the presence rule like an attendance code entered in time.

EACCME accepts "the platform's poll answers" as confirmation of participation in a live webinar
(DOMAIN.md). A poll counts for the session whose window (its first to its last moment) holds the
submission time; one answered outside every window confirms nothing, and one inside the windows of two
parallel sessions is skipped unless the upload names the session the poll ran in.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import insert_many_once, insert_once
from suite_common.errors import ApiError, validation_error

from ..models import AttendanceReport, PresenceConfirmation
from . import registry
from .attendance import UploadOutcome, _match, _unique_names
from .credits import Session as CreditSession
from .poll_reports import PollAnswer, parse_poll_report
from .presence import POLL_KEY
from .reports import ReportError

CHECK_KEY_LENGTH = 80  # PresenceConfirmation.check_key


def check_key(session_code: str, poll: str) -> str:
    """``poll:<session>:<poll>``: one key per poll and session, so the same poll name in two sessions (a
    "Presence check" in each) stays two checks, and the same poll in a re-exported file stays one. A long
    name is cut and given a digest of the whole, so two polls that begin alike remain apart."""
    key = f"{POLL_KEY}{session_code}:{poll}"
    if len(key) <= CHECK_KEY_LENGTH:
        return key
    digest = hashlib.sha256(poll.encode()).hexdigest()[:8]
    return f"{key[:CHECK_KEY_LENGTH - 9]}~{digest}"


def _session_of(answer: PollAnswer, sessions: list[CreditSession]) -> tuple[CreditSession | None, str | None]:
    """The session whose window holds the submission, or why none does (a skip reason)."""
    inside = [s for s in sessions if s.starts_at <= answer.submitted <= s.ends_at]
    if len(inside) == 1:
        return inside[0], None
    moment = answer.submitted.isoformat()
    if not inside:
        return None, f"submitted at {moment}, outside every session's window"
    codes = " and ".join(s.code for s in inside)
    return None, (f"submitted at {moment}, within the windows of {codes}: upload again with the session the "
                  "poll ran in")


def upload_poll_report(session: Session, organisation_id: int, slug: str, data: bytes, filename: str | None,
                       timezone: str | None, session_code: str | None) -> UploadOutcome:
    """Reads the whole file first (a row that cannot be read rejects it, naming the line), then records one
    presence confirmation per person, poll and session. The same file with the same choices again changes
    nothing; another ``session`` or ``timezone`` reads it anew, and confirmations already made stay one each."""
    event, people = registry.attendees(organisation_id, slug)
    sessions = list(event.sessions)
    if session_code is not None:
        sessions = [s for s in sessions if s.code == session_code]
        if not sessions:
            raise validation_error({"session": ["No such session in this event."]})
    zone = timezone or event.timezone
    try:
        parsed = parse_poll_report(data, zone)
    except ReportError as exc:
        raise ApiError(422, "unreadable_report", f"The poll report cannot be read: {exc}",
                       {"file": [f"line {exc.line}: {exc.reason}"]}) from exc
    # The file and the choices that decide what it confirms: the same upload is recognised, another reading is not.
    digest = hashlib.sha256(f"{parsed.digest}|{zone}|{session_code or ''}".encode()).hexdigest()
    existing = session.scalar(select(AttendanceReport).where(
        AttendanceReport.organisation_id == organisation_id, AttendanceReport.event_slug == slug,
        AttendanceReport.digest == digest))
    if existing is not None:
        return UploadOutcome(existing, created=False)
    people = list(people)
    by_email = {person.email_key: person for person in people}
    by_name = _unique_names(people)
    unmatched: list[dict[str, Any]] = []
    skipped = [{"line": line, "reason": reason} for line, reason in parsed.skipped]
    counted: list[tuple[PollAnswer, registry.Person, CreditSession]] = []
    for answer in parsed.answers:
        person = _match(answer, by_email, by_name)
        if person is None:
            unmatched.append({"line": answer.line, "name": answer.name, "email": answer.email, "poll": answer.poll,
                              "submitted": answer.submitted.isoformat()})
            continue
        programme, reason = _session_of(answer, sessions)
        if programme is None:
            skipped.append({"line": answer.line, "reason": reason})
            continue
        counted.append((answer, person, programme))
    polls = Counter((programme.code, answer.poll) for answer, _person, programme in counted)
    metadata = {**parsed.metadata, "polls": [{"session": code, "poll": poll, "answers": number}
                                             for (code, poll), number in sorted(polls.items())]}
    report, created = insert_once(session, AttendanceReport, {
        "organisation_id": organisation_id, "event_slug": slug, "digest": digest, "format": parsed.format,
        "filename": (filename or "")[:200] or None, "timezone": zone, "rows_read": len(parsed.answers),
        "matched": len(counted), "unmatched_rows": unmatched, "skipped_rows": sorted(skipped, key=lambda r: r["line"]),
        "report_metadata": metadata,
    }, key=("organisation_id", "event_slug", "digest"))
    if not created:  # the same upload twice at once: the other one stands
        return UploadOutcome(report, created=False)
    # Earliest answer first, so a poll answered twice (one row per question) is confirmed at its first moment.
    insert_many_once(session, PresenceConfirmation, [{
        "organisation_id": organisation_id, "event_slug": slug, "registration_id": person.id,
        "session_code": programme.code, "check_key": check_key(programme.code, answer.poll),
        "source": f"{parsed.format}:{report.id}:line {answer.line}"[:80], "confirmed_at": answer.submitted}
        for answer, person, programme in sorted(counted, key=lambda c: c[0].submitted)],
        key=("organisation_id", "event_slug", "registration_id", "check_key"))
    session.flush()
    return UploadOutcome(report, created=True)
