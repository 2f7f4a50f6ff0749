"""Signed Open Badges 3.0 in the certificates service, on SQLite and PostgreSQL: the VC-JWT verifies with
another JOSE library (PyJWT) than the one that signs (joserfc) against the JWKS the service publishes; a
tampered credential fails; a revocation sets the certificate's bit in the signed Bitstring Status List
(decoded here by hand); a key rotation keeps earlier credentials verifying; positions are never reused;
the verifier answers garbage and strangers' keys without fetching anything."""
from __future__ import annotations

import base64
import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

BASE = "http://certificates.test"


def issue(app: Flask, organisation_id: int, number: int) -> Any:
    """A certificate as issuing leaves it (issuing itself needs registration: tests/e2e covers that path)."""
    from certificates import models

    now = dt.datetime.now(dt.UTC)
    snapshot = {"participant": f"Zoë Łukasiewicz {number}", "event_title": "Lesion tracking with AI",
                "event_dates": "3 March 2027", "place": "Online", "credits": "1.5", "credit_body": "EACCME®",
                "statement": "Accredited with 1.5 ECMEC®s.", "organisation_name": "Society of Imaging",
                "sessions": [["Live webinar", "1.5"]], "issued_on": now.date().isoformat()}
    with app.app_context(), app.extensions["suite_db"].session_scope() as session:
        certificate = models.Certificate(
            organisation_id=organisation_id, event_slug="lesion-tracking", registration_id=number,
            email=f"zoe{number}@szpital.example", participant=snapshot["participant"], credits=Decimal("1.5"),
            code=f"CODE-{organisation_id}-{number}", download_token=f"token-{organisation_id}-{number}",
            snapshot=snapshot, explanation={}, issued_at=now, updated_at=now)
        session.add(certificate)
        session.flush()
        return certificate


def path_of(url: str) -> str:
    assert url.startswith(BASE), url
    return url[len(BASE):].split("#")[0]


def download(client: FlaskClient, certificate: Any) -> str:
    response = client.get(f"/c/{certificate.download_token}/credential.jwt")
    assert response.status_code == 200, response.text
    assert response.mimetype == "application/vc+jwt"
    return response.text


def verified_with_pyjwt(client: FlaskClient, token: str) -> dict[str, Any]:
    """What an outside verifier does: read the kid, fetch that JWKS, check the ES256 signature with PyJWT."""
    header = jwt.get_unverified_header(token)
    assert (header["alg"], header["typ"]) == ("ES256", "vc+jwt")
    published = client.get(path_of(header["kid"]))
    assert published.status_code == 200 and published.mimetype == "application/jwk-set+json"
    assert all("d" not in key for key in published.json["keys"])  # public keys only
    key = jwt.PyJWKSet.from_dict(published.json)[header["kid"]]
    return jwt.decode(token, key=key.key, algorithms=["ES256"], options={"verify_aud": False})


def bits_of(status_list_credential: dict[str, Any]) -> bytes:
    """The bitstring, decoded by hand: multibase prefix u, base64url without padding, GZIP."""
    encoded = status_list_credential["credentialSubject"]["encodedList"]
    assert encoded.startswith("u")
    return gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))


def bit(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] >> (7 - index % 8) & 1)


def test_credential_is_an_open_badge_signed_by_the_organisations_published_key(certificates_app: Flask) -> None:
    certificate = issue(certificates_app, 1, 7)
    client = certificates_app.test_client()
    payload = verified_with_pyjwt(client, download(client, certificate))

    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert payload["issuer"]["id"] == payload["iss"] == f"{BASE}/organisations/1"
    assert payload["credentialSubject"]["achievement"]["name"] == "Lesion tracking with AI"
    status = payload["credentialStatus"]
    assert (status["type"], status["statusPurpose"]) == ("BitstringStatusListEntry", "revocation")
    assert status["statusListCredential"] == f"{BASE}/organisations/1/status-lists/1"
    assert 0 <= int(status["statusListIndex"]) < 131072
    profile = client.get(path_of(payload["issuer"]["id"]))
    assert profile.json["type"] == ["Profile"] and profile.json["name"] == "Society of Imaging"
    # The same certificate keeps its position; another gets another.
    again = jwt.decode(download(client, certificate), options={"verify_signature": False})
    assert again["credentialStatus"] == status
    other = jwt.decode(download(client, issue(certificates_app, 1, 8)), options={"verify_signature": False})
    assert other["credentialStatus"]["statusListIndex"] != status["statusListIndex"]

    answer = client.post("/api/v1/verify", json={"credential": download(client, certificate)})
    assert answer.status_code == 200
    assert answer.json["valid"] is True, answer.json
    assert answer.json["checks"] == {"signature": "valid", "issuer": "known", "status": "active", "expiry": "valid"}
    assert answer.json["credential"]["subject_name"] == "Zoë Łukasiewicz 7"


