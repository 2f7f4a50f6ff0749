"""Each organisation's credential signing keys: made, rotated, published as a JWKS, found by ``kid``.

Why keys live in the database, encrypted: the services run as several replicas against one
PostgreSQL, so a key rotated by ``flask --app certificates keys rotate`` on any host is in force on
all of them at once, with no key file to copy to every machine. The private key (PKCS#8 PEM) is
encrypted with the suite's key for secrets at rest (``INTEGRATIONS_KEY``, suite_common.secretbox):
a stolen dump or backup cannot sign. Private keys are never logged and never answered; an
organisation that keeps its own key elsewhere brings it with ``keys rotate --private-key-file``.

A credential's ``kid`` is a URL: the organisation's JWKS (``/organisations/<id>/jwks.json``) with the
key's RFC 7638 thumbprint as fragment, so anyone can fetch the public key it names. Retired keys stay
in the JWKS: what they signed keeps verifying after a rotation.
"""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import current_app
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from suite_common.db import insert_ignoring_conflicts, utcnow
from suite_common.secretbox import SecretBox

from ..models import SigningKey

ALGORITHM = "ES256"
CURVE = "P-256"
MEDIA_TYPE = "application/vc+jwt"
MAX_ORGANISATION_ID = 2**31 - 1


class KeyRefused(ValueError):
    """A key offered for import cannot sign credentials here (the message says why)."""


def _base() -> str:
    return current_app.extensions["suite_settings"].public_base_url


def _box() -> SecretBox:
    return SecretBox(current_app.extensions["suite_settings"].integrations_keys)


def issuer_id(organisation_id: int) -> str:
    """The organisation's issuer profile (an Open Badges ``Profile``), which the service serves."""
    return f"{_base()}/organisations/{organisation_id}"


def jwks_url(organisation_id: int) -> str:
    return f"{issuer_id(organisation_id)}/jwks.json"


def kid(key: SigningKey) -> str:
    return f"{jwks_url(key.organisation_id)}#{key.key_id}"


def _row(organisation_id: int, private: ECKey, now: dt.datetime) -> dict[str, Any]:
    public = {name: value for name, value in private.as_dict(private=False).items() if name in ("kty", "crv", "x", "y")}
    pem = private.as_pem(private=True).decode()
    return {"organisation_id": organisation_id, "key_id": private.thumbprint(), "algorithm": ALGORITHM,
            "public_jwk": public, "private_key_encrypted": _box().encrypt(pem), "created_at": now,
            "retired_at": None}


def _generated() -> ECKey:
    return ECKey.generate_key(CURVE, private=True)


def imported(pem: bytes) -> ECKey:
    """An organisation's own P-256 private key (PEM), checked before it replaces the current one."""
    try:
        key = ECKey.import_key(pem)
    except (JoseError, ValueError, TypeError) as exc:
        raise KeyRefused("The file is not a PEM private key that can be read.") from exc
    if not key.is_private or key.as_dict(private=False).get("crv") != CURVE:
        raise KeyRefused(f"Credentials are signed with {ALGORITHM}: the file must hold a {CURVE} private key.")
    return key


def current(session: Session, organisation_id: int) -> SigningKey:
    """The organisation's signing key, made on first use. Two requests that both find none each offer
    a key; the partial unique index keeps one (``ON CONFLICT DO NOTHING``) and both sign with it."""
    query = select(SigningKey).where(SigningKey.organisation_id == organisation_id, SigningKey.retired_at.is_(None))
    found = session.scalar(query)
    if found is None:
        session.execute(insert_ignoring_conflicts(session, SigningKey), _row(organisation_id, _generated(), utcnow()))
        found = session.scalar(query)
    assert found is not None  # inserted above, or by the concurrent transaction this one waited for
    return found


def rotate(session: Session, organisation_id: int, private: ECKey | None = None) -> SigningKey:
    """Retires the current key (kept for verification) and makes ``private`` (default: a new key) current."""
    now = utcnow()
    row = _row(organisation_id, private or _generated(), now)
    if session.scalar(select(SigningKey.id).where(SigningKey.organisation_id == organisation_id,
                                                  SigningKey.key_id == row["key_id"])) is not None:
        raise KeyRefused("This key was used by the organisation before; a rotation needs a new key.")
    retiring = session.scalar(select(SigningKey).where(
        SigningKey.organisation_id == organisation_id, SigningKey.retired_at.is_(None)).with_for_update())
    if retiring is not None:
        retiring.retired_at = now
        session.flush()  # the old key leaves the "current" index before the new one enters it
    key = SigningKey(**row)
    session.add(key)
    session.flush()
    return key


def listed(session: Session, organisation_id: int | None = None) -> list[SigningKey]:
    """Keys oldest first; every organisation's when ``organisation_id`` is None."""
    query = select(SigningKey).order_by(SigningKey.organisation_id, SigningKey.id)
    if organisation_id is not None:
        query = query.where(SigningKey.organisation_id == organisation_id)
    return list(session.scalars(query))


def jwks(session: Session, organisation_id: int) -> dict[str, Any] | None:
    """The organisation's public keys, current and retired (None when it has none)."""
    keys = listed(session, organisation_id) if 0 < organisation_id <= MAX_ORGANISATION_ID else []
    if not keys:
        return None
    return {"keys": [{**key.public_jwk, "kid": kid(key), "alg": key.algorithm, "use": "sig"} for key in keys]}


def by_kid(session: Session, value: Any) -> SigningKey | None:
    """Our key that a ``kid`` names, or None: a kid that is not one of our JWKS URLs is never fetched."""
    if not isinstance(value, str) or len(value) > 500:
        return None
    found = re.fullmatch(re.escape(_base()) + r"/organisations/([1-9][0-9]{0,9})/jwks\.json#([A-Za-z0-9_-]{43})", value)
    if found is None or int(found[1]) > MAX_ORGANISATION_ID:
        return None
    return session.scalar(select(SigningKey).where(SigningKey.organisation_id == int(found[1]),
                                                   SigningKey.key_id == found[2]))


def public_key(key: SigningKey) -> ECKey:
    return ECKey.import_key(key.public_jwk)


def sign(session: Session, organisation_id: int, claims: dict[str, Any]) -> str:
    """A compact JWS (VC-JOSE-COSE: the payload is the credential) with the organisation's current key."""
    key = current(session, organisation_id)
    private = ECKey.import_key(_box().decrypt(key.private_key_encrypted))
    return jwt.encode({"alg": key.algorithm, "typ": "vc+jwt", "kid": kid(key)}, claims, private,
                      algorithms=[ALGORITHM])
