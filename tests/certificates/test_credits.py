"""Credit computation against hand-computed cases, then properties that must hold for any input."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from random import Random
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from certificates.services.credits import (
    CreditResult,
    Interval,
    Rules,
    Session,
    compute_credits,
    format_decimal,
    merge_intervals,
)

D = Decimal
VIENNA = ZoneInfo("Europe/Vienna")


def at(hour: int, minute: int = 0, second: int = 0, day: int = 5) -> datetime:
    """A UTC moment on a March 2026 day (winter time: Vienna is UTC+1)."""
    return datetime(2026, 3, day, hour, minute, second, tzinfo=UTC)


def session(code: str = "S1", start: datetime | None = None, minutes: int = 60, credits: str = "1",
            breaks: tuple[tuple[datetime, datetime], ...] = ()) -> Session:
    start = start or at(9)
    return Session(code, f"Session {code}", start, start + timedelta(minutes=minutes), D(credits), breaks)


def attended(start: datetime, end: datetime, source: str = "zoom-report:abc") -> Interval:
    return Interval(start, end, source)


def compute(sessions: list[Session], intervals: list[Interval], evaluation_completed: bool = True,
            **rules: object) -> CreditResult:
    return compute_credits(Rules(**rules), sessions, intervals, evaluation_completed)  # type: ignore[arg-type]


# --- attendance time -----------------------------------------------------------------------

def test_rejoins_three_rows_for_one_person_are_summed() -> None:
    rows = [attended(at(9, 0), at(9, 20)), attended(at(9, 25), at(9, 40)), attended(at(9, 45), at(10, 0))]
    result = compute([session()], rows)
    assert result.sessions[0].attended_minutes == 50  # 20 + 15 + 15
    assert result.total == D("0.5")  # 50 min = 0.83 h, down to 0.5
    assert compute([session()], rows, credit_step=D("0.25")).total == D("0.75")


def test_overlapping_rows_from_two_devices_count_once() -> None:
    laptop, phone = attended(at(9, 0), at(9, 45)), attended(at(9, 30), at(10, 0))
    result = compute([session()], [laptop, phone])
    assert result.sessions[0].attended_minutes == 60  # not 45 + 30 = 75
    assert result.total == D("1")


def test_touching_rows_merge_into_one() -> None:
    assert merge_intervals([(at(9, 30), at(10)), (at(9), at(9, 30))]) == [(at(9), at(10))]
    result = compute([session()], [attended(at(9), at(9, 30)), attended(at(9, 30), at(10))])
    assert result.sessions[0].attended_minutes == 60


def test_time_before_the_start_and_after_the_end_is_not_counted() -> None:
    result = compute([session(credits="3")], [attended(at(8), at(11))])
    assert result.sessions[0].attended_minutes == 60
    assert result.total == D("1")


def test_attendance_entirely_outside_the_window_earns_nothing() -> None:
    result = compute([session()], [attended(at(7), at(9)), attended(at(10), at(12))])
    assert result.sessions[0].attended_minutes == 0
    assert result.sessions[0].reason == "no attendance recorded in its 60 min: no credits"
    assert result.total == 0


def test_breaks_are_subtracted_from_attendance_and_from_the_session_length() -> None:
    two_hours_with_coffee = session(minutes=120, credits="2", breaks=((at(10), at(10, 30)),))
    result = compute([two_hours_with_coffee], [attended(at(9), at(11))])
    credit = result.sessions[0]
    assert (credit.attended_minutes, credit.session_minutes, credit.share) == (90, 90, D("1.0000"))
    assert result.total == D("1.5")


def test_attendance_only_during_the_break_earns_nothing() -> None:
    with_break = session(minutes=120, credits="2", breaks=((at(10), at(10, 30)),))
    result = compute([with_break], [attended(at(10), at(10, 30))])
    assert result.sessions[0].attended_minutes == 0
    assert result.total == 0


def test_break_share_is_computed_against_the_session_without_breaks() -> None:
    # 120 min minus a 30 min break = 90 countable; 45 min attended is exactly 50 %.
    with_break = session(minutes=120, credits="2", breaks=((at(10), at(10, 30)),))
    result = compute([with_break], [attended(at(9, 15), at(10, 0))], min_session_share=D("0.5"))
    assert result.sessions[0].share == D("0.5000")
    assert result.sessions[0].counted
    assert result.total == D("0.5")


def test_breaks_covering_the_whole_session_leave_nothing_to_count() -> None:
    all_break = session(breaks=((at(8), at(11)),))
    result = compute([all_break], [attended(at(9), at(10))])
    assert result.sessions[0].session_minutes == 0
    assert not result.sessions[0].counted
    assert result.total == 0


# --- minimum share -------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["proportional", "session"])
def test_exactly_at_the_min_session_share_counts(mode: str) -> None:
    result = compute([session()], [attended(at(9), at(9, 30))], credit_mode=mode, min_session_share=D("0.5"))
    assert result.sessions[0].counted
    assert result.sessions[0].share == D("0.5000")
    assert result.total == (D("0.5") if mode == "proportional" else D("1"))


@pytest.mark.parametrize("mode", ["proportional", "session"])
def test_one_second_below_the_min_session_share_does_not_count(mode: str) -> None:
    result = compute([session()], [attended(at(9), at(9, 29, 59))], credit_mode=mode, min_session_share=D("0.5"))
    credit = result.sessions[0]
    assert not credit.counted
    assert credit.credits == 0
    # 49.97 % must not be shown rounded up to the threshold it missed
    assert credit.reason == "attended 29 of 60 min (49%), below the required 50%: no credits"
    assert result.total == 0


def test_reason_sentences_name_minutes_share_and_rule() -> None:
    counted = compute([session()], [attended(at(9), at(9, 52))], min_session_share=D("0.5")).sessions[0]
    assert counted.reason == ("attended 52 of 60 min (87%), at least 50% required: 0.5 credits "
                              "(proportional: 0.86 h rounded down to a multiple of 0.5)")
    below = compute([session(minutes=90)], [attended(at(9), at(9, 20))], min_session_share=D("0.5")).sessions[0]
    assert below.reason == "attended 20 of 90 min (22%), below the required 50%: no credits"
    assert below.share == D("0.2222")


def test_a_fractional_requirement_is_shown_with_its_precision() -> None:
    # 85.5 % of 120 min = 102.6 min; 102 min is 85 % and must not read as meeting 85.5 %
    credit = compute([session(minutes=120, credits="2")], [attended(at(9), at(10, 42))],
                     min_session_share=D("0.855")).sessions[0]
    assert credit.reason == "attended 102 of 120 min (85%), below the required 85.5%: no credits"


def test_proportional_with_no_minimum_counts_any_attendance_rounded_down() -> None:
    result = compute([session()], [attended(at(9), at(9, 10))])
    assert result.sessions[0].counted
    assert result.sessions[0].credits == 0  # 10 min is below one step of 0.5
    assert not result.eligible


# --- rounding ------------------------------------------------------------------------------

@pytest.mark.parametrize(("minutes", "step", "expected"), [
    (29, "0.5", "0"),       # 0.48 h
    (30, "0.5", "0.5"),
    (44, "0.5", "0.5"),     # 0.73 h -> floor(1.47) * 0.5
    (44, "0.25", "0.5"),    # 0.73 h -> floor(2.93) * 0.25
    (45, "0.25", "0.75"),
    (59, "0.5", "0.5"),
    (60, "0.5", "1"),
    (14, "0.25", "0"),
    (15, "0.25", "0.25"),
    (89, "1", "1"),
])
def test_proportional_credits_round_down_to_the_step(minutes: int, step: str, expected: str) -> None:
    result = compute([session(minutes=120, credits="2")], [attended(at(9), at(9) + timedelta(minutes=minutes))],
                     credit_step=D(step))
    assert result.sessions[0].credits == D(expected)
    assert result.total == D(expected)


def test_the_sessions_own_credits_cap_proportional_credit() -> None:
    # A two-hour item accredited for 1 credit: two hours attended still earn 1.
    result = compute([session(minutes=120, credits="1")], [attended(at(9), at(11))])
    credit = result.sessions[0]
    assert credit.credits == D("1")
    assert "is 2, capped at the session's 1 credit" in credit.reason


def test_the_total_is_rounded_down_to_the_step_at_the_end() -> None:
    # Session mode grants 0.75, which is not a multiple of the event's step 0.5.
    result = compute([session(credits="0.75")], [attended(at(9), at(10))], credit_mode="session")
    assert result.sessions[0].credits == D("0.75")
    assert result.total == D("0.5")
    assert "0.75 rounded down to a multiple of 0.5: 0.5" in result.explanation


def test_a_max_that_is_not_a_multiple_of_the_step_rounds_down() -> None:
    result = compute([session(minutes=240, credits="4")], [attended(at(9), at(13))], max_credits=D("2.7"))
    assert result.total == D("2.5")


# --- session mode --------------------------------------------------------------------------

def test_session_mode_is_all_or_nothing() -> None:
    ninety = session(minutes=90, credits="1.5")
    rules = {"credit_mode": "session", "min_session_share": D("0.8")}
    assert compute([ninety], [attended(at(9), at(10, 12))], **rules).total == D("1.5")  # 72 of 90 = 80 %
    assert compute([ninety], [attended(at(9), at(10, 11))], **rules).total == 0  # 71 of 90
    assert compute([ninety], [attended(at(9), at(10, 30))], **rules).total == D("1.5")


def test_session_mode_without_a_minimum_needs_some_attendance() -> None:
    assert compute([session()], [attended(at(9), at(9, 1))], credit_mode="session").total == D("1")
    nothing = compute([session()], [], credit_mode="session")
    assert nothing.total == 0
    assert not nothing.sessions[0].counted


# --- days and the event maximum ------------------------------------------------------------

def congress() -> list[Session]:
    """Three days, each with two accredited four-hour blocks of 4 credits (09-13 and 13-17 Vienna)."""
    return [session(f"D{day}{half}", at(8 + 4 * half, day=day), minutes=240, credits="4")
            for day in (10, 11, 12) for half in (0, 1)]


def full_days() -> list[Interval]:
    return [attended(at(8, day=day), at(16, day=day)) for day in (10, 11, 12)]


def test_multi_day_congress_is_capped_per_day() -> None:
    result = compute(congress(), full_days(), max_credits_per_day=D("6"), timezone="Europe/Vienna")
    assert [(d.date, d.before_cap, d.cap, d.after_cap) for d in result.days] == [
        (date(2026, 3, day), D("8"), D("6"), D("6")) for day in (10, 11, 12)]
    assert result.total == D("18")
    assert "2026-03-10: 8 credits capped at the day's maximum of 6: 6 credits" in result.explanation


def test_multi_day_congress_is_then_capped_by_the_event_maximum() -> None:
    result = compute(congress(), full_days(), max_credits_per_day=D("6"), max_credits=D("15"),
                     timezone="Europe/Vienna")
    assert result.total == D("15")
    assert "18 credits capped at the event's maximum of 15" in result.explanation


def test_a_day_specific_cap_overrides_the_general_one() -> None:
    result = compute(congress(), full_days(), max_credits_per_day=D("6"),
                     daily_caps={date(2026, 3, 11): D("3")}, timezone="Europe/Vienna")
    assert [d.after_cap for d in result.days] == [D("6"), D("3"), D("6")]
    assert result.total == D("15")


def test_a_day_specific_cap_applies_without_a_general_cap() -> None:
    result = compute(congress(), full_days(), daily_caps={date(2026, 3, 12): D("5")}, timezone="Europe/Vienna")
    assert [(d.cap, d.after_cap) for d in result.days] == [(None, D("8")), (None, D("8")), (D("5"), D("5"))]
    assert result.total == D("21")


def test_the_day_is_the_calendar_day_in_the_event_time_zone() -> None:
    # 23:30 UTC on 4 March is 00:30 on 5 March in Vienna: both sessions fall on one Vienna day.
    night = session("N", at(23, 30, day=4), minutes=60)
    morning = session("M", at(9), minutes=60)
    intervals = [attended(at(23, 30, day=4), at(0, 30)), attended(at(9), at(10))]
    vienna = compute([night, morning], intervals, max_credits_per_day=D("1"), timezone="Europe/Vienna")
    assert [(d.date, d.before_cap, d.after_cap) for d in vienna.days] == [(date(2026, 3, 5), D("2"), D("1"))]
    assert vienna.total == D("1")
    utc = compute([night, morning], intervals, max_credits_per_day=D("1"), timezone="UTC")
    assert utc.total == D("2")


# --- the evaluation gate and empty attendance -----------------------------------------------

def test_evaluation_gate_blocks_until_completed() -> None:
    blocked = compute([session()], [attended(at(9), at(10))], evaluation_completed=False, evaluation_required=True)
    assert (blocked.eligible, blocked.blocked_by, blocked.total) == (False, "evaluation", D("1"))
    assert blocked.explanation[-1] == "Evaluation required but not completed: no certificate until it is."
    done = compute([session()], [attended(at(9), at(10))], evaluation_completed=True, evaluation_required=True)
    assert (done.eligible, done.blocked_by, done.total) == (True, None, D("1"))


def test_evaluation_not_required_ignores_the_flag() -> None:
    result = compute([session()], [attended(at(9), at(10))], evaluation_completed=False)
    assert result.eligible


def test_nobody_attended_means_no_credits_and_no_certificate() -> None:
    result = compute(congress(), [], max_credits_per_day=D("6"))
    assert (result.total, result.eligible, result.blocked_by) == (D("0"), False, "no_credits")
    assert not any(credit.counted for credit in result.sessions)
    assert "No credits earned: no certificate." in result.explanation


def test_no_credits_takes_precedence_over_a_missing_evaluation() -> None:
    result = compute([session()], [], evaluation_completed=False, evaluation_required=True)
    assert result.blocked_by == "no_credits"


# --- time zones ----------------------------------------------------------------------------

def test_utc_intervals_against_a_vienna_session_across_the_spring_dst_change() -> None:
    # 29 March 2026, 01:00-04:00 on Vienna's clock is only two real hours (02:00 becomes 03:00).
    start = datetime(2026, 3, 29, 1, 0, tzinfo=VIENNA)
    night = Session("DST", "Night session", start, datetime(2026, 3, 29, 4, 0, tzinfo=VIENNA), D("3"))
    assert night.starts_at.astimezone(UTC) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    intervals = [Interval(datetime(2026, 3, 28, 23, 0, tzinfo=UTC), datetime(2026, 3, 29, 2, 30, tzinfo=UTC), "zoom")]
    result = compute([night], intervals, timezone="Europe/Vienna")
    assert (result.sessions[0].session_minutes, result.sessions[0].attended_minutes) == (120, 120)
    assert result.total == D("2")
    assert result.days[0].date == date(2026, 3, 29)


def test_utc_intervals_against_a_vienna_session_across_the_autumn_dst_change() -> None:
    # 25 October 2026, 01:00 CEST to 04:00 CET is four real hours (03:00 happens twice).
    start = datetime(2026, 10, 25, 1, 0, tzinfo=VIENNA)
    night = Session("DST", "Night session", start, datetime(2026, 10, 25, 4, 0, tzinfo=VIENNA), D("4"))
    half = Interval(datetime(2026, 10, 24, 23, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "zoom")
    result = compute([night], [half], timezone="Europe/Vienna", min_session_share=D("0.5"))
    assert (result.sessions[0].session_minutes, result.sessions[0].attended_minutes) == (240, 120)
    assert result.total == D("2")


def test_intervals_in_another_offset_are_compared_as_instants() -> None:
    vienna_session = Session("V", "Vienna", datetime(2026, 3, 5, 10, 0, tzinfo=VIENNA),
                             datetime(2026, 3, 5, 11, 0, tzinfo=VIENNA), D("1"))
    new_york = ZoneInfo("America/New_York")
    interval = Interval(datetime(2026, 3, 5, 4, 0, tzinfo=new_york), datetime(2026, 3, 5, 5, 0, tzinfo=new_york))
    assert compute([vienna_session], [interval]).total == D("1")


# --- sessions, sources, serialisation ------------------------------------------------------

def test_a_check_in_for_one_session_does_not_credit_a_parallel_one() -> None:
    hall_a, hall_b = session("A"), session("B")
    check_in = Interval(at(9), at(10), "check-in", session_code="A")
    result = compute([hall_a, hall_b], [check_in])
    assert [(c.code, c.credits) for c in result.sessions] == [("A", D("1")), ("B", D("0"))]


def test_sources_that_contributed_are_listed_per_session() -> None:
    rows = [attended(at(9), at(9, 30), "zoom-report:aaa"), attended(at(9, 30), at(10), "zoom-report:bbb"),
            attended(at(12), at(13), "zoom-report:ccc")]
    assert compute([session()], rows).sessions[0].sources == ["zoom-report:aaa", "zoom-report:bbb"]


def test_to_dict_is_json_safe_with_decimals_as_strings() -> None:
    result = compute([session()], [attended(at(9), at(9, 52))], min_session_share=D("0.5"), max_credits_per_day=D("6"))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["total"] == "0.5"
    assert data["eligible"] is True
    assert data["blocked_by"] is None
    assert data["days"] == [{"date": "2026-03-05", "before_cap": "0.5", "cap": "6", "after_cap": "0.5"}]
    assert data["sessions"][0] | {"reason": ""} == {
        "code": "S1", "title": "Session S1", "attended_minutes": 52, "session_minutes": 60, "share": "0.8667",
        "counted": True, "credits": "0.5", "reason": "", "sources": ["zoom-report:abc"]}
    assert data["explanation"] == result.explanation


def test_format_decimal_is_plain_without_trailing_zeros() -> None:
    assert [format_decimal(D(v)) for v in ("18.00", "1E+1", "0.50", "0.0", "0.25")] == ["18", "10", "0.5", "0", "0.25"]


# --- input validation ----------------------------------------------------------------------

@pytest.mark.parametrize(("rules", "error"), [
    ({"credit_step": 0.5}, TypeError),
    ({"credit_step": D("0")}, ValueError),
    ({"credit_mode": "hourly"}, ValueError),
    ({"min_session_share": D("1.2")}, ValueError),
    ({"max_credits": D("-1")}, ValueError),
    ({"daily_caps": {datetime(2026, 3, 5, tzinfo=UTC): D("6")}}, TypeError),
    ({"timezone": "Mars/Olympus_Mons"}, ValueError),
])
def test_rules_refuse_invalid_settings(rules: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        Rules(**rules)  # type: ignore[arg-type]


def test_naive_times_are_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="time zone aware"):
        Interval(datetime(2026, 3, 5, 9), datetime(2026, 3, 5, 10))
    with pytest.raises(ValueError, match="time zone aware"):
        Session("S", "S", datetime(2026, 3, 5, 9), datetime(2026, 3, 5, 10), D(1))
    with pytest.raises(ValueError, match="time zone aware"):
        merge_intervals([(datetime(2026, 3, 5, 9), at(10))])


def test_intervals_and_sessions_must_not_run_backwards() -> None:
    with pytest.raises(ValueError):
        Interval(at(10), at(9))
    with pytest.raises(ValueError):
        session(minutes=0)
    with pytest.raises(ValueError):
        merge_intervals([(at(10), at(9))])


def test_merge_intervals_returns_utc_and_drops_empty_spans() -> None:
    vienna_ten = datetime(2026, 3, 5, 10, 0, tzinfo=VIENNA)
    assert merge_intervals([(vienna_ten, vienna_ten + timedelta(hours=1)), (at(12), at(12))]) == [(at(9), at(10))]
    assert merge_intervals([(at(9), at(9, 30)), (at(9, 31), at(10))]) == [(at(9), at(9, 30)), (at(9, 31), at(10))]


# --- properties ----------------------------------------------------------------------------

BASE = datetime(2026, 3, 5, tzinfo=UTC)
spans = st.builds(
    lambda offset, length: (BASE + timedelta(seconds=offset), BASE + timedelta(seconds=offset + length)),
    st.integers(0, 3 * 86400), st.integers(0, 6 * 3600))
quarter_credits = st.integers(0, 24).map(lambda n: D(n) / 4)


@st.composite
def sessions_strategy(draw: st.DrawFn) -> list[Session]:
    result = []
    for number in range(draw(st.integers(1, 6))):
        start = BASE + timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        minutes = draw(st.integers(1, 300))
        breaks: tuple[tuple[datetime, datetime], ...] = ()
        if minutes > 20 and draw(st.booleans()):
            break_start = start + timedelta(minutes=draw(st.integers(0, minutes - 10)))
            breaks = ((break_start, break_start + timedelta(minutes=10)),)
        result.append(Session(f"S{number}", "", start, start + timedelta(minutes=minutes), draw(quarter_credits), breaks))
    return result


rules_strategy = st.builds(
    Rules,
    credit_mode=st.sampled_from(["proportional", "session"]),
    min_session_share=st.sampled_from([D(0), D("0.5"), D("0.8"), D("0.855"), D(1)]),
    credit_step=st.sampled_from([D("0.25"), D("0.5"), D(1)]),
    max_credits=st.none() | st.integers(0, 300).map(lambda n: D(n) / 10),
    max_credits_per_day=st.none() | st.integers(0, 16).map(lambda n: D(n) / 2),
    timezone=st.sampled_from(["UTC", "Europe/Vienna", "America/Chicago", "Asia/Kolkata"]),
)
intervals_strategy = st.lists(spans.map(lambda span: Interval(span[0], span[1], "p")), max_size=8)


@settings(max_examples=300, deadline=None)
@given(rules_strategy, sessions_strategy(), intervals_strategy, st.booleans())
def test_total_is_bounded_non_negative_and_a_multiple_of_the_step(
        rules: Rules, sessions: list[Session], intervals: list[Interval], evaluation_completed: bool) -> None:
    result = compute_credits(rules, sessions, intervals, evaluation_completed)
    assert result.total >= 0
    assert result.total % rules.credit_step == 0
    assert result.total <= sum((s.credits for s in sessions), D(0))
    if rules.max_credits is not None:
        assert result.total <= rules.max_credits
    for day in result.days:
        assert day.after_cap <= day.before_cap
        assert day.cap is None or day.after_cap <= day.cap
    for credit in result.sessions:
        assert 0 <= credit.attended_minutes <= credit.session_minutes
        assert D(0) <= credit.share <= D(1)
    assert result.eligible == (result.total > 0 and (evaluation_completed or not rules.evaluation_required))
    json.dumps(result.to_dict())


@settings(max_examples=200, deadline=None)
@given(rules_strategy, sessions_strategy(), intervals_strategy, spans)
def test_more_attendance_never_lowers_the_total(
        rules: Rules, sessions: list[Session], intervals: list[Interval], extra: tuple[datetime, datetime]) -> None:
    before = compute_credits(rules, sessions, intervals, True).total
    after = compute_credits(rules, sessions, [*intervals, Interval(extra[0], extra[1])], True).total
    assert after >= before


@given(st.lists(spans, max_size=10), st.randoms(use_true_random=False))
def test_merging_is_idempotent_order_independent_and_covers_the_same_time(
        raw: list[tuple[datetime, datetime]], random: Random) -> None:
    merged = merge_intervals(raw)
    assert merge_intervals(merged) == merged
    shuffled = list(raw)
    random.shuffle(shuffled)
    assert merge_intervals(shuffled) == merged
    assert merge_intervals(reversed(raw)) == merged
    for (_, end), (next_start, _) in zip(merged, merged[1:], strict=False):
        assert end < next_start  # disjoint and not touching
    for start, end in raw:
        if end > start:
            assert any(m_start <= start and end <= m_end for m_start, m_end in merged)
    assert sum((e - s for s, e in merged), timedelta()) <= sum((e - s for s, e in raw), timedelta())
