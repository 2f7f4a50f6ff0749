"""Signed credentials with real processes (certificates' database on SQLite and PostgreSQL): a webinar's
certificates issued by the job, each credential downloaded from its credential_url and verified by PyJWT
against the JWKS fetched over HTTP from the kid's URL; a tampered one fails; a revocation shows in the
status list fetched over HTTP (its bitstring decoded here) and in POST /api/v1/verify; a key rotation
by the CLI keeps the earlier credentials verifying while new downloads carry the new kid. The
certificate-ready mail offers the credential."""
from __future__ import annotations

import base64
import csv
import datetime as dt
import gzip
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jwt
import pytest
import requests

from devtools.smtp_sink import SmtpSink
from tests.support.databases import fresh_database
from tests.support.mail import eventually
from tests.support.stack import running_stack, url

pytestmark = pytest.mark.e2e

TZ = ZoneInfo("Europe/Amsterdam")
SLUG = "signed-webinar"
PEOPLE = {"zoe@szpital.example": ("Zoë", "Łukasiewicz"), "wang@hospital.example": ("小明", "王")}
ZOOM_FORMAT = "%m/%d/%Y %I:%M:%S %p"


def attendance_report(start: dt.datetime) -> bytes:
    """A Zoom webinar attendee report in which everyone stayed the whole 90 minutes."""
    local = start.astimezone(TZ).replace(tzinfo=None)
    out = io.StringIO()
    out.write("Attendee Report\r\nAttendee Details\r\n")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Attended", "User Name (Original Name)", "Email", "Join Time", "Leave Time"])
    for email, (given, family) in PEOPLE.items():
        writer.writerow(["Yes", f"{given} {family}", email, (local - dt.timedelta(minutes=2)).strftime(ZOOM_FORMAT),
                         (local + dt.timedelta(minutes=92)).strftime(ZOOM_FORMAT)])
    return out.getvalue().encode("utf-8")


def verified(token: str) -> dict[str, Any]:
    """An outside verifier: the kid's JWKS fetched over HTTP, the ES256 signature checked by PyJWT."""
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["typ"]) == ("ES256", "vc+jwt")
    published = requests.get(header["kid"].split("#")[0], timeout=30)
    assert published.status_code == 200
    key = jwt.PyJWKSet.from_dict(published.json())[header["kid"]]
    return jwt.decode(token, key=key.key, algorithms=["ES256"])


def revoked_bits(status_list_url: str) -> bytes:
    """The status list credential fetched over HTTP, its signature checked, its bitstring decoded by hand."""
    response = requests.get(status_list_url, timeout=30)
    assert response.headers["Content-Type"].startswith("application/vc+jwt")
    encoded = verified(response.text)["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"
    return gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))


