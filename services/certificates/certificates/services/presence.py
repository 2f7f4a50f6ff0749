"""Presence checks: attendance codes announced live in a session, entered by participants within
the code's window, and polls answered during a session (Zoom's poll report).

EACCME counts a live webinar only when participation can be confirmed (DOMAIN.md, "Live webinars"):
join and leave times are not enough, so a credit system may ask for a number of presence checks per
session (``presence_codes_required``). A session's checks are its codes and the distinct polls seen
in it; each person's confirmations are counted per session and fed to ``compute_credits``.
"""
from __future__ import annotations

import datetime as dt
import re
import secrets
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from suite_common.db import insert_once
from suite_common.errors import ApiError, validation_error
from suite_common.i18n import format_when

from ..models import PresenceAttempt, PresenceCode, PresenceConfirmation
from . import registry

# No 0/O, 1/I/L, U: read out in a lecture hall or typed from a slide without doubt.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
GENERATED_LENGTH = 6
CODE_PATTERN = re.compile(r"^[A-Z0-9]{4,16}$")
MAX_WRONG_PER_DAY = 20  # wrong codes one person may enter on one day before entry stops until the next
CODE_KEY = "code:"
POLL_KEY = "poll:"


def normalise(text: str) -> str:
    """What people type: any case, spaces or dashes between groups."""
    return "".join(c for c in text.upper() if c.isalnum())[:32]


def generate() -> str:
    """About 29 random bits: one person's guesses are capped per day, and the page's link is secret."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(GENERATED_LENGTH))


def _session(event: registry.EventInfo, code: str) -> Any:
    found = next((s for s in event.sessions if s.code == code), None)
    if found is None:
        raise validation_error({"session": ["No such session in this event."]})
    return found


def _item(code: PresenceCode, entered: int) -> dict[str, Any]:
    return {"id": code.id, "session": code.session_code, "code": code.code, "valid_from": code.valid_from,
            "valid_until": code.valid_until, "entered": entered}


def create_code(session: Session, organisation_id: int, slug: str, data: dict[str, Any]) -> dict[str, Any]:
    """A code for one session, valid from ``valid_from`` to ``valid_until`` (default: the session's
    window); generated when not given. A code the event has already is refused (it names one session)."""
    event = registry.event(organisation_id, slug)
    programme = _session(event, data["session"])
    valid_from = data.get("valid_from") or programme.starts_at
    valid_until = data.get("valid_until") or programme.ends_at
    if valid_until <= valid_from:
        raise validation_error({"valid_until": ["The code must stay valid after valid_from."]})
    given = data.get("code")
    if given and not CODE_PATTERN.match(normalise(given)):
        raise validation_error({"code": ["4 to 16 letters and digits, please."]})
    for _attempt in range(5):
        code = normalise(given) if given else generate()
        row, created = insert_once(session, PresenceCode, {
            "organisation_id": organisation_id, "event_slug": slug, "session_code": programme.code, "code": code,
            "valid_from": valid_from, "valid_until": valid_until}, key=("organisation_id", "event_slug", "code"))
        if created:
            return _item(row, 0)
        if given:
            raise ApiError(409, "duplicate_code", f"The event has the code {code} already (session "
                                                  f"{row.session_code}); choose another.")
    raise ApiError(409, "duplicate_code", "No free code was found; try again.")


def list_codes(session: Session, organisation_id: int, slug: str) -> list[dict[str, Any]]:
    """The event's codes in the order of their windows, each with how many people entered it."""
    entered = dict(session.execute(
        select(PresenceConfirmation.check_key, func.count()).where(
            PresenceConfirmation.organisation_id == organisation_id, PresenceConfirmation.event_slug == slug,
            PresenceConfirmation.check_key.startswith(CODE_KEY)).group_by(PresenceConfirmation.check_key)).all())
    codes = session.scalars(select(PresenceCode).where(
        PresenceCode.organisation_id == organisation_id, PresenceCode.event_slug == slug)
        .order_by(PresenceCode.valid_from, PresenceCode.id))
    return [_item(c, entered.get(f"{CODE_KEY}{c.id}", 0)) for c in codes]


@dataclass(frozen=True)
class Counts:
    """Presence checks per session (codes and polls), and per person the ones they confirmed."""

    checks: dict[str, int]
    confirmed: dict[int, dict[str, int]]


