"""An event's credit systems: storing them, and credits per system from one attendance.

One attendance record, several systems (DOMAIN.md, "Accreditation in depth"): each system takes the
sessions that carry credits in it and runs the same pure ``compute_credits`` with its own rules.
What a certificate prints follows from that: a system is printed when it has credits and its
evaluation gate is passed, and, when it requires a claim, the participant has claimed more than
nothing: it then prints the claim (never more than attendance supports). What attendance supports
in a claim-required system is listed either way. A certificate is issued when at least one system
is printed.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..models import Accreditation, CreditSystem
from .credits import CreditResult, Interval, Rules, compute_credits, format_decimal
from .credits import Session as CreditSession

# The code of the one system today's single-system body defines (and that the migration gave the
# rules of existing events): a session's plain ``credits`` are in the first system, whatever its code.
DEFAULT_CODE = "CME"
# The top-level rules of the single-system body; with ``credit_systems`` they belong in each system.
SINGLE_SYSTEM_FIELDS = frozenset({"body", "credit_unit", "statement", "max_credits", "credit_step", "credit_mode",
                                  "min_session_share", "max_credits_per_day", "daily_caps", "evaluation_required"})
RULE_FIELDS = ("name", "body", "statement", "credit_step", "credit_mode", "min_session_share", "max_credits",
               "max_credits_per_day", "daily_caps", "evaluation_required", "claim_required",
               "presence_codes_required", "claim_closes_at", "identifiers")


def systems_from(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The systems of a loaded accreditation body: ``credit_systems`` as given, or the single-system
    body's top-level rules as the one system ``DEFAULT_CODE``, named by its ``credit_unit``."""
    if "credit_systems" in data:
        return list(data["credit_systems"])
    return [{"code": DEFAULT_CODE, "name": data["credit_unit"], "body": data["body"], "statement": data["statement"],
             "credit_step": data["credit_step"], "credit_mode": data["credit_mode"],
             "min_session_share": data["min_session_share"], "max_credits": data["max_credits"],
             "max_credits_per_day": data["max_credits_per_day"], "daily_caps": data["daily_caps"],
             "evaluation_required": data["evaluation_required"], "claim_required": False,
             "presence_codes_required": 0, "claim_closes_at": None, "identifiers": []}]


def _stored(name: str, value: Any) -> Any:
    if name == "daily_caps":
        return {day.isoformat(): str(cap) for day, cap in value.items()}
    if name in ("credit_step", "min_session_share", "max_credits", "max_credits_per_day"):
        return None if value is None else Decimal(value)
    return value


def replace(accreditation: Accreditation, systems: Sequence[dict[str, Any]]) -> None:
    """The event's systems become ``systems``, in order. A system whose code stays is updated in place
    (its row and id kept), so the unique code never meets itself mid-flush."""
    existing = {system.code: system for system in accreditation.credit_systems}
    rows = []
    for position, given in enumerate(systems):
        row = existing.get(given["code"]) or CreditSystem(code=given["code"])
        row.position = position
        for name in RULE_FIELDS:
            setattr(row, name, _stored(name, given[name]))
        rows.append(row)
    accreditation.credit_systems = rows


def rules(system: CreditSystem, timezone: str) -> Rules:
    def decimal_or_none(value: Any) -> Decimal | None:
        return None if value is None else Decimal(value)

    return Rules(
        credit_mode=system.credit_mode, min_session_share=Decimal(system.min_session_share),
        credit_step=Decimal(system.credit_step), max_credits=decimal_or_none(system.max_credits),
        max_credits_per_day=decimal_or_none(system.max_credits_per_day),
        daily_caps={dt.date.fromisoformat(day): Decimal(cap) for day, cap in system.daily_caps.items()},
        evaluation_required=system.evaluation_required, timezone=timezone,
        presence_codes_required=system.presence_codes_required,
    )


def sessions_in(sessions: Sequence[CreditSession], by_system: Mapping[str, Mapping[str, Decimal]],
                code: str, first: bool) -> list[CreditSession]:
    """The sessions that carry credits in system ``code``, with those credits. A session given credits
    by system (``by_system``, keyed by session code) is in the systems it names; a session given a plain
    decimal is in the first system only."""
    found = []
    for session in sessions:
        if session.code in by_system:
            if code in by_system[session.code]:
                found.append(CreditSession(code=session.code, title=session.title, starts_at=session.starts_at,
                                           ends_at=session.ends_at, credits=by_system[session.code][code],
                                           breaks=session.breaks, presence_codes=session.presence_codes))
        elif first:
            found.append(session)
    return found