def is_set(bits: bytes, index: str) -> bool:
    return bool(bits[int(index) // 8] >> (7 - int(index) % 8) & 1)


def test_credentials_verify_elsewhere_revoke_in_the_status_list_and_survive_a_key_rotation(
        tmp_path: Path, backend: str) -> None:
    with fresh_database(backend, tmp_path, "certificates") as database, SmtpSink(tmp_path / "mail") as sink, \
            running_stack(tmp_path, {"certificates": database}, SMTP_PORT=str(sink.port)) as stack:
        registration, certificates = url(stack, "registration"), url(stack, "certificates")
        auth = {"Authorization": f"Bearer {stack.create_token('society')}"}
        start = (dt.datetime.now(TZ) + dt.timedelta(days=2)).replace(hour=18, minute=0, second=0, microsecond=0)
        end = start + dt.timedelta(minutes=90)
        requests.post(f"{registration}/api/v1/events", headers=auth, json={
            "slug": SLUG, "title": "Signed webinar", "kind": "webinar", "starts_at": start.isoformat(),
            "ends_at": end.isoformat(), "timezone": "Europe/Amsterdam", "capacity": 10, "currency": "EUR",
            "join_url": "https://zoom.us/j/1"}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/{SLUG}/sessions", headers=auth, json={
            "code": "LIVE", "title": "Live", "starts_at": start.isoformat(), "ends_at": end.isoformat(),
            "credits": "1.5"}).raise_for_status()
        requests.post(f"{registration}/api/v1/events/{SLUG}/rates", headers=auth, json={
            "code": "free", "name": "Free", "amount": 0, "currency": "EUR", "category": "other"}).raise_for_status()
        for email, (given, family) in PEOPLE.items():
            requests.post(f"{registration}/api/v1/events/{SLUG}/registrations", json={
                "email": email, "given_name": given, "family_name": family, "rate": "free",
                "consent": True}).raise_for_status()
        requests.put(f"{certificates}/api/v1/events/{SLUG}/accreditation", headers=auth, json={
            "body": "EACCME®", "statement": "Accredited with 1.5 ECMEC®s.", "credit_step": "0.5",
            "min_session_share": "0.5", "max_credits": "1.5", "signatory": "Prof. Dr. Eva de Vries"}
        ).raise_for_status()
        uploaded = requests.post(f"{certificates}/api/v1/events/{SLUG}/attendance-reports", headers=auth,
                                 files={"file": ("zoom.csv", attendance_report(start))})
        assert uploaded.status_code == 201 and uploaded.json()["matched"] == 2, uploaded.text
        job = requests.post(f"{certificates}/api/v1/events/{SLUG}/certificates", headers=auth).json()
        eventually(lambda: requests.get(f"{certificates}/api/v1/jobs/{job['id']}", headers=auth)
                   .json()["status"] == "done" or None, timeout=60)
        listed = {c["email"]: c for c in requests.get(f"{certificates}/api/v1/events/{SLUG}/certificates",
                                                      headers=auth).json()["items"]}
        zoe, wang = listed["zoe@szpital.example"], listed["wang@hospital.example"]
        # Each person's sign-up confirmation and certificate-ready mail; the latter offers the credential.
        texts = [mail.get_body(("plain",)).get_content() for mail in sink.wait_for(2 * len(PEOPLE), timeout=60)]
        assert any(zoe["credential_url"] in text and zoe["download_url"] in text for text in texts)

        downloaded = requests.get(zoe["credential_url"], timeout=30)
        assert downloaded.headers["Content-Type"].startswith("application/vc+jwt")
        zoe_token, wang_token = downloaded.text, requests.get(wang["credential_url"], timeout=30).text
        credential = verified(zoe_token)
        assert credential["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
        assert credential["id"] == zoe["verify_url"]
        assert credential["credentialSubject"]["creditsEarned"] == 1.5
        issuer = requests.get(credential["issuer"]["id"], timeout=30).json()
        assert issuer["id"] == credential["issuer"]["id"] and issuer["type"] == ["Profile"]
        entry = credential["credentialStatus"]
        wang_index = verified(wang_token)["credentialStatus"]["statusListIndex"]

        # Tampered: PyJWT refuses it, and so does the service.
        header, payload, signature = zoe_token.split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["credentialSubject"]["creditsEarned"] = 15
        forged = ".".join([header, base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="),
                           signature])
        with pytest.raises(jwt.InvalidSignatureError):
            verified(forged)
        answer = requests.post(f"{certificates}/api/v1/verify", json={"credential": forged}, timeout=30).json()
        assert answer["valid"] is False and answer["checks"]["signature"] == "invalid"
        answer = requests.post(f"{certificates}/api/v1/verify", json={"credential": zoe_token}, timeout=30).json()
        assert answer["valid"] is True and answer["credential"]["subject_name"] == "Zoë Łukasiewicz", answer

        # Revoked: the bit is set in the signed list; verification says so.
        assert not any(revoked_bits(entry["statusListCredential"]))
        requests.post(f"{certificates}/api/v1/certificates/{zoe['code']}/revoke", headers=auth,
                      json={"reason": "issued in error"}).raise_for_status()
        bits = revoked_bits(entry["statusListCredential"])
        assert is_set(bits, entry["statusListIndex"]) and not is_set(bits, wang_index)
        answer = requests.post(f"{certificates}/api/v1/verify", json={"credential": zoe_token}, timeout=30).json()
        assert answer["valid"] is False and answer["checks"]["status"] == "revoked"
        assert requests.get(zoe["credential_url"], timeout=30).status_code == 410

        # Rotated: new downloads carry the new kid; what was signed before still verifies.
        organisation_id = credential["issuer"]["id"].rsplit("/", 1)[1]
        rotated = subprocess.run([sys.executable, "-m", "flask", "--app", "certificates", "keys", "rotate",
                                  "--organisation", organisation_id], env=stack.env, capture_output=True,
                                 text=True, check=True)
        wang_after = requests.get(wang["credential_url"], timeout=30).text
        old_kid, new_kid = jwt.get_unverified_header(wang_token)["kid"], jwt.get_unverified_header(wang_after)["kid"]
        assert new_kid != old_kid and new_kid in rotated.stdout
        for token in (wang_token, wang_after):
            assert verified(token)["credentialStatus"]["statusListIndex"] == wang_index  # the position is kept
            answer = requests.post(f"{certificates}/api/v1/verify", json={"credential": token}, timeout=30).json()
            assert answer["valid"] is True, answer
        assert is_set(revoked_bits(entry["statusListCredential"]), entry["statusListIndex"])
        assert "/credential.jwt" in requests.get(wang["verify_url"], timeout=30).text
