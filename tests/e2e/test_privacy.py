"""One person's data across the three services: exported as one document, then erased
everywhere except what must be kept, which the next export shows alone."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import requests

from devtools.smtp_sink import SmtpSink
from tests.support.mail import eventually
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e
EMAIL = "Zoe@Szpital.example"


def test_export_then_erasure_keeps_only_what_must_be_kept(tmp_path: Path) -> None:
    with SmtpSink(tmp_path / "mail") as sink, running_stack(tmp_path, SMTP_PORT=str(sink.port)) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        other = {"Authorization": f"Bearer {stack.create_token('another-society')}"}
        start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=2)
        requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": "privacy-day", "title": "Privacy day", "kind": "conference", "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=3)).isoformat(), "timezone": "UTC", "capacity": 10,
            "currency": "EUR", "venue": "Vienna"}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/privacy-day/sessions", headers=auth, json={
            "code": "S1", "title": "Morning", "starts_at": start.isoformat(),
            "ends_at": (start + dt.timedelta(hours=3)).isoformat(), "credits": "3"}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/privacy-day/rates", headers=auth, json={
            "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
        person = requests.post(f"{registration}/api/v1/events/privacy-day/registrations", json={
            "email": EMAIL, "given_name": "Zoë", "family_name": "Łukasiewicz", "rate": "free", "consent": True,
            "answers": {"institution": "Szpital Uniwersytecki"}}).json()
        sink.wait_for(1, timeout=30)
        requests.put(f"{certificates}/api/v1/events/privacy-day/accreditation", headers=auth, json={
            "body": "EACCME®", "statement": "Accredited.", "signatory": "Chair"}).raise_for_status()
        requests.post(f"{certificates}/api/v1/events/privacy-day/check-ins", headers=auth, json={
            "registration_id": person["id"], "session": "S1"}).raise_for_status()
        job = requests.post(f"{certificates}/api/v1/events/privacy-day/certificates", headers=auth).json()
        eventually(lambda: requests.get(f"{certificates}/api/v1/jobs/{job['id']}", headers=auth).json()["status"]
                   == "done")

        exported = requests.get(f"{registration}/api/v1/privacy/export", headers=auth,
                                params={"email": "zoe@szpital.example"}).json()
        record = exported["registration"]["registrations"][0]
        assert (record["given_name"], record["answers"]) == ("Zoë", {"institution": "Szpital Uniwersytecki"})
        assert record["consent"]["text_version"]
        assert exported["notifications"]["messages"], "the confirmation (and the reminders) are listed"
        assert exported["certificates"]["certificates"][0]["credits"] == "3.00"
        assert exported["certificates"]["check_ins"]
        # Another organisation learns nothing about this person.
        theirs = requests.get(f"{registration}/api/v1/privacy/export", headers=other,
                              params={"email": "zoe@szpital.example"}).json()
        assert theirs["registration"]["registrations"] == [] and theirs["notifications"]["messages"] == []
        assert theirs["certificates"]["certificates"] == []

        erased = requests.post(f"{registration}/api/v1/privacy/erase", headers=auth,
                               json={"email": "zoe@szpital.example"})
        assert erased.status_code == 200, erased.text
        kept = {item["what"]: item for item in erased.json()["kept"]}
        certificates_kept = kept["certificates and the records behind them (attendance, presence checks, claims)"]
        assert certificates_kept["until"] > dt.date.today().isoformat()

        after = requests.get(f"{registration}/api/v1/privacy/export", headers=auth,
                             params={"email": "zoe@szpital.example"}).json()
        assert after["registration"]["registrations"] == []
        assert after["notifications"]["messages"] == []
        assert after["certificates"]["certificates"], "kept for the accreditation retention period"
        roster = requests.get(f"{registration}/api/v1/events/privacy-day/registrations", headers=auth).json()
        assert roster["items"][0]["given_name"] == "Erased" and roster["items"][0]["status"] == "cancelled"
        assert requests.get(person["manage_url"]).status_code == 404  # old links lead nowhere
        again = requests.post(f"{registration}/api/v1/privacy/erase", headers=auth,
                              json={"email": "zoe@szpital.example"})
        assert again.status_code == 200  # idempotent
