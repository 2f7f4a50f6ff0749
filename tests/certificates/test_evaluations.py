"""Evaluations per session and overall, with real processes: the participant rates each session they
attended (and only those), the gate waits for all of it, and the organiser exports the results as
JSON and CSV with numbers checked by hand.

One stack for the module; the tests run in file order and build on each other's state, the way an
organiser works through an event: check-ins, then the rules, then the evaluations, then the export.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.console.test_accreditation import Browser, _text
from tests.support.apps import make_settings
from tests.support.console import add_person
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Vienna")
SLUG = "ecr-day-2027"
PEOPLE = {"ana": "ana@hospital.example", "ben": "ben@klinikum.example", "cleo": "cleo@imaging.example",
          "dan": "dan@paper.example"}
SESSIONS = {"S1": ("Breast imaging", (9, 0), (10, 30)), "S2": ("Chest CT and AI", (11, 0), (12, 30)),
            "S3": ("Paediatric MRI", (14, 0), (15, 30))}
OVERALL = [
    {"id": "overall", "text": "How would you rate the day overall?", "kind": "rating"},
    {"id": "unbiased", "text": "Was the programme free of commercial bias?", "kind": "yes_no"},
    {"id": "comments", "text": "What should we change next year?", "kind": "text", "required": False},
]
PER_SESSION = [
    {"id": "quality", "text": "How would you rate this session?", "kind": "rating"},
    {"id": "learned", "text": "What will you use in your practice?", "kind": "text", "required": False},
]
RULES = {"body": "EACCME®", "statement": "Accredited with 4.5 ECMECs.", "signatory": "Prof. Dr. Anna Berger",
         "credit_mode": "session", "evaluation_required": True, "evaluation_questions": OVERALL,
         "session_questions": PER_SESSION}


@dataclass
class Day:
    registration: str
    certificates: str
    auth: dict[str, str]
    other_auth: dict[str, str]
    day: dt.date
    console_link: Any = None  # role -> a sign-in link of a new console person of the organisation
    ids: dict[str, int] = field(default_factory=dict)
    participant: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, auth: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.certificates}/api/v1/events/{SLUG}{path}",
                                headers=auth or self.auth, timeout=30, **kwargs)

    def blocked_by(self) -> dict[str, str | None]:
        items = self.api("GET", "/credits").json()["items"]
        by_id = {item["registration_id"]: item["blocked_by"] for item in items}
        return {name: by_id[rid] for name, rid in self.ids.items()}

    def check_in(self, name: str, session: str) -> None:
        answer = self.api("POST", "/check-ins", json={"registration_id": self.ids[name], "session": session})
        assert answer.status_code == 201, answer.text


class Page:
    """A participant's browser on their page: the form token, and posting the form as a browser would."""

    def __init__(self, link: str) -> None:
        self.link = link
        self.browser = requests.Session()

    def get(self) -> str:
        page = self.browser.get(self.link)
        assert page.status_code == 200, page.text
        return page.text

    def post(self, answers: dict[str, str]) -> requests.Response:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.get()).group(1)
        return self.browser.post(self.link, data={"csrf_token": csrf, **answers})


def fieldsets(html: str) -> list[str]:
    """The legends of the form's sections (the event overall, each session to rate)."""
    return re.findall(r'<fieldset class="section">\s*<legend>([^<]+)</legend>', html)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with running_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running


