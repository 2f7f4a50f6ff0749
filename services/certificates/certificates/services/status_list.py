"""Revocation as a W3C Bitstring Status List v1.0 (https://www.w3.org/TR/vc-bitstring-status-list/).

Each signed credential carries a ``BitstringStatusListEntry`` (purpose ``revocation``): a position in
one of its organisation's status lists. The list is a ``BitstringStatusListCredential`` whose
``encodedList`` is the bitstring (position 0 is the first byte's highest bit), GZIP-compressed,
base64url without padding, with the multibase prefix ``u``; it is served signed (VC-JWT) and made
again, in the revoking transaction, when one of its certificates is revoked.

A certificate gets its position the first time its credential is made, and keeps it for good:
re-issuing keeps the certificate and so the position; positions are never handed out twice.
"""
from __future__ import annotations

import base64
import gzip
import re
import secrets
import zlib
from collections.abc import Iterable
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from suite_common.db import insert_once, utcnow

from ..models import Certificate, StatusEntry, StatusList
from . import signing_keys

SIZE = 131072  # 16 KiB: the specification's minimum, for group privacy
PURPOSE = "revocation"
CONTEXT = ["https://www.w3.org/ns/credentials/v2"]


def list_url(organisation_id: int, number: int) -> str:
    return f"{signing_keys.issuer_id(organisation_id)}/status-lists/{number}"


def encode(revoked: Iterable[int], size: int = SIZE) -> str:
    """The ``encodedList`` of a list whose ``revoked`` positions are set."""
    bits = bytearray(size // 8)
    for index in revoked:
        bits[index // 8] |= 0x80 >> (index % 8)
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).decode().rstrip("=")


def decode(encoded: str, size: int = SIZE) -> bytes:
    """The bitstring of an ``encodedList``; ValueError when it is not one (or would inflate past ``size``)."""
    if not encoded.startswith("u"):
        raise ValueError("encodedList is not multibase base64url (prefix 'u')")
    compressed = base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4))
    inflater = zlib.decompressobj(wbits=31)  # gzip framing; bounded, so a crafted list cannot exhaust memory
    bits = inflater.decompress(compressed, size // 8 + 1)
    if len(bits) != size // 8 or not inflater.eof:
        raise ValueError("encodedList does not inflate to a bitstring of the list's size")
    return bits


def is_set(bits: bytes, index: int) -> bool:
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def _open_list(session: Session, organisation_id: int) -> StatusList:
    """The organisation's newest list, or its first (or next) when it has none or the newest is full."""
    newest = session.scalar(select(StatusList).where(StatusList.organisation_id == organisation_id)
                            .order_by(StatusList.number.desc()).limit(1))
    if newest is not None and newest.allocated < newest.size:
        return newest
    number = newest.number + 1 if newest is not None else 1
    status_list, created = insert_once(session, StatusList, {
        "organisation_id": organisation_id, "number": number, "size": SIZE, "allocated": 0,
        "multiplier": 2 * secrets.randbelow(SIZE // 2) + 1, "offset": secrets.randbelow(SIZE),
        "credential": None, "updated_at": utcnow()}, key=("organisation_id", "number"))
    if created:
        _sign(session, status_list, [])
    return status_list


def entry_for(session: Session, certificate: Certificate) -> tuple[StatusEntry, StatusList]:
    """The certificate's position, handed out now if it has none. The list's counter is taken with a
    conditional UPDATE (its row lock queues concurrent requests); a request that loses the race for
    the same certificate leaves its position unused, never given to another."""
    query = select(StatusEntry, StatusList).join(StatusList).where(StatusEntry.certificate_id == certificate.id)
    found = session.execute(query).first()
    if found is not None:
        return found[0], found[1]
    while True:
        status_list = _open_list(session, certificate.organisation_id)
        taken = session.scalar(update(StatusList).where(StatusList.id == status_list.id,
                                                        StatusList.allocated < StatusList.size)
                               .values(allocated=StatusList.allocated + 1).returning(StatusList.allocated))
        if taken is not None:
            break
        session.refresh(status_list)  # filled by others meanwhile: the next list
    index = (status_list.multiplier * (taken - 1) + status_list.offset) % status_list.size
    entry, _created = insert_once(session, StatusEntry, {
        "status_list_id": status_list.id, "status_index": index, "certificate_id": certificate.id,
        "revoked_at": None}, key=("certificate_id",))
    return entry, session.get(StatusList, entry.status_list_id) or status_list


def credential_status(entry: StatusEntry, status_list: StatusList) -> dict[str, str]:
    """The credential's ``credentialStatus``."""
    url = list_url(status_list.organisation_id, status_list.number)
    return {"id": f"{url}#{entry.status_index}", "type": "BitstringStatusListEntry", "statusPurpose": PURPOSE,
            "statusListIndex": str(entry.status_index), "statusListCredential": url}


def _sign(session: Session, status_list: StatusList, revoked: list[int]) -> None:
    now = utcnow()
    url = list_url(status_list.organisation_id, status_list.number)
    issuer = signing_keys.issuer_id(status_list.organisation_id)
    body = {
        "@context": CONTEXT, "id": url, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer, "validFrom": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList", "statusPurpose": PURPOSE,
                              "encodedList": encode(revoked, status_list.size)},
    }
    claims = {**body, "iss": issuer, "jti": url, "iat": int(now.timestamp())}
    status_list.credential = signing_keys.sign(session, status_list.organisation_id, claims)
    status_list.updated_at = now


def revoke(session: Session, certificate: Certificate) -> None:
    """Sets the certificate's bit and signs its list again, in the revoking transaction. The list's row
    is locked first: two revocations in one list queue, and the second sees the first's bit."""
    entry = session.scalar(select(StatusEntry).where(StatusEntry.certificate_id == certificate.id))
    if entry is None:
        return  # its credential was never made: nobody holds one to check
    status_list = session.scalar(select(StatusList).where(StatusList.id == entry.status_list_id).with_for_update())
    assert status_list is not None
    entry.revoked_at = entry.revoked_at or utcnow()
    session.flush()
    revoked = list(session.scalars(select(StatusEntry.status_index).where(
        StatusEntry.status_list_id == status_list.id, StatusEntry.revoked_at.is_not(None))))
    _sign(session, status_list, revoked)


def served(session: Session, organisation_id: int, number: int) -> str | None:
    """The signed status list credential at its URL, or None."""
    if not (0 < organisation_id <= signing_keys.MAX_ORGANISATION_ID and 0 < number <= 2**31 - 1):
        return None
    return session.scalar(select(StatusList.credential).where(StatusList.organisation_id == organisation_id,
                                                             StatusList.number == number))


def by_url(session: Session, url: Any) -> StatusList | None:
    """Our status list at ``url``, or None: a list elsewhere is never fetched."""
    if not isinstance(url, str) or len(url) > 500:
        return None
    base = current_app.extensions["suite_settings"].public_base_url
    found = re.fullmatch(re.escape(base) + r"/organisations/([1-9][0-9]{0,9})/status-lists/([1-9][0-9]{0,9})", url)
    if found is None or int(found[1]) > signing_keys.MAX_ORGANISATION_ID or int(found[2]) > 2**31 - 1:
        return None
    return session.scalar(select(StatusList).where(StatusList.organisation_id == int(found[1]),
                                                   StatusList.number == int(found[2])))
