"""An in-person congress with real processes: door scans by ticket and by registration, daily
credit caps in session mode, the evaluation gate with the participant's form, logo and signature
on the PDF, re-qualifying after a revocation, and the rate limit of the public verification.

One stack for the whole module; the tests run in file order and build on each other's state
(the scans, then the rules, then the certificates), the way an organiser works through an event.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from PIL import Image, ImageDraw
from pypdf import PdfReader

from devtools.smtp_sink import SmtpSink
from tests.support.mail import eventually
from tests.support.pdf import pdf_text, tool
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

# Tokyo (UTC+9, no summer time): a door scan at 08:40 on the second morning is still the first
# day in UTC, so a scan filed by its UTC date would land on the wrong day.
TZ = ZoneInfo("Asia/Tokyo")
SLUG = "jrc-2027"
PEOPLE = {  # key: (email, given, family)
    "ana": ("ana.sato@hospital.example", "Ana", "Satō"),
    "ben": ("ben.okafor@klinikum.example", "Ben", "Okafor"),
    "chloe": ("chloe@imaging.example", "Chloé", "Dubois"),
    "eve": ("eve@radiology.example", "Eve", "Nakamura"),
    "dan": ("dan@cancelled.example", "Dan", "Park"),
}
QUESTIONS = [
    {"id": "overall", "text": "How would you rate the programme overall?", "kind": "rating"},
    {"id": "unbiased", "text": "Was the programme free of commercial bias?", "kind": "yes_no"},
    {"id": "comments", "text": "What should we change next year?", "kind": "text", "required": False},
]
RULES = {
    "body": "Japan Radiological Society", "credit_unit": "CME credits",
    "statement": "The congress is accredited with 12 CME credits. Claim only the hours actually spent.",
    "credit_mode": "session", "min_session_share": "0.5", "credit_step": "0.5", "max_credits_per_day": "3",
    "evaluation_required": True, "evaluation_questions": QUESTIONS,
    "signatory": "Prof. Dr. Haruka Ito", "signatory_title": "Congress President",
}


@dataclass
class Congress:
    registration: str
    certificates: str
    auth: dict[str, str]
    other_auth: dict[str, str]
    day1: dt.date
    day2: dt.date
    ids: dict[str, int] = field(default_factory=dict)
    tickets: dict[str, str] = field(default_factory=dict)
    manage: dict[str, str] = field(default_factory=dict)
    participant: dict[str, str] = field(default_factory=dict)
    certificates_by_person: dict[str, dict[str, Any]] = field(default_factory=dict)

    def at(self, day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ)

    def api(self, method: str, path: str, auth: dict[str, str] | None = None, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.certificates}/api/v1{path}", headers=auth or self.auth,
                                timeout=30, **kwargs)

    def scan(self, expected: int, auth: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
        body = {k: (v.isoformat() if isinstance(v, dt.datetime | dt.date) else v) for k, v in body.items()}
        response = self.api("POST", f"/events/{SLUG}/check-ins", auth, json=body)
        assert response.status_code == expected, (body, response.text)
        assert response.headers["Content-Type"].startswith("application/json")
        return response.json()

    def issue(self) -> dict[str, Any]:
        started = self.api("POST", f"/events/{SLUG}/certificates")
        assert started.status_code == 202, started.text
        job = started.json()["id"]
        return eventually(lambda: (lambda j: j if j["status"] in ("done", "failed") else None)(
            self.api("GET", f"/jobs/{job}").json()), timeout=30)

    def credits(self) -> dict[str, dict[str, Any]]:
        response = self.api("GET", f"/events/{SLUG}/credits")
        assert response.status_code == 200, response.text
        by_id = {item["registration_id"]: item for item in response.json()["items"]}
        return {name: by_id[rid] for name, rid in self.ids.items() if rid in by_id}

    def listed(self) -> list[dict[str, Any]]:
        return self.api("GET", f"/events/{SLUG}/certificates").json()["items"]


def from_address(address: str) -> requests.Session:
    """A client whose connections leave from another loopback address: another client to the rate limiter."""
    class Adapter(requests.adapters.HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            kwargs["source_address"] = (address, 0)
            super().init_poolmanager(*args, **kwargs)

    session = requests.Session()
    session.mount("http://", Adapter())
    return session


def svg_qr_text(svg: str, tmp_path: Path) -> str:
    """Decodes the page's inline QR (a segno path of horizontal strokes) with zbarimg."""
    scale = float(re.search(r'transform="scale\(([\d.]+)\)"', svg).group(1))
    size = int(float(re.search(r'width="([\d.]+)"', svg).group(1)))
    image = Image.new("L", (size, size), 255)
    draw = ImageDraw.Draw(image)
    x = y = 0.0
    for command, args in re.findall(r"([MmHh])([-\d.\s]+)", re.search(r' d="([^"]+)"', svg).group(1)):
        numbers = [float(n) for n in args.split()]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        else:
            end = numbers[0] if command == "H" else x + numbers[0]
            draw.rectangle([x * scale, (y - 0.5) * scale, end * scale - 1, (y + 0.5) * scale - 1], fill=0)
            x = end
    path = tmp_path / "ticket-qr.png"
    image.save(path)
    return subprocess.run([tool("zbarimg", "zbar-tools"), "--quiet", "--raw", str(path)],
                          capture_output=True, text=True, check=True).stdout.strip()


