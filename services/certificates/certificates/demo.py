"""Demo data for ``make run``: the demo congress's accreditation (ECMEC, asking for a US board ID and an
EFN, both optional; NVvTG points that take a claim and presence codes and require a BIG number), evaluation questions overall and per session, presence codes, and the
demo participant's attendance, so that a newcomer can take one participant through codes, the
evaluation, a claim and the certificate (README, "The demo walk-through").

The congress is two months ahead (registration's demo), so its codes are valid from the seeding
until the congress ends, and the demo participant's first day is recorded as attended as if
scanned at the door: a scan cannot be made ahead of time. Run after registration's seed-demo
(the organisation, the congress and its participant come from there); a second run changes nothing.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import insert_once, utcnow
from suite_common.errors import ApiError

from .models import AttendanceInterval, PresenceCode
from .schemas.accreditation import AccreditationInput
from .services import accreditation as accreditation_service
from .services import presence, registry

CONFERENCE = "demo-congress"
ZOOM_WEBINAR = "demo-zoom-webinar"  # registration's demo webinar linked to the Zoom stand-in
PARTICIPANT_EMAIL = "participant@demo.example"  # registration's demo participant
CODES = {"D1-AM": ("HEART1", "HEART2"), "D1-PM": ("FHIR01", "FHIR02"), "D2-AM": ("QUANT1", "QUANT2")}
RATE = {"id": "quality", "text": "How would you rate this session?", "kind": "rating"}


def _rules(event: registry.EventInfo) -> dict[str, Any]:
    claims_close = (event.ends_at + dt.timedelta(days=30)).isoformat(timespec="seconds")
    return AccreditationInput().load({
        "signatory": "Prof. Dr. Maria Huber", "signatory_title": "Chair, Scientific Committee",
        "evaluation_questions": [
            {"id": "overall", "text": "How would you rate the congress overall?", "kind": "rating"},
            {"id": "unbiased", "text": "Was the programme free of commercial bias?", "kind": "yes_no"},
            {"id": "comments", "text": "What should we change next year?", "kind": "text", "required": False}],
        "session_questions": [RATE],
        "credit_systems": [
            {"code": "ECMEC", "name": "European CME credits (ECMEC®s)", "body": "EACCME®",
             "statement": "The Demo Congress of Imaging Informatics is accredited by the European Accreditation "
                          "Council for Continuing Medical Education (EACCME®) with 11 European CME credits "
                          "(ECMEC®s). Each medical specialist should claim only those hours of credit that "
                          "he/she actually spent in the educational activity.",
             "credit_step": "0.5", "max_credits_per_day": "8", "min_session_share": "0.5",
             "evaluation_required": True, "identifiers": [
                 {"kind": "abim_pars", "consent_text": "I agree that my certifying board ID and month and day of "
                                                        "birth are reported with my credits to ACCME's PARS."},
                 {"kind": "efn", "consent_text": "Ich willige ein, dass meine EFN mit meinen Punkten an die "
                                                  "Ärztekammer gemeldet wird."}]},
            {"code": "NVVTG", "name": "NVvTG punten", "body": "NVvTG",
             "statement": "Geaccrediteerd door de Nederlandse Vereniging voor Technische Geneeskunde met 9 "
                          "punten voor het register van technisch geneeskundigen.",
             "credit_step": "1", "credit_mode": "session", "min_session_share": "0.5",
             "evaluation_required": True, "claim_required": True, "presence_codes_required": 2,
             "claim_closes_at": claims_close, "identifiers": [
                 {"kind": "big", "required": True, "consent_text": "Ik geef toestemming dat mijn BIG-nummer met "
                                                                    "mijn punten aan het register wordt gemeld."}]}],
    })


def _seed_zoom_webinar(session: Session, organisation_id: int, organisation_name: str) -> None:
    """Credit rules for registration's demo Zoom webinar, whose attendance arrives from the Zoom stand-in
    (README, "Zoom attendance"): proportional credits in half hours, at least half of the webinar attended.
    Registration seeds that webinar only when ZOOM_API_BASE points at a stand-in, so without it there is
    no webinar to give rules to, and nothing is seeded here either."""
    if accreditation_service.get(session, organisation_id, ZOOM_WEBINAR) is not None:
        return
    try:
        registry.event(organisation_id, ZOOM_WEBINAR)
    except ApiError as refused:
        if refused.status == 404:
            return
        raise
    accreditation_service.put(session, organisation_id, organisation_name, ZOOM_WEBINAR, AccreditationInput().load({
        "body": "EACCME®", "credit_step": "0.5", "min_session_share": "0.5", "max_credits": "1",
        "statement": "This webinar is accredited with 1 European CME credit (ECMEC®).",
        "signatory": "Prof. Dr. Maria Huber"}))


def seed(session: Session, organisation_id: int, organisation_name: str) -> str:
    """What was done, in a sentence; nothing when the congress has its rules already."""
    _seed_zoom_webinar(session, organisation_id, organisation_name)
    if accreditation_service.get(session, organisation_id, CONFERENCE) is not None:
        return "kept"
    event, people = registry.attendees(organisation_id, CONFERENCE)
    accreditation_service.put(session, organisation_id, organisation_name, CONFERENCE, _rules(event))
    now = utcnow().replace(microsecond=0)
    for session_code, codes in CODES.items():
        for code in codes:
            insert_once(session, PresenceCode, {
                "organisation_id": organisation_id, "event_slug": CONFERENCE, "session_code": session_code,
                "code": presence.normalise(code), "valid_from": now, "valid_until": event.ends_at},
                key=("organisation_id", "event_slug", "code"))
    participant = next((p for p in people if p.email == PARTICIPANT_EMAIL), None)
    if participant is not None and session.scalar(select(AttendanceInterval.id).where(
            AttendanceInterval.organisation_id == organisation_id, AttendanceInterval.event_slug == CONFERENCE,
            AttendanceInterval.registration_id == participant.id).limit(1)) is None:
        session.add_all(AttendanceInterval(
            organisation_id=organisation_id, event_slug=CONFERENCE, registration_id=participant.id,
            email=participant.email, starts_at=s.starts_at, ends_at=s.ends_at, session_code=s.code,
            source="demo: seeded check-in") for s in event.sessions if s.code in ("D1-AM", "D1-PM"))
    return "seeded"