def test_a_tampered_credential_fails_in_both_libraries(certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    token = download(client, issue(certificates_app, 1, 7))
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["credentialSubject"]["creditsEarned"] = 15.0
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    forged = f"{header}.{forged_payload}.{signature}"

    with pytest.raises(jwt.InvalidSignatureError):
        verified_with_pyjwt(client, forged)
    answer = client.post("/api/v1/verify", json={"credential": forged}).json
    assert answer["valid"] is False and answer["checks"]["signature"] == "invalid"
    assert answer["credential"] is None  # nothing a forger wrote is shown as fact


def test_revocation_sets_the_bit_in_the_signed_status_list(certificates_app: Flask) -> None:
    from certificates.services import certificates

    client = certificates_app.test_client()
    revoked, kept = issue(certificates_app, 1, 7), issue(certificates_app, 1, 8)
    revoked_token, kept_token = download(client, revoked), download(client, kept)
    entry = verified_with_pyjwt(client, revoked_token)["credentialStatus"]
    kept_index = int(verified_with_pyjwt(client, kept_token)["credentialStatus"]["statusListIndex"])
    before = client.get(path_of(entry["statusListCredential"]))
    assert before.mimetype == "application/vc+jwt"
    assert not any(bits_of(verified_with_pyjwt(client, before.text)))

    with certificates_app.app_context(), certificates_app.extensions["suite_db"].session_scope() as session:
        certificates.revoke(session, 1, revoked.code, "issued in error")

    listed = verified_with_pyjwt(client, client.get(path_of(entry["statusListCredential"])).text)
    assert listed["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert listed["issuer"] == f"{BASE}/organisations/1"
    bits = bits_of(listed)
    assert len(bits) * 8 == 131072
    assert bit(bits, int(entry["statusListIndex"])) and not bit(bits, kept_index)
    assert sum(bin(byte).count("1") for byte in bits) == 1

    answer = client.post("/api/v1/verify", json={"credential": revoked_token}).json
    assert answer["valid"] is False and answer["checks"]["status"] == "revoked"
    assert answer["checks"]["signature"] == "valid"
    assert client.post("/api/v1/verify", json={"credential": kept_token}).json["valid"] is True
    assert client.get(f"/c/{revoked.download_token}/credential.jwt").status_code == 410


def test_rotation_keeps_earlier_credentials_verifiable_and_signs_new_ones_with_the_new_key(
        certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    certificate = issue(certificates_app, 1, 7)
    before = download(client, certificate)
    old_kid = jwt.get_unverified_header(before)["kid"]

    rotated = certificates_app.test_cli_runner().invoke(args=["keys", "rotate", "--organisation", "1"])
    assert rotated.exit_code == 0, rotated.output
    after = download(client, certificate)
    new_kid = jwt.get_unverified_header(after)["kid"]
    assert new_kid != old_kid and new_kid in rotated.output
    assert path_of(new_kid) == path_of(old_kid) == "/organisations/1/jwks.json"
    assert {key["kid"] for key in client.get("/organisations/1/jwks.json").json["keys"]} == {old_kid, new_kid}

    for token in (before, after):
        assert verified_with_pyjwt(client, token)["id"] == f"{BASE}/verify/{certificate.code}"
        assert client.post("/api/v1/verify", json={"credential": token}).json["valid"] is True
    listing = certificates_app.test_cli_runner().invoke(args=["keys", "list", "--organisation", "1"])
    assert f"{old_kid}\t" in listing.output and "retired" in listing.output and new_kid in listing.output
    assert "PRIVATE" not in listing.output


def test_an_organisations_own_key_can_be_brought_once_and_private_keys_are_encrypted_at_rest(
        certificates_app: Flask, tmp_path: Path) -> None:
    from certificates.models import SigningKey

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "own.pem").write_bytes(pem)
    (tmp_path / "rsa.pem").write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    runner = certificates_app.test_cli_runner()
    command = ["keys", "rotate", "--organisation", "2", "--private-key-file"]
    assert runner.invoke(args=[*command, str(tmp_path / "own.pem")]).exit_code == 0
    again = runner.invoke(args=[*command, str(tmp_path / "own.pem")])
    assert again.exit_code != 0 and "used by the organisation before" in again.output
    unreadable = runner.invoke(args=[*command, str(tmp_path / "rsa.pem")])
    assert unreadable.exit_code != 0 and "not a PEM private key" in unreadable.output

    client = certificates_app.test_client()
    token = download(client, issue(certificates_app, 2, 1))
    own_public = serialization.load_pem_private_key(pem, None).public_key()
    assert jwt.decode(token, key=own_public, algorithms=["ES256"])["iss"] == f"{BASE}/organisations/2"
    with certificates_app.app_context(), certificates_app.extensions["suite_db"].session_scope() as session:
        stored = session.scalars(select(SigningKey.private_key_encrypted)).all()
    assert stored and not any("PRIVATE KEY" in value or pem.decode()[40:80] in value for value in stored)


def test_each_organisation_signs_with_its_own_key_and_a_foreign_kid_is_an_unknown_issuer(
        certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    ours, theirs = download(client, issue(certificates_app, 1, 7)), download(client, issue(certificates_app, 2, 7))
    assert jwt.get_unverified_header(ours)["kid"] != jwt.get_unverified_header(theirs)["kid"]
    assert path_of(jwt.get_unverified_header(theirs)["kid"]) == "/organisations/2/jwks.json"

    # Re-signed by a stranger who names a key at their own address: never fetched, issuer unknown.
    stranger = ec.generate_private_key(ec.SECP256R1())
    claims = jwt.decode(ours, options={"verify_signature": False})
    forged = jwt.encode(claims, stranger, algorithm="ES256",
                        headers={"typ": "vc+jwt", "kid": "http://169.254.169.254/jwks.json#key"})
    answer = client.post("/api/v1/verify", json={"credential": forged}).json
    assert answer["valid"] is False and answer["checks"]["issuer"] == "unknown"
    assert any("Issuer unknown" in error for error in answer["errors"])
    # Signed with organisation 2's kid but claiming organisation 1: the signature fails.
    swapped = jwt.encode(claims, stranger, algorithm="ES256",
                         headers={"typ": "vc+jwt", "kid": jwt.get_unverified_header(theirs)["kid"]})
    assert client.post("/api/v1/verify", json={"credential": swapped}).json["checks"]["signature"] == "invalid"


@pytest.mark.parametrize("body", [
    {"credential": "not a jwt"}, {"credential": "a.b.c"}, {"credential": "...."},
    {"credential": "eyJhbGciOiJub25lIiwidHlwIjoidmMrand0In0.e30."},
    {"credential": base64.urlsafe_b64encode(b'{"alg":"ES256","typ":"vc+jwt","kid":7}').decode() + ".e30.c2ln"},
    {"credential": base64.urlsafe_b64encode(b"[1,2]").decode() + ".e30.c2ln"},
])
def test_garbage_is_not_valid_and_never_a_server_error(certificates_app: Flask, body: dict[str, Any]) -> None:
    answer = certificates_app.test_client().post("/api/v1/verify", json=body)
    assert answer.status_code == 200 and answer.json["valid"] is False and answer.json["errors"], answer.json


@pytest.mark.parametrize("body", [{}, {"credential": ""}, {"credential": 7}, {"credential": "x" * 65537}])
def test_a_request_without_a_credential_is_refused(certificates_app: Flask, body: dict[str, Any]) -> None:
    answer = certificates_app.test_client().post("/api/v1/verify", json=body)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "validation_error"


def test_the_verification_page_works_as_a_plain_form(certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    token = download(client, issue(certificates_app, 1, 7))
    assert "<textarea" in client.get("/verify/credential").text
    shown = client.post("/verify/credential", data={"credential": token})
    assert shown.status_code == 200 and "Valid credential." in shown.text and "Zoë Łukasiewicz 7" in shown.text
    refused = client.post("/verify/credential", data={"credential": token[:-4] + "AAAA"})
    assert "does not verify" in refused.text and "Valid credential." not in refused.text
    assert client.post("/verify/credential", data={"credential": ""}).status_code == 422
    # The verification page of the code links the same credential.
    assert "/verify/CODE-1-7/credential.jwt" in client.get("/verify/CODE-1-7").text
    by_code = client.get("/verify/CODE-1-7/credential.jwt")
    assert by_code.mimetype == "application/vc+jwt" and verified_with_pyjwt(client, by_code.text)


def test_unknown_organisations_and_lists_are_404(certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    for path in ("/organisations/9/jwks.json", "/organisations/9", "/organisations/1/status-lists/1",
                 f"/organisations/{2**40}/jwks.json", f"/organisations/1/status-lists/{2**40}",
                 "/c/no-such-token/credential.jwt", "/verify/NOPE/credential.jwt"):
        assert client.get(path).status_code == 404, path


def test_a_revocation_outlives_the_retention_purge_of_its_certificate(certificates_app: Flask) -> None:
    from certificates.models import Certificate, StatusEntry
    from certificates.services import certificates, privacy
    from suite_common.settings import RetentionPeriods

    client = certificates_app.test_client()
    revoked, kept = issue(certificates_app, 1, 7), issue(certificates_app, 1, 8)
    revoked_token, kept_token = download(client, revoked), download(client, kept)
    database = certificates_app.extensions["suite_db"]
    with certificates_app.app_context(), database.session_scope() as session:
        certificates.revoke(session, 1, revoked.code, "issued in error")
    with certificates_app.app_context(), database.session_scope() as session:
        later = dt.datetime.now(dt.UTC) + dt.timedelta(days=7 * 366)
        privacy.purge(session, later, RetentionPeriods(accreditation_years=6))
    with certificates_app.app_context(), database.session_scope() as session:
        assert session.scalars(select(Certificate)).all() == []
        entries = session.scalars(select(StatusEntry)).all()
        assert len(entries) == 2 and all(entry.certificate_id is None for entry in entries)

    answers = [client.post("/api/v1/verify", json={"credential": token}).json for token in (revoked_token, kept_token)]
    assert [answer["checks"]["status"] for answer in answers] == ["revoked", "active"]
