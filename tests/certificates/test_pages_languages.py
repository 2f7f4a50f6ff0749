"""Certificates' public pages in the reader's language (?lang=, the cookie, Accept-Language), with <html lang>
and the switcher, and the refusals its services return to those pages in that language, while the same
checks through /api/ answer in English (the JSON contract)."""
from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from tests.certificates.test_signed_credentials import download, issue
from tests.support.apps import make_settings


@pytest.fixture
def certificates_app(tmp_path: Path) -> Iterator[Flask]:
    from certificates import create_app
    from certificates.models import Base

    app = create_app(make_settings("certificates", f"sqlite:///{tmp_path / 'certificates.db'}", tmp_path))
    app.config["WTF_CSRF_ENABLED"] = False
    Base.metadata.create_all(app.extensions["suite_db"].engine)
    yield app
    app.extensions["suite_db"].engine.dispose()


@pytest.mark.parametrize(("language", "valid", "issued_by", "switcher"), [
    ("en", "Valid certificate.", "Issued by", "English"),
    ("nl", "Geldig certificaat.", "Uitgegeven door", "Nederlands"),
    ("de", "Gültige Bescheinigung.", "Ausgestellt von", "Deutsch"),
    ("fr", "Attestation valide.", "Délivrée par", "Français"),
])
def test_the_verification_page_in_each_language(certificates_app: Flask, language: str, valid: str,
                                                  issued_by: str, switcher: str) -> None:
    issue(certificates_app, 1, 7)
    client = certificates_app.test_client()
    page = client.get("/verify/CODE-1-7", query_string={"lang": language}).text
    assert f'<html lang="{language}">' in page and valid in page and issued_by in page
    assert f'aria-current="true">{switcher}</a>' in page
    assert "1,5" in page if language != "en" else "1.5" in page  # the credits as the locale writes them
    # The choice is remembered: the next page without ?lang stays in it.
    assert f'<html lang="{language}">' in client.get("/verify/credential").text


def test_a_revoked_and_an_unknown_code_in_the_browsers_language(certificates_app: Flask) -> None:
    from certificates import models
    from suite_common.db import utcnow

    issue(certificates_app, 1, 8)
    with certificates_app.app_context(), certificates_app.extensions["suite_db"].session_scope() as session:
        session.scalar(select(models.Certificate).where(models.Certificate.code == "CODE-1-8")).revoked_at = utcnow()
    client = certificates_app.test_client()
    revoked = client.get("/verify/CODE-1-8", headers={"Accept-Language": "de-AT,de;q=0.9"}).text
    assert "Diese Bescheinigung wurde widerrufen und ist nicht mehr gültig." in revoked
    unknown = client.get("/verify/NOSUCHCODE", headers={"Accept-Language": "nl"})
    assert unknown.status_code == 404
    assert "Geen enkel certificaat heeft de code <code>NOSUCHCODE</code>." in unknown.text


def test_a_credential_that_does_not_verify_is_explained_in_the_pages_language_and_in_english_by_the_api(
        certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    token = download(client, issue(certificates_app, 1, 9))
    tampered = token[:-4] + "AAAA"
    page = client.post("/verify/credential", query_string={"lang": "nl"}, data={"credential": tampered}).text
    assert "Dit bewijs is niet te verifiëren." in page
    assert "De handtekening past niet bij het bewijs" in page and "<dd>ongeldig</dd>" in page
    french = client.post("/verify/credential", query_string={"lang": "fr"}, data={"credential": token}).text
    assert "Attestation numérique valide." in french and "<dd>non révoquée</dd>" in french
    api = client.post("/api/v1/verify", json={"credential": tampered}, headers={"Accept-Language": "nl"})
    assert api.json["errors"] == [
        "The signature does not match the credential: it was altered or not signed by this key."]


def test_the_services_refusals_follow_the_pages_language(certificates_app: Flask) -> None:
    from certificates.services import claims, evaluations, identifiers

    option = claims.ClaimOption(code="NVVTG", name="NVvTG-punten", step=Decimal("0.5"), supported=Decimal(3),
                                claimed=None, closes_at=None, closed=False, waiting_for=None)
    with certificates_app.test_request_context("/events/e/participants/t", query_string={"lang": "nl"}):
        assert claims._amount("2.25", option) == (None, "Claim in stappen van 0,5: bijvoorbeeld 2 of 2,5.")
        assert str(claims.ATTESTATION).startswith("Ik claim alleen de accreditatiepunten")
    with certificates_app.test_request_context("/events/e/participants/t", headers={"Accept-Language": "de"}):
        assert claims._amount("4", option) == (
            None, "Ihre Anwesenheit berechtigt zu höchstens 3 NVvTG-punten; beanspruchen Sie diese Anzahl oder weniger.")
        with pytest.raises(identifiers.InvalidIdentifier, match="Eine EFN hat 15 Ziffern."):
            identifiers.normalise("efn", "123")
    with certificates_app.test_request_context("/events/e/participants/t", query_string={"lang": "fr"}):
        schema = evaluations.answers_schema([{"id": "overall", "kind": "rating", "text": "?"},
                                             {"id": "unbiased", "kind": "yes_no", "text": "?"}])
        assert schema.validate({"unbiased": "peut-être"}) == {
            "overall": ["Une réponse est requise."], "unbiased": ["Choisissez oui ou non."]}
    with certificates_app.test_request_context("/api/v1/events/e/learners", headers={"Accept-Language": "fr"}):
        assert identifiers.label({"kind": "big"}) == "BIG number"  # the organiser's reports stay English


def test_a_link_that_leads_nowhere_is_refused_in_the_readers_language(certificates_app: Flask) -> None:
    client = certificates_app.test_client()
    missing = client.get("/c/no-such-token", headers={"Accept-Language": "nl"})
    assert missing.status_code == 404 and '<html lang="nl">' in missing.text
    assert "Deze link leidt niet naar een certificaat." in missing.text
    forged = client.get("/events/some-event/participants/forged", query_string={"lang": "fr"})
    assert forged.status_code == 404 and '<html lang="fr">' in forged.text
    assert "Ce lien n’est pas valide." in forged.text
