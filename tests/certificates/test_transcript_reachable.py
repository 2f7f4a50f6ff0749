"""The transcript is reachable where a learner looks for their certificates: the participant's page
links the transcript request of the event's organisation, and so does the certificate-ready mail
(text and HTML, in the participant's language)."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.support.apps import make_settings

ORGANISATION_ID, SLUG, REGISTRATION_ID = 7, "chest-ct-2027", 41


@pytest.fixture
def certificates_app(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """Certificates with registration's answer about the participant standing in (no other process)."""
    from certificates import create_app
    from certificates.models import Base
    from certificates.services import registry

    person = registry.Person(id=REGISTRATION_ID, email="zoe@h.example", given_name="Zoë", family_name="Łukasiewicz",
                             status="confirmed", ticket_code="T-1")
    monkeypatch.setattr(registry, "person_by_id", lambda registration_id: (
        (person, SLUG, ORGANISATION_ID) if registration_id == REGISTRATION_ID else None))
    app = create_app(make_settings("certificates", database_url, tmp_path))
    Base.metadata.create_all(app.extensions["suite_db"].engine)
    yield app
    app.extensions["suite_db"].engine.dispose()


def test_the_participants_page_links_the_transcript_request_of_its_organisation(certificates_app: Flask) -> None:
    from suite_common.auth import participant_token

    key = certificates_app.extensions["suite_settings"].service_keys["registration"][0]
    token = participant_token(key, SLUG, REGISTRATION_ID)
    client = certificates_app.test_client()
    page = client.get(f"/events/{SLUG}/participants/{token}")
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    assert f'<a href="/o/{ORGANISATION_ID}/transcript">request your transcript</a>' in html
    assert client.get(f"/o/{ORGANISATION_ID}/transcript").status_code == 200  # the link leads to the form
    dutch = client.get(f"/events/{SLUG}/participants/{token}?lang=nl").get_data(as_text=True)
    assert f'<a href="/o/{ORGANISATION_ID}/transcript">vraag uw overzicht aan</a>' in dutch


@pytest.mark.parametrize(("language", "words"), [("en", "in one transcript:"), ("nl", "in één overzicht:"),
                                                 ("de", "in einer Übersicht:"), ("fr", "dans un seul relevé :")])
def test_the_certificate_ready_mail_links_the_transcript_in_the_participants_language(language: str,
                                                                                     words: str) -> None:
    from notifications.services.rendering import file_wording, render, sample_context

    context = sample_context("certificate_ready")
    context["certificate"] = {**context["certificate"], "transcript_url": "https://certs.example/o/7/transcript"}
    rendered = render(file_wording("certificate_ready"), context, "Society", language)
    text = " ".join(rendered.text.split())
    assert f"{words} https://certs.example/o/7/transcript" in text
    assert 'href="https://certs.example/o/7/transcript"' in rendered.html and words in " ".join(rendered.html.split())


def test_the_certificate_ready_mail_asks_for_the_transcript_of_the_certificates_organisation(
        certificates_app: Flask) -> None:
    from certificates.models import Certificate
    from certificates.services import issuing, registry

    certificate = Certificate(organisation_id=ORGANISATION_ID, event_slug=SLUG, registration_id=REGISTRATION_ID,
                              email="zoe@h.example", code="ABCDE-FGHJK", download_token="t" * 20, revision=1,
                              snapshot={"event_title": "AI in chest CT", "language": "nl",
                                        "systems": [{"credits": "1.5", "body": "EACCME"}]})
    person = registry.Person(id=REGISTRATION_ID, email="zoe@h.example", given_name="Zoë", family_name="Ł",
                             status="confirmed", ticket_code="T-1")
    with certificates_app.app_context():
        mail = issuing._ready_mail(certificate, person)
    base = certificates_app.extensions["suite_settings"].public_base_url
    assert mail["body"]["context"]["certificate"]["transcript_url"] == f"{base}/o/{ORGANISATION_ID}/transcript"
