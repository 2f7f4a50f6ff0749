"""Signed credentials: each organisation's signing keys and its Bitstring Status Lists (issue 13)."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from suite_common.db import UTCDateTime, utcnow

from .base import Base


class SigningKey(Base):
    """One of an organisation's ES256 keys. The current key (not retired) signs; retired keys stay
    listed in the organisation's JWKS, so whatever they signed keeps verifying. The private key is
    stored encrypted (AES-GCM under ``CREDENTIAL_KEY_SECRET``): a copy of the database alone cannot sign."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        UniqueConstraint("organisation_id", "key_id"),
        # At most one current key per organisation, also when two requests create the first one at once.
        Index("uq_signing_keys_current", "organisation_id", unique=True,
              sqlite_where=text("retired_at IS NULL"), postgresql_where=text("retired_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    # The key's JWK thumbprint (RFC 7638); a credential's ``kid`` is the JWKS URL with it as fragment.
    key_id: Mapped[str] = mapped_column(String(64))
    algorithm: Mapped[str] = mapped_column(String(10))
    public_jwk: Mapped[dict[str, str]] = mapped_column(JSON)
    # base64url(nonce || AES-GCM ciphertext of the PKCS#8 PEM); never logged, never answered.
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class StatusList(Base):
    """One Bitstring Status List of an organisation (131,072 positions, the specification's minimum
    size). Positions are handed out once: ``allocated`` only grows, and the n-th position handed out is
    ``(multiplier * n + offset) mod size`` (a permutation: ``multiplier`` is odd and size a power of two),
    so neighbouring positions are not neighbouring certificates. ``credential`` is the signed status list
    credential as served, made again whenever one of its certificates is revoked."""

    __tablename__ = "status_lists"
    __table_args__ = (UniqueConstraint("organisation_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column()
    number: Mapped[int] = mapped_column()
    size: Mapped[int] = mapped_column()
    allocated: Mapped[int] = mapped_column(default=0)
    multiplier: Mapped[int] = mapped_column()
    offset: Mapped[int] = mapped_column()
    credential: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class StatusEntry(Base):
    """A certificate's position in a status list, kept for good (re-issuing keeps it). The revocation
    is recorded here too, so a revoked credential stays revoked in the list after the retention purge
    has deleted the certificate itself (``certificate_id`` becomes NULL, the position is never reused)."""

    __tablename__ = "status_entries"
    __table_args__ = (UniqueConstraint("status_list_id", "status_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    status_list_id: Mapped[int] = mapped_column(ForeignKey("status_lists.id"))
    status_index: Mapped[int] = mapped_column()
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id", ondelete="SET NULL"),
                                                       unique=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
