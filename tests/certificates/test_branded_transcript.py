"""The transcript PDF wears the society's letterhead, read from registration through certificates'
branding source (``RemoteBranding`` in the service; a stand-in source here): logo, colour, footer."""
from __future__ import annotations

import io

import pytest
from flask import Flask
from pypdf import PdfReader

from suite_common.branding import Branding, Logo
from tests.certificates.test_transcripts import _link, issued  # noqa: F401 (a fixture; certificates_app is the conftest's)
from tests.registration.test_branding import image_bytes
from tests.support.pdf import pdf_text


class SocietySource:
    """Answers as registration's internal branding API would for organisation 1, and nothing else."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def branding(self, organisation_id: int) -> Branding | None:
        self.asked.append(organisation_id)
        return Branding(organisation_id=1, display_name="Nederlandse Vereniging voor Beeldvorming",
                        primary_colour="#7a1f5c", footer_text="Postbus 1, 3500 AA Utrecht\nKvK 12345678",
                        logo_version="v1") if organisation_id == 1 else None

    def logo(self, organisation_id: int) -> Logo | None:
        return Logo("image/png", image_bytes("PNG", (180, 60))) if organisation_id == 1 else None


@pytest.mark.usefixtures("issued")
def test_the_transcript_pdf_prints_the_societys_logo_name_and_footer(certificates_app: Flask) -> None:  # noqa: F811
    source = SocietySource()
    certificates_app.extensions["suite_branding"] = source
    client = certificates_app.test_client()
    pdf = client.get(_link(certificates_app, client, 1, "zoe@h.example") + "/transcript.pdf")
    assert pdf.status_code == 200
    text = " ".join(pdf_text(pdf.data).split())
    assert "Nederlandse Vereniging voor Beeldvorming" in text
    assert "Postbus 1, 3500 AA Utrecht · KvK 12345678" in text
    page = PdfReader(io.BytesIO(pdf.data)).pages[0]
    assert [(image.image.width, image.image.height) for image in page.images] == [(180, 60)]
    assert 1 in source.asked
