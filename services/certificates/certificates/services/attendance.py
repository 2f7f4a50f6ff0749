"""Attendance: webinar reports and door scans become intervals of confirmed presence."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from suite_common.db import insert_once, utcnow
from suite_common.emails import loose_email_key
from suite_common.errors import ApiError, not_found, validation_error

from ..models import AttendanceInterval, AttendanceReport, CheckIn
from . import registry
from .credits import Interval
from .reports import AttendanceRow, ParsedReport, ReportError, name_key, parse_report

CLOCK_SKEW = dt.timedelta(minutes=5)  # a scanner's clock may run a little ahead


@dataclass
class UploadOutcome:
    report: AttendanceReport
    created: bool


UPLOAD = "upload"
ZOOM_API = "zoom-api"
ZOOM_API_FORMAT = "zoom-api-webinar-participants"


@dataclass(frozen=True)
class ReportSource:
    """Where a report came from: an uploaded file, or Zoom's participants report that registration fetched.
    A source with a ``reference`` (the webinar) has one report at a time: a new fetch replaces the last."""

    kind: str = UPLOAD
    filename: str | None = None
    reference: str | None = None
    fetched_at: dt.datetime | None = None


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
    return record_report(session, organisation_id, slug, parsed, list(people), ReportSource(filename=filename))


def import_zoom_report(session: Session, organisation_id: int, slug: str, data: dict[str, Any]) -> UploadOutcome:
    """Zoom's participants report as registration fetched it (rows already filtered of waiting-room time, each
    with the registration its registrant ID found, if any), recorded exactly as an uploaded report is."""
    _event, people = registry.attendees(organisation_id, slug)
    rows = [AttendanceRow(line=row["line"], email=loose_email_key(row.get("email") or ""), name=row.get("name") or "",
                          join=row["join_time"].astimezone(dt.UTC), leave=row["leave_time"].astimezone(dt.UTC))
            for row in data["participants"]]
    skipped = [(row["line"], row["reason"]) for row in data.get("skipped", [])]
    webinar = str(data["webinar_id"])
    # The digest covers what the report says, not when it was fetched: the same report again changes nothing.
    digest = hashlib.sha256(json.dumps(
        {"webinar": webinar, "rows": [[r.line, r.email, r.name, r.join.isoformat(), r.leave.isoformat(),
                                       row.get("registration_id")] for r, row in zip(rows, data["participants"],
                                                                                     strict=True)],
         "skipped": skipped}, ensure_ascii=False).encode()).hexdigest()
    parsed = ParsedReport(format=ZOOM_API_FORMAT, rows=rows, skipped=skipped,
                          metadata={"webinar_id": webinar, "source": ZOOM_API}, digest=digest, timezone="UTC")
    chosen = {row["line"]: row["registration_id"] for row in data["participants"] if row.get("registration_id")}
    return record_report(session, organisation_id, slug, parsed, list(people),
                         ReportSource(kind=ZOOM_API, reference=f"webinar {webinar}", fetched_at=data["fetched_at"]),
                         chosen)


def record_report(session: Session, organisation_id: int, slug: str, parsed: ParsedReport,
                  people: list[registry.Person], source: ReportSource,
                  chosen: dict[int, int] | None = None) -> UploadOutcome:
    """One report's rows become attendance: matched by email (by name for a row without one), or to the
    registration the source already chose for a line (Zoom's registrant ID), when that registration is a
    confirmed one of the event. The same report again changes nothing; a source's newer report replaces its
    older one (its rows and their attendance), so a report fetched too early is corrected by the next fetch."""
    existing = session.scalar(select(AttendanceReport).where(
        AttendanceReport.organisation_id == organisation_id, AttendanceReport.event_slug == slug,
        AttendanceReport.digest == parsed.digest))
    if existing is not None:
        return UploadOutcome(existing, created=False)
    if source.reference is not None:
        _drop_reports_of(session, organisation_id, slug, source)
    by_id = {person.id: person for person in people}
    by_email = {person.email_key: person for person in people}
    by_name = _unique_names(people)
    chosen = chosen or {}
    matches = {row.line: by_id.get(chosen.get(row.line, 0)) or _match(row, by_email, by_name) for row in parsed.rows}
    unmatched = [row for row in parsed.rows if matches[row.line] is None]
    report, created = insert_once(session, AttendanceReport, {
        "organisation_id": organisation_id, "event_slug": slug, "digest": parsed.digest, "format": parsed.format,
        "filename": (source.filename or "")[:200] or None, "timezone": parsed.timezone,
        "rows_read": len(parsed.rows), "matched": len(parsed.rows) - len(unmatched),
        "unmatched_rows": [{"line": r.line, "name": r.name, "email": r.email, "join": r.join.isoformat(),
                            "leave": r.leave.isoformat()} for r in unmatched],
        "skipped_rows": [{"line": line, "reason": reason} for line, reason in parsed.skipped],
        "report_metadata": parsed.metadata, "source": source.kind, "source_reference": source.reference,
        "fetched_at": source.fetched_at,
    }, key=("organisation_id", "event_slug", "digest"))
    if not created:  # the same file uploaded twice at once: the other upload stands
        return UploadOutcome(report, created=False)
    session.add_all(
        AttendanceInterval(organisation_id=organisation_id, event_slug=slug, registration_id=person.id,
                           email=person.email, starts_at=row.join, ends_at=row.leave,
                           source=f"{parsed.format}:{report.id}:line {row.line}", report_id=report.id)
        for row in parsed.rows if (person := matches[row.line]) is not None
    )
    session.flush()
    return UploadOutcome(report, created=True)


def _drop_reports_of(session: Session, organisation_id: int, slug: str, source: ReportSource) -> None:
    """The earlier reports of the same source and reference, with the attendance they gave. The reports are
    locked first, so two fetches finishing at once replace them one after the other."""
    earlier = list(session.scalars(select(AttendanceReport).where(
        AttendanceReport.organisation_id == organisation_id, AttendanceReport.event_slug == slug,
        AttendanceReport.source == source.kind, AttendanceReport.source_reference == source.reference)
        .with_for_update()))
    if earlier:
        ids = [report.id for report in earlier]
        session.execute(delete(AttendanceInterval).where(AttendanceInterval.report_id.in_(ids)))
        session.execute(delete(AttendanceReport).where(AttendanceReport.id.in_(ids)))
        session.flush()


def _unique_names(people: list[registry.Person]) -> dict[str, registry.Person]:
    """Each name that exactly one registration of the event has, as "Given Family" and as "Family, Given"
    (Teams often shows the directory's "Müller, Hans"); a name two people share is left out, so it is never
    matched to either of them."""
    found: dict[str, dict[int, registry.Person]] = defaultdict(dict)
    for person in people:
        for spelling in (f"{person.given_name} {person.family_name}", f"{person.family_name}, {person.given_name}"):
            found[name_key(spelling)][person.id] = person
    return {key: next(iter(by_id.values())) for key, by_id in found.items() if len(by_id) == 1}


class ReportRow(Protocol):
    """What matching reads of a report's row: an attendance row or a poll answer."""

    @property
    def email(self) -> str: ...

    @property
    def name(self) -> str: ...


def _match(row: ReportRow, by_email: dict[str, registry.Person],
           by_name: dict[str, registry.Person]) -> registry.Person | None:
    """By email first; by name only for a row that has no email (a Teams list without emails). Poll reports
    are matched with it too, so a poll answer and an attendance row of one address find the same person."""
    if row.email:
        return by_email.get(row.email)
    return by_name.get(name_key(row.name))


def match_row(session: Session, organisation_id: int, slug: str, report_id: int, line: int,
              registration_id: int) -> AttendanceReport:
    """Matches an unmatched report row to a registration by hand (a guest who joined with another
    address): the row becomes an interval of that person's attendance, as if the address had matched.

    Matching the same row to the same person again changes nothing; to another person is a 409, since
    credits may already have been computed from the first match. Registration is asked before the
    report's row is locked: no lock is held over a call to another service."""
    report, row = _unmatched_row(session, organisation_id, slug, report_id, line, lock=False)
    if "join" not in row:
        raise validation_error({"report_id": ["A poll report's answers confirm presence, not attendance; they "
                                              "are not matched by hand."]})
    if row.get("registration_id") is None:
        found = registry.person_by_id(registration_id)
        if found is None or found[1] != slug or found[2] != organisation_id:
            raise validation_error({"registration_id": ["No such registration for this event."]})
        person = found[0]
        if person.status != "confirmed":
            raise validation_error({"registration_id": [
                f"This registration is {person.status}; only a confirmed registration earns credits."]})
        report, row = _unmatched_row(session, organisation_id, slug, report_id, line, lock=True)
    if row.get("registration_id") == registration_id:
        return report
    if row.get("registration_id") is not None:
        raise ApiError(409, "already_matched",
                       f"Line {line} is matched to registration {row['registration_id']} already.")
    # A new list, so the JSON column is written (SQLAlchemy does not see changes inside it).
    report.unmatched_rows = [{**r, "registration_id": person.id} if r["line"] == line else r
                             for r in report.unmatched_rows]
    report.matched += 1
    session.add(AttendanceInterval(
        organisation_id=organisation_id, event_slug=slug, registration_id=person.id, email=person.email,
        starts_at=dt.datetime.fromisoformat(row["join"]), ends_at=dt.datetime.fromisoformat(row["leave"]),
        source=f"{report.format}:{report.id}:line {line}", report_id=report.id))
    session.flush()
    return report


def _unmatched_row(session: Session, organisation_id: int, slug: str, report_id: int, line: int,
                   lock: bool) -> tuple[AttendanceReport, dict[str, Any]]:
    query = select(AttendanceReport).where(
        AttendanceReport.organisation_id == organisation_id, AttendanceReport.event_slug == slug,
        AttendanceReport.id == report_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    report = session.scalar(query)
    if report is None:
        raise not_found("attendance report")
    row = next((r for r in report.unmatched_rows if r["line"] == line), None)
    if row is None:
        raise ApiError(404, "not_found", f"The report has no unmatched row from line {line}.")
    return report, row


def _session_window(event: registry.EventInfo, code: str) -> tuple[dt.datetime, dt.datetime]:
    for item in event.sessions:
        if item.code == code:
            return item.starts_at, item.ends_at
    raise validation_error({"session": ["No such session in this event."]})


def _day_window(event: registry.EventInfo, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """From the first session of that day (in the event's time zone) to the end of its last one; an event
    without sessions counts its own hours on that day. A day without programme is refused: a scan at the
    badge desk the evening before must not count as the whole congress."""
    zone = ZoneInfo(event.timezone)
    day_sessions = [s for s in event.sessions if s.starts_at.astimezone(zone).date() == day]
    if day_sessions:
        return min(s.starts_at for s in day_sessions), max(s.ends_at for s in day_sessions)
    if not event.sessions:
        midnight = dt.datetime.combine(day, dt.time(), zone)
        next_midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone)
        starts, ends = max(event.starts_at, midnight), min(event.ends_at, next_midnight)
        if starts < ends:
            return starts, ends
    raise validation_error(
        {"day": [f"The event has no programme on {day.isoformat()} ({event.timezone}); "
                 "give the day of the programme, or a session."]},
        "The scan is not for a day of the event.")


def _clamp(moment: dt.datetime, low: dt.datetime, high: dt.datetime) -> dt.datetime:
    return min(max(moment, low), high)


def check_in(session: Session, organisation_id: int, slug: str, data: dict[str, Any]) -> tuple[CheckIn, str]:
    """Records a scan at the door of a day or of one session.

    The outcome is "created" (first scan), "changed" (a check-out, or back in after one) or
    "repeated": the same scan again (in while in, out while out) changes nothing.
    """
    found = (registry.person_by_ticket(data["ticket_code"]) if data.get("ticket_code")
             else registry.person_by_id(data["registration_id"]))
    if found is None or found[1] != slug or found[2] != organisation_id:
        raise ApiError(404, "unknown_ticket", "No such ticket or registration for this event.")
    person = found[0]
    if person.status != "confirmed":
        raise ApiError(409, "not_confirmed", f"This registration is {person.status}; it gives no entry.")
    event = registry.event(organisation_id, slug)
    now = utcnow()
    at = (data.get("at") or now).astimezone(dt.UTC)
    if at > now + CLOCK_SKEW:
        raise validation_error({"at": ["The scan cannot be in the future."]})
    code = data.get("session") or ""
    if code:
        window = _session_window(event, code)
        day = window[0].astimezone(ZoneInfo(event.timezone)).date()
    else:
        day = data.get("day") or at.astimezone(ZoneInfo(event.timezone)).date()
        window = _day_window(event, day)
    record = session.scalar(select(CheckIn).where(
        CheckIn.organisation_id == organisation_id, CheckIn.event_slug == slug,
        CheckIn.registration_id == person.id, CheckIn.day == day, CheckIn.session_code == code))
    if record is None:
        if data.get("check_out"):
            raise ApiError(409, "not_checked_in", "There is no check-in to close: this person was not scanned in "
                                                  "for this day or session.")
        record, created = insert_once(session, CheckIn, {
            "organisation_id": organisation_id, "event_slug": slug, "registration_id": person.id,
            "email": person.email, "day": day, "session_code": code, "checked_in_at": at,
        }, key=("organisation_id", "event_slug", "registration_id", "day", "session_code"))
        if created:
            _open_stay(session, record, window, event.timezone, at, first=True)
            return record, "created"
        # Two scanners at once: the first scan stands, and this one is a scan of that record.
    if data.get("check_out"):
        if record.checked_out_at is not None:
            return record, "repeated"
        stay = _current_stay(session, record)
        record.checked_out_at = max(at, stay.starts_at if stay is not None else record.checked_in_at)
        if stay is not None:
            stay.ends_at = min(record.checked_out_at, window[1])
        session.flush()
        return record, "changed"
    if record.checked_out_at is None:
        return record, "repeated"
    record.checked_out_at = None  # back in after a check-out: a new stay, the earlier one is kept
    _open_stay(session, record, window, event.timezone, at, first=False)
    return record, "changed"


def _open_stay(session: Session, record: CheckIn, window: tuple[dt.datetime, dt.datetime], timezone: str,
               entered: dt.datetime, first: bool) -> None:
    """A stay runs to check-out or the end of the window. A session's first scan covers it from its start;
    otherwise presence counts from the scan, unless the scan was recorded on another day (afterwards)."""
    starts, ends = window
    on_the_day = entered.astimezone(ZoneInfo(timezone)).date() == record.day
    if on_the_day and not (first and record.session_code):
        starts = _clamp(entered, starts, ends)
    session.add(AttendanceInterval(
        organisation_id=record.organisation_id, event_slug=record.event_slug, registration_id=record.registration_id,
        email=record.email, starts_at=starts, ends_at=ends, session_code=record.session_code or None,
        source=f"check-in:{record.id}", check_in_id=record.id))
    session.flush()


def _current_stay(session: Session, record: CheckIn) -> AttendanceInterval | None:
    return session.scalar(select(AttendanceInterval).where(AttendanceInterval.check_in_id == record.id)
                          .order_by(AttendanceInterval.id.desc()).limit(1))


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