@dataclass(frozen=True)
class SystemOutcome:
    code: str
    name: str
    body: str
    statement: str
    claim_required: bool
    result: CreditResult
    claimed: Decimal | None = None  # the participant's claim, in a system that requires one
    # What the presence rule found missing, in words: a session attended without enough codes entered.
    presence_missing: tuple[str, ...] = ()

    @property
    def printed(self) -> bool:
        """Credits and the evaluation gate passed; where a claim is required, a claim above nothing
        (unclaimed is not printed)."""
        if not self.result.eligible:
            return False
        return not self.claim_required or (self.claimed is not None and self.claimed > 0)

    @property
    def certified(self) -> Decimal:
        """The credits printed: the claim where one is required, but never more than attendance supports
        (a claim made before the organiser corrected attendance)."""
        if not self.printed:
            return Decimal(0)
        return min(self.claimed or Decimal(0), self.result.total) if self.claim_required else self.result.total

    def to_dict(self) -> dict[str, Any]:
        claimed = None if self.claimed is None else format_decimal(self.claimed)
        return {"code": self.code, "name": self.name, "claim_required": self.claim_required,
                "printed": self.printed, "claimed": claimed, "presence_missing": list(self.presence_missing),
                **self.result.to_dict()}


@dataclass(frozen=True)
class Assessment:
    """One person's credits in every system of the event, the first system first."""

    systems: list[SystemOutcome]

    @property
    def first(self) -> SystemOutcome:
        return self.systems[0]

    @property
    def eligible(self) -> bool:
        """A certificate is issued when at least one system is printed."""
        return any(system.printed for system in self.systems)

    @property
    def printed(self) -> list[SystemOutcome]:
        return [system for system in self.systems if system.printed]

    @property
    def credits_by_system(self) -> dict[str, str]:
        return {system.code: format_decimal(system.certified) for system in self.printed}

    @property
    def supported_by_system(self) -> dict[str, str]:
        """What attendance supports in each system that requires a claim: the most one may claim."""
        return {system.code: format_decimal(system.result.total) for system in self.systems if system.claim_required}

    def to_dict(self) -> dict[str, Any]:
        """The first system's result at the top level, as before several systems, then every system."""
        first = self.first.result.to_dict()
        missing = [line for system in self.systems for line in system.presence_missing]
        return {**first, "explanation": first["explanation"] + missing, "certificate": self.eligible,
                "credits_by_system": self.credits_by_system, "supported_by_system": self.supported_by_system,
                "systems": [system.to_dict() for system in self.systems]}


def assess(systems: Sequence[CreditSystem], timezone: str, sessions: Sequence[CreditSession],
           by_system: Mapping[str, Mapping[str, Decimal]], intervals: Sequence[Interval], evaluated: bool,
           codes_entered: Mapping[str, int] | None = None,
           claims: Mapping[str, Decimal] | None = None) -> Assessment:
    """Each system's credits from the same attendance, with its own sessions and rules; ``claims`` are
    the person's claims by system code (read only for systems that require one)."""
    claimed, entered = claims or {}, codes_entered or {}
    outcomes = []
    for index, system in enumerate(systems):
        own = sessions_in(sessions, by_system, system.code, index == 0)
        result = compute_credits(rules(system, timezone), own, intervals, evaluated, entered)
        outcomes.append(SystemOutcome(system.code, system.name, system.body, system.statement, system.claim_required,
                                      result, claimed.get(system.code) if system.claim_required else None,
                                      _presence_missing(system, own, result, entered)))
    return Assessment(outcomes)


def _presence_missing(system: CreditSystem, sessions: Sequence[CreditSession], result: CreditResult,
                      entered: Mapping[str, int]) -> tuple[str, ...]:
    """"2 of 3 presence codes entered for D1-AM, 3 required: no credits in NVVTG", for each session
    attended in this system whose presence rule was not met."""
    required_rule = system.presence_codes_required
    lines = []
    for session, credit in zip(sessions, result.sessions, strict=True):
        required = min(required_rule, session.presence_codes)
        count = entered.get(session.code, 0)
        if required and credit.attended_minutes and count < required:
            lines.append(f"{count} of {session.presence_codes} presence codes entered for {session.code}, "
                         f"{required} required: no credits in {system.code}")
    return tuple(lines)
