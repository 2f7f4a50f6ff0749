"""Signed Open Badges 3.0: a certificate as an ``OpenBadgeCredential`` secured as a VC-JWT, and the
verification of such a credential.

Format: the credential (W3C Verifiable Credentials Data Model 2.0, Open Badges 3.0's
``OpenBadgeCredential``, built by services/badges.py) is the JWT's payload, as in W3C "Securing
Verifiable Credentials using JOSE and COSE" (VC-JOSE-COSE); the header has ``alg`` ES256, ``typ``
``vc+jwt`` and a ``kid`` that is a URL of the organisation's JWKS. ``iss``, ``jti`` and ``iat`` repeat
the issuer, the credential's id and the moment of signing for JWT libraries that check them.

A credential is signed when it is downloaded, with the organisation's current key, so a download
after a key rotation carries the new ``kid``; one downloaded before keeps verifying through the
retired key, which stays in the JWKS.

Verification trusts our own keys and status lists only: a ``kid`` or status list URL that is not
ours is never fetched (no request to an address a stranger chose) and the issuer is "unknown".
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext
from joserfc import jws
from joserfc.errors import BadSignatureError, JoseError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Certificate
from . import badges, signing_keys, status_list

MAX_HEADER_BYTES = 4096


def credential(session: Session, certificate: Certificate) -> dict[str, Any]:
    """The unsigned credential with its status entry (a position is handed out on first use)."""
    entry, in_list = status_list.entry_for(session, certificate)
    return {**badges.open_badge(certificate), "credentialStatus": status_list.credential_status(entry, in_list)}


def signed(session: Session, certificate: Certificate, now: dt.datetime) -> str:
    """The certificate's credential as a VC-JWT."""
    body = credential(session, certificate)
    claims = {**body, "iss": body["issuer"]["id"], "jti": body["id"], "iat": int(now.timestamp())}
    return signing_keys.sign(session, certificate.organisation_id, claims)


def issuer_profile(session: Session, organisation_id: int) -> dict[str, Any] | None:
    """The Open Badges ``Profile`` at the issuer's id, for an organisation that signs (else None); its
    name is the one its latest certificate printed (registration owns organisations)."""
    if signing_keys.jwks(session, organisation_id) is None:
        return None
    latest = session.scalar(select(Certificate).where(Certificate.organisation_id == organisation_id)
                            .order_by(Certificate.id.desc()).limit(1))
    profile = {"@context": badges.CONTEXT, "id": signing_keys.issuer_id(organisation_id), "type": ["Profile"]}
    if latest is not None:
        profile["name"] = latest.snapshot.get("organisation_name")
    return profile


@dataclass
class Verification:
    """What a verifier learns. Each check is one word: signature valid|invalid|not_checked, issuer
    known|unknown|mismatch|not_checked, status active|revoked|unknown|not_checked, expiry
    valid|expired|not_yet_valid|not_checked."""

    checks: dict[str, str] = field(default_factory=lambda: {
        "signature": "not_checked", "issuer": "not_checked", "status": "not_checked", "expiry": "not_checked"})
    credential: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.checks == {"signature": "valid", "issuer": "known", "status": "active", "expiry": "valid"}

    def to_dict(self) -> dict[str, Any]:
        return {"valid": self.valid, "checks": self.checks, "credential": self.credential, "errors": self.errors}


