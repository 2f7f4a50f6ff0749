"""Faculty and their disclosures (ACCME Standard 3; EACCME asks the same).

The organiser lists an event's speakers (with the sessions they present) and planners, and either
enters each person's statement or sends them a personal link to a form where they attest it
themselves. Learners see every statement on the event page before the activity starts;
certificates reads them (the internal API) for the accreditor's summary report.

A statement covers the prior 24 months: a relationship that ended earlier is not relevant and is
refused, so that what learners read is what the standard asks for.
"""
from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from suite_common.auth import hash_token
from suite_common.dates import add_years
from suite_common.emails import loose_email_key
from suite_common.errors import ApiError, not_found, validation_error
from suite_common.outbox import enqueue
from suite_common.settings import RetentionPeriods

from ..models import MAX_ID, DisclosureStatus, Event, FacultyMember, FacultyRole, FinancialRelationship, Outbox
from . import notify
from .urls import public_base

LOOKBACK_DAYS = 730  # 24 months, as ACCME Standard 3 words it ("the past 24 months")
LINK_PREFIX = "fd_"


def list_faculty(session: Session, event: Event) -> list[FacultyMember]:
    """Planners first, then speakers, each by name: the order learners read them in."""
    rows = session.scalars(select(FacultyMember).where(FacultyMember.event_id == event.id)
                           .options(selectinload(FacultyMember.sessions), selectinload(FacultyMember.relationships))
                           .order_by(FacultyMember.role, FacultyMember.name, FacultyMember.id))
    return list(rows)


def get_faculty(session: Session, event: Event, faculty_id: int) -> FacultyMember:
    """Another event's (so another organisation's) faculty is a 404, like a missing one."""
    member = session.get(FacultyMember, faculty_id) if 0 < faculty_id <= MAX_ID else None
    if member is None or member.event_id != event.id:
        raise not_found("faculty member")
    return member


def _sessions(event: Event, role: str, codes: list[str]) -> list[Any]:
    if role == FacultyRole.PLANNER and codes:
        raise validation_error({"sessions": ["Planners are linked to the event, not to sessions; leave this empty."]})
    by_code = {item.code: item for item in event.sessions}
    unknown = sorted({code for code in codes if code not in by_code})
    if unknown:
        raise validation_error({"sessions": [f"No such session in this event: {', '.join(unknown)}."]})
    return [by_code[code] for code in dict.fromkeys(codes)]


def _relationships(disclosures: list[dict[str, Any]], now: dt.datetime) -> list[FinancialRelationship]:
    today = now.date()
    earliest = today - dt.timedelta(days=LOOKBACK_DAYS)
    problems: dict[str, Any] = {}
    for index, item in enumerate(disclosures):
        ended_on = item.get("ended_on")
        if ended_on is not None and ended_on > today:
            problems[str(index)] = {"ended_on": ["A relationship that has not ended yet is ongoing: leave the date empty."]}
        elif ended_on is not None and ended_on < earliest:
            problems[str(index)] = {"ended_on": [f"Ended before {earliest.isoformat()}, more than 24 months ago: "
                                                 "not relevant; leave it out."]}
    if problems:
        raise validation_error({"disclosures": problems})
    return [FinancialRelationship(company=item["company"], nature=item["relationship"],
                                  ended_on=item.get("ended_on")) for item in disclosures]


def _state_statement(member: FacultyMember, data: dict[str, Any], now: dt.datetime, by: str) -> None:
    """Replaces the statement as a whole: none, the relationships given, or (neither) not received."""
    relationships = _relationships(data.get("disclosures") or [], now)
    member.relationships = relationships
    if data.get("none"):
        member.disclosure_status = DisclosureStatus.NONE
    elif relationships:
        member.disclosure_status = DisclosureStatus.DISCLOSED
    else:
        member.disclosure_status = DisclosureStatus.PENDING
    pending = member.disclosure_status == DisclosureStatus.PENDING
    member.disclosed_at = None if pending else now
    member.disclosed_by = None if pending else by
    member.attested_at = now if by == "speaker" and not pending else None


def _set_email(member: FacultyMember, email: str | None) -> None:
    member.email = email
    member.email_key = loose_email_key(email) if email else None


def add_faculty(session: Session, event: Event, data: dict[str, Any], now: dt.datetime) -> FacultyMember:
    member = FacultyMember(event_id=event.id, role=data["role"], name=data["name"],
                           mitigation=data.get("mitigation"), created_at=now, updated_at=now)
    _set_email(member, data.get("email"))
    member.sessions = _sessions(event, data["role"], data.get("sessions") or [])
    _state_statement(member, data, now, "organiser")
    session.add(member)
    session.flush()
    return member


def update_faculty(session: Session, member: FacultyMember, changes: dict[str, Any], now: dt.datetime) -> FacultyMember:
    role = changes.get("role", member.role)
    codes = changes.get("sessions", member.session_codes)
    if "role" in changes and role == FacultyRole.PLANNER and "sessions" not in changes:
        codes = []  # a speaker who becomes a planner leaves the sessions
    member.sessions = _sessions(member.event, role, codes)
    member.role = role
    for field in ("name", "mitigation"):
        if field in changes:
            setattr(member, field, changes[field])
    if "email" in changes:
        _set_email(member, changes["email"])
    if "none" in changes or "disclosures" in changes:
        _state_statement(member, changes, now, "organiser")
    member.updated_at = now
    session.flush()
    return member


