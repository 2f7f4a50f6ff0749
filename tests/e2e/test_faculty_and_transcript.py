"""Faculty disclosures and the learner's transcript through real processes and the SMTP sink: the
speaker's link arrives by mail, their attested statement shows on the event page; a participant with
a certificate asks for their transcript, the link arrives by mail and opens their certificates."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import requests

from devtools.smtp_sink import SmtpSink
from tests.support.mail import eventually
from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e


def _csrf(page: requests.Response) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found, page.text
    return found.group(1)


def _link(mail: object, prefix: str) -> str:
    text = mail.get_body(("plain",)).get_content()  # type: ignore[attr-defined]
    found = re.search(rf"(https?://\S+{re.escape(prefix)}\S+)", text)
    assert found, text
    return found.group(1)


def test_speaker_disclosure_and_transcript_by_mail(tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink, running_stack(tmp_path, SMTP_PORT=str(sink.port)) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        moment = dt.datetime.now(dt.UTC).replace(microsecond=0)

        # A coming webinar: the speaker states their disclosure through the mailed link.
        start = moment + dt.timedelta(days=5)
        requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": "ai-webinar", "title": "AI in chest CT", "kind": "webinar", "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(), "timezone": "Europe/Vienna", "capacity": 100,
            "currency": "EUR"}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/ai-webinar/sessions", headers=auth, json={
            "code": "LIVE", "title": "Deep learning for nodules", "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=1)).isoformat(), "credits": "1"}).raise_for_status()
        speaker = requests.post(f"{registration}/api/v1/events/ai-webinar/faculty", headers=auth, json={
            "name": "Dr Ada Quinn", "role": "speaker", "email": "ada@hospital.example", "sessions": ["LIVE"]})
        assert speaker.status_code == 201, speaker.text
        sent = requests.post(f"{registration}/api/v1/events/ai-webinar/faculty/{speaker.json()['id']}/disclosure-link",
                             headers=auth, json={"send": True})
        assert sent.status_code == 201, sent.text
        [mail] = sink.wait_for(1, timeout=30)
        assert mail["To"] == "ada@hospital.example"
        form_url = _link(mail, "/disclosure/")
        assert form_url == sent.json()["url"]
        browser = requests.Session()
        form = browser.get(form_url)
        assert form.status_code == 200 and "no-store" in form.headers["Cache-Control"]
        saved = browser.post(form_url, data={"csrf_token": _csrf(form), "statement": "relationships",
                                             "company-0": "Siemens Healthineers", "relationship-0": "Consultant",
                                             "attest": "yes"}, allow_redirects=False)
        assert saved.status_code == 303, saved.text
        page = " ".join(requests.get(f"{registration}/events/ai-webinar").text.split())
        assert "Dr Ada Quinn</strong>, speaker: Deep learning for nodules" in page
        assert "Siemens Healthineers: Consultant" in page

        # A past congress with a certificate; its participant asks for the transcript.
        sink.clear()
        past = moment - dt.timedelta(days=30)
        requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": "past-congress", "title": "Nuclear Medicine Update", "kind": "conference",
            "starts_at": past.isoformat(), "ends_at": (past + dt.timedelta(hours=8)).isoformat(),
            "timezone": "Europe/Vienna", "capacity": 100, "currency": "EUR",
            "registration_closes_at": (moment + dt.timedelta(days=1)).isoformat()}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/past-congress/sessions", headers=auth, json={
            "code": "AM", "title": "PET/CT in oncology", "credits": "3", "starts_at": past.isoformat(),
            "ends_at": (past + dt.timedelta(hours=3)).isoformat()}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/past-congress/rates", headers=auth, json={
            "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
        person = requests.post(f"{registration}/api/v1/events/past-congress/registrations", json={
            "email": "zoe@hospital.example", "given_name": "Zoë", "family_name": "Łukasiewicz", "rate": "free",
            "consent": True}).json()
        requests.post(f"{certificates}/api/v1/events/past-congress/check-ins", headers=auth,
                      json={"registration_id": person["id"], "session": "AM"}).raise_for_status()
        requests.put(f"{certificates}/api/v1/events/past-congress/accreditation", headers=auth, json={
            "body": "EACCME®", "statement": "Accredited with 3 European CME credits (ECMEC®s).",
            "signatory": "Prof. Dr. Eva de Vries"}).raise_for_status()
        job = requests.post(f"{certificates}/api/v1/events/past-congress/certificates", headers=auth).json()["id"]
        eventually(lambda: requests.get(f"{certificates}/api/v1/jobs/{job}", headers=auth).json()["status"] == "done",
                   timeout=60)
        [issued] = requests.get(f"{certificates}/api/v1/events/past-congress/certificates",
                                headers=auth).json()["items"]
        organisation_id = requests.get(f"{registration}/api/v1/organisation", headers=auth).json()["id"]
        sink.wait_for(2, timeout=30)  # the confirmation and the certificate-ready mail
        sink.clear()

        learner = requests.Session()
        ask = learner.get(f"{certificates}/o/{organisation_id}/transcript")
        answer = learner.post(f"{certificates}/o/{organisation_id}/transcript",
                              data={"csrf_token": _csrf(ask), "email": "Zoe@Hospital.example"})
        assert answer.status_code == 200 and "Check your mail" in answer.text
        stranger = learner.post(f"{certificates}/o/{organisation_id}/transcript",
                                data={"csrf_token": _csrf(ask), "email": "nobody@hospital.example"})
        assert stranger.text == answer.text
        [mail] = sink.wait_for(1, timeout=30)
        assert mail["To"] == "Zoe@Hospital.example"
        transcript_url = _link(mail, "/transcript/")
        page = requests.get(transcript_url)
        assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
        assert "Nuclear Medicine Update" in page.text and issued["code"] in page.text
        pdf = requests.get(transcript_url + "/transcript.pdf")
        assert pdf.headers["Content-Type"] == "application/pdf"
        text = " ".join(pdf_text(pdf.content).split())
        assert "Nuclear Medicine Update" in text and issued["code"] in text
        assert requests.get(transcript_url.replace(f"/o/{organisation_id}/", f"/o/{organisation_id + 1}/")
                            ).status_code == 404