@pytest.fixture(scope="module")
def day(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Day]:
    """A one-day congress in Vienna a week ago, three sessions; four confirmed participants."""
    from registration import create_app

    tmp = tmp_path_factory.mktemp("registration-app")
    app = create_app(make_settings("registration", f"sqlite:///{stack.var_dir / 'registration.db'}", tmp))
    d = Day(url(stack, "registration"), url(stack, "certificates"),
            {"Authorization": f"Bearer {stack.create_token('ecr')}"},
            {"Authorization": f"Bearer {stack.create_token('other-society')}"},
            dt.datetime.now(TZ).date() - dt.timedelta(days=7), lambda role: add_person(app, "ecr", role))

    def at(hour: int, minute: int) -> str:
        return dt.datetime(d.day.year, d.day.month, d.day.day, hour, minute, tzinfo=TZ).isoformat()

    for slug in (SLUG, "no-rules-yet"):
        created = requests.post(f"{d.registration}/api/v1/events", headers=d.auth, json={
            "slug": slug, "title": "ECR Day 2027", "kind": "conference", "starts_at": at(8, 30),
            "ends_at": at(17, 0), "timezone": "Europe/Vienna", "capacity": 100, "currency": "EUR",
            "venue": "Austria Center Vienna",
            "registration_closes_at": (dt.datetime.now(TZ) + dt.timedelta(days=1)).isoformat()})
        assert created.status_code == 201, created.text
    for code, (title, start, end) in SESSIONS.items():
        requests.post(f"{d.registration}/api/v1/events/{SLUG}/sessions", headers=d.auth, json={
            "code": code, "title": title, "credits": "1.5", "starts_at": at(*start),
            "ends_at": at(*end)}).raise_for_status()
    requests.post(f"{d.registration}/api/v1/events/{SLUG}/rates", headers=d.auth, json={
        "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
    for name, email in PEOPLE.items():
        signed_up = requests.post(f"{d.registration}/api/v1/events/{SLUG}/registrations", json={
            "email": email, "given_name": name.capitalize(), "family_name": "Tester", "rate": "free",
            "consent": True})
        assert signed_up.status_code == 201, signed_up.text
        d.ids[name] = signed_up.json()["id"]
        page = requests.get(signed_up.json()["manage_url"]).text
        link = re.search(r'<a href="([^"]+)">Complete the evaluation and get your attendance certificate</a>', page)
        d.participant[name] = link.group(1).replace("&amp;", "&")
    # Ana attended S1 and S2, Ben S3, Cleo S1; Dan filled in the paper form and was scanned nowhere.
    for name, session in (("ana", "S1"), ("ana", "S2"), ("ben", "S3"), ("cleo", "S1")):
        d.check_in(name, session)
    yield d
    app.extensions["suite_db"].engine.dispose()


def test_session_questions_are_validated_like_the_evaluation_questions(day: Day) -> None:
    d = day
    for bad in ([{**PER_SESSION[0]}, {**PER_SESSION[0], "text": "Again?"}],       # ids not unique
                [{**PER_SESSION[0], "kind": "stars"}],                          # unknown kind
                [{"text": "No id"}],                                            # id and kind missing
                "quality",                                                      # not a list
                [PER_SESSION[0]] * 11):                                         # too many
        refused = d.api("PUT", "/accreditation", json={**RULES, "session_questions": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert "session_questions" in refused.json()["error"]["fields"]
    without = d.api("PUT", "/accreditation", json={k: v for k, v in RULES.items() if k != "session_questions"})
    assert without.status_code == 200 and without.json()["session_questions"] == []  # none by default
    saved = d.api("PUT", "/accreditation", json=RULES)
    assert saved.status_code == 200 and saved.json()["session_questions"] == [
        {**q, "required": q.get("required", True)} for q in PER_SESSION]


def test_each_attended_session_is_rated_and_nothing_is_recorded_until_all_is_right(day: Day) -> None:
    d = day
    ana = Page(d.participant["ana"])
    html = ana.get()
    assert "Rate each session you attended" in html
    assert fieldsets(html) == ["The event overall", "Breast imaging (S1)", "Chest CT and AI (S2)"]  # not S3
    assert 'name="s-S3-quality"' not in html

    # Sent with the sessions unanswered: every missing answer is marked at once, nothing is recorded.
    refused = ana.post({"overall": "5", "unbiased": "yes", "comments": "More hands-on, please."})
    assert refused.status_code == 422
    for name in ("s-S1-quality", "s-S2-quality"):
        assert f'aria-describedby="{name}-error"' in refused.text
        assert re.search(rf'<p class="field-error" id="{name}-error">[^<]*required', refused.text, re.I)
    assert 'value="5" checked' in refused.text and "More hands-on, please.</textarea>" in refused.text
    assert "2 answers marked below" in refused.text
    assert d.blocked_by()["ana"] == "evaluation"

    # A rating out of range, text where a number belongs: 422 with the field named, never a 500.
    for wrong in ({"s-S1-quality": "6"}, {"s-S1-quality": "five"}, {"s-S1-quality": "4.5"}, {"unbiased": "maybe"}):
        answer = ana.post({"overall": "5", "unbiased": "yes", "s-S1-quality": "5", "s-S2-quality": "4", **wrong})
        assert answer.status_code == 422, wrong
        assert f'id="{next(iter(wrong))}-error"' in answer.text
    assert d.blocked_by()["ana"] == "evaluation"

    recorded = ana.post({"overall": "5", "unbiased": "yes", "comments": "More hands-on, please.",
                         "s-S1-quality": "5", "s-S1-learned": "BI-RADS 5th edition lexicon",
                         "s-S2-quality": "4"})
    assert recorded.status_code == 200 and "your evaluation is recorded" in recorded.text
    assert "<form" not in recorded.text and "Breast imaging, Chest CT and AI" in recorded.text
    assert d.blocked_by()["ana"] is None


def test_the_gate_waits_for_every_attended_session(day: Day) -> None:
    d = day
    ben = Page(d.participant["ben"])
    assert fieldsets(ben.get()) == ["The event overall", "Paediatric MRI (S3)"]
    assert ben.post({"overall": "4", "unbiased": "yes", "comments": "=HYPERLINK(\"x\")",
                     "s-S3-quality": "3", "s-S3-learned": "Sedation-free protocols"}).status_code == 200

    cleo = Page(d.participant["cleo"])
    assert cleo.post({"overall": "4", "unbiased": "no", "s-S1-quality": "2"}).status_code == 200
    assert d.blocked_by()["cleo"] is None

    # The paper list shows Cleo in S2 too: her evaluation is incomplete again until she rates it.
    d.check_in("cleo", "S2")
    assert d.blocked_by()["cleo"] == "evaluation"
    html = cleo.get()
    assert fieldsets(html) == ["Chest CT and AI (S2)"] and "Your evaluation of the event is recorded" in html
    assert cleo.post({}).status_code == 422
    assert cleo.post({"s-S2-quality": "5"}).status_code == 200
    assert d.blocked_by()["cleo"] is None

    # Dan did the evaluation on paper: the organiser's record stands for the whole form (he has no credits).
    assert d.api("POST", "/evaluations", json={"registration_id": d.ids["dan"]}).status_code == 201
    assert d.blocked_by() == {"ana": None, "ben": None, "cleo": None, "dan": "no_credits"}


def test_results_by_hand_in_json_and_csv(day: Day) -> None:
    d = day
    answer = d.api("GET", "/evaluation-results")
    assert answer.status_code == 200, answer.text
    found = answer.json()
    overall = {q["id"]: q for q in found["overall"]["questions"]}
    assert (found["overall"]["responses"], found["overall"]["recorded_elsewhere"]) == (3, 1)
    # Overall ratings: Ana 5, Ben 4, Cleo 4 -> 13 / 3 = 4.333 -> "4.33".
    assert overall["overall"] == {"id": "overall", "text": OVERALL[0]["text"], "kind": "rating", "answers": 3,
                                  "mean": "4.33", "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1},
                                  "texts": None}
    assert (overall["unbiased"]["answers"], overall["unbiased"]["distribution"], overall["unbiased"]["mean"]) == (
        3, {"yes": 2, "no": 1}, None)
    assert (overall["comments"]["answers"], overall["comments"]["texts"]) == (
        2, ["=HYPERLINK(\"x\")", "More hands-on, please."])
    sessions = {s["code"]: s for s in found["sessions"]}
    assert [s["code"] for s in found["sessions"]] == ["S1", "S2", "S3"]
    # S1: Ana 5, Cleo 2 -> 3.50; S2: Ana 4, Cleo 5 -> 4.50; S3: Ben 3 -> 3.00.
    quality = {code: next(q for q in s["questions"] if q["id"] == "quality") for code, s in sessions.items()}
    assert {code: (s["title"], s["responses"]) for code, s in sessions.items()} == {
        "S1": ("Breast imaging", 2), "S2": ("Chest CT and AI", 2), "S3": ("Paediatric MRI", 1)}
    assert {code: (q["answers"], q["mean"]) for code, q in quality.items()} == {
        "S1": (2, "3.50"), "S2": (2, "4.50"), "S3": (1, "3.00")}
    assert quality["S1"]["distribution"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 1}
    learned = {code: next(q for q in s["questions"] if q["id"] == "learned") for code, s in sessions.items()}
    assert {code: q["texts"] for code, q in learned.items()} == {
        "S1": ["BI-RADS 5th edition lexicon"], "S2": [], "S3": ["Sedation-free protocols"]}
    # Nothing in it names anyone.
    for text in (answer.text, d.api("GET", "/evaluation-results", params={"format": "csv"}).text):
        assert not any(email in text or email.split("@")[0].capitalize() + " Tester" in text
                       for email in PEOPLE.values())
        assert "registration_id" not in text

    exported = d.api("GET", "/evaluation-results", params={"format": "csv"})
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == len(OVERALL) + len(SESSIONS) * len(PER_SESSION)
    expected = [("overall", "", "", q) for q in found["overall"]["questions"]]
    expected += [("session", s["code"], s["title"], q) for s in found["sessions"] for q in s["questions"]]
    for row, (section, code, title, q) in zip(rows, expected, strict=True):
        assert (row["section"], row["session_code"], row["session_title"], row["question_id"], row["question"],
                row["kind"], int(row["answers"]), row["mean"] or None) == (
            section, code, title, q["id"], q["text"], q["kind"], q["answers"], q["mean"])
        distribution = dict(part.split(": ") for part in row["distribution"].split("; ")) if row["distribution"] else {}
        assert {k: int(v) for k, v in distribution.items()} == (q["distribution"] or {})
        # A cell that would run as a formula is prefixed with ' (the CSV's rule), the rest as given.
        assert row["texts"] == "\n\n".join(("'" + t if t.startswith("=") else t) for t in (q["texts"] or []))
    assert rows[0]["mean"] == "4.33" and rows[3]["mean"] == "3.50"


def test_results_refusals(day: Day) -> None:
    d = day
    assert d.api("GET", "/evaluation-results", d.other_auth).status_code == 404
    assert d.api("GET", "/evaluation-results", d.other_auth, params={"format": "csv"}).status_code == 404
    assert d.api("GET", "/evaluation-results", {"Authorization": "Bearer sto_wrong"}).status_code == 401
    for query in ({"format": "xml"}, {"format": ""}, {"format": "csv" * 1000}):
        refused = d.api("GET", "/evaluation-results", params=query)
        assert refused.status_code == 422 and "format" in refused.json()["error"]["fields"], refused.text
    no_rules = requests.get(f"{d.certificates}/api/v1/events/no-rules-yet/evaluation-results", headers=d.auth)
    assert no_rules.status_code == 409 and no_rules.json()["error"]["code"] == "no_accreditation"
    unknown = requests.get(f"{d.certificates}/api/v1/events/no-such-event/evaluation-results", headers=d.auth)
    assert unknown.status_code == 404
    # The overall answers' CSV keeps its shape: the overall evaluation only, one row per person.
    per_person = list(csv.DictReader(io.StringIO(d.api("GET", "/evaluations").text)))
    assert sorted(int(r["registration_id"]) for r in per_person) == sorted(d.ids.values())


def test_the_console_shows_the_results_and_downloads_the_csv(day: Day) -> None:
    d = day
    viewer = Browser.sign_in(d.registration, d.console_link("viewer"))
    page = viewer.get(f"/console/events/{SLUG}/accreditation")
    assert page.status_code == 200
    shown = _text(page.text)
    assert "3 overall evaluations completed here, 1 recorded as done elsewhere" in shown
    assert "Overall How would you rate the day overall? 3 4.33 1: 0; 2: 0; 3: 0; 4: 2; 5: 1" in shown
    assert "S1 Breast imaging How would you rate this session? 2 3.50" in shown
    assert "Overall Was the programme free of commercial bias? 3 yes: 2; no: 1" in shown
    link = re.search(r'<a href="([^"]+)" download>Download evaluation results \(CSV\)</a>', page.text).group(1)
    downloaded = viewer.get(link)
    assert downloaded.status_code == 200 and downloaded.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in downloaded.headers["Content-Disposition"]
    assert downloaded.content == d.api("GET", "/evaluation-results", params={"format": "csv"}).content
    assert viewer.get("/console/events/no-rules-yet/evaluation-results.csv", allow_redirects=False).status_code == 303

    # A save from the console keeps the session questions (they are rows of the form, as the others).
    staff = Browser.sign_in(d.registration, d.console_link("staff"))
    form = {"body": RULES["body"], "statement": RULES["statement"], "signatory": RULES["signatory"],
            "credit_mode": "session", "credit_step": "0.5", "min_session_share": "0", "evaluation_required": "yes",
            "question_rows": "1", "q-0-id": "overall", "q-0-text": OVERALL[0]["text"], "q-0-kind": "rating",
            "q-0-required": "yes", "session_question_rows": "2", "sq-0-id": "quality",
            "sq-0-text": PER_SESSION[0]["text"], "sq-0-kind": "rating", "sq-0-required": "yes",
            "sq-1-id": "Bad Id", "sq-1-text": "Anything else?", "sq-1-kind": "text"}
    refused = staff.post(f"/console/events/{SLUG}/accreditation", data=form)
    assert refused.status_code == 422 and 'id="sq-1-id-error"' in refused.text
    del form["sq-1-id"], form["sq-1-text"], form["sq-1-kind"]
    assert staff.post(f"/console/events/{SLUG}/accreditation", data=form).status_code == 303
    assert d.api("GET", "/accreditation").json()["session_questions"] == [{**PER_SESSION[0], "required": True}]
