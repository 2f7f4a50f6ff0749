"""A person's claims and presence checks are in their privacy export; erasure keeps them with the certificate
they stand behind (for the accreditation retention period, and says so) and deletes the wrong codes they typed."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import Flask
from sqlalchemy import select


def test_export_shows_claims_and_presence_and_erasure_keeps_them_with_the_certificate(
        certificates_app: Flask) -> None:
    from certificates import models
    from certificates.services import privacy

    now = dt.datetime.now(dt.UTC)
    database = certificates_app.extensions["suite_db"]
    with certificates_app.app_context(), database.session_scope() as session:
        session.add_all([
            models.Certificate(organisation_id=1, event_slug="congress", registration_id=7, email="zoe@h.example",
                               participant="Zoë Ł", credits=Decimal("3"), code="CODE-7", download_token="t7",
                               snapshot={}, explanation={}, issued_at=now, updated_at=now),
            models.Claim(organisation_id=1, event_slug="congress", registration_id=7, system_code="NVVTG",
                         credits=Decimal("2"), attestation="I claim only what I attended.", claimed_at=now),
            models.PresenceConfirmation(organisation_id=1, event_slug="congress", registration_id=7,
                                        session_code="AM", check_key="code:1", source="code HEART1", confirmed_at=now),
            models.PresenceAttempt(organisation_id=1, event_slug="congress", registration_id=7, day=now.date(),
                                   wrong=3),
            models.Claim(organisation_id=2, event_slug="congress", registration_id=7, system_code="NVVTG",
                         credits=Decimal("1"), attestation="another organisation's", claimed_at=now),
        ])
    with certificates_app.app_context(), database.session_scope() as session:
        exported = privacy.export(session, 1, "Zoe@H.example")
        assert exported["claims"] == [{"event": "congress", "system": "NVVTG", "credits": "2.00",
                                       "attestation": "I claim only what I attended.", "claimed_at": now.isoformat()}]
        assert [(p["session"], p["source"]) for p in exported["presence_checks"]] == [("AM", "code HEART1")]
        _, kept = privacy.erase(session, 1, "zoe@h.example")
        assert any("presence checks, claims" in item["what"] for item in kept)
    with certificates_app.app_context(), database.session_scope() as session:
        assert session.scalars(select(models.PresenceAttempt)).all() == []
        assert len(session.scalars(select(models.Claim)).all()) == 2
        assert len(session.scalars(select(models.PresenceConfirmation)).all()) == 1
