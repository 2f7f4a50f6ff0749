"""Reports to accreditors, per event and credit system: ACCME's PARS learner upload (.xlsx), the event summary
an accreditor asks for (JSON and PDF) and a generic learner CSV.

A *learner* of a system is a person whose current (unrevoked) certificate prints credits in it. A learner
is *reportable* when they gave every identifier the system marks required (services/identifiers.py); the
PARS upload lists reportable learners and names the others on a second sheet, so that the first sheet
uploads as it is while nobody is silently left out.

The PARS columns follow what ACCME documents a learner completion record to hold (README, "Reports to
accreditors", gives the sources and what we could not confirm of the template's exact headers).
"""
from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
from openpyxl.styles import Font
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.csvexport import neutralise
from suite_common.db import utcnow
from suite_common.errors import validation_error
from suite_common.fonts import SANS, SANS_BOLD
from suite_common.pdf import ACCENT, MUTED, english_date, paragraph, paragraph_style

from ..models import Certificate, CreditSystem, LearnerIdentifier
from . import accreditation as accreditation_service
from . import evaluations, identifiers, registry
from .credits import format_decimal

PARS_COLUMNS = ("Activity ID", "First Name", "Last Name", "Certifying Board", "Board ID", "DOB Month", "DOB Day",
                "Completion Date", "CME Credits")
NOT_REPORTABLE_COLUMNS = ("First Name", "Last Name", "Email", "Credits", "Missing")
# Per identifier kind, the learner CSV's columns (a system's own kinds only, in the order it asks them).
IDENTIFIER_COLUMNS = {
    "abim_pars": ("abim_pars_board", "abim_pars_board_id", "abim_pars_birth_month", "abim_pars_birth_day"),
    "efn": ("efn",), "big": ("big",), "gmc": ("gmc",), "free_text": ("free_text",),
}
LEARNER_COLUMNS = ("registration_id", "email", "given_name", "family_name", "country", "profession",
                   "certificate_code", "completion_date", "credits")
NOT_GIVEN = None  # a participant whose form had no country or profession answer


