"""One person, one email: the key under which every service compares email addresses.

Trimming and lower-casing is not enough: ``ｚｏｅ@red.example`` (fullwidth letters),
``ZOE@RED.example`` and ``zoe@ｒｅｄ.example`` are one mailbox, typed on different keyboards.
The key is built in three steps, each for a reason:

* NFKC on the whole address folds compatibility forms (fullwidth, ligatures such as "ﬁ",
  superscripts) into the letters they stand for;
* the local part is case-folded (``str.casefold``, then NFKC again, as Unicode's
  NFKC_Casefold does): "ZOË" and "zoë" compare equal, and so do "ß" and "ss";
* the domain goes through IDNA 2008 with the UTS #46 mapping (the ``idna`` package, which
  also refuses what cannot be a domain name) and is written back as its Unicode form
  (U-labels): ``xn--bcher-kva.example`` and ``BÜCHER.example`` both become ``bücher.example``.
  The Unicode form rather than the ASCII one because the key is also what organisers read
  in the member list; A-labels and U-labels map one to one, so either is a faithful key.

The key compares; it is not an address to write to (case-folding can change a mailbox's
name, e.g. "ß"): what the person typed, NFKC-normalised (:func:`normalise_address`), is
kept for mailing.
"""
from __future__ import annotations

import unicodedata

import idna

MAX_LENGTH = 254  # RFC 5321's limit on a forward path, less the angle brackets


class InvalidEmail(ValueError):
    """An address that cannot have a key; its message says why, in words, for a field error."""


def normalise_address(address: str) -> str:
    """The address as typed, trimmed and in NFKC: fullwidth "ｚｏｅ" is written "zoe"; case is kept."""
    return unicodedata.normalize("NFKC", address.strip())


def email_key(address: str) -> str:
    """The comparison key of ``address`` (see the module's docstring); :class:`InvalidEmail` when
    the address has no "@", an empty side, a domain IDNA refuses, or a key longer than 254."""
    local, at, domain = normalise_address(address).rpartition("@")
    if not at or not local or not domain:
        raise InvalidEmail("Not a valid email address.")
    local = unicodedata.normalize("NFKC", local.casefold())
    if domain.startswith("["):  # an address literal such as [192.0.2.1]: no names to map
        domain = domain.lower()
    else:
        try:
            domain = idna.decode(idna.encode(domain, uts46=True))
        except idna.IDNAError as exc:
            raise InvalidEmail(f"The domain is not a valid domain name ({exc}).") from exc
    key = f"{local}@{domain}"
    if len(key) > MAX_LENGTH:
        raise InvalidEmail(f"Use at most {MAX_LENGTH} characters.")
    return key


def loose_email_key(address: str) -> str:
    """:func:`email_key`, or the trimmed, case-folded text when it has none: for matching data that
    was never validated as an address (uploaded attendance reports, rows stored before the key)."""
    try:
        return email_key(address)
    except InvalidEmail:
        return unicodedata.normalize("NFKC", address.strip()).casefold()


def stored_spellings(address: str) -> set[str]:
    """The lower-cased spellings under which a table that keeps addresses as written (not keys)
    may hold ``address``: as typed, in NFKC, and as its key. For lookups such as a privacy export
    in ``lower(column) IN (...)``, where no key column exists to compare with."""
    return {address.strip().lower(), normalise_address(address).lower(), loose_email_key(address)}
