"""A learner's transcript: every certificate they hold from one organisation, across its events,
with totals per credit system and calendar year (what a licence cycle counts), as a page and a PDF.

No account and no password: the learner types their email and receives a link. The answer to the
request is the same whether or not the address holds certificates (nothing is revealed about who
attended what); only an address with certificates gets a mail, at most one per ``QUIET_MINUTES``.
The link is stored as a hash, expires after ``LINK_DAYS`` and lists only the certificates of the
email key it was made for (suite_common.emails: one person, one key), at that organisation only.
"""
from __future__ import annotations

import datetime as dt
import io
import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask import current_app
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from suite_common.auth import hash_token
from suite_common.emails import loose_email_key, stored_spellings
from suite_common.fonts import SANS, SANS_BOLD
from suite_common.outbox import enqueue
from suite_common.pdf import MUTED, PLAIN, Letterhead, english_date, logo_image, paragraph, paragraph_style

from ..models import Certificate, Outbox, TranscriptLink
from .credits import format_decimal

LINK_DAYS = 7
QUIET_MINUTES = 10  # a second request within this time sends no second mail
PREFIX = "tr_"


@dataclass
class SystemTotal:
    """A credit system's total over the transcript, and per calendar year."""

    code: str
    name: str
    body: str
    total: Decimal = Decimal(0)
    by_year: dict[int, Decimal] = field(default_factory=dict)


@dataclass
class Entry:
    certificate: Certificate
    year: int
    starts_on: dt.date
    systems: list[dict[str, str]]

    @property
    def revoked(self) -> bool:
        return self.certificate.revoked_at is not None


@dataclass
class Transcript:
    organisation_id: int
    participant: str
    entries: list[Entry]
    totals: list[SystemTotal]
    years: list[int]
    expires_at: dt.datetime


def _public(path: str) -> str:
    return current_app.extensions["suite_settings"].public_base_url + path


def link_url(organisation_id: int, secret: str) -> str:
    return _public(f"/o/{organisation_id}/transcript/{secret}")


def certificates_of(session: Session, organisation_id: int, email_key: str) -> list[Certificate]:
    """The organisation's certificates issued to this email key. Certificates keep the address as
    written, so the database narrows by its lower-cased spellings and the key decides."""
    rows = session.scalars(select(Certificate).where(
        Certificate.organisation_id == organisation_id,
        func.lower(Certificate.email).in_(stored_spellings(email_key))).order_by(Certificate.issued_at))
    return [row for row in rows if loose_email_key(row.email) == email_key]


def request_link(session: Session, organisation_id: int, email: str, language: str, now: dt.datetime) -> None:
    """Mails a new link to an address that holds certificates here; does nothing otherwise (the
    caller answers the same either way)."""
    key = loose_email_key(email)
    if not certificates_of(session, organisation_id, key):
        return
    recent = session.scalar(select(TranscriptLink.id).where(
        TranscriptLink.organisation_id == organisation_id, TranscriptLink.email_key == key,
        TranscriptLink.created_at > now - dt.timedelta(minutes=QUIET_MINUTES)).limit(1))
    if recent is not None:
        return
    secret = PREFIX + secrets.token_urlsafe(32)
    link = TranscriptLink(organisation_id=organisation_id, email_key=key, token_hash=hash_token(secret),
                          created_at=now, expires_at=now + dt.timedelta(days=LINK_DAYS))
    session.add(link)
    session.flush()
    organisation = certificates_of(session, organisation_id, key)[-1].snapshot.get("organisation_name") or ""
    mail_key = f"transcript:{organisation_id}:{link.id}"
    enqueue(session, Outbox, "notifications", "POST", "/internal/v1/messages", mail_key, {
        "idempotency_key": mail_key, "template": "transcript_link", "to": email, "language": language,
        "organisation_id": organisation_id,
        "context": {"transcript": {"organisation": organisation, "url": link_url(organisation_id, secret),
                                   "days": LINK_DAYS}}})


def by_secret(session: Session, organisation_id: int, secret: str, now: dt.datetime) -> TranscriptLink | None:
    """The link, if it is this organisation's and has not expired."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    link = session.scalar(select(TranscriptLink).where(TranscriptLink.token_hash == hash_token(secret)))
    if link is None or link.organisation_id != organisation_id or link.expires_at <= now:
        return None
    return link


def _starts_on(certificate: Certificate) -> dt.date:
    """The activity's first day: the calendar year a licence cycle counts it in."""
    starts_at = certificate.snapshot.get("event_starts_at")
    if starts_at:
        return dt.datetime.fromisoformat(starts_at).date()
    return dt.date.fromisoformat(certificate.snapshot["issued_on"])