def _header(token: str) -> dict[str, Any] | None:
    parts = token.split(".")
    if len(parts) != 3 or not all(parts) or len(parts[0]) > MAX_HEADER_BYTES:
        return None
    try:
        header = json.loads(base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        return None
    return header if isinstance(header, dict) else None


def _moment(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _expiry(payload: dict[str, Any], now: dt.datetime) -> tuple[str, str | None]:
    valid_from, valid_until = _moment(payload.get("validFrom")), payload.get("validUntil")
    if valid_from is None:
        return "not_checked", gettext("The credential has no validFrom moment with a time zone.")
    if valid_from > now:
        return "not_yet_valid", gettext("The credential is not valid before its validFrom moment.")
    if valid_until is not None:
        until = _moment(valid_until)
        if until is None:
            return "not_checked", gettext("The credential's validUntil is not a moment with a time zone.")
        if until <= now:
            return "expired", gettext("The credential expired (validUntil).")
    return "valid", None


def _summary(payload: dict[str, Any]) -> dict[str, Any]:
    """Who earned what, as the (signed) credential says it."""
    subject = payload.get("credentialSubject") if isinstance(payload.get("credentialSubject"), dict) else {}
    achievement = subject.get("achievement") if isinstance(subject.get("achievement"), dict) else {}
    issuer = payload.get("issuer") if isinstance(payload.get("issuer"), dict) else {}
    names = [i.get("identityHash") for i in subject.get("identifier") or []
             if isinstance(i, dict) and i.get("identityType") == "name" and i.get("hashed") is False]
    return {"id": payload.get("id"), "subject_name": names[0] if names else None,
            "achievement": achievement.get("name"), "credits": subject.get("creditsEarned"),
            "issuer": issuer.get("name"), "valid_from": payload.get("validFrom")}


def _status(session: Session, payload: dict[str, Any], organisation_id: int) -> tuple[str, str | None]:
    entry = payload.get("credentialStatus")
    if not isinstance(entry, dict) or entry.get("type") != "BitstringStatusListEntry" \
            or entry.get("statusPurpose") != status_list.PURPOSE:
        return "unknown", gettext("The credential has no revocation entry of a Bitstring Status List.")
    listed = status_list.by_url(session, entry.get("statusListCredential"))
    if listed is None or listed.organisation_id != organisation_id or listed.credential is None:
        return "unknown", gettext("The credential's status list is not one of its issuer's lists here.")
    index = entry.get("statusListIndex")
    if not isinstance(index, str) or not index.isdigit() or len(index) > 10 or int(index) >= listed.size:
        return "unknown", gettext("The credential's statusListIndex is not a position in its list.")
    list_key = signing_keys.by_kid(session, (_header(listed.credential) or {}).get("kid"))
    if list_key is None:
        return "unknown", gettext(
            "The issuer's status list is signed with a key that is not published here.")
    try:
        list_payload = json.loads(jws.deserialize_compact(
            listed.credential, signing_keys.public_key(list_key), algorithms=[signing_keys.ALGORITHM]).payload)
        bits = status_list.decode(list_payload["credentialSubject"]["encodedList"], listed.size)
    except (JoseError, ValueError, KeyError, TypeError, AttributeError):
        return "unknown", gettext("The issuer's status list cannot be read.")
    return ("revoked", gettext("The issuer has revoked this credential.")) if status_list.is_set(bits, int(index)) \
        else ("active", None)


def verify(session: Session, token: str, now: dt.datetime) -> Verification:
    """Checks a VC-JWT against our keys and status lists. Never raises on what a stranger sends."""
    result = Verification()
    token = token.strip()
    header = _header(token)
    if header is None:
        result.errors.append(gettext(
            "This is not a VC-JWT (a compact JWS: three base64url parts separated by dots)."))
        return result
    if header.get("typ") != "vc+jwt" or header.get("alg") != signing_keys.ALGORITHM:
        result.errors.append(gettext("The header must say typ vc+jwt and alg %(algorithm)s.",
                                     algorithm=signing_keys.ALGORITHM))
        result.checks["signature"] = "invalid"
        return result
    key = signing_keys.by_kid(session, header.get("kid"))
    if key is None:
        result.checks["issuer"] = "unknown"
        result.errors.append(gettext("Issuer unknown: the key (kid) is not one this service publishes."))
        return result
    try:
        payload = json.loads(jws.deserialize_compact(token, signing_keys.public_key(key),
                                                     algorithms=[signing_keys.ALGORITHM]).payload)
    except BadSignatureError:
        result.checks["signature"] = "invalid"
        result.errors.append(gettext(
            "The signature does not match the credential: it was altered or not signed by this key."))
        return result
    except (JoseError, ValueError, TypeError, RecursionError):
        result.checks["signature"] = "invalid"
        result.errors.append(gettext("The credential cannot be read as a signed JSON object."))
        return result
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), list) \
            or "OpenBadgeCredential" not in payload["type"]:
        result.checks["signature"] = "valid"
        result.errors.append(gettext("The signed payload is not an OpenBadgeCredential."))
        return result
    result.checks["signature"] = "valid"
    result.credential = _summary(payload)
    issuer = payload.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    expected = signing_keys.issuer_id(key.organisation_id)
    if issuer_id == expected and payload.get("iss", expected) == expected:
        result.checks["issuer"] = "known"
    else:
        result.checks["issuer"] = "mismatch"
        result.errors.append(gettext(
            "The credential names another issuer than the owner of the key that signed it."))
    result.checks["expiry"], problem = _expiry(payload, now)
    if problem:
        result.errors.append(problem)
    result.checks["status"], problem = _status(session, payload, key.organisation_id)
    if problem:
        result.errors.append(problem)
    return result
