"""Webinar to verified certificate, with real processes: sign-ups, the Zoom report, credit rules,
the issuing job, mails in the SMTP sink, the PDF and its QR code, verification, re-issue, revocation."""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from devtools.smtp_sink import SmtpSink
from tests.support.mail import eventually
from tests.support.pdf import pdf_text, qr_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Vienna")
PEOPLE = {  # email: (given, family)
    "zoe@szpital.example": ("Zoë", "Łukasiewicz"),
    "g.papadopoulos@iatriko.example": ("Γιώργος", "Παπαδόπουλος"),
    "wang@hospital.example": ("小明", "王"),
    "ana@clinico.example": ("Ana", "Núñez"),
    "aiko@hospital.example": ("Aiko", "Yamada"),
}
ZOOM_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def zoom_report(start: dt.datetime) -> bytes:
    """A Zoom webinar attendee report as Zoom writes it: local times without offset, a rejoin,
    two devices, a guest nobody registered, and someone who did not attend."""
    local = start.astimezone(TZ).replace(tzinfo=None)

    def at(minutes: float) -> str:
        return (local + dt.timedelta(minutes=minutes)).strftime(ZOOM_FORMAT)

    rows = [
        ("Yes", "Zoë Łukasiewicz", "zoe@szpital.example", at(-5), at(95)),          # all 90 min
        ("Yes", "Γιώργος Παπαδόπουλος", "G.Papadopoulos@iatriko.example", at(2), at(40)),   # rejoin:
        ("Yes", "Γιώργος Παπαδόπουλος", "g.papadopoulos@iatriko.example", at(44), at(90)),  # 38 + 46 = 84 min
        ("Yes", "王小明", "wang@hospital.example", at(0), at(50)),                     # two devices:
        ("Yes", "王小明 (iPad)", "wang@hospital.example", at(30), at(65)),              # 65 min
        ("Yes", "Núñez, Ana", "ana@clinico.example", at(20), at(50)),                 # 30 min, below 50 %
        ("Yes", "Guest Viewer", "guest@nowhere.example", at(0), at(90)),
        ("No", "Aiko Yamada", "aiko@hospital.example", "--", "--"),
    ]
    out = io.StringIO()
    out.write("Attendee Report\r\nReport Generated:,\"01/01/2027 09:00 AM\"\r\n")
    out.write("Topic,Webinar ID,Actual Start Time,Actual Duration (minutes)\r\n")
    out.write(f"\"Lesion tracking with AI\",812 3456 7890,\"{at(-5)}\",100\r\n")
    out.write("Attendee Details\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Attended", "User Name (Original Name)", "First Name", "Last Name", "Email",
                     "Registration Time", "Approval Status", "Join Time", "Leave Time",
                     "Time in Session (minutes)", "Is Guest", "Country/Region Name"])
    for attended, name, email, join, leave in rows:
        writer.writerow([attended, name, "", "", email, at(-6000), "approved", join, leave, "", "No", "Austria"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def test_webinar_attendance_becomes_verified_certificates(tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink, running_stack(tmp_path, SMTP_PORT=str(sink.port)) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        start = (dt.datetime.now(TZ) + dt.timedelta(days=3)).replace(hour=18, minute=0, second=0, microsecond=0)
        event = requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": "lesion-tracking", "title": "Lesion tracking with AI", "kind": "webinar",
            "starts_at": start.isoformat(), "ends_at": (start + dt.timedelta(minutes=90)).isoformat(),
            "timezone": "Europe/Vienna", "capacity": 100, "currency": "EUR", "join_url": "https://zoom.us/j/1"})
        assert event.status_code == 201
        slug = "lesion-tracking"
        requests.post(f"{registration}/api/v1/events/{slug}/sessions", headers=auth, json={
            "code": "LIVE", "title": "Live webinar", "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=90)).isoformat(), "credits": "1.5"}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/{slug}/rates", headers=auth, json={
            "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
        ids, manage = {}, {}
        for email, (given, family) in PEOPLE.items():
            response = requests.post(f"{registration}/api/v1/events/{slug}/registrations", json={
                "email": email, "given_name": given, "family_name": family, "rate": "free", "consent": True})
            ids[email], manage[email] = response.json()["id"], response.json()["manage_url"]
        sink.wait_for(len(PEOPLE), timeout=30)
        sink.clear()

        # Credit rules before anything can be issued.
        assert requests.post(f"{certificates}/api/v1/events/{slug}/certificates", headers=auth).status_code == 409
        rules = requests.put(f"{certificates}/api/v1/events/{slug}/accreditation", headers=auth, json={
            "body": "EACCME®", "statement": "The webinar is accredited by the EACCME® with 1.5 European CME "
            "credits (ECMEC®s). Each medical specialist should claim only those hours of credit actually spent.",
            "credit_step": "0.5", "min_session_share": "0.5", "max_credits": "1.5",
            "signatory": "Prof. Dr. Eva de Vries", "signatory_title": "Chair, Education Committee"})
        assert rules.status_code == 200, rules.text

        # A report that cannot be read is rejected whole, naming the line.
        local_start = (start - dt.timedelta(minutes=5)).astimezone(TZ).strftime(ZOOM_FORMAT).encode()
        broken = zoom_report(start).replace(local_start + b",", b"13/45/2027 10:00:00 AM,")
        refused = requests.post(f"{certificates}/api/v1/events/{slug}/attendance-reports", headers=auth,
                                files={"file": ("broken.csv", broken)})
        assert refused.status_code == 422 and "line 7" in refused.json()["error"]["message"], refused.text
        assert requests.get(f"{certificates}/api/v1/events/{slug}/attendance-reports",
                            headers=auth).json()["items"] == []

        report = zoom_report(start)
        uploaded = requests.post(f"{certificates}/api/v1/events/{slug}/attendance-reports", headers=auth,
                                 files={"file": ("zoom.csv", report)})
        assert uploaded.status_code == 201, uploaded.text
        body = uploaded.json()
        assert (body["rows_read"], body["matched"], body["unmatched"]) == (7, 6, 1)
        assert body["unmatched_rows"][0]["email"] == "guest@nowhere.example"
        again = requests.post(f"{certificates}/api/v1/events/{slug}/attendance-reports", headers=auth,
                              files={"file": ("zoom-again.csv", report)})
        assert again.status_code == 200 and again.json()["repeated"] is True

        # Why did Γιώργος get 1 and not 1.5? The explanation says.
        explained = requests.get(f"{certificates}/api/v1/events/{slug}/credits", headers=auth,
                                 params={"registration_id": ids["g.papadopoulos@iatriko.example"]}).json()["items"][0]
        assert explained["total"] == "1" and explained["sessions"][0]["attended_minutes"] == 84

        job = requests.post(f"{certificates}/api/v1/events/{slug}/certificates", headers=auth)
        assert job.status_code == 202
        finished = eventually(lambda: (lambda j: j if j["status"] == "done" else None)(
            requests.get(f"{certificates}/api/v1/jobs/{job.json()['id']}", headers=auth).json()), timeout=60)
        assert (finished["total"], finished["issued"], finished["not_eligible"]) == (5, 3, 2)

        listed = {c["email"]: c for c in requests.get(f"{certificates}/api/v1/events/{slug}/certificates",
                                                      headers=auth).json()["items"]}
        assert {email: c["credits"] for email, c in listed.items()} == {
            "zoe@szpital.example": "1.50", "g.papadopoulos@iatriko.example": "1.00", "wang@hospital.example": "1.00"}
        mails = {m["To"]: m for m in sink.wait_for(3, timeout=30)}
        giorgos = listed["g.papadopoulos@iatriko.example"]
        text = mails["g.papadopoulos@iatriko.example"].get_body(("plain",)).get_content()
        assert giorgos["download_url"] in text and giorgos["code"] in text

        for email in ("g.papadopoulos@iatriko.example", "wang@hospital.example", "zoe@szpital.example"):
            pdf = requests.get(listed[email]["download_url"])
            assert pdf.headers["Content-Type"] == "application/pdf"
            printed = pdf_text(pdf.content)
            given, family = PEOPLE[email]
            # Names in Han script print family name first (the default of a sign-up that does not choose).
            in_order = f"{family} {given}" if email == "wang@hospital.example" else f"{given} {family}"
            assert in_order in printed and listed[email]["code"] in printed
            assert "EACCME" in printed and "Online" in printed
        assert "1.5" in pdf_text(requests.get(listed["zoe@szpital.example"]["download_url"]).content)

        pdf = requests.get(giorgos["download_url"]).content
        verify_url = qr_text(pdf, tmp_path)
        assert verify_url == giorgos["verify_url"] == f"{certificates}/verify/{giorgos['code']}"
        verified = requests.get(verify_url, headers={"Accept": "application/json"}).json()
        assert verified["valid"] is True and verified["participant"] == "Γιώργος Παπαδόπουλος"
        assert (verified["event"], verified["credits"], verified["revoked"]) == ("Lesion tracking with AI", "1", False)
        assert "Valid certificate" in requests.get(verify_url).text
        unknown = requests.get(f"{certificates}/verify/AAAAA-AAAAA", headers={"Accept": "application/json"})
        assert unknown.status_code == 404 and unknown.json()["valid"] is False

        badge = requests.get(giorgos["badge_url"]).json()
        assert "OpenBadgeCredential" in badge["type"] and badge["credentialSubject"]["creditsEarned"] == 1.0

        # Zoë corrects the spelling of her name: re-issuing keeps her code and records a revision.
        zoe = listed["zoe@szpital.example"]
        browser = requests.Session()
        page = browser.get(manage["zoe@szpital.example"]).text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        corrected = browser.post(manage["zoe@szpital.example"] + "/name", data={
            "csrf_token": csrf, "given_name": "Zoë Anna", "family_name": "Łukasiewicz-Nowak"})
        assert corrected.status_code == 200 and "Zoë Anna Łukasiewicz-Nowak" in corrected.text
        sink.clear()
        again = requests.post(f"{certificates}/api/v1/events/{slug}/certificates", headers=auth).json()
        rerun = eventually(lambda: (lambda j: j if j["status"] == "done" else None)(
            requests.get(f"{certificates}/api/v1/jobs/{again['id']}", headers=auth).json()), timeout=60)
        assert (rerun["issued"], rerun["reissued"], rerun["unchanged"]) == (0, 1, 2)
        reissued = requests.get(zoe["verify_url"], headers={"Accept": "application/json"}).json()
        assert (reissued["participant"], reissued["revision"]) == ("Zoë Anna Łukasiewicz-Nowak", 2)
        assert "Zoë Anna Łukasiewicz-Nowak" in pdf_text(requests.get(zoe["download_url"]).content)
        assert [m["To"] for m in sink.wait_for(1, timeout=30)] == ["zoe@szpital.example"]

        requests.post(f"{certificates}/api/v1/certificates/{giorgos['code']}/revoke", headers=auth,
                      json={"reason": "issued in error"}).raise_for_status()
        revoked = requests.get(verify_url, headers={"Accept": "application/json"}).json()
        assert revoked["valid"] is False and revoked["revoked"] is True
        assert "revoked" in requests.get(verify_url).text
        assert requests.get(giorgos["download_url"]).status_code == 410

        exported = requests.get(f"{certificates}/api/v1/events/{slug}/certificates", headers=auth,
                                params={"format": "csv"}).text
        assert "Γιώργος Παπαδόπουλος" in exported and ",True," in exported
        attendance_csv = requests.get(f"{certificates}/api/v1/events/{slug}/attendance", headers=auth).text
        assert attendance_csv.count("zoom-webinar-attendee") == 6
