"""Attendance: webinar reports and door scans become intervals of confirmed presence."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suite_common.db import utcnow
from suite_common.errors import ApiError, validation_error

from ..models import AttendanceInterval, AttendanceReport, CheckIn
from . import registry
from .credits import Interval
from .reports import ReportError, parse_report


@dataclass
class UploadOutcome:
    report: AttendanceReport
    created: bool


def upload_report(session: Session, organisation_id: int, slug: str, data: bytes, filename: str | None,
                  timezone: str | None) -> UploadOutcome:
    """Reads the whole file first: a row that cannot be read rejects it whole, naming the line."""
    event, people = registry.attendees(organisation_id, slug)
    zone = timezone or event.timezone
    try:
        parsed = parse_report(data, zone)
    except ReportError as exc:
        raise ApiError(422, "unreadable_report", f"The report cannot be read: {exc}",
                       {"file": [f"line {exc.line}: {exc.reason}"]}) from exc
    existing = session.scalar(select(AttendanceReport).where(
        AttendanceReport.organisation_id == organisation_id, AttendanceReport.event_slug == slug,
        AttendanceReport.digest == parsed.digest))
    if existing is not None:
        return UploadOutcome(existing, created=False)
    by_email = {person.email: person for person in people}
    unmatched = [row for row in parsed.rows if row.email not in by_email]
    report = AttendanceReport(
        organisation_id=organisation_id, event_slug=slug, digest=parsed.digest, format=parsed.format,
        filename=(filename or "")[:200] or None, timezone=zone, rows_read=len(parsed.rows),
        matched=len(parsed.rows) - len(unmatched),
        unmatched_rows=[{"line": r.line, "name": r.name, "email": r.email, "join": r.join.isoformat(),
                         "leave": r.leave.isoformat()} for r in unmatched],
        skipped_rows=[{"line": line, "reason": reason} for line, reason in parsed.skipped],
        report_metadata=parsed.metadata,
    )
    try:
        with session.begin_nested():
            session.add(report)
            session.flush()
    except IntegrityError:  # the same file uploaded twice at once: the other upload stands
        existing = session.scalar(select(AttendanceReport).where(
            AttendanceReport.organisation_id == organisation_id, AttendanceReport.event_slug == slug,
            AttendanceReport.digest == parsed.digest))
        if existing is None:
            raise
        return UploadOutcome(existing, created=False)
    session.add_all(
        AttendanceInterval(organisation_id=organisation_id, event_slug=slug, registration_id=by_email[row.email].id,
                           email=row.email, starts_at=row.join, ends_at=row.leave,
                           source=f"{parsed.format}:{report.id}:line {row.line}", report_id=report.id)
        for row in parsed.rows if row.email in by_email
    )
    session.flush()
    return UploadOutcome(report, created=True)


def _session_window(event: registry.EventInfo, code: str) -> tuple[dt.datetime, dt.datetime]:
    for item in event.sessions:
        if item.code == code:
            return item.starts_at, item.ends_at
    raise validation_error({"session": ["No such session in this event."]})


def check_in(session: Session, organisation_id: int, slug: str, data: dict[str, Any]) -> tuple[CheckIn, bool]:
    """Records a scan; the same person, day and session again changes nothing (returns created=False)."""
    found = (registry.person_by_ticket(data["ticket_code"]) if data.get("ticket_code")
             else registry.person_by_id(data["registration_id"]))
    if found is None or found[1] != slug or found[2] != organisation_id:
        raise ApiError(404, "unknown_ticket", "No such ticket or registration for this event.")
    person = found[0]
    if person.status != "confirmed":
        raise ApiError(409, "not_confirmed", f"This registration is {person.status}; it gives no entry.")
    event = registry.event(organisation_id, slug)
    zone = ZoneInfo(event.timezone)
    now = data.get("at") or utcnow()
    code = data.get("session") or ""
    if code:
        starts, ends = _session_window(event, code)
        day = starts.astimezone(zone).date()
    else:
        day = data.get("day") or now.astimezone(zone).date()
    record = session.scalar(select(CheckIn).where(
        CheckIn.organisation_id == organisation_id, CheckIn.event_slug == slug,
        CheckIn.registration_id == person.id, CheckIn.day == day, CheckIn.session_code == code))
    created = record is None
    if record is None:
        record = CheckIn(organisation_id=organisation_id, event_slug=slug, registration_id=person.id,
                         email=person.email, day=day, session_code=code, checked_in_at=now)
        try:
            with session.begin_nested():
                session.add(record)
                session.flush()
        except IntegrityError:  # two scanners at once: the first scan stands
            return check_in(session, organisation_id, slug, data)
    if data.get("check_out"):
        record.checked_out_at = max(now, record.checked_in_at)
    _refresh_interval(session, record, event)
    return record, created


def _refresh_interval(session: Session, record: CheckIn, event: registry.EventInfo) -> None:
    """A session scan covers that session; a day scan covers from the scan to check-out or the day's end."""
    zone = ZoneInfo(event.timezone)
    if record.session_code:
        starts, ends = _session_window(event, record.session_code)
    else:
        day_sessions = [s for s in event.sessions if s.starts_at.astimezone(zone).date() == record.day]
        day_end = max((s.ends_at for s in day_sessions), default=event.ends_at)
        day_start = min((s.starts_at for s in day_sessions), default=event.starts_at)
        starts = max(record.checked_in_at, day_start) if record.checked_in_at.astimezone(zone).date() == record.day \
            else day_start
        ends = record.checked_out_at or day_end
        if ends <= starts:
            ends = starts
    interval = session.scalar(select(AttendanceInterval).where(AttendanceInterval.check_in_id == record.id))
    if interval is None:
        interval = AttendanceInterval(organisation_id=record.organisation_id, event_slug=record.event_slug,
                                      registration_id=record.registration_id, email=record.email,
                                      source=f"check-in:{record.id}", check_in_id=record.id)
        session.add(interval)
    interval.starts_at, interval.ends_at = starts, ends
    interval.session_code = record.session_code or None
    session.flush()


def intervals_by_registration(session: Session, organisation_id: int, slug: str,
                              registration_ids: list[int] | None = None) -> dict[int, list[Interval]]:
    query = select(AttendanceInterval).where(AttendanceInterval.organisation_id == organisation_id,
                                             AttendanceInterval.event_slug == slug)
    if registration_ids is not None:
        query = query.where(AttendanceInterval.registration_id.in_(registration_ids))
    result: dict[int, list[Interval]] = defaultdict(list)
    for row in session.scalars(query):
        if row.ends_at > row.starts_at:
            result[row.registration_id].append(Interval(start=row.starts_at, end=row.ends_at, source=row.source,
                                                        session_code=row.session_code))
    return result