def remove_faculty(session: Session, member: FacultyMember) -> None:
    session.delete(member)
    session.flush()


def link_is_open(member: FacultyMember, now: dt.datetime) -> bool:
    """The speaker may fill in or correct their statement until the activity starts: learners must
    read it before, so a later change would be one they never saw."""
    return now < member.event.starts_at


def new_disclosure_link(session: Session, member: FacultyMember, send: bool, now: dt.datetime) -> tuple[str, str | None]:
    """A new personal link (the previous one stops working), and the mail that carries it when asked."""
    if not link_is_open(member, now):
        raise ApiError(409, "event_started", "The event has started: disclosures must reach learners before it, "
                                             "so the speaker's form is closed.")
    if send and not member.email:
        raise validation_error({"send": ["This person has no email address; add one, or pass the link on yourself."]})
    secret = LINK_PREFIX + secrets.token_urlsafe(32)
    member.link_token_hash = hash_token(secret)
    member.link_created_at = now
    url = f"{public_base()}/disclosure/{secret}"
    if send:
        event = member.event
        key = f"faculty:{member.id}:link:{member.link_token_hash[:16]}"
        enqueue(session, Outbox, "notifications", "POST", notify.MESSAGES_PATH, key, {
            "idempotency_key": key, "template": "faculty_disclosure_request", "to": member.email,
            "organisation_id": event.organisation_id, "event": event.slug, "attachments": [], "send_at": None,
            "context": {"event": notify.event_context(event),
                        "faculty": {"name": member.name, "role": member.role, "url": url,
                                    "sessions": [f"{item.code} {item.title}" for item in member.sessions]}}})
    session.flush()
    return url, member.email if send else None


def by_link(session: Session, secret: str) -> FacultyMember | None:
    if not secret.startswith(LINK_PREFIX) or len(secret) > 100:
        return None
    return session.scalar(select(FacultyMember).where(FacultyMember.link_token_hash == hash_token(secret)))


def speaker_statement(session: Session, member: FacultyMember, data: dict[str, Any], now: dt.datetime) -> None:
    """The speaker's own statement through their link, attested; the organiser's mitigation note stays."""
    if not link_is_open(member, now):
        raise ApiError(409, "event_started", "The event has started; the disclosure form is closed.")
    if not data.get("attest"):
        raise validation_error({"attest": ["Please confirm the attestation."]})
    if not data.get("none") and not data.get("disclosures"):
        raise validation_error({"none": ["Say that you have no relevant financial relationships, "
                                         "or list them."]})
    _state_statement(member, data, now, "speaker")
    member.updated_at = now
    session.flush()


def privacy_records(session: Session, organisation_id: int, email: str) -> list[FacultyMember]:
    return list(session.scalars(
        select(FacultyMember).join(Event, Event.id == FacultyMember.event_id)
        .where(Event.organisation_id == organisation_id, FacultyMember.email_key == loose_email_key(email))
        .order_by(FacultyMember.id)))


def export_record(member: FacultyMember) -> dict[str, Any]:
    return {"event": member.event.slug, "name": member.name, "role": member.role, "email": member.email,
            "sessions": member.session_codes, "status": member.disclosure_status,
            "disclosures": [{"company": r.company, "relationship": r.nature,
                             "ended_on": r.ended_on.isoformat() if r.ended_on else None} for r in member.relationships],
            "mitigation": member.mitigation,
            "disclosed_at": member.disclosed_at.isoformat() if member.disclosed_at else None,
            "disclosed_by": member.disclosed_by,
            "attested_at": member.attested_at.isoformat() if member.attested_at else None}


def erase(session: Session, organisation_id: int, email: str) -> list[dict[str, str]]:
    """Erasure takes the person's address and personal link away; their name and statement stay with
    the events they taught at, as the record that disclosures were collected and shown to learners
    (ACCME asks providers to keep activity records for six years). The answer says so."""
    kept = []
    for member in privacy_records(session, organisation_id, email):
        member.email = member.email_key = member.link_token_hash = None
        kept.append({"what": f"name and disclosure statement as {member.role} of event {member.event.slug}",
                     "why": "accreditation requires a record that disclosures were collected and shown to learners",
                     "until": "the accreditation retention period of the event's records"})
    session.flush()
    return kept


def purge(session: Session, now: dt.datetime, periods: RetentionPeriods) -> dict[str, int]:
    """Retention of faculty records. Once the event ended more than the personal-data period ago, the
    address and personal link go as erasure takes them (the link's form closed when the event started);
    the name, statement and relationships stay as the accreditation record, and go with it once the
    event ended more than the accreditation period ago, as erasure's answer promises."""
    ended = select(Event.id).where(Event.ends_at < now - periods.personal_data)
    contacts = list(session.scalars(select(FacultyMember).where(
        FacultyMember.event_id.in_(ended),
        FacultyMember.email.is_not(None) | FacultyMember.link_token_hash.is_not(None))))
    for member in contacts:
        member.email = member.email_key = member.link_token_hash = None
    past = list(session.scalars(select(FacultyMember).where(FacultyMember.event_id.in_(
        select(Event.id).where(Event.ends_at < add_years(now, -periods.accreditation_years))))))
    for member in past:
        session.delete(member)  # its relationships and session links with it (the ORM's cascade)
    session.flush()
    return {"faculty_contacts_erased": len(contacts), "faculty_records_deleted": len(past)}
