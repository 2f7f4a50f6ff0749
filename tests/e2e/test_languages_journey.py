"""A Dutch sign-up stays Dutch through real processes: the JSON sign-up's "language": "nl" for a paid rate,
payment on the Stripe stand-in, the mails in the SMTP sink (subject and body), the calendar file, the receipt
PDF, the pages (registration's and certificates'), then attendance, the certificate mail and the certificate
PDF. German and French spot checks: a page and a mail each. The APIs stay English whatever is asked.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import re
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

from devtools.smtp_sink import SmtpSink
from devtools.stripe_standin import StripeStandin
from tests.support.mail import eventually
from tests.support.pdf import pdf_text
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

SECRET = "whsec_test_languages"
TZ = ZoneInfo("Europe/Amsterdam")
SLUG = "mri-veiligheid"
TITLE = "MRI safety update"
DUTCH = {"email": "daan@ziekenhuis.example", "given_name": "Daan", "family_name": "de Vries"}
GERMAN = {"email": "jonas@klinikum.example", "given_name": "Jonas", "family_name": "Müller"}
FRENCH = {"email": "chloe@hopital.example", "given_name": "Chloé", "family_name": "Lefèvre"}
ZOOM_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def flat(text: str) -> str:
    """Whitespace (CLDR's no-break spaces in "€ 90,00" included) as single spaces."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


def mails_to(sink: SmtpSink, address: str, count: int) -> list[EmailMessage]:
    def arrived() -> list[EmailMessage] | None:
        mails = [m for m in sink.messages() if m["To"] == address]
        return mails if len(mails) >= count else None

    return eventually(arrived, timeout=30)


def body(mail: EmailMessage) -> str:
    return flat(mail.get_body(("plain",)).get_content())


def zoom_report(start: dt.datetime, people: list[dict[str, str]]) -> bytes:
    """Zoom's attendee report (local times without offset): each person attended the whole webinar."""
    local = start.astimezone(TZ).replace(tzinfo=None)
    out = io.StringIO()
    out.write("Attendee Report\r\nReport Generated:,\"01/01/2027 09:00 AM\"\r\n")
    out.write("Topic,Webinar ID,Actual Start Time,Actual Duration (minutes)\r\n")
    out.write(f"\"{TITLE}\",812 3456 7890,\"{local.strftime(ZOOM_FORMAT)}\",60\r\n")
    out.write("Attendee Details\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Attended", "User Name (Original Name)", "First Name", "Last Name", "Email",
                     "Registration Time", "Approval Status", "Join Time", "Leave Time",
                     "Time in Session (minutes)", "Is Guest", "Country/Region Name"])
    for person in people:
        writer.writerow(["Yes", f"{person['given_name']} {person['family_name']}", "", "", person["email"],
                         (local - dt.timedelta(days=3)).strftime(ZOOM_FORMAT), "approved",
                         (local - dt.timedelta(minutes=2)).strftime(ZOOM_FORMAT),
                         (local + dt.timedelta(minutes=62)).strftime(ZOOM_FORMAT), "", "No", "Netherlands"])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def test_a_dutch_sign_up_gets_dutch_pages_mails_calendar_receipt_and_certificate(tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink, StripeStandin(webhook_secret=SECRET) as stripe_standin, running_stack(
        tmp_path, SMTP_PORT=str(sink.port), STRIPE_API_BASE=stripe_standin.url, STRIPE_WEBHOOK_SECRET=SECRET,
    ) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        requests.post(f"{stripe_standin.url}/_standin/webhook",
                      json={"url": f"{registration}/webhooks/stripe"}).raise_for_status()
        auth = {"Authorization": f"Bearer {stack.create_token('nvkf')}"}
        requests.put(f"{registration}/api/v1/organisation/billing", headers=auth, json={
            "legal_name": "Nederlandse Vereniging voor Klinische Fysica", "address": "Postbus 1\n3500 AA Utrecht",
            "vat_number": "NL001234567B01", "billing_email": "office@nvkf.example",
            "bank_details": "NVKF\nIBAN NL91 ABNA 0417 1643 00"}).raise_for_status()
        start = (dt.datetime.now(TZ) + dt.timedelta(days=5)).replace(hour=19, minute=0, second=0, microsecond=0)
        created = requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": SLUG, "title": TITLE, "kind": "webinar", "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=60)).isoformat(), "timezone": "Europe/Amsterdam",
            "capacity": 50, "currency": "EUR", "join_url": "https://zoom.us/j/2", "vat_rate": "21",
            "prices_include_vat": True})
        assert created.status_code == 201, created.text
        requests.post(f"{registration}/api/v1/events/{SLUG}/sessions", headers=auth, json={
            "code": "LIVE", "title": "Live", "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(minutes=60)).isoformat(), "credits": "1"}).raise_for_status()
        for rate in ({"code": "standard", "name": "Standard", "amount": 9000, "category": "other"},
                     {"code": "free", "name": "Free", "amount": 0, "category": "other"}):
            requests.post(f"{registration}/api/v1/events/{SLUG}/rates", headers=auth,
                          json={**rate, "currency": "EUR"}).raise_for_status()

        # The event's page in each language, as the switcher links it; <html lang> follows.
        dutch_page = requests.get(f"{registration}/events/{SLUG}", params={"lang": "nl"})
        assert dutch_page.status_code == 200 and '<html lang="nl">' in dutch_page.text
        assert "Inschrijven" in dutch_page.text and 'hreflang="de"' in dutch_page.text
        french_page = requests.get(f"{registration}/events/{SLUG}", headers={"Accept-Language": "fr-BE,fr;q=0.9"})
        assert '<html lang="fr">' in french_page.text and "inscrire" in french_page.text

        # The Dutch sign-up: JSON with "language", a paid rate, paid on the stand-in's checkout page. The API
        # keeps the language.
        daan = requests.post(f"{registration}/api/v1/events/{SLUG}/registrations",
                             headers={"Accept-Language": "nl"},
                             json={**DUTCH, "rate": "standard", "consent": True, "language": "nl"})
        assert daan.status_code == 201, daan.text
        daan = daan.json()
        assert daan["status"] == "pending_payment"
        paid = requests.post(daan["payment_url"], allow_redirects=False)
        assert paid.status_code == 303
        eventually(lambda: requests.get(f"{registration}/api/v1/registrations/{daan['id']}",
                                        headers=auth).json()["status"] == "confirmed", timeout=30)

        by_subject = {m["Subject"]: m for m in mails_to(sink, DUTCH["email"], 2)}
        assert set(by_subject) == {f"Inschrijving bevestigd: {TITLE}", f"Betaling ontvangen: {TITLE}"}
        confirmed = by_subject[f"Inschrijving bevestigd: {TITLE}"]
        assert "Geachte Daan de Vries," in body(confirmed) and "Uw inschrijving is bevestigd." in body(confirmed)
        assert "Online" in body(confirmed)
        payment = body(by_subject[f"Betaling ontvangen: {TITLE}"])
        assert "Wij hebben uw betaling van € 90,00 ontvangen." in payment

        # The calendar file, attached and from the attendee's page: Dutch, and says so (RFC 5545 LANGUAGE).
        [attached] = [part for part in confirmed.iter_attachments() if part.get_content_type() == "text/calendar"]
        for calendar in (attached.get_payload(decode=True).decode(),
                         requests.get(f"{daan['manage_url']}/calendar.ics").text):
            unfolded = calendar.replace("\r\n ", "")
            assert "DESCRIPTION;LANGUAGE=nl:" in unfolded and "Beheer deze via" in unfolded

        # The receipt in Dutch: its title, the payment line and the amount as Dutch writes it.
        receipt = flat(pdf_text(requests.get(f"{daan['manage_url']}/receipt.pdf").content))
        assert "Betalingsbewijs" in receipt and "Volledig betaald op" in receipt and "€ 90,00" in receipt
        assert "Receipt" not in receipt

        # The attendee's page in the browser's language.
        manage = requests.get(daan["manage_url"], headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}).text
        assert '<html lang="nl">' in manage and "Betalingsbewijs" in manage and "downloaden (pdf)" in manage

        # German and French: a mail each in their language (free rate, confirmed at once).
        for person, language, subject, greeting in (
                (GERMAN, "de", f"Anmeldung bestätigt: {TITLE}", "Guten Tag Jonas Müller,"),
                (FRENCH, "fr", f"Inscription confirmée : {TITLE}", "Bonjour Chloé Lefèvre,")):
            signed = requests.post(f"{registration}/api/v1/events/{SLUG}/registrations",
                                   json={**person, "rate": "free", "consent": True, "language": language})
            assert signed.status_code == 201 and signed.json()["status"] == "confirmed", signed.text
            [mail] = mails_to(sink, person["email"], 1)
            assert mail["Subject"] == subject and greeting in body(mail)

        # Attendance, rules and the issuing job: the certificate mail and PDF in Dutch.
        sink.clear()
        rules = requests.put(f"{certificates}/api/v1/events/{SLUG}/accreditation", headers=auth, json={
            "body": "NVKF", "credit_unit": "accreditatiepunten", "statement": "Geaccrediteerd met 1 punt.",
            "credit_step": "0.5", "min_session_share": "0.5", "signatory": "Dr. Eva de Vries"})
        assert rules.status_code == 200, rules.text
        uploaded = requests.post(f"{certificates}/api/v1/events/{SLUG}/attendance-reports", headers=auth,
                                 files={"file": ("zoom.csv", zoom_report(start, [DUTCH, GERMAN, FRENCH]))})
        assert uploaded.status_code == 201 and uploaded.json()["matched"] == 3, uploaded.text
        job = requests.post(f"{certificates}/api/v1/events/{SLUG}/certificates", headers=auth)
        assert job.status_code == 202, job.text
        finished = eventually(lambda: (lambda j: j if j["status"] == "done" else None)(
            requests.get(f"{certificates}/api/v1/jobs/{job.json()['id']}", headers=auth).json()), timeout=60)
        assert finished["issued"] == 3, finished
        listed = {c["email"]: c for c in requests.get(f"{certificates}/api/v1/events/{SLUG}/certificates",
                                                      headers=auth).json()["items"]}
        issued = listed[DUTCH["email"]]

        [ready] = mails_to(sink, DUTCH["email"], 1)
        assert ready["Subject"] == f"Uw certificaat: {TITLE}"
        text = body(ready)
        assert "Geachte Daan de Vries," in text and "1 NVKF-punt." in text and issued["code"] in text
        [ready_fr] = mails_to(sink, FRENCH["email"], 1)
        assert ready_fr["Subject"] == f"Votre attestation : {TITLE}" and "1 crédit NVKF" in body(ready_fr)

        printed = flat(pdf_text(requests.get(issued["download_url"]).content))
        assert "Certificaat van deelname" in printed and "Daan de Vries" in printed
        assert "Controleer dit certificaat" in printed and "Certificate of Attendance" not in printed
        german_pdf = flat(pdf_text(requests.get(listed[GERMAN["email"]]["download_url"]).content))
        assert "Teilnahmebescheinigung" in german_pdf

        # Certificates' pages: the verification page in the browser's language (German and French too), the
        # participant's page from the attendee's page; the JSON answer stays English.
        verify = requests.get(issued["verify_url"], headers={"Accept-Language": "nl"}).text
        assert '<html lang="nl">' in verify and "Geldig certificaat." in verify and "Uitgegeven door" in verify
        assert 'aria-current="true">Nederlands</a>' in verify
        german = requests.get(issued["verify_url"], params={"lang": "de"}).text
        assert '<html lang="de">' in german and "Gültige Bescheinigung." in german and "Prüfung einer" in german
        french = requests.get(f"{certificates}/verify/AAAAA-AAAAA", headers={"Accept-Language": "fr"})
        assert french.status_code == 404 and "Aucune attestation ne porte le code" in french.text
        as_json = requests.get(issued["verify_url"], headers={"Accept": "application/json", "Accept-Language": "nl"})
        assert as_json.json()["valid"] is True
        garbage = requests.post(f"{certificates}/api/v1/verify", headers={"Accept-Language": "nl"},
                                json={"credential": "not.a.credential"})
        assert "This is not a VC-JWT" in garbage.text, garbage.text

        manage = requests.get(daan["manage_url"], headers={"Accept-Language": "nl"}).text
        link = re.search(r'<a href="([^"]+/participants/[^"]+)">', manage)
        assert link, manage
        browser = requests.Session()
        browser.headers["Accept-Language"] = "nl"
        participant_url = link.group(1).replace("&amp;", "&")
        page = browser.get(participant_url)
        assert page.status_code == 200 and '<html lang="nl">' in page.text
        assert "Uw certificaat van deelname" in page.text and "Uw certificaat is klaar" in page.text