@dataclass(frozen=True)
class Learner:
    registration_id: int
    email: str
    given_name: str
    family_name: str
    country: str | None
    profession: str | None
    certificate_code: str
    credits: Decimal
    identifiers: dict[str, LearnerIdentifier]  # by kind, this system's
    missing: list[str]  # labels of required identifiers not given

    @property
    def reportable(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Report:
    event: registry.EventInfo
    system: CreditSystem
    completion_date: dt.date
    learners: list[Learner]
    participants: list[registry.Person] = field(default_factory=list)  # the confirmed registrations

    @property
    def reportable(self) -> list[Learner]:
        return [learner for learner in self.learners if learner.reportable]


def _system(session: Session, organisation_id: int, slug: str, code: str) -> CreditSystem:
    rules = accreditation_service.require(session, organisation_id, slug)  # 409 without credit rules
    for system in rules.credit_systems:
        if system.code == code:
            return system
    known = ", ".join(system.code for system in rules.credit_systems)
    raise validation_error({"system": [f"This event has no credit system {code}; its systems: {known}."]})


def _names(person: registry.Person | None, certificate: Certificate) -> tuple[str, str]:
    """Given and family name as registration holds them; for someone no longer confirmed there (cancelled
    after the certificate), the certificate's printed name split at its last space."""
    if person is not None:
        return person.given_name, person.family_name
    given, _, family = certificate.participant.rpartition(" ")
    return (given, family) if given else ("", family)


def gather(session: Session, organisation_id: int, slug: str, code: str) -> Report:
    """The event (a 404 unless the organisation's), the system (409 without rules, 422 unknown) and its
    learners in registration order."""
    event, people = registry.attendees(organisation_id, slug)
    system = _system(session, organisation_id, slug, code)
    participants = list(people)
    by_id = {person.id: person for person in participants}
    issued = session.scalars(select(Certificate).where(
        Certificate.organisation_id == organisation_id, Certificate.event_slug == slug,
        Certificate.revoked_at.is_(None)).order_by(Certificate.registration_id))
    certified = [c for c in issued if Decimal(c.credits_by_system.get(code) or 0) > 0]
    rows = identifiers.rows_of(session, organisation_id, slug, [c.registration_id for c in certified])
    learners = []
    for certificate in certified:
        person = by_id.get(certificate.registration_id)
        given, family = _names(person, certificate)
        own = {kind: row for (rid, system_code, kind), row in rows.items()
               if rid == certificate.registration_id and system_code == code}
        learners.append(Learner(
            registration_id=certificate.registration_id, email=person.email if person else certificate.email,
            given_name=given, family_name=family, country=person.country if person else None,
            profession=person.profession if person else None, certificate_code=certificate.code,
            credits=Decimal(certificate.credits_by_system[code]), identifiers=own,
            missing=identifiers.missing_required(system, certificate.registration_id, rows)))
    completion = event.ends_at.astimezone(ZoneInfo(event.timezone)).date()
    return Report(event, system, completion, learners, participants)


# ACCME PARS ----------------------------------------------------------------------------------------------


def _text(value: Any) -> Any:
    """A text cell that a spreadsheet will not run as a formula (the CSV exports' guard)."""
    return neutralise(value) if isinstance(value, str) else value


def pars_rows(report: Report, activity_id: str) -> list[list[Any]]:
    """One row per reportable learner, in PARS_COLUMNS; the board ID of a system that does not ask for one
    is left empty (PARS then matches by a state licence, which we do not collect)."""
    rows = []
    for learner in report.reportable:
        board = learner.identifiers.get("abim_pars")
        rows.append([activity_id, learner.given_name, learner.family_name, board.board if board else None,
                     board.value if board else None, board.birth_month if board else None,
                     board.birth_day if board else None, report.completion_date, learner.credits])
    return rows


def pars_workbook(report: Report, activity_id: str) -> bytes:
    """The .xlsx: sheet "Learners" in PARS_COLUMNS (dates as Excel dates, MM/DD/YYYY as PARS shows them;
    credits as numbers), sheet "Not reportable" naming who is missing which required identifier."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Learners"
    sheet.append(PARS_COLUMNS)
    for row in pars_rows(report, activity_id):
        sheet.append([_text(value) if not isinstance(value, Decimal) else float(value) for value in row])
    for cell in sheet["H"][1:]:
        cell.number_format = "mm/dd/yyyy"
    others = book.create_sheet("Not reportable")
    others.append(NOT_REPORTABLE_COLUMNS)
    for learner in report.learners:
        if not learner.reportable:
            others.append([_text(learner.given_name), _text(learner.family_name), _text(learner.email),
                           float(learner.credits), _text("; ".join(learner.missing))])
    for worksheet in (sheet, others):
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# The learner CSV -----------------------------------------------------------------------------------------


def learner_header(system: CreditSystem) -> tuple[str, ...]:
    kinds = [spec["kind"] for spec in system.identifiers]
    return (*LEARNER_COLUMNS, *(column for kind in kinds for column in IDENTIFIER_COLUMNS[kind]),
            *(f"{kind}_consented_at" for kind in kinds), "reportable", "missing")


def learner_rows(report: Report) -> list[list[Any]]:
    kinds = [spec["kind"] for spec in report.system.identifiers]
    rows = []
    for learner in report.learners:
        values: list[Any] = []
        for kind in kinds:
            row = learner.identifiers.get(kind)
            if kind == "abim_pars":
                values += [row.board, row.value, row.birth_month, row.birth_day] if row else [None] * 4
            else:
                values.append(row.value if row else None)
        values += [row.consented_at if (row := learner.identifiers.get(kind)) else None for kind in kinds]
        rows.append([learner.registration_id, learner.email, learner.given_name, learner.family_name,
                     learner.country, learner.profession, learner.certificate_code, report.completion_date,
                     format_decimal(learner.credits), *values, learner.reportable, "; ".join(learner.missing)])
    return rows


# The summary ---------------------------------------------------------------------------------------------


def _by(values: Iterable[str | None], learners: Iterable[str | None]) -> list[dict[str, Any]]:
    """Counts of participants and of learners per value, most participants first; not given (None) last."""
    everyone, certified = Counter(values), Counter(learners)
    keys = sorted(set(everyone) | set(certified), key=lambda k: (k is None, -everyone[k], k or ""))
    return [{"value": key, "participants": everyone[key], "learners": certified[key]} for key in keys]


def _faculty(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    """Speakers and planners with their disclosures as registration's faculty API gives them."""
    if items is None:
        return {"available": False, "items": []}
    return {"available": True, "items": [
        {"name": item.get("name"), "role": item.get("role"), "sessions": list(item.get("sessions") or []),
         "none": bool(item.get("none")), "status": item.get("status"),
         "disclosures": [{"company": d.get("company"), "relationship": d.get("relationship"),
                          "ended_on": d.get("ended_on")} for d in item.get("disclosures") or []]}
        for item in items]}


def summary(session: Session, organisation_id: int, slug: str, code: str) -> dict[str, Any]:
    """The event report an accreditor asks for: who took part (by country and profession), the credits
    given, the evaluation results and the faculty with their disclosures."""
    report = gather(session, organisation_id, slug, code)
    credits = [learner.credits for learner in report.learners]
    distribution = Counter(credits)
    total = sum(credits, Decimal(0))
    people = report.participants
    return {
        "event": {"slug": report.event.slug, "title": report.event.title, "kind": report.event.kind,
                  "starts_at": report.event.starts_at.isoformat(), "ends_at": report.event.ends_at.isoformat(),
                  "timezone": report.event.timezone, "venue": report.event.venue},
        "system": {"code": report.system.code, "name": report.system.name, "body": report.system.body},
        "generated_at": utcnow().isoformat(),
        "participants": {
            "confirmed": len(people), "learners": len(report.learners), "reportable": len(report.reportable),
            "by_country": _by((p.country for p in people), (learner.country for learner in report.learners)),
            "by_profession": _by((p.profession for p in people),
                                 (learner.profession for learner in report.learners)),
        },
        "credits": {
            "total": format_decimal(total),
            "mean": format_decimal((total / len(credits)).quantize(Decimal("0.01"))) if credits else None,
            "distribution": [{"credits": format_decimal(amount), "learners": distribution[amount]}
                             for amount in sorted(distribution)],
        },
        "evaluation": evaluations.results(session, organisation_id, slug, report.event.sessions),
        "faculty": _faculty(registry.faculty(organisation_id, slug)),
    }


def summary_pdf(found: dict[str, Any]) -> bytes:
    """The summary on A4 pages, for the accreditor's file (English: it is the organiser's document)."""
    title = paragraph_style("title", SANS_BOLD, 16, ACCENT, space_after=4)
    heading = paragraph_style("heading", SANS_BOLD, 11.5, ACCENT, space_before=10, space_after=4)
    body = paragraph_style("body", SANS, 9.5)
    muted = paragraph_style("muted", SANS, 8.5, MUTED)
    event, system = found["event"], found["system"]
    starts, ends = (dt.datetime.fromisoformat(event[k]).astimezone(ZoneInfo(event["timezone"])).date()
                    for k in ("starts_at", "ends_at"))
    dates = english_date(starts) if starts == ends else f"{english_date(starts)} – {english_date(ends)}"
    people = found["participants"]
    story: list[Any] = [
        paragraph(f"Accreditor's report: {event['title']}", title),
        paragraph(f"{dates}{', ' + event['venue'] if event['venue'] else ''} · {system['name']} ({system['body']})",
                  body),
        paragraph(f"Generated {found['generated_at'][:16].replace('T', ' ')} UTC", muted),
        paragraph("Participants", heading),
        paragraph(f"{people['confirmed']} confirmed participants; {people['learners']} earned {system['name']}; "
                  f"{people['reportable']} gave every identifier the body requires.", body),
    ]

    def table(header: Sequence[str], rows: Sequence[Sequence[Any]], widths: Sequence[float] | None = None) -> Table:
        cells = [[paragraph(str(h), paragraph_style("th", SANS_BOLD, 9)) for h in header]]
        cells += [[paragraph("" if v is None else str(v), body) for v in row] for row in rows]
        made = Table(cells, colWidths=widths, repeatRows=1, hAlign="LEFT")
        made.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, 0), 0.6, ACCENT),
                                  ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.lightgrey),
                                  ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return made

    for key, name in (("by_country", "Country"), ("by_profession", "Profession")):
        story += [Spacer(1, 3 * mm), table((name, "Participants", "Learners"), [
            (row["value"] or "not given", row["participants"], row["learners"]) for row in people[key]])]
    credits = found["credits"]
    story += [paragraph("Credits", heading),
              paragraph(f"Total {credits['total']}; mean per learner {credits['mean'] or '–'}.", body),
              Spacer(1, 2 * mm),
              table(("Credits", "Learners"), [(row["credits"], row["learners"]) for row in credits["distribution"]])]
    evaluation = found["evaluation"]
    story.append(paragraph("Evaluation", heading))
    sections = [("The event overall", evaluation["overall"])] + [
        (f"{s['code']} {s['title']}", s) for s in evaluation["sessions"]]
    for name, section in sections:
        rows = [(q["text"], q["answers"], q["mean"] or "",
                 "; ".join(f"{k}: {v}" for k, v in (q["distribution"] or {}).items()),
                 "\n".join(q["texts"] or [])) for q in section["questions"]]
        if rows:
            story += [paragraph(f"{name} ({section['responses']} responses)", body), Spacer(1, 1 * mm),
                      table(("Question", "Answers", "Mean", "Distribution", "Comments"), rows,
                            (60 * mm, 17 * mm, 14 * mm, 38 * mm, 45 * mm)), Spacer(1, 2 * mm)]
    faculty = found["faculty"]
    story.append(paragraph("Faculty and disclosures", heading))
    if not faculty["available"]:
        story.append(paragraph("Registration did not provide the faculty list.", body))
    else:
        story.append(table(("Name", "Role", "Sessions", "Financial relationships (last 24 months)"), [
            (item["name"], item["role"], ", ".join(item["sessions"]),
             "None" if item["none"] else "; ".join(
                 f"{d['company']}: {d['relationship']}" + (f" (ended {d['ended_on']})" if d.get("ended_on") else "")
                 for d in item["disclosures"]) or "not received")
            for item in faculty["items"]], (45 * mm, 20 * mm, 30 * mm, 79 * mm)))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=16 * mm, title=f"Accreditor's report: {event['title']}").build(story)
    return buffer.getvalue()
