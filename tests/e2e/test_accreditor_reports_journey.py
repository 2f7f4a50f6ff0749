"""Learner identifiers and the reports to accreditors with real processes: a day with two credit systems (AMA
credits asking for a US board ID, required; NVvTG points asking for a BIG number, optional), two
participants checked in at the door, one of whom gives her identifiers on her page (a wrong BIG number and
a missing consent refused first); certificates issued; the organiser downloads the PARS .xlsx, the
summary (JSON and PDF, participants by country and profession from the sign-up's answers) and the learner
CSV; another organisation's token gets 404; the privacy export lists the identifiers and erasure deletes them."""
from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import requests

from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("America/Chicago")
SLUG = "cardiac-ct-day"
PARS_CONSENT = "I agree that my board ID and month and day of birth are reported to ACCME's PARS."
BIG_CONSENT = "Ik geef toestemming mijn BIG-nummer te melden."


def test_identifiers_on_the_participant_page_and_the_three_reports(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('acme')}"}
        stranger = {"Authorization": f"Bearer {stack.create_token('other')}"}
        now = dt.datetime.now(TZ)
        day = now.date() - dt.timedelta(days=3)

        def at(hour: int) -> str:
            return dt.datetime(day.year, day.month, day.day, hour, tzinfo=TZ).isoformat()

        def api(method: str, path: str, headers: dict[str, str] = auth, **kwargs: Any) -> requests.Response:
            return requests.request(method, f"{certificates}/api/v1/events/{SLUG}{path}", headers=headers,
                                    timeout=30, **kwargs)

        assert requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": SLUG, "title": "Cardiac CT Day", "kind": "conference", "starts_at": at(8), "ends_at": at(17),
            "timezone": "America/Chicago", "capacity": 50, "currency": "USD",
            "registration_closes_at": (now + dt.timedelta(days=1)).isoformat()}).status_code == 201
        requests.post(f"{registration}/api/v1/events/{SLUG}/sessions", headers=auth, json={
            "code": "AM", "title": "Cardiac CT", "starts_at": at(9), "ends_at": at(12),
            "credits": {"AMA": "3", "NVVTG": "3"}}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/{SLUG}/rates", headers=auth, json={
            "code": "free", "name": "Free", "amount": 0, "currency": "USD", "category": "other"}).raise_for_status()
        people = {}
        for email, given, family, answers in (
                ("ann@clinic.example", "Ann", "Archer", {"country": "US", "profession": "Radiologist"}),
                ("bas@ziekenhuis.example", "Bas", "de Boer", {"country": "NL", "profession": "Radiographer"})):
            signed = requests.post(f"{registration}/api/v1/events/{SLUG}/registrations", json={
                "email": email, "given_name": given, "family_name": family, "rate": "free", "consent": True,
                "answers": answers})
            assert signed.status_code == 201, signed.text
            people[given] = signed.json()
        put = api("PUT", "/accreditation", json={"signatory": "Dr. Eva Chen", "credit_systems": [
            {"code": "AMA", "name": "AMA PRA Category 1 Credits™", "body": "ACCME", "statement": "Designated.",
             "credit_step": "0.25",
             "identifiers": [{"kind": "abim_pars", "required": True, "consent_text": PARS_CONSENT}]},
            {"code": "NVVTG", "name": "NVvTG punten", "body": "NVvTG", "statement": "Geaccrediteerd.",
             "credit_step": "1", "identifiers": [{"kind": "big", "consent_text": BIG_CONSENT}]}]})
        assert put.status_code == 200, put.text
        assert put.json()["credit_systems"][0]["identifiers"][0]["kind"] == "abim_pars"
        for person in people.values():
            assert api("POST", "/check-ins", json={"registration_id": person["id"], "session": "AM",
                                                   "at": at(9)}).status_code == 201

        # Ann gives her identifiers on her page: refused without consent and with a wrong BIG number, then kept.
        manage = requests.get(people["Ann"]["manage_url"], timeout=30).text
        link = re.search(r'<a href="([^"]+/participants/[^"]+)">', manage)
        assert link, manage
        browser, page_url = requests.Session(), link.group(1).replace("&amp;", "&")

        def post(data: dict[str, str]) -> requests.Response:
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', browser.get(page_url, timeout=30).text).group(1)
            return browser.post(page_url, data={"csrf_token": csrf, "action": "identifiers", **data}, timeout=30)

        board = {"ident-AMA-abim_pars-board": "ABIM", "ident-AMA-abim_pars": "654321",
                 "ident-AMA-abim_pars-month": "7", "ident-AMA-abim_pars-day": "4"}
        page = html.unescape(browser.get(page_url, timeout=30).text)
        assert PARS_CONSENT in page and "Required by ACCME to report your credits" in page
        refused = post({**board, "ident-NVVTG-big": "1234", "ident-NVVTG-big-consent": "yes"})
        assert refused.status_code == 422
        assert "A BIG number has 11 digits." in refused.text and "Tick the box to agree" in refused.text
        saved = post({**board, "ident-AMA-abim_pars-consent": "yes", "ident-NVVTG-big": "19012345601",
                      "ident-NVVTG-big-consent": "yes"})
        assert saved.status_code == 200 and "Your identifiers are saved." in saved.text
        assert "Required by ACCME" not in saved.text

        job = api("POST", "/certificates").json()
        deadline = time.monotonic() + 60
        while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
            time.sleep(0.3)
            job = requests.get(f"{certificates}/api/v1/jobs/{job['id']}", headers=auth, timeout=30).json()
        assert (job["status"], job["issued"]) == ("done", 2), job

        pars = api("GET", "/accreditor-reports/pars", params={"system": "AMA"})
        assert pars.status_code == 200, pars.text
        book = openpyxl.load_workbook(io.BytesIO(pars.content))
        rows = list(book["Learners"].iter_rows(values_only=True))
        assert rows[0][:5] == ("Activity ID", "First Name", "Last Name", "Certifying Board", "Board ID")
        assert rows[1:] == [(None, "Ann", "Archer", "ABIM", "654321", 7, 4,
                             dt.datetime(day.year, day.month, day.day), 3)]
        assert [r[:2] for r in book["Not reportable"].iter_rows(values_only=True)][1:] == [("Bas", "de Boer")]

        learners = list(csv.reader(io.StringIO(api("GET", "/accreditor-reports/learners",
                                                   params={"system": "NVVTG"}).text)))
        assert learners[0][-4:] == ["big", "big_consented_at", "reportable", "missing"]
        assert [(r[2], r[4], r[8], r[9], r[-2]) for r in learners[1:]] == [
            ("Ann", "US", "3", "19012345601", "True"), ("Bas", "NL", "3", "", "True")]

        summary = api("GET", "/accreditor-reports/summary", params={"system": "AMA"})
        assert summary.status_code == 200, summary.text
        found = summary.json()
        assert found["participants"]["by_profession"] == [
            {"value": "Radiographer", "participants": 1, "learners": 1},
            {"value": "Radiologist", "participants": 1, "learners": 1}]
        assert (found["participants"]["learners"], found["participants"]["reportable"]) == (2, 1)
        assert found["faculty"] == {"available": True, "items": []}
        pdf = api("GET", "/accreditor-reports/summary", params={"system": "AMA", "format": "pdf"})
        assert pdf.headers["Content-Type"] == "application/pdf" and "Cardiac CT Day" in pdf_text(pdf.content)

        assert api("GET", "/accreditor-reports/pars", headers=stranger, params={"system": "AMA"}).status_code == 404
        assert api("GET", "/accreditor-reports/pars", params={"system": "XYZ"}).status_code == 422

        exported = requests.get(f"{registration}/api/v1/privacy/export", headers=auth, timeout=30,
                                params={"email": "ann@clinic.example"})
        assert exported.status_code == 200, exported.text
        assert {(i["kind"], i["value"]) for i in exported.json()["certificates"]["learner_identifiers"]} == {
            ("abim_pars", "654321"), ("big", "19012345601")}
        erased = requests.post(f"{registration}/api/v1/privacy/erase", headers=auth, timeout=30,
                               json={"email": "ann@clinic.example"})
        assert erased.status_code == 200, erased.text
        after = list(book_rows(api("GET", "/accreditor-reports/pars", params={"system": "AMA"}).content))
        assert after == [("Activity ID", "First Name", "Last Name", "Certifying Board", "Board ID", "DOB Month",
                          "DOB Day", "Completion Date", "CME Credits")]


def book_rows(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data))["Learners"].iter_rows(values_only=True)
