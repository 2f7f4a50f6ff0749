"""A congress day with two credit systems, with real processes: ECMEC (the evaluation required) and
NVvTG points (session mode, a claim required, 2 presence codes per session). The participant,
checked in at the door, enters the codes announced live on their page (an expired, a wrong and a
repeated code are refused or counted once), completes the evaluations, claims (over the supported
credits and off the step refused, under them accepted), and the certificate, issued at the claim,
shows both systems with the claimed points; the organiser sees claimed against supported and exports
the evaluation results."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Vienna")
SLUG = "ntvg-day-2027"
ECMEC_STATEMENT = "The day is accredited by the EACCME® with 6 European CME credits (ECMEC®s)."
NVVTG_STATEMENT = "Geaccrediteerd door de NVvTG met 6 punten voor het register van technisch geneeskundigen."


class Page:
    """The participant's browser on their page: each form posts with the page's CSRF token."""

    def __init__(self, link: str) -> None:
        self.link = link
        self.browser = requests.Session()

    def get(self) -> str:
        page = self.browser.get(self.link, timeout=30)
        assert page.status_code == 200, page.text
        return page.text

    def post(self, data: dict[str, str]) -> requests.Response:
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', self.get()).group(1)
        return self.browser.post(self.link, data={"csrf_token": csrf, **data}, timeout=30)

    def code(self, code: str) -> requests.Response:
        return self.post({"action": "code", "code": code})

    def claim(self, amount: str, attest: bool = True) -> requests.Response:
        return self.post({"action": "claim", "system": "NVVTG", "claim-NVVTG": amount,
                          **({"attest-NVVTG": "yes"} if attest else {})})


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())


def test_codes_evaluation_claim_and_certificate(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('ntvg')}"}
        now = dt.datetime.now(TZ)
        day = now.date() - dt.timedelta(days=3)  # held: the door scans are recorded afterwards

        def at(hour: int, minute: int = 0) -> str:
            return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).isoformat()

        def api(method: str, path: str, **kwargs: Any) -> requests.Response:
            return requests.request(method, f"{certificates}/api/v1/events/{SLUG}{path}", headers=auth, timeout=30,
                                    **kwargs)

        assert requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": SLUG, "title": "NVvTG Imaging Day", "kind": "conference", "starts_at": at(8),
            "ends_at": at(18), "timezone": "Europe/Vienna", "capacity": 50, "currency": "EUR",
            "venue": "Jaarbeurs, Utrecht",
            "registration_closes_at": (now + dt.timedelta(days=1)).isoformat()}).status_code == 201
        for code, title, start, end in (("AM", "Cardiac CT", 9, 12), ("PM", "Photon counting CT", 14, 17)):
            requests.post(f"{registration}/api/v1/events/{SLUG}/sessions", headers=auth, json={
                "code": code, "title": title, "starts_at": at(start), "ends_at": at(end),
                "credits": {"ECMEC": 3, "NVVTG": "3"}}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/{SLUG}/rates", headers=auth, json={
            "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
        signed = requests.post(f"{registration}/api/v1/events/{SLUG}/registrations", json={
            "email": "ana@ziekenhuis.example", "given_name": "Ana", "family_name": "de Vries", "rate": "free",
            "consent": True})
        assert signed.status_code == 201, signed.text
        ana = signed.json()["id"]
        manage = requests.get(signed.json()["manage_url"], timeout=30).text
        link = re.search(r'<a href="([^"]+)">Complete the evaluation and get your attendance certificate</a>', manage)
        page = Page(link.group(1).replace("&amp;", "&"))

        put = api("PUT", "/accreditation", json={
            "signatory": "Dr. Eva de Vries",
            "evaluation_questions": [{"id": "overall", "text": "How was the day?", "kind": "rating"}],
            "session_questions": [{"id": "quality", "text": "How was this session?", "kind": "rating"}],
            "credit_systems": [
                {"code": "ECMEC", "name": "European CME credits (ECMEC®s)", "body": "EACCME®",
                 "statement": ECMEC_STATEMENT, "credit_step": 0.5, "evaluation_required": True},
                {"code": "NVVTG", "name": "NVvTG punten", "body": "NVvTG", "statement": NVVTG_STATEMENT,
                 "credit_step": "1", "credit_mode": "session", "min_session_share": "0.5", "claim_required": True,
                 "presence_codes_required": 2, "evaluation_required": True,
                 "claim_closes_at": (now + dt.timedelta(days=1)).isoformat(timespec="seconds")}]})
        assert put.status_code == 200, put.text

        # Codes announced live: three valid now, one that expired a minute ago, one in the session's own window.
        live = {"valid_from": (now - dt.timedelta(hours=1)).isoformat(timespec="seconds"),
                "valid_until": (now + dt.timedelta(hours=1)).isoformat(timespec="seconds")}
        created = {}
        for name, body in (("am1", {"session": "AM", "code": "heart-27", **live}),
                           ("am2", {"session": "AM", **live}),
                           ("pm1", {"session": "PM", "code": "PHOTON", **live}),
                           ("pm2", {"session": "PM", "code": "LATE42",
                                    "valid_from": (now - dt.timedelta(hours=2)).isoformat(timespec="seconds"),
                                    "valid_until": (now - dt.timedelta(minutes=1)).isoformat(timespec="seconds")})):
            answer = api("POST", "/presence-codes", json=body)
            assert answer.status_code == 201, answer.text
            created[name] = answer.json()
        assert created["am1"]["code"] == "HEART27"
        assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTVWXYZ]{6}", created["am2"]["code"])
        in_window = api("POST", "/presence-codes", json={"session": "PM", "code": "HALLWAY"}).json()
        assert (in_window["valid_from"], in_window["valid_until"]) == (
            dt.datetime.fromisoformat(at(14)).astimezone(dt.UTC).isoformat(),
            dt.datetime.fromisoformat(at(17)).astimezone(dt.UTC).isoformat())
        assert api("POST", "/presence-codes", json={"session": "AM", "code": "Heart 27"}).status_code == 409
        assert api("POST", "/presence-codes", json={"session": "NOPE"}).status_code == 422
        assert api("POST", "/presence-codes", json={"session": "AM", **live,
                                                     "valid_until": live["valid_from"]}).status_code == 422

        for session in ("AM", "PM"):
            assert api("POST", "/check-ins", json={"registration_id": ana, "session": session,
                                                   "at": at(9 if session == "AM" else 14)}).status_code == 201

        # The participant enters the codes.
        assert "HEART27 counted for AM Cardiac CT" in _text(page.code("heart 27").text)
        assert "counted for AM" in _text(page.code(created["am2"]["code"].lower()).text)
        assert "counted for PM" in _text(page.code("PHOTON").text)
        again = page.code("PHOTON")
        assert again.status_code == 200 and "You entered PHOTON already; it counts once" in _text(again.text)
        expired = page.code("LATE42")
        assert expired.status_code == 422 and "LATE42 expired at" in _text(expired.text)
        early = page.code("HALLWAY")
        assert early.status_code == 422 and "HALLWAY expired at" in _text(early.text)  # its window was 3 days ago
        wrong = page.code("NOTACODE")
        assert wrong.status_code == 422 and "NOTACODE is not a code of this event" in _text(wrong.text)
        listed = {c["code"]: c["entered"] for c in api("GET", "/presence-codes").json()["items"]}
        assert listed == {"HEART27": 1, created["am2"]["code"]: 1, "PHOTON": 1, "LATE42": 0, "HALLWAY": 0}

        # By hand: ECMEC (proportional, 0.5): AM 3 h -> 3, PM 3 h -> 3: 6, once evaluated.
        # NVVTG (session mode, 2 codes required): AM 2 of 2 -> its 3; PM 1 of 3 -> nothing: supports 3.
        explained = api("GET", "/credits", params={"registration_id": ana}).json()["items"][0]
        assert {s["code"]: s["total"] for s in explained["systems"]} == {"ECMEC": "6", "NVVTG": "3"}
        assert "1 of 3 presence codes entered for PM, 2 required: no credits in NVVTG" in explained["explanation"]
        assert explained["certificate"] is False and explained["supported_by_system"] == {"NVVTG": "3"}

        before = page.claim("3")
        assert before.status_code == 422 and "Complete the evaluation first" in _text(before.text)
        evaluated = page.post({"overall": "4", "s-AM-quality": "5", "s-PM-quality": "3"})
        assert evaluated.status_code == 200 and "your evaluation is recorded" in _text(evaluated.text)
        shown = _text(page.get())
        assert "Your attendance supports at most 3 NVvTG punten" in shown
        assert "I claim only the credit commensurate with the extent of my participation" in shown

        over = page.claim("3.5")
        assert over.status_code == 422
        assert "Your attendance supports at most 3 NVvTG punten; claim that or less." in _text(over.text)
        assert "Claim in steps of 1" in _text(page.claim("1.5").text)
        assert "Claim at least 1" in _text(page.claim("-1").text)
        unattested = page.claim("2", attest=False)
        assert unattested.status_code == 422 and "Tick the attestation" in _text(unattested.text)
        assert api("GET", "/certificates").json()["items"] == []  # nothing recorded by refusals

        claimed = page.claim("2")
        assert claimed.status_code == 200 and "Your claim of 2 NVvTG punten is recorded" in _text(claimed.text)
        assert "Your certificate is ready: 6 European CME credits (ECMEC®s), 2 NVvTG punten" in _text(claimed.text)
        assert page.claim("2").status_code == 200  # the same claim again changes nothing

        items = api("GET", "/certificates").json()["items"]
        assert len(items) == 1
        certificate = items[0]
        assert certificate["revision"] == 1 and certificate["credits"] == "6.00"
        assert certificate["credits_by_system"] == {"ECMEC": "6", "NVVTG": "2"}
        assert certificate["supported_by_system"] == {"NVVTG": "3"}
        exported = api("GET", "/certificates", params={"format": "csv"})
        row = next(csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff"))))
        assert (row["credits_ECMEC"], row["credits_NVVTG"], row["supported_NVVTG"]) == ("6", "2", "3")
        text = " ".join(pdf_text(requests.get(certificate["download_url"], timeout=30).content).split())
        assert "6 European CME credits (ECMEC®s)" in text and "2 NVvTG punten" in text
        assert ECMEC_STATEMENT in text and NVVTG_STATEMENT in text

        # The issuing job afterwards finds the certificate as the claim left it.
        job = api("POST", "/certificates")
        assert job.status_code == 202

        results = api("GET", "/evaluation-results").json()
        assert results["overall"]["responses"] == 1 and results["overall"]["questions"][0]["mean"] == "4.00"
        assert [(s["code"], s["questions"][0]["mean"]) for s in results["sessions"]] == [("AM", "5.00"),
                                                                                       ("PM", "3.00")]
        exported_results = api("GET", "/evaluation-results", params={"format": "csv"})
        assert exported_results.status_code == 200 and "How was this session?" in exported_results.text
