"""Computing credits per person and issuing certificates, in a background job.

A job walks the event's confirmed registrations in id order, in batches; each batch
is one transaction that writes the certificates, their "certificate ready" mails
(outbox) and the job's progress together. A job whose worker died is claimed again
when its lease runs out and continues after the last registration it recorded;
running a job twice is harmless, since there is one certificate per person and event
and a mail per certificate revision.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import secrets
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import Flask, current_app
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from suite_common import dates
from suite_common.db import Database, is_postgresql, utcnow
from suite_common.errors import ApiError, not_found
from suite_common.outbox import OutboxRow, enqueue_many

from ..models import Accreditation, Certificate, CertificateRevision, Claim, IssueJob, Outbox
from . import accreditation as accreditation_service
from . import attendance, credit_systems, evaluations, presence, registry
from .credit_systems import Assessment
from .credits import CreditResult, Interval, format_decimal

log = logging.getLogger(__name__)

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U: unambiguous when typed from paper
BATCH = 250  # people per transaction: a handful of statements each, whatever the size
LEASE = dt.timedelta(seconds=120)


def new_code() -> str:
    """About 49 random bits; verification is rate-limited, so codes cannot be enumerated."""
    chars = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def normalise_code(code: str) -> str:
    cleaned = "".join(c for c in code.upper() if c.isalnum())
    return f"{cleaned[:5]}-{cleaned[5:]}" if len(cleaned) == 10 else code.upper()


@dataclass(frozen=True)
class Evidence:
    """Everything credits are computed from, for a batch of people, read in a handful of queries:
    attendance, who completed the evaluation, presence checks per session (the programme's and each
    person's) and claims. Issuing, re-issuing, claims and the explanation all read it here, so they
    never disagree about a person's credits."""

    intervals: Mapping[int, list[Interval]]
    evaluated: set[int]
    presence: presence.Counts
    claims: Mapping[int, Mapping[str, Decimal]]


def gather(session: Session, organisation_id: int, slug: str, event: registry.EventInfo,
           registration_ids: list[int]) -> Evidence:
    intervals = attendance.intervals_by_registration(session, organisation_id, slug, registration_ids)
    claims: dict[int, dict[str, Decimal]] = {}
    if registration_ids:
        for registration_id, code, credits in session.execute(
                select(Claim.registration_id, Claim.system_code, Claim.credits).where(
                    Claim.organisation_id == organisation_id, Claim.event_slug == slug,
                    Claim.registration_id.in_(registration_ids))):
            claims.setdefault(registration_id, {})[code] = Decimal(credits)
    return Evidence(intervals=intervals,
                    evaluated=evaluations.completed_ids(session, organisation_id, slug, event.sessions, intervals),
                    presence=presence.counts(session, organisation_id, slug, registration_ids), claims=claims)


def assess(accreditation: Accreditation, event: registry.EventInfo, evidence: Evidence,
           registration_id: int) -> Assessment:
    """One person's credits in each of the event's credit systems. A session's presence checks (codes
    announced, polls seen) are counted here, so a session without any stays outside the presence rule."""
    checks = evidence.presence.checks
    sessions = [dataclasses.replace(s, presence_codes=checks.get(s.code, 0)) for s in event.sessions]
    return credit_systems.assess(accreditation.credit_systems, event.timezone, sessions, event.credits_by_system,
                                 evidence.intervals.get(registration_id, []), registration_id in evidence.evaluated,
                                 evidence.presence.confirmed.get(registration_id, {}),
                                 evidence.claims.get(registration_id, {}))


def event_dates(event: registry.EventInfo) -> str:
    return dates.event_dates(event.starts_at, event.ends_at, event.timezone)


def _sessions_printed(result: CreditResult) -> list[list[str]]:
    return [[s.title, format_decimal(s.credits)] for s in result.sessions if s.credits > 0]


def snapshot(accreditation: Accreditation, event: registry.EventInfo, person: registry.Person,
             result: Assessment) -> dict[str, Any]:
    """What the certificate prints, fixed at issue: every printed system under ``systems``; the
    top-level credits and wording are the first system's, as before several systems."""
    first = result.first
    return {
        "participant": person.name, "event_title": event.title,
        "event_dates": dates.event_dates(event.starts_at, event.ends_at, event.timezone, person.language),
        # The language it prints in, kept so that every later download prints the same page.
        "language": person.language,
        "place": "Online" if event.kind == "webinar" else (event.venue or ""),
        "credits": format_decimal(first.certified), "credit_body": first.body,
        "credit_unit": first.name, "statement": first.statement,
        "signatory_name": accreditation.signatory_name, "signatory_title": accreditation.signatory_title,
        "organisation_name": accreditation.organisation_name,
        "sessions": _sessions_printed(first.result) if first.printed else [],
        "systems": [{"code": s.code, "name": s.name, "body": s.body, "statement": s.statement,
                     "credits": format_decimal(s.certified), "sessions": _sessions_printed(s.result)}
                    for s in result.printed],
        "event_starts_at": event.starts_at.isoformat(), "event_ends_at": event.ends_at.isoformat(),
    }


def lead_system(printed: dict[str, Any]) -> dict[str, Any]:
    """The first printed system of a certificate's snapshot: what its mail names."""
    return printed["systems"][0]


def _public(path: str) -> str:
    return current_app.extensions["suite_settings"].public_base_url + path


def _ready_mail(certificate: Certificate, person: registry.Person) -> OutboxRow:
    """The "certificate ready" mail of this revision: needs the code and token, not the row's id."""
    key = f"cert:{certificate.code}:rev{certificate.revision}"
    return {"target": "notifications", "method": "POST", "path": "/internal/v1/messages", "idempotency_key": key,
            "body": {
                "idempotency_key": key, "template": "certificate_ready", "to": certificate.email,
                "language": certificate.snapshot.get("language") or person.language,
                "organisation_id": certificate.organisation_id, "event": certificate.event_slug,
                "context": {
                    "event": {"title": certificate.snapshot["event_title"]},
                    "attendee": {"given_name": person.given_name, "family_name": person.family_name,
                                 "family_name_first": person.family_name_first},
                    "certificate": {"credits": lead_system(certificate.snapshot)["credits"],
                                    "body": lead_system(certificate.snapshot)["body"], "code": certificate.code,
                                    "download_url": _public(f"/c/{certificate.download_token}"),
                                    "credential_url": _public(f"/c/{certificate.download_token}/credential.jwt"),
                                    "verify_url": _public(f"/verify/{certificate.code}"),
                                    # Every certificate of this organiser, across events: asked for by email.
                                    "transcript_url": _public(f"/o/{certificate.organisation_id}/transcript")},
                },
            }}


def issued_by_registration(session: Session, organisation_id: int, slug: str,
                           registration_ids: list[int]) -> dict[int, list[Certificate]]:
    """Each person's certificates (oldest first), for a whole batch in one query."""
    found: dict[int, list[Certificate]] = {registration_id: [] for registration_id in registration_ids}
    for certificate in session.scalars(select(Certificate).where(
            Certificate.organisation_id == organisation_id, Certificate.event_slug == slug,
            Certificate.registration_id.in_(registration_ids)).order_by(Certificate.id)):
        found[certificate.registration_id].append(certificate)
    return found


def issue_one(session: Session, accreditation: Accreditation, event: registry.EventInfo, person: registry.Person,
              result: Assessment, now: dt.datetime, issued: list[Certificate], mails: list[OutboxRow]) -> str:
    """'issued', 'reissued', 'unchanged' or 'not_eligible' for one person.

    New and changed certificates are added to the session (written when the batch's transaction
    flushes, in one statement per table), and their mails appended to ``mails``.

    A revoked certificate is never revived (whoever holds the paper must keep reading "revoked"). The
    revocation stands while the evidence behind it is the same; when the person qualifies on new
    evidence (attendance, evaluation, rules), they get a new certificate with a new code.
    """
    certificate = next((c for c in issued if c.revoked_at is None), None)
    if not result.eligible:
        return "unchanged" if issued else "not_eligible"
    if certificate is None and issued and issued[-1].explanation == result.to_dict():
        return "unchanged"  # revoked, and nothing has changed since
    printed = snapshot(accreditation, event, person, result)
    if certificate is None:
        certificate = Certificate(
            organisation_id=accreditation.organisation_id, event_slug=accreditation.event_slug,
            registration_id=person.id, email=person.email, participant=person.name, credits=result.first.certified,
            credits_by_system=result.credits_by_system, supported_by_system=result.supported_by_system,
            code=new_code(), download_token=secrets.token_urlsafe(32), revision=1,
            snapshot={**printed, "issued_on": now.date().isoformat()}, explanation=result.to_dict(),
            issued_at=now, updated_at=now)
        session.add(certificate)
        mails.append(_ready_mail(certificate, person))
        return "issued"
    if {k: v for k, v in certificate.snapshot.items() if k != "issued_on"} == printed:
        return "unchanged"
    session.add(CertificateRevision(certificate_id=certificate.id, revision=certificate.revision,
                                    participant=certificate.participant, credits=certificate.credits,
                                    reason=_change_reason(certificate.snapshot, printed)))
    certificate.revision += 1
    certificate.participant = person.name
    certificate.email = person.email
    certificate.credits = result.first.certified
    certificate.credits_by_system = result.credits_by_system
    certificate.supported_by_system = result.supported_by_system
    certificate.snapshot = {**printed, "issued_on": now.date().isoformat()}
    certificate.explanation = result.to_dict()
    certificate.updated_at = now
    mails.append(_ready_mail(certificate, person))
    return "reissued"


def _change_reason(before: dict[str, Any], after: dict[str, Any]) -> str:
    changed = [key for key in after if before.get(key) != after[key]]
    return "changed: " + ", ".join(changed)


def reissue(session: Session, organisation_id: int, code: str) -> tuple[Certificate, str]:
    """Re-issues one certificate now, with the person's name as registration keeps it today (after a
    name correction) and their credits computed again: 'reissued', or 'unchanged' when nothing printed
    would differ. The code and download link stay, so a printed QR code keeps verifying; the earlier
    wording is kept as a revision, and the person gets the "certificate ready" mail again.

    A revoked certificate is not revived (whoever holds the paper must keep reading "revoked"): issuing
    the event's certificates again gives the person a new one when new evidence qualifies them."""
    certificate = session.scalar(select(Certificate).where(
        Certificate.organisation_id == organisation_id, Certificate.code == normalise_code(code)[:20]))
    if certificate is None:
        raise not_found("certificate")
    if certificate.revoked_at is not None:
        raise ApiError(409, "revoked", "This certificate is revoked and stays so; issue the event's certificates "
                                       "again to give the person a new one.")
    found = registry.person_by_id(certificate.registration_id)
    if found is None or found[0].status != "confirmed":
        raise ApiError(409, "not_confirmed", "The registration behind this certificate is no longer confirmed.")
    person = found[0]
    event = registry.event(organisation_id, certificate.event_slug)
    accreditation = accreditation_service.require(session, organisation_id, certificate.event_slug, lock=True)
    result = assess(accreditation, event, gather(session, organisation_id, certificate.event_slug, event, [person.id]),
                    person.id)
    if not result.eligible:
        raise ApiError(409, "not_eligible", "With today's attendance and rules this person earns no credits; "
                                            "revoke the certificate instead if it was issued in error.")
    mails: list[OutboxRow] = []
    issued = issued_by_registration(session, organisation_id, certificate.event_slug, [person.id])[person.id]
    outcome = issue_one(session, accreditation, event, person, result, utcnow(), issued, mails)
    enqueue_many(session, Outbox, mails)
    session.flush()
    return certificate, outcome


def start_job(session: Session, organisation_id: int, slug: str) -> IssueJob:
    registry.event(organisation_id, slug)  # 404 unless the event is this organisation's
    accreditation_service.require(session, organisation_id, slug)  # then 409 without rules
    job = IssueJob(id=uuid.uuid4().hex, organisation_id=organisation_id, event_slug=slug, status="queued")
    session.add(job)
    session.flush()
    return job


class JobRunner:
    """Claims queued jobs (and jobs whose worker died) and runs them, one batch per transaction."""

    def __init__(self, app: Flask, database: Database) -> None:
        self.app = app
        self.database = database
        self.stopping = threading.Event()

    def claim(self) -> str | None:
        now = utcnow()
        with self.database.session_scope() as session:
            query = (select(IssueJob)
                     .where(or_(IssueJob.status == "queued",
                                (IssueJob.status == "running") & (IssueJob.claimed_until < now)))
                     .order_by(IssueJob.created_at).limit(1))
            if is_postgresql(session):
                query = query.with_for_update(skip_locked=True)
            job = session.scalar(query)
            if job is None:
                return None
            job.status, job.claimed_until, job.attempts = "running", now + LEASE, job.attempts + 1
            return job.id

    def run_job(self, job_id: str) -> None:
        with self.database.session_scope() as session:
            job = session.get(IssueJob, job_id)
            organisation_id, slug, after = job.organisation_id, job.event_slug, job.last_registration_id
        event, people_iter = registry.attendees(organisation_id, slug)
        people = list(people_iter)
        pending = [p for p in people if p.id > after]
        with self.database.session_scope() as session:
            session.get(IssueJob, job_id).total = len(people)
        for start in range(0, len(pending), BATCH):
            if self.stopping.is_set():
                return  # the lease runs out and another pass continues after the last batch
            self._run_batch(job_id, organisation_id, slug, event, pending[start:start + BATCH])
        with self.database.session_scope() as session:
            job = session.get(IssueJob, job_id)
            job.status, job.finished_at, job.claimed_until = "done", utcnow(), None

    def _run_batch(self, job_id: str, organisation_id: int, slug: str, event: registry.EventInfo,
                   batch: list[registry.Person]) -> None:
        now = utcnow()
        with self.database.session_scope() as session:
            # The event's rules row, locked, makes batches of one event take turns: a second job of the
            # event (started twice, or on two replicas) waits here, then finds these certificates issued,
            # instead of failing on the one-current-certificate index and stalling until its lease ends.
            accreditation = accreditation_service.require(session, organisation_id, slug, lock=True)
            evidence = gather(session, organisation_id, slug, event, [p.id for p in batch])
            issued = issued_by_registration(session, organisation_id, slug, [p.id for p in batch])
            counts = {"issued": 0, "reissued": 0, "unchanged": 0, "not_eligible": 0}
            mails: list[OutboxRow] = []
            for person in batch:
                result = assess(accreditation, event, evidence, person.id)
                counts[issue_one(session, accreditation, event, person, result, now, issued[person.id], mails)] += 1
            enqueue_many(session, Outbox, mails)  # flushes the batch's certificates first, then one INSERT
            session.execute(update(IssueJob).where(IssueJob.id == job_id).values(
                processed=IssueJob.processed + len(batch), issued=IssueJob.issued + counts["issued"],
                reissued=IssueJob.reissued + counts["reissued"], unchanged=IssueJob.unchanged + counts["unchanged"],
                not_eligible=IssueJob.not_eligible + counts["not_eligible"],
                last_registration_id=batch[-1].id, claimed_until=utcnow() + LEASE))

    def run_once(self) -> int:
        with self.app.app_context():
            job_id = self.claim()
            if job_id is None:
                return 0
            try:
                self.run_job(job_id)
            except Exception as exc:  # recorded on the job and retried by the next claim after the lease
                log.exception("issue job failed", extra={"job": job_id})
                with self.database.session_scope() as session:
                    job = session.get(IssueJob, job_id)
                    job.error = f"{type(exc).__name__}: {exc}"[:1000]
                    if job.attempts >= 5:
                        job.status, job.finished_at = "failed", utcnow()
            return 1
