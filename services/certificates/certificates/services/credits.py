"""Credits earned from confirmed attendance, as a pure function so every figure can be checked by hand.

The steps follow the accreditation practice described in DOMAIN.md: convert to UTC, clip
attendance to each session's window, drop the breaks, merge overlapping and touching intervals
(rejoins, a second device), round down to the event's credit step, cap per calendar day in the
event's time zone and then by the event's maximum. Decimal throughout: credits are printed on
certificates and must not drift the way floats do.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

CREDIT_MODES = ("proportional", "session")
_US_PER_MINUTE = 60_000_000
_US_PER_HOUR = 60 * _US_PER_MINUTE

Span = tuple[datetime, datetime]


def _require_decimal(name: str, value: object, minimum: Decimal | None = None, maximum: Decimal | None = None) -> None:
    """Only Decimal is accepted: a float would already have lost the value the organiser typed."""
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal, not {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, not {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, not {value}")


def _require_count(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be a whole number of at least 0, not {value!r}")


def _utc(moment: datetime, name: str) -> datetime:
    """A naive time could be in any zone; guessing would shift attendance by hours, so it is refused."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a time zone aware datetime, not {moment!r}")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class Rules:
    """An event's credit rules (the accreditation settings); caps of None mean no cap."""

    credit_mode: str = "proportional"
    min_session_share: Decimal = Decimal(0)
    credit_step: Decimal = Decimal("0.5")
    max_credits: Decimal | None = None
    max_credits_per_day: Decimal | None = None
    daily_caps: Mapping[date, Decimal] = field(default_factory=dict)
    evaluation_required: bool = False
    timezone: str = "UTC"
    # A session with presence codes counts only when the participant entered at least this many of
    # them (or all of them, when it has fewer); 0 means no presence rule.
    presence_codes_required: int = 0

    def __post_init__(self) -> None:
        if self.credit_mode not in CREDIT_MODES:
            raise ValueError(f"credit_mode must be one of {', '.join(CREDIT_MODES)}, not {self.credit_mode!r}")
        _require_decimal("min_session_share", self.min_session_share, Decimal(0), Decimal(1))
        _require_decimal("credit_step", self.credit_step)
        if self.credit_step <= 0:
            raise ValueError(f"credit_step must be positive, not {self.credit_step}")
        for name in ("max_credits", "max_credits_per_day"):
            if getattr(self, name) is not None:
                _require_decimal(name, getattr(self, name), Decimal(0))
        for day, cap in self.daily_caps.items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"daily_caps keys must be dates, not {day!r}")
            _require_decimal(f"daily_caps[{day.isoformat()}]", cap, Decimal(0))
        _require_count("presence_codes_required", self.presence_codes_required)
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {self.timezone!r}") from error

    def day_cap(self, day: date) -> Decimal | None:
        """A day listed in daily_caps overrides the general per-day cap."""
        return self.daily_caps.get(day, self.max_credits_per_day)


@dataclass(frozen=True)
class Session:
    """An accredited programme item; breaks are intervals inside it that never count."""

    code: str
    title: str
    starts_at: datetime
    ends_at: datetime
    credits: Decimal
    breaks: Sequence[Span] = ()
    # How many presence codes were announced in this session; a session without any (an in-person
    # session confirmed by badge scans) is outside every presence rule.
    presence_codes: int = 0

    def __post_init__(self) -> None:
        if _utc(self.ends_at, "ends_at") <= _utc(self.starts_at, "starts_at"):
            raise ValueError(f"session {self.code}: ends_at must be after starts_at")
        _require_decimal(f"session {self.code} credits", self.credits, Decimal(0))
        _require_count(f"session {self.code} presence_codes", self.presence_codes)
        merge_intervals(self.breaks)


@dataclass(frozen=True)
class Interval:
    """One confirmed stretch of presence. session_code None means it may count for any session
    (a webinar report); a check-in for one session names it so it cannot credit a parallel one."""

    start: datetime
    end: datetime
    source: str = ""
    session_code: str | None = None

    def __post_init__(self) -> None:
        if _utc(self.end, "end") < _utc(self.start, "start"):
            raise ValueError(f"interval from {self.source or 'unknown source'} ends before it starts")


@dataclass(frozen=True)
class SessionCredit:
    code: str
    title: str
    attended_minutes: int
    session_minutes: int
    share: Decimal
    counted: bool
    credits: Decimal
    reason: str
    sources: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "title": self.title, "attended_minutes": self.attended_minutes,
            "session_minutes": self.session_minutes, "share": format(self.share, "f"), "counted": self.counted,
            "credits": format_decimal(self.credits), "reason": self.reason, "sources": list(self.sources),
        }