def png(size: tuple[int, int], colour: tuple[int, int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def page_images(pdf: bytes) -> list[str]:
    resources = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]
    if "/XObject" not in resources:
        return []
    xobjects = resources["/XObject"].get_object()
    return [name for name, ref in xobjects.items() if ref.get_object()["/Subtype"] == "/Image"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    var = tmp_path_factory.mktemp("stack")
    with SmtpSink(var / "mail") as sink, running_stack(var, SMTP_PORT=str(sink.port),
                                                       VERIFY_RATE_LIMIT="5/minute") as running:
        yield running


@pytest.fixture(scope="module")
def congress(stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Congress:
    """A two-day congress that took place ten days ago (registration stayed open for late sign-ups)."""
    day1 = dt.datetime.now(TZ).date() - dt.timedelta(days=10)
    c = Congress(url(stack, "registration"), url(stack, "certificates"),
                 {"Authorization": f"Bearer {stack.create_token('jrs')}"},
                 {"Authorization": f"Bearer {stack.create_token('another-society')}"},
                 day1, day1 + dt.timedelta(days=1))
    created = requests.post(f"{c.registration}/api/v1/events", headers=c.auth, json={
        "slug": SLUG, "title": "Japan Radiology Congress 2027", "kind": "conference",
        "starts_at": c.at(c.day1, 8).isoformat(), "ends_at": c.at(c.day2, 18).isoformat(),
        "timezone": "Asia/Tokyo", "capacity": 500, "currency": "JPY", "venue": "Pacifico Yokohama",
        "registration_closes_at": (dt.datetime.now(TZ) + dt.timedelta(days=1)).isoformat()})
    assert created.status_code == 201, created.text
    for code, day, (start, end) in (("AM1", c.day1, (9, 12)), ("PM1", c.day1, (13.5, 16.5)),
                                    ("AM2", c.day2, (9, 12)), ("PM2", c.day2, (13.5, 16.5))):
        requests.post(f"{c.registration}/api/v1/events/{SLUG}/sessions", headers=c.auth, json={
            "code": code, "title": f"Plenary {code}", "credits": "3",
            "starts_at": c.at(day, int(start), int(start % 1 * 60)).isoformat(),
            "ends_at": c.at(day, int(end), int(end % 1 * 60)).isoformat()}).raise_for_status()
    requests.post(f"{c.registration}/api/v1/events/{SLUG}/rates", headers=c.auth, json={
        "code": "free", "name": "Members", "amount": 0, "currency": "JPY", "category": "member",
        "requires_membership": False}).raise_for_status()
    qr_dir = tmp_path_factory.mktemp("qr")
    for name, (email, given, family) in PEOPLE.items():
        signed_up = requests.post(f"{c.registration}/api/v1/events/{SLUG}/registrations", json={
            "email": email, "given_name": given, "family_name": family, "rate": "free", "consent": True})
        assert signed_up.status_code == 201 and signed_up.json()["status"] == "confirmed", signed_up.text
        c.ids[name], c.manage[name] = signed_up.json()["id"], signed_up.json()["manage_url"]
        page = requests.get(c.manage[name]).text
        c.tickets[name] = re.search(r'<code id="ticket-code">([^<]+)</code>', page).group(1)
        link = re.search(r'<a href="([^"]+)">Complete the evaluation and get your attendance certificate</a>', page)
        c.participant[name] = link.group(1).replace("&amp;", "&")
        assert c.participant[name].startswith(f"{c.certificates}/events/{SLUG}/participants/")
    # The QR code on the attendee's page is the same ticket code the door scanner reads.
    page = requests.get(c.manage["ana"]).text
    assert svg_qr_text(re.search(r"<svg.*?</svg>", page, re.S).group(0), qr_dir) == c.tickets["ana"]
    return c


def test_door_scans_by_ticket_and_by_registration(congress: Congress) -> None:
    c = congress
    # Ana: one scan per session, at the doors of three plenaries (recorded now, after the event).
    first = c.scan(201, ticket_code=c.tickets["ana"], session="AM1")
    assert (first["registration_id"], first["session"], first["day"]) == (c.ids["ana"], "AM1", c.day1.isoformat())
    assert first["repeated"] is False
    c.scan(201, ticket_code=c.tickets["ana"], session="PM1")
    c.scan(201, ticket_code=c.tickets["ana"], session="AM2")
    again = c.scan(200, ticket_code=c.tickets["ana"], session="AM1")
    assert again["repeated"] is True
    assert {k: again[k] for k in ("id", "checked_in_at", "checked_out_at")} == \
        {k: first[k] for k in ("id", "checked_in_at", "checked_out_at")}

    # Ben: day scans. In late on day 1 and out after lunch; on day 2 the scan at 08:40 Tokyo time
    # (23:40 UTC the day before) belongs to day 2; out at 10:00, back in at 15:00.
    ben_in = c.scan(201, ticket_code=c.tickets["ben"], at=c.at(c.day1, 10))
    assert (ben_in["day"], ben_in["session"], ben_in["checked_out_at"]) == (c.day1.isoformat(), "", None)
    ben_out = c.scan(200, ticket_code=c.tickets["ben"], at=c.at(c.day1, 14, 15), check_out=True)
    assert ben_out["repeated"] is False and ben_out["id"] == ben_in["id"]
    assert dt.datetime.fromisoformat(ben_out["checked_out_at"]) == c.at(c.day1, 14, 15)
    out_again = c.scan(200, ticket_code=c.tickets["ben"], at=c.at(c.day1, 14, 20), check_out=True)
    assert out_again["repeated"] is True and out_again["checked_out_at"] == ben_out["checked_out_at"]
    morning = c.scan(201, registration_id=c.ids["ben"], at=c.at(c.day2, 8, 40))
    assert morning["day"] == c.day2.isoformat()
    assert c.scan(200, registration_id=c.ids["ben"], at=c.at(c.day2, 8, 45))["repeated"] is True
    assert c.scan(200, registration_id=c.ids["ben"], at=c.at(c.day2, 10), check_out=True)["repeated"] is False
    back = c.scan(200, registration_id=c.ids["ben"], at=c.at(c.day2, 15))
    assert back["repeated"] is False and back["checked_out_at"] is None

    # Chloé: the afternoon of day 2, and 40 minutes of the first plenary (its scan recorded afterwards, the
    # check-out from the door scanner's log). Leaving without having come in is refused.
    c.scan(201, ticket_code=c.tickets["chloe"], at=c.at(c.day2, 12, 45))
    c.scan(201, ticket_code=c.tickets["chloe"], session="AM1")
    left = c.scan(200, ticket_code=c.tickets["chloe"], session="AM1", at=c.at(c.day1, 9, 40), check_out=True)
    assert dt.datetime.fromisoformat(left["checked_out_at"]) == c.at(c.day1, 9, 40) and left["repeated"] is False
    refused = c.scan(409, ticket_code=c.tickets["chloe"], day=c.day1, check_out=True)
    assert refused["error"]["code"] == "not_checked_in"

    # A day on which the congress has no programme is refused (today, ten days later, too).
    assert "day" in c.scan(422, ticket_code=c.tickets["eve"], day=c.day2 + dt.timedelta(days=3))["error"]["fields"]
    assert "day" in c.scan(422, ticket_code=c.tickets["eve"])["error"]["fields"]
    assert "session" in c.scan(422, ticket_code=c.tickets["eve"], session="NOPE")["error"]["fields"]
    future = dt.datetime.now(TZ) + dt.timedelta(hours=1)
    assert "at" in c.scan(422, ticket_code=c.tickets["eve"], session="AM1", at=future)["error"]["fields"]

    # Unknown tickets, another organisation's token (its event is no event to them), a cancelled
    # registration: clear refusals.
    unknown = c.scan(404, ticket_code="T" + "2" * 24, session="AM1")
    assert unknown["error"]["code"] == "unknown_ticket" and unknown["error"]["message"]
    assert c.scan(404, auth=c.other_auth, ticket_code=c.tickets["ana"], session="PM2")["error"] == {
        "code": "not_found", "message": "No such event."}
    assert c.scan(404, auth=c.other_auth, registration_id=c.ids["ana"], session="PM2")["error"]
    assert c.scan(404, registration_id=2**31 - 1, session="AM1")["error"]["code"] == "unknown_ticket"
    cancelled = requests.post(f"{c.registration}/api/v1/registrations/{c.ids['dan']}/cancel", headers=c.auth)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled", cancelled.text
    refused = c.scan(409, ticket_code=c.tickets["dan"], session="AM1")
    assert refused["error"]["code"] == "not_confirmed" and "cancelled" in refused["error"]["message"]
    assert c.scan(422, ticket_code=c.tickets["ana"], registration_id=c.ids["ana"])["error"]

    # The attendance export shows every stay behind the credits, Ben's two on day 2 included.
    exported = list(csv.DictReader(io.StringIO(c.api("GET", f"/events/{SLUG}/attendance").text)))
    stays = [(r["start_utc"][:16], r["end_utc"][:16]) for r in exported if r["registration_id"] == str(c.ids["ben"])]
    utc = [(c.at(d, h, m).astimezone(dt.UTC), c.at(d, h2, m2).astimezone(dt.UTC)) for d, h, m, h2, m2 in (
        (c.day1, 10, 0, 14, 15), (c.day2, 9, 0, 10, 0), (c.day2, 15, 0, 16, 30))]
    assert sorted(stays) == [(s.isoformat()[:16], e.isoformat()[:16]) for s, e in utc]


def test_daily_cap_and_session_mode_credits(congress: Congress) -> None:
    c = congress
    missing = c.api("GET", f"/events/{SLUG}/credits")
    assert missing.status_code == 409 and missing.json()["error"]["code"] == "no_accreditation"
    assert c.api("GET", f"/events/{SLUG}/credits", c.other_auth).status_code == 404
    assert c.api("POST", f"/events/{SLUG}/certificates", c.other_auth).status_code == 404

    rules = c.api("PUT", f"/events/{SLUG}/accreditation", json=RULES)
    assert rules.status_code == 200, rules.text
    assert c.api("PUT", f"/events/{SLUG}/accreditation", c.other_auth, json=RULES).status_code == 404

    # By hand (session mode: a session attended at least half earns its 3 credits; at most 3 a day):
    #   Ana    day 1: AM1 + PM1 = 6, capped to 3; day 2: AM2 = 3               -> 6
    #   Ben    day 1: 10:00-14:15 = AM1 120/180 min (3), PM1 45/180 (0)  = 3;
    #          day 2: 09:00-10:00 + 15:00-16:30 = AM2 60/180 (0), PM2 90/180, exactly half (3) -> 6
    #   Chloé  day 1: AM1 until 09:40 = 40/180 (0); day 2: 12:45- = PM2 180/180 (3) -> 3
    #   Eve    nothing                                                        -> 0
    credits = c.credits()
    assert set(credits) == {"ana", "ben", "chloe", "eve"}  # Dan cancelled
    assert {name: item["total"] for name, item in credits.items()} == {"ana": "6", "ben": "6", "chloe": "3", "eve": "0"}
    ana = credits["ana"]
    assert [(d["date"], d["before_cap"], d["cap"], d["after_cap"]) for d in ana["days"]] == [
        (c.day1.isoformat(), "6", "3", "3"), (c.day2.isoformat(), "3", "3", "3")]
    assert f"{c.day1.isoformat()}: 6 credits capped at the day's maximum of 3: 3 credits" in ana["explanation"]
    ben = {s["code"]: s for s in credits["ben"]["sessions"]}
    assert [(ben[k]["attended_minutes"], ben[k]["counted"]) for k in ("AM1", "PM1", "AM2", "PM2")] == [
        (120, True), (45, False), (60, False), (90, True)]
    assert "at least 50% required" in ben["PM2"]["reason"] and "below the required 50%" in ben["AM2"]["reason"]
    chloe = {s["code"]: s for s in credits["chloe"]["sessions"]}
    assert (chloe["AM1"]["attended_minutes"], chloe["AM1"]["counted"], chloe["PM2"]["counted"]) == (40, False, True)
    assert credits["chloe"]["blocked_by"] == "evaluation" and credits["eve"]["blocked_by"] == "no_credits"
    assert all(not item["eligible"] for item in credits.values())
    one = c.api("GET", f"/events/{SLUG}/credits", params={"registration_id": c.ids["ben"]}).json()["items"]
    assert [item["registration_id"] for item in one] == [c.ids["ben"]]


def test_evaluation_gate_with_the_participants_form(congress: Congress) -> None:
    c = congress
    first = c.issue()
    assert (first["status"], first["total"], first["issued"], first["not_eligible"]) == ("done", 4, 0, 4), first
    assert c.listed() == []

    # Ana goes from her registration page to the evaluation on the certificates service.
    browser = requests.Session()
    page = browser.get(c.participant["ana"])
    assert page.status_code == 200 and "completed the evaluation" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    answers = {"csrf_token": csrf, "overall": "4", "comments": "More hands-on sessions, please."}
    refused = browser.post(c.participant["ana"], data=answers)
    assert refused.status_code == 422
    error = re.search(r'<p class="field-error" id="unbiased-error">([^<]+)</p>', refused.text)
    assert error and "required" in error.group(1).lower()
    assert 'aria-describedby="unbiased-error"' in refused.text
    assert re.search(r'value="4" checked', refused.text)                      # the rating is kept,
    assert "More hands-on sessions, please.</textarea>" in refused.text       # and the comment
    without_csrf = browser.post(c.participant["ana"], data={"overall": "4", "unbiased": "yes"})
    assert without_csrf.status_code == 400
    recorded = browser.post(c.participant["ana"], data={**answers, "unbiased": "yes"})
    assert recorded.status_code == 200 and "your evaluation is recorded" in recorded.text
    assert 'name="overall"' not in recorded.text

    # Ben filled in the paper form: the organiser records it.
    assert c.api("POST", f"/events/{SLUG}/evaluations", json={"registration_id": c.ids["ben"]}).status_code == 201
    assert c.api("POST", f"/events/{SLUG}/evaluations", c.other_auth,
                 json={"registration_id": c.ids["chloe"]}).status_code == 404
    assert c.api("POST", f"/events/{SLUG}/evaluations", json={"registration_id": 2**31 - 1}).status_code == 404

    second = c.issue()
    assert (second["issued"], second["not_eligible"]) == (2, 2), second
    listed = {item["registration_id"]: item for item in c.listed()}
    assert {name: listed[c.ids[name]]["credits"] for name in ("ana", "ben")} == {"ana": "6.00", "ben": "6.00"}
    assert set(listed) == {c.ids["ana"], c.ids["ben"]}
    c.certificates_by_person.update({name: listed[c.ids[name]] for name in ("ana", "ben")})
    ana_page = browser.get(c.participant["ana"]).text
    assert "Your certificate is ready" in ana_page and listed[c.ids["ana"]]["code"] in ana_page

    exported = c.api("GET", f"/events/{SLUG}/evaluations")
    assert exported.status_code == 200 and exported.headers["Content-Type"].startswith("text/csv")
    rows = {int(r["registration_id"]): r for r in csv.DictReader(io.StringIO(exported.text))}
    assert (rows[c.ids["ana"]]["overall"], rows[c.ids["ana"]]["unbiased"], rows[c.ids["ana"]]["comments"],
            rows[c.ids["ana"]]["recorded_by"]) == ("4", "yes", "More hands-on sessions, please.", "attendee")
    assert rows[c.ids["ben"]]["recorded_by"] == "organiser" and rows[c.ids["ben"]]["overall"] == ""


def test_participant_page_of_a_cancelled_registration(congress: Congress) -> None:
    c = congress
    page = requests.get(c.participant["dan"])
    assert page.status_code == 200 and "cancelled" in page.text and "<form" not in page.text
    browser = requests.Session()
    # (a form token of this browser session, from a page that still has the form)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(c.participant["chloe"]).text).group(1)
    posted = browser.post(c.participant["dan"], data={"csrf_token": csrf, "overall": "5", "unbiased": "yes"})
    assert posted.status_code == 409 and "cancelled" in posted.text and "<form" not in posted.text
    exported = c.api("GET", f"/events/{SLUG}/evaluations").text
    assert str(c.ids["dan"]) not in [r["registration_id"] for r in csv.DictReader(io.StringIO(exported))]
    assert requests.get(c.participant["dan"][:-4] + "0000").status_code == 404


def test_logo_and_signature_on_the_pdf(congress: Congress) -> None:
    c = congress
    ana = c.certificates_by_person["ana"]
    before = requests.get(ana["download_url"])
    assert before.status_code == 200 and page_images(before.content) == []

    path = f"/events/{SLUG}/accreditation/logo"
    not_png = c.api("PUT", path, files={"file": ("logo.jpg", b"\xff\xd8\xff\xe0 a JPEG, not a PNG")})
    assert not_png.status_code == 422 and "file" in not_png.json()["error"]["fields"]
    broken = c.api("PUT", path, files={"file": ("logo.png", b"\x89PNG\r\n\x1a\n" + b"not really" * 50)})
    assert broken.status_code == 422 and "file" in broken.json()["error"]["fields"], broken.text
    too_big = c.api("PUT", path, files={"file": ("logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (2 * 1024 * 1024))})
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    assert c.api("PUT", path, c.other_auth, files={"file": ("logo.png", png((40, 20), (0, 0, 0, 255)))}
                 ).status_code == 404

    logo = c.api("PUT", path, files={"file": ("logo.png", png((600, 200), (20, 60, 120, 255)))})
    assert logo.status_code == 200 and logo.json()["has_logo"] is True, logo.text
    signature = c.api("PUT", f"/events/{SLUG}/accreditation/signature",
                      files={"file": ("signature.png", png((400, 120), (0, 0, 0, 128)))})
    assert signature.status_code == 200 and signature.json()["has_signature"] is True

    after = requests.get(ana["download_url"])
    assert after.status_code == 200 and len(page_images(after.content)) == 2
    printed = pdf_text(after.content)
    assert "Ana Satō" in printed and ana["code"] in printed and "Japan Radiological Society" in printed
    assert "Pacifico Yokohama" in printed


def test_revoked_certificate_then_the_person_qualifies_again(congress: Congress) -> None:
    c = congress
    verifier = from_address("127.0.0.3")
    assert c.api("POST", f"/events/{SLUG}/evaluations", json={"registration_id": c.ids["chloe"]}).status_code == 201
    issued = c.issue()
    assert (issued["issued"], issued["unchanged"], issued["not_eligible"]) == (1, 2, 1), issued
    first = next(item for item in c.listed() if item["registration_id"] == c.ids["chloe"])
    assert first["credits"] == "3.00"
    revoked = c.api("POST", f"/certificates/{first['code']}/revoke", json={"reason": "attendance under review"})
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True

    # Nothing new about Chloé: running the job again leaves the revocation standing.
    rerun = c.issue()
    assert (rerun["issued"], rerun["reissued"]) == (0, 0), rerun
    assert [item["code"] for item in c.listed() if item["registration_id"] == c.ids["chloe"]] == [first["code"]]
    assert "has been revoked" in requests.get(c.participant["chloe"]).text

    # The day 1 afternoon's paper list confirms her there: she qualifies again, for 6 credits and with a
    # new code; the revoked one stays revoked for anyone holding the old paper.
    c.scan(201, registration_id=c.ids["chloe"], session="PM1")
    assert c.credits()["chloe"]["total"] == "6"
    requalified = c.issue()
    assert (requalified["issued"], requalified["reissued"]) == (1, 0), requalified
    mine = [item for item in c.listed() if item["registration_id"] == c.ids["chloe"]]
    current = [item for item in mine if not item["revoked"]]
    assert len(mine) == 2 and len(current) == 1 and current[0]["code"] != first["code"]
    assert current[0]["credits"] == "6.00"
    old = verifier.get(first["verify_url"], headers={"Accept": "application/json"}).json()
    new = verifier.get(current[0]["verify_url"], headers={"Accept": "application/json"}).json()
    assert (old["valid"], old["revoked"], old["credits"]) == (False, True, "3")
    assert (new["valid"], new["revoked"], new["participant"], new["credits"]) == (True, False, "Chloé Dubois", "6")
    assert requests.get(first["download_url"]).status_code == 410
    assert "Chloé Dubois" in pdf_text(requests.get(current[0]["download_url"]).content)
    page = requests.get(c.participant["chloe"]).text
    assert "Your certificate is ready" in page and current[0]["code"] in page
    assert c.issue()["issued"] == 0  # and once is enough


def test_verification_is_rate_limited_per_client(congress: Congress) -> None:
    c = congress
    code = c.certificates_by_person["ana"]["code"]
    client = from_address("127.0.0.2")
    answers = [client.get(f"{c.certificates}/verify/{code}", headers={"Accept": "application/json"})
               for _ in range(7)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 2
    limited = answers[-1]
    assert limited.headers["Content-Type"].startswith("application/json")
    assert limited.json()["error"]["code"] == "rate_limited" and limited.json()["error"]["message"]
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    assert client.get(f"{c.certificates}/verify/AAAAA-AAAAA").status_code == 429  # unknown codes count too
    # Another client is not affected.
    other = from_address("127.0.0.4").get(f"{c.certificates}/verify/{code}", headers={"Accept": "application/json"})
    assert other.status_code == 200 and other.json()["valid"] is True
