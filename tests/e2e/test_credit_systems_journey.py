"""A congress day with three credit systems, with real processes: sessions given credits per system
(POST and PATCH, numbers and strings), the rules of each system, door scans, credits per system in
the explanation, the certificate list (JSON and CSV), the PDF with both printed systems' statements
and the verification JSON. The third system requires a claim: until claims exist it is not printed,
but what attendance supports in it is listed."""
from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.support.mail import eventually
from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Vienna")
SLUG = "nvvr-day-2027"
ECMEC_STATEMENT = "The day is accredited by the EACCME® with 6 European CME credits (ECMEC®s)."
NVVTG_STATEMENT = "Geaccrediteerd door de NVvTG met 3 punten voor het register van technisch geneeskundigen."
RCT_STATEMENT = "Approved for 3 radiographer CE credits."


def test_three_credit_systems_on_one_attendance(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        day = dt.datetime.now(TZ).date() - dt.timedelta(days=3)  # held: scans are recorded afterwards

        def at(hour: int, minute: int = 0) -> str:
            return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).isoformat()

        def reg(method: str, path: str, **kwargs: Any) -> requests.Response:
            return requests.request(method, f"{registration}/api/v1/events/{SLUG}{path}", headers=auth, timeout=30,
                                    **kwargs)

        def cert(method: str, path: str, **kwargs: Any) -> requests.Response:
            return requests.request(method, f"{certificates}/api/v1{path}", headers=auth, timeout=30, **kwargs)

        assert requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": SLUG, "title": "NVvR Imaging Day", "kind": "conference", "starts_at": at(8),
            "ends_at": at(18), "timezone": "Europe/Vienna", "capacity": 50, "currency": "EUR",
            "venue": "Jaarbeurs, Utrecht",
            "registration_closes_at": (dt.datetime.now(TZ) + dt.timedelta(days=1)).isoformat()}).status_code == 201
        reg("POST", "/rates", json={"code": "free", "name": "Free", "amount": 0, "currency": "EUR",
                                    "category": "other"}).raise_for_status()
        # The morning first with a plain decimal (the first system's only), then by system, by PATCH.
        morning = reg("POST", "/sessions", json={"code": "AM", "title": "Cardiac CT", "starts_at": at(9),
                                                 "ends_at": at(12), "credits": 3})
        assert morning.status_code == 201 and morning.json()["credits_by_system"] is None, morning.text
        patched = reg("PATCH", "/sessions/AM", json={"credits": {"ECMEC": 3, "NVVTG": "3", "RCT": "3.00"}})
        assert patched.status_code == 200, patched.text
        assert patched.json()["credits_by_system"] == {"ECMEC": "3.00", "NVVTG": "3.00", "RCT": "3.00"}
        afternoon = reg("POST", "/sessions", json={"code": "PM", "title": "Physics of photon counting",
                                                   "starts_at": at(14), "ends_at": at(17), "credits": {"ECMEC": "3"}})
        assert afternoon.status_code == 201, afternoon.text
        refused = reg("PATCH", "/sessions/PM", json={"credits": {"ecmec": "1", "NVVTG": -1}})
        assert refused.status_code == 422
        assert set(refused.json()["error"]["fields"]["credits"]) == {"ecmec", "NVVTG"}
        assert reg("PATCH", "/sessions/NOPE", json={"title": "x"}).status_code == 404

        ids = {}
        for key, given, family in (("ana", "Ana", "de Vries"), ("ben", "Ben", "Jansen")):
            signed = requests.post(f"{registration}/api/v1/events/{SLUG}/registrations", json={
                "email": f"{key}@ziekenhuis.example", "given_name": given, "family_name": family, "rate": "free",
                "consent": True})
            assert signed.status_code == 201, signed.text
            ids[key] = signed.json()["id"]

        systems = [
            {"code": "ECMEC", "name": "European CME credits (ECMEC®s)", "body": "EACCME®", "statement": ECMEC_STATEMENT,
             "credit_step": 0.5, "max_credits_per_day": 4},
            {"code": "NVVTG", "name": "NVvTG punten", "body": "NVvTG", "statement": NVVTG_STATEMENT,
             "credit_step": "1", "credit_mode": "session", "min_session_share": "0.5"},
            {"code": "RCT", "name": "radiographer CE credits", "body": "RCT", "statement": RCT_STATEMENT,
             "credit_step": 0.25, "claim_required": True, "claim_closes_at": at(23)},
        ]
        common = {"signatory": "Dr. Eva de Vries"}
        duplicate = cert("PUT", f"/events/{SLUG}/accreditation", json={**common, "credit_systems": [systems[0]] * 2})
        assert duplicate.status_code == 422 and "ECMEC" in duplicate.text
        mixed = cert("PUT", f"/events/{SLUG}/accreditation", json={**common, "credit_systems": systems,
                                                                     "credit_step": "0.5"})
        assert mixed.status_code == 422 and "credit_step" in mixed.text
        put = cert("PUT", f"/events/{SLUG}/accreditation", json={**common, "credit_systems": systems})
        assert put.status_code == 200, put.text
        assert [s["code"] for s in put.json()["credit_systems"]] == ["ECMEC", "NVVTG", "RCT"]
        assert put.json()["credit_systems"][0]["credit_step"] == "0.50"
        assert put.json()["credit_step"] == "0.50" and put.json()["body"] == "EACCME®"  # the first system's

        def scan(person: str, session: str, moment: str, check_out: bool = False) -> None:
            response = cert("POST", f"/events/{SLUG}/check-ins", json={
                "registration_id": ids[person], "session": session, "at": moment, "check_out": check_out})
            assert response.status_code in (200, 201), response.text

        scan("ana", "AM", at(9))
        scan("ana", "AM", at(11, 10), check_out=True)  # 130 of 180 minutes
        scan("ana", "PM", at(14))                        # the whole afternoon
        scan("ben", "PM", at(14))

        # Ana, by hand:
        # ECMEC (proportional, step 0.5, 4 a day): AM 130 min = 2.17 h -> 2; PM 3 h -> 3; 5 capped at 4.
        # NVVTG (session mode, share 0.5, step 1): AM 130/180 = 72 % >= 50 % -> its 3; PM carries none.
        # RCT (proportional, step 0.25, claim required): AM 2.17 h -> 2 (8 quarters); PM carries none.
        explained = cert("GET", f"/events/{SLUG}/credits", params={"registration_id": ids["ana"]}).json()["items"][0]
        assert explained["total"] == "4" and explained["certificate"] is True
        assert {s["code"]: s["total"] for s in explained["systems"]} == {"ECMEC": "4", "NVVTG": "3", "RCT": "2"}
        assert [s["code"] for s in explained["systems"][1]["sessions"]] == ["AM"]

        started = cert("POST", f"/events/{SLUG}/certificates")
        assert started.status_code == 202
        job = eventually(lambda: (lambda j: j if j["status"] in ("done", "failed") else None)(
            cert("GET", f"/jobs/{started.json()['id']}").json()), timeout=60)
        assert (job["status"], job["issued"]) == ("done", 2), job

        listed = {c["registration_id"]: c for c in cert("GET", f"/events/{SLUG}/certificates").json()["items"]}
        ana, ben = listed[ids["ana"]], listed[ids["ben"]]
        assert ana["credits"] == "4.00"
        assert ana["credits_by_system"] == {"ECMEC": "4", "NVVTG": "3"}
        assert ana["supported_by_system"] == {"RCT": "2"}
        # Ben, by hand: ECMEC PM 3 h -> 3 (under the cap); NVVTG nothing (PM carries none); RCT nothing.
        assert ben["credits_by_system"] == {"ECMEC": "3"} and ben["supported_by_system"] == {"RCT": "0"}

        exported = cert("GET", f"/events/{SLUG}/certificates", params={"format": "csv"})
        rows = {row["registration_id"]: row for row in csv.DictReader(io.StringIO(exported.text.lstrip("\ufeff")))}
        assert (rows[str(ids["ana"])]["credits_ECMEC"], rows[str(ids["ana"])]["credits_NVVTG"],
                rows[str(ids["ana"])]["supported_RCT"]) == ("4", "3", "2")
        assert rows[str(ids["ben"])]["credits_NVVTG"] == ""

        text = " ".join(pdf_text(requests.get(ana["download_url"], timeout=30).content).split())
        assert "4 European CME credits (ECMEC®s)" in text and "3 NVvTG punten" in text
        assert ECMEC_STATEMENT in text and NVVTG_STATEMENT in text and RCT_STATEMENT not in text
        single = " ".join(pdf_text(requests.get(ben["download_url"], timeout=30).content).split())
        assert "3 European CME credits (ECMEC®s)" in single and NVVTG_STATEMENT not in single

        verified = requests.get(ana["verify_url"], headers={"Accept": "application/json"}, timeout=30).json()
        assert verified["valid"] is True and verified["credits_by_system"] == {"ECMEC": "4", "NVVTG": "3"}