@dataclass(frozen=True)
class DayCredit:
    date: date
    before_cap: Decimal
    cap: Decimal | None
    after_cap: Decimal

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(), "before_cap": format_decimal(self.before_cap),
            "cap": None if self.cap is None else format_decimal(self.cap), "after_cap": format_decimal(self.after_cap),
        }


@dataclass(frozen=True)
class CreditResult:
    """blocked_by is "no_credits" when nothing was earned, "evaluation" when only the evaluation is missing."""

    total: Decimal
    eligible: bool
    blocked_by: str | None
    sessions: list[SessionCredit]
    days: list[DayCredit]
    explanation: list[str]

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: Decimals as strings (never floats), dates in ISO 8601."""
        return {
            "total": format_decimal(self.total), "eligible": self.eligible, "blocked_by": self.blocked_by,
            "sessions": [session.to_dict() for session in self.sessions],
            "days": [day.to_dict() for day in self.days], "explanation": list(self.explanation),
        }


def format_decimal(value: Decimal) -> str:
    """Plain notation without trailing zeros ("1.5", "18"), as printed on a certificate."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def merge_intervals(spans: Iterable[Span]) -> list[Span]:
    """Sorted UTC spans where overlapping or touching ones are joined, so rejoins and a second
    device never count twice; empty spans are dropped."""
    ordered = []
    for start, end in spans:
        start, end = _utc(start, "start"), _utc(end, "end")
        if end < start:
            raise ValueError(f"interval ends before it starts: {start.isoformat()} to {end.isoformat()}")
        if end > start:
            ordered.append((start, end))
    ordered.sort()
    merged: list[Span] = []
    for start, end in ordered:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _subtract(spans: list[Span], holes: list[Span]) -> list[Span]:
    """Both inputs merged; the parts of spans not covered by holes."""
    result: list[Span] = []
    for start, end in spans:
        cursor = start
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= end:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = hole_end
        if cursor < end:
            result.append((cursor, end))
    return result


def _intersect(first: list[Span], second: list[Span]) -> list[Span]:
    """Both inputs merged; the parts covered by both."""
    result: list[Span] = []
    i = j = 0
    while i < len(first) and j < len(second):
        start, end = max(first[i][0], second[j][0]), min(first[i][1], second[j][1])
        if start < end:
            result.append((start, end))
        if first[i][1] < second[j][1]:
            i += 1
        else:
            j += 1
    return result


