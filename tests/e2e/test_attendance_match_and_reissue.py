"""Certificates' organiser API for matching a report row by hand and re-issuing one certificate, with
real processes: validation, idempotence, conflicts, another organisation's event and certificate."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import requests

from tests.e2e.test_certificates_journey import TZ, zoom_report
from tests.support.mail import eventually
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e


def test_match_by_hand_and_reissue(tmp_path: Path) -> None:
    with running_stack(tmp_path) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        other = {"Authorization": f"Bearer {stack.create_token('other-society')}"}
        start = (dt.datetime.now(TZ) + dt.timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
        ends = (start + dt.timedelta(minutes=90)).isoformat()
        for slug in ("matching", "elsewhere"):
            requests.post(f"{registration}/api/v1/events", headers=auth, json={
                "slug": slug, "title": "Matching", "kind": "webinar", "starts_at": start.isoformat(), "ends_at": ends,
                "timezone": "Europe/Vienna", "capacity": 100, "currency": "EUR"}).raise_for_status()
            requests.post(f"{registration}/api/v1/events/{slug}/sessions", headers=auth, json={
                "code": "LIVE", "title": "Live", "starts_at": start.isoformat(), "ends_at": ends,
                "credits": "1.5"}).raise_for_status()
            requests.post(f"{registration}/api/v1/events/{slug}/rates", headers=auth, json={
                "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()

        def sign_up(slug: str, email: str) -> dict:
            answer = requests.post(f"{registration}/api/v1/events/{slug}/registrations", json={
                "email": email, "given_name": "Guest", "family_name": "Viewer", "rate": "free", "consent": True})
            assert answer.status_code == 201, answer.text
            return answer.json()

        guest = sign_up("matching", "guest.viewer@hospital.example")  # the report has guest@nowhere.example
        zoe = sign_up("matching", "zoe@szpital.example")
        stranger = sign_up("elsewhere", "someone@elsewhere.example")
        api = f"{certificates}/api/v1/events/matching"
        report = requests.post(f"{api}/attendance-reports", headers=auth,
                               files={"file": ("zoom.csv", zoom_report(start))}).json()
        line = next(r["line"] for r in report["unmatched_rows"] if r["email"] == "guest@nowhere.example")
        match = {"report_id": report["id"], "line": line, "registration_id": guest["id"]}

        assert requests.post(f"{api}/attendance-matches", headers=auth, json={**match, "line": 1}).status_code == 404
        assert requests.post(f"{api}/attendance-matches", headers=auth,
                             json={**match, "report_id": report["id"] + 1}).status_code == 404
        wrong_event = requests.post(f"{api}/attendance-matches", headers=auth,
                                    json={**match, "registration_id": stranger["id"]})
        assert wrong_event.status_code == 422 and "registration_id" in wrong_event.json()["error"]["fields"]
        assert requests.post(f"{api}/attendance-matches", headers=auth, json={"line": line}).status_code == 422
        assert requests.post(f"{api}/attendance-matches", headers=other, json=match).status_code == 404

        matched = requests.post(f"{api}/attendance-matches", headers=auth, json=match)
        assert matched.status_code == 200, matched.text
        assert matched.json()["unmatched"] == report["unmatched"] - 1
        assert matched.json()["matched"] == report["matched"] + 1
        again = requests.post(f"{api}/attendance-matches", headers=auth, json=match)
        assert again.status_code == 200 and again.json()["matched"] == report["matched"] + 1  # changes nothing
        conflict = requests.post(f"{api}/attendance-matches", headers=auth, json={**match, "registration_id": zoe["id"]})
        assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "already_matched"
        attendance_csv = requests.get(f"{api}/attendance", headers=auth).text
        assert f"{guest['id']},guest.viewer@hospital.example,," in attendance_csv

        requests.put(f"{api}/accreditation", headers=auth, json={
            "body": "EACCME®", "statement": "Accredited.", "signatory": "Prof. X"}).raise_for_status()
        job = requests.post(f"{api}/certificates", headers=auth).json()
        eventually(lambda: requests.get(f"{certificates}/api/v1/jobs/{job['id']}", headers=auth)
                   .json()["status"] == "done" or None, timeout=60)
        issued = {c["registration_id"]: c for c in requests.get(f"{api}/certificates", headers=auth).json()["items"]}
        code = issued[guest["id"]]["code"]  # the guest's certificate comes from the row matched by hand

        unchanged = requests.post(f"{certificates}/api/v1/certificates/{code}/reissue", headers=auth)
        assert unchanged.status_code == 200 and unchanged.json()["outcome"] == "unchanged"
        assert requests.post(f"{certificates}/api/v1/certificates/{code}/reissue", headers=other).status_code == 404
        page = requests.Session()
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.get(guest["manage_url"]).text).group(1)
        page.post(guest["manage_url"] + "/name", data={"csrf_token": csrf, "given_name": "Gästa",
                                                       "family_name": "Viewer"}).raise_for_status()
        reissued = requests.post(f"{certificates}/api/v1/certificates/{code}/reissue", headers=auth).json()
        assert (reissued["outcome"], reissued["code"], reissued["revision"]) == ("reissued", code, 2)
        assert reissued["participant"] == "Gästa Viewer"
        requests.post(f"{certificates}/api/v1/certificates/{code}/revoke", headers=auth,
                      json={"reason": "test"}).raise_for_status()
        revoked = requests.post(f"{certificates}/api/v1/certificates/{code}/reissue", headers=auth)
        assert revoked.status_code == 409 and revoked.json()["error"]["code"] == "revoked"

        paths = requests.get(f"{certificates}/openapi.json").json()["paths"]
        assert "post" in paths["/api/v1/events/{slug}/attendance-matches"]
        assert "post" in paths["/api/v1/certificates/{code}/reissue"]