def counts(session: Session, organisation_id: int, slug: str, registration_ids: list[int]) -> Counts:
    """In three grouped queries, whatever the number of people."""
    where = (PresenceConfirmation.organisation_id == organisation_id, PresenceConfirmation.event_slug == slug)
    checks: dict[str, int] = defaultdict(int)
    for code, number in session.execute(
            select(PresenceCode.session_code, func.count()).where(
                PresenceCode.organisation_id == organisation_id, PresenceCode.event_slug == slug)
            .group_by(PresenceCode.session_code)):
        checks[code] += number
    for code, number in session.execute(
            select(PresenceConfirmation.session_code, func.count(PresenceConfirmation.check_key.distinct()))
            .where(*where, PresenceConfirmation.check_key.startswith(POLL_KEY))
            .group_by(PresenceConfirmation.session_code)):
        checks[code] += number
    confirmed: dict[int, dict[str, int]] = defaultdict(dict)
    if registration_ids:
        for registration_id, code, number in session.execute(
                select(PresenceConfirmation.registration_id, PresenceConfirmation.session_code, func.count())
                .where(*where, PresenceConfirmation.registration_id.in_(registration_ids))
                .group_by(PresenceConfirmation.registration_id, PresenceConfirmation.session_code)):
            confirmed[registration_id][code] = number
    return Counts(dict(checks), dict(confirmed))


@dataclass(frozen=True)
class Entry:
    """The answer to a code typed on the participant's page: a message, and whether it was refused."""

    message: str
    refused: bool = False


def _wrong(session: Session, organisation_id: int, slug: str, registration_id: int, day: dt.date) -> None:
    """Counts one more wrong code of the day (in the database, so two requests at once both count)."""
    row, _created = insert_once(session, PresenceAttempt, {
        "organisation_id": organisation_id, "event_slug": slug, "registration_id": registration_id, "day": day,
        "wrong": 0}, key=("organisation_id", "event_slug", "registration_id", "day"))
    session.execute(update(PresenceAttempt).where(PresenceAttempt.id == row.id)
                    .values(wrong=PresenceAttempt.wrong + 1))


def enter_code(session: Session, organisation_id: int, slug: str, registration_id: int, typed: str,
               now: dt.datetime) -> Entry:
    """A code counts for its session when entered within its window (server time), once. Wrong, early and
    expired codes are refused with the reason, and count towards the day's cap of wrong codes."""
    event = registry.event(organisation_id, slug)
    day = now.astimezone(ZoneInfo(event.timezone)).date()
    attempts = session.scalar(select(PresenceAttempt.wrong).where(
        PresenceAttempt.organisation_id == organisation_id, PresenceAttempt.event_slug == slug,
        PresenceAttempt.registration_id == registration_id, PresenceAttempt.day == day)) or 0
    if attempts >= MAX_WRONG_PER_DAY:
        return Entry(gettext("You have entered %(count)s codes that were not right today, so no more codes are "
                             "taken from this page today. Please ask the organiser.", count=MAX_WRONG_PER_DAY),
                     refused=True)
    code = normalise(typed)
    if not CODE_PATTERN.match(code):
        return Entry(gettext("Enter the code announced in the session (letters and digits)."), refused=True)
    found = session.scalar(select(PresenceCode).where(
        PresenceCode.organisation_id == organisation_id, PresenceCode.event_slug == slug, PresenceCode.code == code))
    refusal = None
    if found is None:
        refusal = gettext("%(code)s is not a code of this event. Check it against the one announced and try again.",
                          code=code)
    elif now < found.valid_from:
        refusal = gettext("%(code)s is not valid yet: it counts from %(moment)s (%(timezone)s).", code=code,
                          moment=format_when(found.valid_from, event.timezone), timezone=event.timezone)
    elif now > found.valid_until:
        refusal = gettext("%(code)s expired at %(moment)s (%(timezone)s): a code counts only when entered while it "
                          "is valid.", code=code, moment=format_when(found.valid_until, event.timezone),
                          timezone=event.timezone)
    if refusal is not None:
        _wrong(session, organisation_id, slug, registration_id, day)
        return Entry(refusal, refused=True)
    title = next((s.title for s in event.sessions if s.code == found.session_code), found.session_code)
    _row, created = insert_once(session, PresenceConfirmation, {
        "organisation_id": organisation_id, "event_slug": slug, "registration_id": registration_id,
        "session_code": found.session_code, "check_key": f"{CODE_KEY}{found.id}", "source": f"code {code}",
        "confirmed_at": now}, key=("organisation_id", "event_slug", "registration_id", "check_key"))
    if not created:
        return Entry(gettext("You entered %(code)s already; it counts once for %(session)s.", code=code, session=title))
    return Entry(gettext("%(code)s counted for %(session_code)s %(session)s.", code=code,
                         session_code=found.session_code, session=title))


def participant_codes(session: Session, organisation_id: int, slug: str, registration_id: int) -> dict[str, int]:
    """Per session, the presence checks the person has confirmed (for their page)."""
    return counts(session, organisation_id, slug, [registration_id]).confirmed.get(registration_id, {})


def has_codes(session: Session, organisation_id: int, slug: str) -> bool:
    return session.scalar(select(PresenceCode.id).where(
        PresenceCode.organisation_id == organisation_id, PresenceCode.event_slug == slug).limit(1)) is not None
