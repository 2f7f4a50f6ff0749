"""Several credit systems on one attendance, computed by hand; the accreditation body's systems and a
session's credits per system as the APIs read them; the PDF of a certificate with two systems."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from marshmallow import ValidationError

from certificates.models import CreditSystem
from certificates.schemas.accreditation import AccreditationInput
from certificates.services import credit_systems
from certificates.services.credits import Interval, Rules, compute_credits
from certificates.services.credits import Session as CreditSession
from certificates.services.pdf import CertificateData, PrintedSystem, render_certificate
from registration.schemas.events import EventSessionInput
from tests.support.pdf import pdf_text

TZ = ZoneInfo("Europe/Amsterdam")
DAY1, DAY2 = dt.date(2027, 3, 10), dt.date(2027, 3, 11)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)


def system(code: str, **rules: Any) -> CreditSystem:
    values = {"name": f"{code} credits", "body": code, "statement": f"{code} statement.", "credit_step": D("0.5"),
              "credit_mode": "proportional", "min_session_share": D(0), "max_credits": None,
              "max_credits_per_day": None, "daily_caps": {}, "evaluation_required": False, "claim_required": False,
              "presence_codes_required": 0, **rules}
    return CreditSystem(code=code, **values)


# A two-day programme: three sessions a day of 3 h, 2 h and 1.5 h.
SESSIONS = [
    CreditSession("D1-A", "Cardiac CT", at(DAY1, 9), at(DAY1, 12), D(3)),
    CreditSession("D1-B", "Neuro MR", at(DAY1, 13), at(DAY1, 15), D(2)),
    CreditSession("D1-C", "Physics", at(DAY1, 15, 30), at(DAY1, 17), D("1.5")),
    CreditSession("D2-A", "Oncology", at(DAY2, 9), at(DAY2, 12), D(3)),
    CreditSession("D2-B", "Breast", at(DAY2, 13), at(DAY2, 15), D(2)),
]
# Credits per system; D1-C carries ECMEC only, D2-B NVVTG only. D1-A is given a plain decimal elsewhere.
BY_SYSTEM = {
    "D1-A": {"ECMEC": D(3), "NVVTG": D(3), "RCT": D(3)},
    "D1-B": {"ECMEC": D(2), "NVVTG": D(2), "RCT": D(2)},
    "D1-C": {"ECMEC": D("1.5")},
    "D2-A": {"ECMEC": D(3), "NVVTG": D(3), "RCT": D(3)},
    "D2-B": {"NVVTG": D(2), "RCT": D(2)},
}
# One attendance: D1-A 09:00-11:10 (130 of 180 min), D1-B 13:00-15:00 whole (120), D1-C 15:30-16:10
# (40 of 90), D2-A 09:00-12:00 whole (180), D2-B 13:00-13:50 (50 of 120).
ATTENDANCE = [
    Interval(at(DAY1, 9), at(DAY1, 11, 10), "scan"),
    Interval(at(DAY1, 13), at(DAY1, 15), "scan"),
    Interval(at(DAY1, 15, 30), at(DAY1, 16, 10), "scan"),
    Interval(at(DAY2, 9), at(DAY2, 12), "scan"),
    Interval(at(DAY2, 13), at(DAY2, 13, 50), "scan"),
]


def assess(systems: list[CreditSystem], evaluated: bool = True, **kwargs: Any) -> credit_systems.Assessment:
    return credit_systems.assess(systems, "Europe/Amsterdam", SESSIONS, BY_SYSTEM, ATTENDANCE, evaluated, **kwargs)


def test_two_systems_with_their_own_steps_modes_shares_and_day_caps() -> None:
    ecmec = system("ECMEC", credit_step=D("0.5"), max_credits_per_day=D(4), daily_caps={"2027-03-11": "2.5"})
    nvvtg = system("NVVTG", credit_step=D(1), credit_mode="session", min_session_share=D("0.5"))
    result = assess([ecmec, nvvtg])
    # ECMEC, proportional, step 0.5:
    #   D1-A 130 min = 2.17 h -> 2;  D1-B 2 h -> 2;  D1-C 40 min = 0.67 h -> 0.5;  day 1: 4.5, capped at 4
    #   D2-A 3 h -> 3 (D2-B carries no ECMEC);  day 2: 3, capped at the day's own 2.5;  total 6.5
    # NVVTG, session mode, at least 50 %, step 1:
    #   D1-A 72 % -> 3;  D1-B 100 % -> 2;  (no D1-C);  D2-A 100 % -> 3;  D2-B 50/120 = 42 % -> 0;  total 8
    totals = {s.code: s.result.total for s in result.systems}
    assert totals == {"ECMEC": D("6.5"), "NVVTG": D(8)}
    ecmec_days = [(d.before_cap, d.cap, d.after_cap) for d in result.systems[0].result.days]
    assert ecmec_days == [(D("4.5"), D(4), D(4)), (D(3), D("2.5"), D("2.5"))]
    assert [s.code for s in result.systems[1].result.sessions] == ["D1-A", "D1-B", "D2-A", "D2-B"]
    assert result.credits_by_system == {"ECMEC": "6.5", "NVVTG": "8"} and result.eligible
    assert result.first.certified == D("6.5") and result.supported_by_system == {}


def test_three_systems_one_requiring_a_claim_and_one_the_evaluation() -> None:
    ecmec = system("ECMEC", max_credits=D(5), evaluation_required=True)
    nvvtg = system("NVVTG", credit_step=D(1), credit_mode="session", min_session_share=D("0.75"))
    rct = system("RCT", credit_step=D("0.25"), claim_required=True, max_credits_per_day=D(4))
    result = assess([ecmec, nvvtg, rct], evaluated=False)
    # ECMEC (step 0.5, at most 5): 4.5 on day 1 + 3 on day 2 = 7.5, capped at 5; but no evaluation: not printed.
    # NVVTG (session mode, at least 75 %): D1-A 72 % -> 0;  D1-B -> 2;  D2-A -> 3;  D2-B 42 % -> 0;  total 5
    # RCT (step 0.25, 4 a day): D1-A 2.17 h -> 2 (8 quarters);  D1-B 2;  day 1: 4 (cap 4);
    #   D2-A 3;  D2-B 50 min = 0.83 h -> 0.75;  day 2: 3.75;  total 7.75 supported, claim required: not printed.
    totals = {s.code: s.result.total for s in result.systems}
    assert totals == {"ECMEC": D(5), "NVVTG": D(5), "RCT": D("7.75")}
    assert [s.printed for s in result.systems] == [False, True, False]
    assert result.systems[0].result.blocked_by == "evaluation"
    assert result.credits_by_system == {"NVVTG": "5"}
    assert result.supported_by_system == {"RCT": "7.75"}
    assert result.eligible and result.first.certified == 0  # `credits` stays the first system's: none printed
    data = result.to_dict()
    assert data["total"] == "5" and data["certificate"] is True and len(data["systems"]) == 3


def test_a_session_with_credits_in_one_system_and_none_in_another() -> None:
    sessions = credit_systems.sessions_in(SESSIONS, BY_SYSTEM, "ECMEC", first=True)
    assert [(s.code, s.credits) for s in sessions] == [("D1-A", 3), ("D1-B", 2), ("D1-C", D("1.5")), ("D2-A", 3)]
    assert [s.code for s in credit_systems.sessions_in(SESSIONS, BY_SYSTEM, "RCT", first=False)] == [
        "D1-A", "D1-B", "D2-A", "D2-B"]
    # A plain decimal (no entry by system) is in the first system only.
    plain = {k: v for k, v in BY_SYSTEM.items() if k != "D1-A"}
    assert [s.code for s in credit_systems.sessions_in(SESSIONS, plain, "ECMEC", first=True)][0] == "D1-A"
    assert "D1-A" not in [s.code for s in credit_systems.sessions_in(SESSIONS, plain, "NVVTG", first=False)]
    # No system gives anything: no certificate.
    nothing = credit_systems.assess([system("OTHER")], "Europe/Amsterdam", SESSIONS, BY_SYSTEM, ATTENDANCE, True)
    assert not nothing.eligible and nothing.credits_by_system == {}


def test_the_presence_rule_with_the_codes_entered() -> None:
    webinar = [CreditSession("LIVE", "Live", at(DAY1, 18), at(DAY1, 19, 30), D("1.5"), presence_codes=3),
               CreditSession("INTRO", "Intro", at(DAY1, 17), at(DAY1, 18), D(1))]  # no codes: outside the rule
    attended = [Interval(at(DAY1, 17), at(DAY1, 19, 30), "zoom")]
    rules = Rules(timezone="Europe/Amsterdam", presence_codes_required=2)
    # LIVE: 1.5 h attended, but 1 of its 3 codes entered, 2 required: nothing. INTRO: 1 h -> 1. Total 1.
    short = compute_credits(rules, webinar, attended, True, {"LIVE": 1})
    assert [s.credits for s in short.sessions] == [0, 1] and short.total == 1
    assert "entered 1 of its 3 presence codes, at least 2 required: no credits" in short.sessions[0].reason
    # 2 entered: LIVE 1.5 -> total 2.5. With 5 required, a session of 3 codes asks for all 3.
    assert compute_credits(rules, webinar, attended, True, {"LIVE": 2}).total == D("2.5")
    strict = Rules(timezone="Europe/Amsterdam", presence_codes_required=5)
    assert compute_credits(strict, webinar, attended, True, {"LIVE": 2}).total == 1
    assert compute_credits(strict, webinar, attended, True, {"LIVE": 3}).total == D("2.5")
    assert compute_credits(Rules(timezone="Europe/Amsterdam"), webinar, attended, True).total == D("2.5")  # no rule
    with pytest.raises(ValueError):
        compute_credits(rules, webinar, attended, True, {"LIVE": -1})
    with pytest.raises(ValueError):
        Rules(presence_codes_required=-1)


BASE = {"signatory": "Dr. Eva de Vries"}
ECMEC_IN = {"code": "ECMEC", "name": "European CME credits (ECMEC®s)", "body": "EACCME®", "statement": "S."}


def test_the_single_system_body_is_one_system_cme_and_decimals_take_numbers_or_strings() -> None:
    single = AccreditationInput().load({**BASE, "body": "EACCME", "statement": "S.", "credit_step": 0.5,
                                        "min_session_share": "0.5", "max_credits": 6})
    (only,) = credit_systems.systems_from(single)
    assert (only["code"], only["name"], only["credit_step"], only["min_session_share"], only["max_credits"]) == (
        "CME", "European CME credits (ECMEC®s)", D("0.5"), D("0.5"), D(6))
    both = [AccreditationInput().load({**BASE, "credit_systems": [{**ECMEC_IN, "credit_step": step}]})
            for step in (0.25, "0.25")]
    assert both[0] == both[1] and both[0]["credit_systems"][0]["credit_step"] == D("0.25")


@pytest.mark.parametrize(("body", "field", "words"), [
    ({"credit_systems": [ECMEC_IN, ECMEC_IN]}, "credit_systems", "ECMEC is given more than once"),
    ({"credit_systems": [{**ECMEC_IN, "credit_step": 0}]}, "credit_systems", "more than 0"),
    ({"credit_systems": [{**ECMEC_IN, "min_session_share": 1.5}]}, "credit_systems", "0 and less than or equal to 1"),
    ({"credit_systems": [{**ECMEC_IN, "credit_mode": "hourly"}]}, "credit_systems", "Must be one of"),
    ({"credit_systems": [{**ECMEC_IN, "code": "ecmec"}]}, "credit_systems", "capital letters"),
    ({"credit_systems": [{**ECMEC_IN, "presence_codes_required": -1}]}, "credit_systems", "greater than or equal"),
    ({"credit_systems": [{**ECMEC_IN, "claim_closes_at": "2027-03-01T09:00:00+01:00"}]}, "credit_systems",
     "claim_required"),
    ({"credit_systems": [ECMEC_IN], "credit_step": "0.5"}, "credit_systems", "credit_step in each system"),
    ({"credit_systems": []}, "credit_systems", "between 1 and 10"),
    ({"credit_step": 0.5}, "body", "Missing data"),
    ({"body": "E", "statement": "S.", "credit_step": -0.5}, "credit_step", "less than or equal to 24"),
])
def test_refusals_say_what_is_wrong(body: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ValidationError) as refused:
        AccreditationInput().load({**BASE, **body})
    assert field in refused.value.messages
    assert words.lower() in str(refused.value.messages[field]).lower()


def test_session_credits_plain_or_by_system() -> None:
    session = {"code": "AM", "title": "Cardiac CT", "starts_at": "2027-03-10T09:00:00+01:00",
               "ends_at": "2027-03-10T12:00:00+01:00"}
    schema = EventSessionInput()
    assert schema.load({**session, "credits": 1.5})["credits"] == D("1.5")
    assert schema.load({**session, "credits": "1.5"})["credits"] == D("1.5")
    assert schema.load({**session, "credits": {"ECMEC": 1.5, "NVVTG": "1"}})["credits"] == {
        "ECMEC": D("1.5"), "NVVTG": D(1)}
    for bad, key in (({"ecmec": "1"}, "ecmec"), ({"ECMEC": -1}, "ECMEC"), ({"ECMEC": True}, "ECMEC")):
        with pytest.raises(ValidationError) as refused:
            schema.load({**session, "credits": bad})
        assert key in refused.value.messages["credits"]
    with pytest.raises(ValidationError):
        schema.load({**session, "credits": {f"S{n}": 1 for n in range(11)}})


def test_the_pdf_lists_each_printed_system_with_its_statement() -> None:
    systems = [PrintedSystem("European CME credits (ECMEC®s)", "EACCME®", D("6.5"),
                             "Accredited by the EACCME® with 9 European CME credits.", [("Cardiac CT", D(2))]),
               PrintedSystem("NVvTG punten", "NVvTG", D(8), "Geaccrediteerd door de NVvTG met 10 punten.",
                             [("Cardiac CT", D(3))])]
    data = CertificateData(
        participant="Zoë Łukasiewicz", event_title="Imaging Days", event_dates="10-11 March 2027", place="Utrecht",
        credits=D("6.5"), credit_body="EACCME®", credit_unit="European CME credits (ECMEC®s)",
        statement="Accredited by the EACCME® with 9 European CME credits.", signatory_name="Dr. Eva de Vries",
        signatory_title="Chair", organisation_name="NVvR", issued_on=dt.date(2027, 3, 12),
        verification_code="ABCDE-FGHJK", verify_url="https://example.org/verify/ABCDE-FGHJK", systems=systems)
    text = " ".join(pdf_text(render_certificate(data)).split())
    assert "6.5 European CME credits (ECMEC®s)" in text and "8 NVvTG punten" in text
    assert "Accredited by the EACCME® with 9 European CME credits." in text
    assert "Geaccrediteerd door de NVvTG met 10 punten." in text
    assert "Accrediting bodies: EACCME® · NVvTG" in text
