"""Claims and presence codes computed by hand: a claim at, under and over what attendance supports,
off the step, and what the certificate prints; presence codes entered inside and outside their
window, once, wrong ones capped per day, and the presence rule's effect and explanation."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal as D
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from certificates.models import Base, CreditSystem, PresenceCode
from certificates.services import claims, credit_systems, presence, registry
from certificates.services.credits import Interval
from certificates.services.credits import Session as CreditSession
from suite_common.db import make_engine

TZ = ZoneInfo("Europe/Vienna")
DAY = dt.date(2027, 3, 10)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=TZ)


def system(code: str, **rules: Any) -> CreditSystem:
    values = {"name": f"{code} points", "body": code, "statement": f"{code} statement.", "credit_step": D("1"),
              "credit_mode": "session", "min_session_share": D("0.5"), "max_credits": None,
              "max_credits_per_day": None, "daily_caps": {}, "evaluation_required": False, "claim_required": False,
              "presence_codes_required": 0, **rules}
    return CreditSystem(code=code, **values)


# AM 09:00-12:00 and PM 14:00-17:00, 3 credits each in both systems; attended whole.
SESSIONS = [CreditSession("AM", "Cardiac CT", at(9), at(12), D(3), presence_codes=2),
            CreditSession("PM", "Photon counting", at(14), at(17), D(3), presence_codes=3)]
BY_SYSTEM = {"AM": {"ECMEC": D(3), "NVVTG": D(3)}, "PM": {"ECMEC": D(3), "NVVTG": D(3)}}
ATTENDANCE = [Interval(at(9), at(12), "scan", "AM"), Interval(at(14), at(17), "scan", "PM")]
ECMEC = system("ECMEC", credit_mode="proportional", credit_step=D("0.5"))
NVVTG = system("NVVTG", claim_required=True, presence_codes_required=2)


def assess(entered: dict[str, int], claimed: dict[str, D] | None = None) -> credit_systems.Assessment:
    return credit_systems.assess([ECMEC, NVVTG], "Europe/Vienna", SESSIONS, BY_SYSTEM, ATTENDANCE, True, entered,
                                 claimed)


def test_the_presence_rule_per_session_and_what_was_missing() -> None:
    # AM: 2 of 2 codes -> its 3; PM: 1 of 3, at least 2 required -> nothing. ECMEC has no presence rule: 6.
    result = assess({"AM": 2, "PM": 1})
    assert [(s.code, s.result.total) for s in result.systems] == [("ECMEC", D(6)), ("NVVTG", D(3))]
    assert result.systems[1].presence_missing == (
        "1 of 3 presence codes entered for PM, 2 required: no credits in NVVTG",)
    assert "1 of 3 presence codes entered for PM, 2 required: no credits in NVVTG" in result.to_dict()["explanation"]
    assert assess({"AM": 2, "PM": 2}).systems[1].result.total == D(6)
    assert assess({}).systems[1].result.total == D(0)


@pytest.mark.parametrize(("claim", "printed", "credits_by_system"), [
    (None, False, {"ECMEC": "6"}),                     # unclaimed: not printed
    (D(3), True, {"ECMEC": "6", "NVVTG": "3"}),        # at what is supported
    (D(2), True, {"ECMEC": "6", "NVVTG": "2"}),        # under it
    (D(5), True, {"ECMEC": "6", "NVVTG": "3"}),        # over it (attendance corrected since): at most supported
])
def test_what_a_claim_prints(claim: D | None, printed: bool, credits_by_system: dict[str, str]) -> None:
    result = assess({"AM": 2, "PM": 1}, {"NVVTG": claim} if claim is not None else {})
    assert result.systems[1].printed is printed
    assert result.credits_by_system == credits_by_system
    assert result.supported_by_system == {"NVVTG": "3"}
    assert result.systems[0].claimed is None  # a system without a claim ignores one


OPTION = claims.ClaimOption(code="NVVTG", name="NVvTG punten", step=D("0.5"), supported=D(3), claimed=None,
                            closes_at=None, closed=False, waiting_for=None)


@pytest.mark.parametrize(("typed", "amount", "problem"), [
    ("3", D(3), None),
    ("2.5", D("2.5"), None),
    ("2,5", D("2.5"), None),
    ("0.5", D("0.5"), None),
    ("3.5", None, "Your attendance supports at most 3 NVvTG punten; claim that or less."),
    ("2.25", None, "Claim in steps of 0.5: 2 or 2.5, for example."),
    ("0", None, "Claim at least 0.5; to claim nothing, leave this form."),
    ("-1", None, "Claim at least 0.5; to claim nothing, leave this form."),
    ("NaN", None, "Enter the credits you claim as a number, such as 2.5."),
    ("three", None, "Enter the credits you claim as a number, such as 2.5."),
    ("1e999999", None, "Enter the credits you claim as a number, such as 2.5."),
])
def test_a_claim_at_under_and_over_what_is_supported(typed: str, amount: D | None, problem: str | None) -> None:
    assert claims._amount(typed, OPTION) == (amount, problem)


def test_the_claim_choices_go_down_from_the_most_supported() -> None:
    assert OPTION.choices == ["3", "2.5", "2", "1.5", "1", "0.5"]
    assert OPTION.shown == {"supported": "3", "step": "0.5", "claimed": ""}


# Presence codes against a database ------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path / 'certificates.db'}")
    Base.metadata.create_all(engine)
    event = registry.EventInfo(slug="day", title="Imaging Day", kind="conference", starts_at=at(8), ends_at=at(18),
                               timezone="Europe/Vienna", venue=None, sessions=list(SESSIONS))
    monkeypatch.setattr(registry, "event", lambda _organisation_id, _slug: event)
    with Session(engine) as session:
        yield session
    engine.dispose()


def test_a_code_counts_inside_its_window_once_and_for_its_session(db: Session) -> None:
    made = presence.create_code(db, 1, "day", {"session": "AM", "code": "heart-27"})
    assert (made["code"], made["valid_from"], made["valid_until"]) == ("HEART27", at(9), at(12))  # the session's
    presence.create_code(db, 1, "day", {"session": "PM", "code": "LIVE01", "valid_from": at(15),
                                        "valid_until": at(15, 10)})

    assert presence.enter_code(db, 1, "day", 7, "heart 27", at(8, 59)).message.startswith(
        "HEART27 is not valid yet: it counts from Wed, Mar 10, 2027, 9:00\u202fAM (Europe/Vienna).")  # CLDR's en
    assert presence.enter_code(db, 1, "day", 7, "HEART27", at(9)) == presence.Entry("HEART27 counted for AM Cardiac CT.")
    assert presence.enter_code(db, 1, "day", 7, "heart27", at(11)).message == (
        "You entered HEART27 already; it counts once for Cardiac CT.")
    late = presence.enter_code(db, 1, "day", 7, "LIVE01", at(15, 10, ) + dt.timedelta(seconds=1))
    assert late.refused and late.message.startswith("LIVE01 expired at Wed, Mar 10, 2027, 3:10\u202fPM (Europe/Vienna)")
    assert not presence.enter_code(db, 1, "day", 7, "LIVE01", at(15, 10)).refused  # the window's last moment
    assert presence.enter_code(db, 1, "day", 8, "HEART27", at(12, 1)).refused  # another person, too late

    counted = presence.counts(db, 1, "day", [7, 8])
    assert counted.checks == {"AM": 1, "PM": 1}
    assert counted.confirmed == {7: {"AM": 1, "PM": 1}}
    assert presence.counts(db, 2, "day", [7]).confirmed == {}  # another organisation's event


def test_wrong_codes_are_capped_per_person_and_day(db: Session) -> None:
    presence.create_code(db, 1, "day", {"session": "AM", "code": "RIGHT1"})
    for n in range(presence.MAX_WRONG_PER_DAY):
        assert presence.enter_code(db, 1, "day", 7, f"WRONG{n:02d}", at(10)).refused
    stopped = presence.enter_code(db, 1, "day", 7, "RIGHT1", at(10))
    assert stopped.refused and "no more codes are taken from this page today" in stopped.message
    assert not presence.enter_code(db, 1, "day", 8, "RIGHT1", at(10)).refused  # someone else is not stopped
    assert db.query(PresenceCode).count() == 1


def test_codes_refused_when_given_twice_or_with_a_window_backwards(db: Session) -> None:
    presence.create_code(db, 1, "day", {"session": "AM", "code": "ABCD"})
    with pytest.raises(Exception, match="duplicate_code|has the code ABCD"):
        presence.create_code(db, 1, "day", {"session": "PM", "code": "ab-cd"})
    with pytest.raises(Exception, match="Some fields"):
        presence.create_code(db, 1, "day", {"session": "AM", "valid_from": at(10), "valid_until": at(9)})
    with pytest.raises(Exception, match="Some fields"):
        presence.create_code(db, 1, "day", {"session": "XX"})
    generated = presence.create_code(db, 1, "day", {"session": "AM"})["code"]
    assert len(generated) == 6 and set(generated) <= set(presence.CODE_ALPHABET)