def _microseconds(spans: list[Span]) -> int:
    """Exact integer length, so threshold and rounding decisions never depend on division precision."""
    return sum((end - start) // timedelta(microseconds=1) for start, end in spans)


def _credits_text(value: Decimal) -> str:
    return f"{format_decimal(value)} credit{'' if value == 1 else 's'}"


def _percent(share: Decimal, required: Decimal, meets: bool) -> tuple[str, str]:
    """Shown with the precision of the requirement, and never rounded up onto a threshold that was missed."""
    required_percent = (required * 100).normalize()
    places = Decimal(1).scaleb(min(0, max(-2, int(required_percent.as_tuple().exponent))))
    shown = (share * 100).quantize(places, ROUND_HALF_UP)
    if not meets and shown >= required_percent:
        shown = (share * 100).quantize(places, ROUND_FLOOR)
    return format_decimal(shown), format_decimal(required_percent)


def _presence_missing(rules: Rules, session: Session, entered: int) -> str | None:
    """Why the session's presence rule is not met, in words; None when it is met or does not apply."""
    if rules.presence_codes_required == 0 or session.presence_codes == 0:
        return None
    required = min(rules.presence_codes_required, session.presence_codes)
    if entered >= required:
        return None
    return f"entered {entered} of its {session.presence_codes} presence codes, at least {required} required"


def _session_credit(rules: Rules, session: Session, intervals: Sequence[Interval],
                    codes_entered: int = 0) -> SessionCredit:
    window = _subtract([(_utc(session.starts_at, "starts_at"), _utc(session.ends_at, "ends_at"))],
                       merge_intervals(session.breaks))
    relevant = [interval for interval in intervals if interval.session_code in (None, session.code)]
    attended_spans = _intersect(merge_intervals((i.start, i.end) for i in relevant), window)
    sources = sorted({i.source for i in relevant if i.source and _intersect(merge_intervals([(i.start, i.end)]), window)})
    countable, attended = _microseconds(window), _microseconds(attended_spans)
    attended_minutes, session_minutes = attended // _US_PER_MINUTE, countable // _US_PER_MINUTE
    zero = Decimal(0)
    if countable == 0:
        return SessionCredit(session.code, session.title, 0, 0, zero.quantize(Decimal("0.0001")), False, zero,
                             "breaks cover the whole session: no countable time, no credits", sources)
    share = Decimal(attended) / Decimal(countable)
    meets = attended > 0 and attended >= rules.min_session_share * countable
    shown, required = _percent(share, rules.min_session_share, meets)
    if attended == 0:
        reason = f"no attendance recorded in its {session_minutes} min: no credits"
    else:
        reason = f"attended {attended_minutes} of {session_minutes} min ({shown}%)"
        if rules.min_session_share > 0:
            reason += f", at least {required}% required" if meets else f", below the required {required}%"
    credits = zero
    missing = _presence_missing(rules, session, codes_entered) if meets else None
    if missing:
        meets = False
        reason += f", but {missing}: no credits"
    elif attended and not meets:
        reason += ": no credits"
    elif meets and rules.credit_mode == "session":
        credits = session.credits
        reason += f": {_credits_text(credits)} (session mode: the session's full credits)"
    elif meets:
        earned = (Decimal(attended) // (rules.credit_step * _US_PER_HOUR)) * rules.credit_step
        credits = min(earned, session.credits)
        hours = format_decimal((Decimal(attended) / _US_PER_HOUR).quantize(Decimal("0.01"), ROUND_DOWN))
        detail = f"proportional: {hours} h rounded down to a multiple of {format_decimal(rules.credit_step)}"
        if earned > session.credits:
            detail += f" is {format_decimal(earned)}, capped at the session's {_credits_text(session.credits)}"
        reason += f": {_credits_text(credits)} ({detail})"
    return SessionCredit(session.code, session.title, attended_minutes, session_minutes,
                         share.quantize(Decimal("0.0001"), ROUND_HALF_UP), meets, credits, reason, sources)


def compute_credits(rules: Rules, sessions: Sequence[Session], intervals: Sequence[Interval],
                    evaluation_completed: bool, codes_entered: Mapping[str, int] | None = None) -> CreditResult:
    """Credits of one participant from their confirmed attendance intervals (all sessions at once,
    because the day and event caps apply to the sum). ``codes_entered`` counts, per session code,
    the presence codes the participant entered (see ``Rules.presence_codes_required``)."""
    zone = ZoneInfo(rules.timezone)
    step = rules.credit_step
    entered = dict(codes_entered or {})
    for code, count in entered.items():
        _require_count(f"codes entered for session {code}", count)
    session_credits = [_session_credit(rules, session, intervals, entered.get(session.code, 0))
                       for session in sessions]
    explanation = [f"{credit.code} {credit.title}: {credit.reason}" for credit in session_credits]

    per_day: dict[date, Decimal] = {}
    for session, credit in zip(sessions, session_credits, strict=True):
        day = _utc(session.starts_at, "starts_at").astimezone(zone).date()
        per_day[day] = per_day.get(day, Decimal(0)) + credit.credits
    days = []
    for day in sorted(per_day):
        before, cap = per_day[day], rules.day_cap(day)
        after = before if cap is None else min(before, cap)
        days.append(DayCredit(day, before, cap, after))
        if cap is not None and after < before:
            explanation.append(f"{day.isoformat()}: {_credits_text(before)} capped at the day's maximum of "
                               f"{format_decimal(cap)}: {_credits_text(after)}")
        elif len(per_day) > 1 or cap is not None:
            limit = "no day maximum" if cap is None else f"day maximum {format_decimal(cap)}"
            explanation.append(f"{day.isoformat()}: {_credits_text(before)} ({limit})")

    total = sum((day.after_cap for day in days), Decimal(0))
    if rules.max_credits is not None and total > rules.max_credits:
        explanation.append(f"{_credits_text(total)} capped at the event's maximum of {format_decimal(rules.max_credits)}")
        total = rules.max_credits
    rounded = (total // step) * step
    if rounded != total:
        explanation.append(f"{format_decimal(total)} rounded down to a multiple of {format_decimal(step)}: "
                           f"{format_decimal(rounded)}")
    total = rounded

    blocked_by = None
    if total == 0:
        blocked_by = "no_credits"
        explanation.append("No credits earned: no certificate.")
    else:
        explanation.append(f"Total: {_credits_text(total)}.")
    if rules.evaluation_required:
        if evaluation_completed:
            explanation.append("Evaluation required: completed.")
        else:
            blocked_by = blocked_by or "evaluation"
            explanation.append("Evaluation required but not completed: no certificate until it is.")
    return CreditResult(total, blocked_by is None, blocked_by, session_credits, days, explanation)