def transcript(session: Session, link: TranscriptLink) -> Transcript:
    """The certificates of the link's person (newest activity first) and totals of the valid ones:
    a revoked certificate is listed as revoked and counts for nothing."""
    entries = []
    for certificate in certificates_of(session, link.organisation_id, link.email_key):
        starts_on = _starts_on(certificate)
        systems = [{"code": s["code"], "name": s["name"], "body": s["body"], "credits": s["credits"]}
                   for s in certificate.snapshot.get("systems", [])]
        entries.append(Entry(certificate, starts_on.year, starts_on, systems))
    entries.sort(key=lambda e: (e.starts_on, e.certificate.id), reverse=True)
    totals: dict[tuple[str, str], SystemTotal] = {}
    for entry in reversed(entries):
        if entry.revoked:
            continue
        for system in entry.systems:
            total = totals.setdefault((system["code"], system["body"]),
                                      SystemTotal(system["code"], system["name"], system["body"]))
            amount = Decimal(system["credits"])
            total.total += amount
            total.by_year[entry.year] = total.by_year.get(entry.year, Decimal(0)) + amount
    years = sorted({year for total in totals.values() for year in total.by_year}, reverse=True)
    participant = entries[0].certificate.participant if entries else ""
    return Transcript(link.organisation_id, participant, entries, list(totals.values()), years, link.expires_at)


def links_of(session: Session, organisation_id: int, email: str) -> list[dict[str, str]]:
    """Privacy export: when the person's transcript links were made and until when they work (not the links)."""
    return [{"created_at": link.created_at.isoformat(), "expires_at": link.expires_at.isoformat()}
            for link in session.scalars(select(TranscriptLink).where(
                TranscriptLink.organisation_id == organisation_id,
                TranscriptLink.email_key == loose_email_key(email)).order_by(TranscriptLink.id))]


def erase(session: Session, organisation_id: int, email: str) -> int:
    """Privacy erasure: the person's transcript links stop working."""
    return session.execute(delete(TranscriptLink).where(
        TranscriptLink.organisation_id == organisation_id,
        TranscriptLink.email_key == loose_email_key(email))).rowcount


def purge_expired(session: Session, now: dt.datetime) -> int:
    return session.execute(delete(TranscriptLink).where(TranscriptLink.expires_at < now)).rowcount


def render_pdf(found: Transcript, organisation: str, labels: dict[str, str], look: Letterhead = PLAIN) -> bytes:
    """The transcript on A4 pages in the house style (suite_common.pdf) under the society's letterhead
    (logo, colour, footer), in the learner's language: ``labels`` are the page's words, translated by
    the caller."""
    title = paragraph_style("title", SANS_BOLD, 16, look.accent_text, space_after=4)
    heading = paragraph_style("heading", SANS_BOLD, 11.5, look.accent_text, space_before=10, space_after=4)
    body = paragraph_style("body", SANS, 9.5)
    muted = paragraph_style("muted", SANS, 8.5, MUTED)
    th = paragraph_style("th", SANS_BOLD, 9)

    def table(header: list[str], rows: list[list[str]], widths: list[float]) -> Table:
        made = Table([[paragraph(h, th) for h in header]] + [[paragraph(v, body) for v in row] for row in rows],
                     colWidths=widths, repeatRows=1, hAlign="LEFT")
        made.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.6, look.accent),
                                  ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                                  ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return made

    story: list[Any] = [logo_image(look.logo, 60 * mm, 18 * mm), Spacer(1, 4 * mm)] if look.logo else []
    story += [
        paragraph(labels["title"], title), paragraph(found.participant, body), paragraph(organisation, body),
        paragraph(labels["generated"], muted), paragraph(labels["totals"], heading)]
    if found.totals:
        story.append(table([labels["system"], labels["total"], *[str(y) for y in found.years]], [
            [f"{t.name} ({t.body})", format_decimal(t.total),
             *[format_decimal(t.by_year[y]) if y in t.by_year else "–" for y in found.years]]
            for t in found.totals], [70 * mm, 22 * mm, *[((174 - 92) / max(len(found.years), 1)) * mm] * len(found.years)]))
    else:
        story.append(paragraph(labels["no_totals"], body))
    story += [paragraph(labels["certificates"], heading), Spacer(1, 1 * mm), table(
        [labels["date"], labels["event"], labels["credits"], labels["code"]],
        [[english_date(e.starts_on), e.certificate.snapshot["event_title"],
          "; ".join(f"{s['credits']} {s['name']}" for s in e.systems),
          e.certificate.code + (f" ({labels['revoked']})" if e.revoked else "")] for e in found.entries],
        [28 * mm, 70 * mm, 46 * mm, 30 * mm])]
    if look.footer:
        story += [Spacer(1, 8 * mm), paragraph(" · ".join(look.footer), muted)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, title=labels["title"]).build(story)
    return buffer.getvalue()
