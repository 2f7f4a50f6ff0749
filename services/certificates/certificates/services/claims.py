"""Claims: in a credit system that requires one, the participant claims up to what attendance supports.

The AMA designation ends "Physicians should claim only the credit commensurate with the extent of
their participation" (DOMAIN.md, "Claiming"): the page shows the most their attendance supports,
they claim that or less in the system's step and attest, and the certificate prints the claim. A
claim is taken until the system's ``claim_closes_at``; after a claim the person's certificate is
issued or re-issued at once, through the same ``issue_one`` and outbox as the issuing job, so the
same claim sent twice changes nothing and mails nobody twice.
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext, lazy_gettext
from sqlalchemy import update
from sqlalchemy.orm import Session

from suite_common.db import insert_once
from suite_common.i18n import format_number, format_when
from suite_common.outbox import OutboxRow, enqueue_many

from ..models import Accreditation, Claim, CreditSystem, Outbox
from . import accreditation as accreditation_service
from . import issuing, registry
from .credit_systems import Assessment, SystemOutcome
from .credits import format_decimal

# Shown in the page's language; the claim records the wording the participant ticked.
ATTESTATION = lazy_gettext("I claim only the credit commensurate with the extent of my participation in the activity.")
AMOUNT = re.compile(r"^-?[0-9]{1,6}(?:[.,][0-9]{1,4})?$")
MAX_CHOICES = 200  # a select beyond this many steps is a number input instead


@dataclass(frozen=True)
class ClaimOption:
    """One claim-required system as the participant's page shows it."""

    code: str
    name: str
    step: Decimal
    supported: Decimal
    claimed: Decimal | None
    closes_at: str | None  # in the event's time zone, as the page's language writes it
    closed: bool
    waiting_for: str | None  # why there is nothing to claim yet ("evaluation"), or None

    @property
    def choices(self) -> list[str]:
        """Every claimable amount from the most down to one step, or [] when there are too many for a select."""
        count = int(self.supported // self.step)
        if count > MAX_CHOICES:
            return []
        return [format_decimal(self.step * n) for n in range(count, 0, -1)]

    @property
    def field(self) -> str:
        return f"claim-{self.code}"

    @property
    def shown(self) -> dict[str, str]:
        """The numbers as printed: "2.5", never "2.50"."""
        return {"supported": format_decimal(self.supported), "step": format_decimal(self.step),
                "claimed": "" if self.claimed is None else format_decimal(self.claimed)}


def _closed(system: CreditSystem, now: dt.datetime) -> bool:
    return system.claim_closes_at is not None and now >= system.claim_closes_at


def _option(system: CreditSystem, outcome: SystemOutcome, timezone: str, now: dt.datetime) -> ClaimOption:
    result = outcome.result
    waiting = "evaluation" if result.blocked_by == "evaluation" else None
    closes = format_when(system.claim_closes_at, timezone) if system.claim_closes_at else None
    return ClaimOption(code=system.code, name=system.name, step=Decimal(system.credit_step),
                       supported=result.total if result.blocked_by in (None, "evaluation") else Decimal(0),
                       claimed=outcome.claimed, closes_at=closes, closed=_closed(system, now), waiting_for=waiting)


def _assessment(session: Session, accreditation: Accreditation, event: registry.EventInfo,
                registration_id: int) -> Assessment:
    evidence = issuing.gather(session, accreditation.organisation_id, accreditation.event_slug, event,
                              [registration_id])
    return issuing.assess(accreditation, event, evidence, registration_id)


def options(session: Session, organisation_id: int, slug: str, registration_id: int,
            now: dt.datetime) -> list[ClaimOption]:
    """The claim-required systems with what the person's attendance supports; [] when the event has none
    (then nothing else is read)."""
    accreditation = accreditation_service.get(session, organisation_id, slug)
    if accreditation is None or not any(s.claim_required for s in accreditation.credit_systems):
        return []
    event = registry.event(organisation_id, slug)
    assessed = {s.code: s for s in _assessment(session, accreditation, event, registration_id).systems}
    return [_option(system, assessed[system.code], event.timezone, now)
            for system in accreditation.credit_systems if system.claim_required]


def _amount(text: str, option: ClaimOption) -> tuple[Decimal | None, str | None]:
    """The claimed amount, or why it cannot be claimed."""
    typed = text.strip()
    if not AMOUNT.match(typed):  # plain digits only: no exponent, NaN or infinity reaches Decimal
        return None, gettext("Enter the credits you claim as a number, such as %(example)s.",
                             example=format_number(Decimal("2.5")))
    value = Decimal(typed.replace(",", "."))
    step = format_number(option.step)
    if value <= 0:
        return None, gettext("Claim at least %(step)s; to claim nothing, leave this form.", step=step)
    if value > option.supported:
        return None, gettext("Your attendance supports at most %(credits)s %(system)s; claim that or less.",
                             credits=format_number(option.supported), system=option.name)
    if value % option.step:
        below = (value // option.step) * option.step
        if not below:
            return None, gettext("Claim in steps of %(step)s.", step=step)
        return None, gettext("Claim in steps of %(step)s: %(below)s or %(above)s, for example.", step=step,
                             below=format_number(below),
                             above=format_number(below + option.step))
    return value, None


def submit(session: Session, organisation_id: int, slug: str, person: registry.Person, form: Mapping[str, str],
           now: dt.datetime) -> dict[str, list[str]]:
    """Records the claim of one system from the page's form (``system``, ``claim-<CODE>``,
    ``attest-<CODE>``) and issues or re-issues the person's certificate; answers the errors by field
    (nothing recorded then). The rules row is locked first, as the issuing job does, so a claim and a
    job never issue one person's certificate twice."""
    accreditation = accreditation_service.require(session, organisation_id, slug, lock=True)
    code = form.get("system", "")
    system = next((s for s in accreditation.credit_systems if s.code == code and s.claim_required), None)
    if system is None:
        return {"system": [gettext("This event takes no claim in that credit system.")]}
    field, attest = f"claim-{system.code}", f"attest-{system.code}"
    if _closed(system, now):
        return {field: [gettext("Claiming %(system)s closed; no claim is taken any more.", system=system.name)]}
    event = registry.event(organisation_id, slug)
    outcome = next(s for s in _assessment(session, accreditation, event, person.id).systems if s.code == code)
    option = _option(system, outcome, event.timezone, now)
    if option.waiting_for == "evaluation":
        return {field: [gettext("Complete the evaluation first: %(system)s are granted only after it.",
                                system=system.name)]}
    if option.supported == 0:
        return {field: [gettext("Your attendance supports no %(system)s, so there is nothing to claim.",
                                system=system.name)]}
    errors: dict[str, list[str]] = {}
    value, problem = _amount(form.get(field, ""), option)
    if problem:
        errors[field] = [problem]
    if form.get(attest) != "yes":
        errors[attest] = [gettext("Tick the attestation to claim: %(attestation)s", attestation=ATTESTATION)]
    if errors or value is None:
        return errors
    row, created = insert_once(session, Claim, {
        "organisation_id": organisation_id, "event_slug": slug, "registration_id": person.id,
        "system_code": system.code, "credits": value, "attestation": str(ATTESTATION), "claimed_at": now},
        key=("organisation_id", "event_slug", "registration_id", "system_code"), for_update=True)
    if not created and Decimal(row.credits) != value:
        session.execute(update(Claim).where(Claim.id == row.id).values(credits=value, claimed_at=now))
    _issue(session, accreditation, event, person, now)
    return {}


def _issue(session: Session, accreditation: Accreditation, event: registry.EventInfo, person: registry.Person,
           now: dt.datetime) -> None:
    """The person's certificate as the issuing job would write it now: new, re-issued, or unchanged. The
    evidence is read with column queries, so the claim just written is part of it."""
    result = _assessment(session, accreditation, event, person.id)
    mails: list[OutboxRow] = []
    issued = issuing.issued_by_registration(session, accreditation.organisation_id, accreditation.event_slug,
                                            [person.id])[person.id]
    issuing.issue_one(session, accreditation, event, person, result, now, issued, mails)
    enqueue_many(session, Outbox, mails)
    session.flush()
