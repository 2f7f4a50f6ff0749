"""The certificate PDF: names in every script, the facts a verifier reads, a QR that scans, one page."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image
from pypdf import PdfReader

from certificates.services.pdf import (
    CertificateData,
    UnprintableText,
    format_credits,
    missing_glyphs,
    render_certificate,
)
from tests.support.pdf import page_png, pdf_text, tool

STATEMENT = (
    "The “European Congress of Imaging Informatics 2027”, Vienna, Austria, 01/03/2027–02/03/2027 has been "
    "accredited by the European Accreditation Council for Continuing Medical Education (EACCME®) with "
    "9 European CME credits (ECMEC®s). Each medical specialist should claim only those hours of credit "
    "that he/she actually spent in the educational activity.\n\n"
    "Through an agreement between the Union Européenne des Médecins Spécialistes and the American Medical "
    "Association, physicians may convert EACCME® credits to an equivalent number of AMA PRA Category 1 "
    "Credits™.\n\n"
    "Live educational activities, occurring outside of Canada, recognised by the UEMS-EACCME® for ECMEC®s "
    "are deemed to be Accredited Group Learning Activities (Section 1) as defined by the Maintenance of "
    "Certification Program of the Royal College of Physicians and Surgeons of Canada."
)
VERIFY_URL = "https://certificates.example.org/verify/K7M2-Q9XP"


def _png(size: tuple[int, int], mode: str = "RGBA", colour: object = (29, 53, 87, 255)) -> bytes:
    image = Image.new(mode, size, colour)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _data(**changes: object) -> CertificateData:
    data = CertificateData(
        participant="Zofia Łukasiewicz",
        event_title="European Congress of Imaging Informatics 2027",
        event_dates="1–2 March 2027",
        place="Vienna, Austria",
        credits=Decimal("4.5"),
        credit_body="EACCME®",
        credit_unit="European CME credits (ECMEC®s)",
        statement=STATEMENT,
        signatory_name="Prof. Dr. Anna Müller",
        signatory_title="President, European Society of Imaging Informatics",
        organisation_name="European Society of Imaging Informatics",
        issued_on=date(2027, 3, 14),
        verification_code="K7M2-Q9XP",
        verify_url=VERIFY_URL,
    )
    return dataclasses.replace(data, **changes)


@pytest.mark.parametrize("name", [
    "Jan Łukasiewicz",
    "María Ñúñez",
    "Søren Øster",
    "Çağlar Öztürk-Đặng",
    "Νίκος Παπαδόπουλος",
    "Анна Иванова",
    "王小明",
    "山田太郎",
    "김민준",
    "김민준 (Kim Min-jun)",
])
def test_the_name_prints_exactly_as_spelt_in_every_script(name: str) -> None:
    assert name in pdf_text(render_certificate(_data(participant=name)))


def test_a_decomposed_name_prints_as_its_composed_form() -> None:
    decomposed = unicodedata.normalize("NFD", "María Ñúñez")
    assert decomposed != "María Ñúñez"
    assert "María Ñúñez" in pdf_text(render_certificate(_data(participant=decomposed)))


def test_the_page_states_event_credits_body_signatory_and_code() -> None:
    text = pdf_text(render_certificate(_data(sessions=[("Opening plenary: AI in the reading room", Decimal("1.5"))])))
    for expected in (
        "European Society of Imaging Informatics",
        "Certificate of Attendance",
        "European Congress of Imaging Informatics 2027",
        "1–2 March 2027 · Vienna, Austria",
        "4.5 European CME credits (ECMEC®s)",
        "EACCME®",
        "Prof. Dr. Anna Müller",
        "14 March 2027",
        "K7M2-Q9XP",
        VERIFY_URL,
        "Sessions attended",
        "Opening plenary: AI in the reading room",
        "Royal College of Physicians and Surgeons of Canada.",
    ):
        assert expected in text
    assert "Revision" not in text


@pytest.mark.parametrize(("value", "printed"), [
    (Decimal("4.5"), "4.5"), (Decimal("4.50"), "4.5"), (Decimal("10"), "10"), (Decimal("1E+1"), "10"),
    (Decimal("0.25"), "0.25"), (Decimal("6.0"), "6"),
])
def test_credits_print_as_people_write_them(value: Decimal, printed: str) -> None:
    assert format_credits(value) == printed


def test_the_qr_code_scans_to_the_verification_address_and_is_at_least_30_mm(tmp_path: Path) -> None:
    dpi = 150
    png = page_png(render_certificate(_data()), tmp_path, dpi)
    zbarimg = tool("zbarimg", "zbar-tools")
    decoded = subprocess.run([zbarimg, "--quiet", "--raw", str(png)], capture_output=True, text=True, check=True)
    assert decoded.stdout.strip() == VERIFY_URL

    with Image.open(png) as page:
        px_per_mm = dpi / 25.4
        # The QR stands alone in the bottom-left corner, between the page border and the text beside it.
        corner = page.convert("L").crop((round(16 * px_per_mm), page.height - round(52 * px_per_mm),
                                         round(60 * px_per_mm), page.height - round(14 * px_per_mm)))
        left, top, right, bottom = corner.point(lambda v: 255 if v < 128 else 0).getbbox()
    assert (right - left) / px_per_mm >= 30
    assert (bottom - top) / px_per_mm >= 30


def test_a_revised_certificate_says_which_revision() -> None:
    assert "Revision 2" in pdf_text(render_certificate(_data(revision=2)))


def test_a_very_long_statement_and_many_sessions_still_fit_on_one_page() -> None:
    long_statement = "\n\n".join(f"Paragraph {n}. {STATEMENT}" for n in range(12)) + "\n\nThe very last words."
    sessions = [(f"Session {n}: deep learning for low-dose CT reconstruction in practice", Decimal("0.5"))
                for n in range(30)]
    pdf = render_certificate(_data(statement=long_statement, sessions=sessions,
                                   participant="Maria de los Ángeles Ñúñez-Papadopoulou van der Berg-Иванова"))
    text = pdf_text(pdf)
    assert "Maria de los Ángeles" in text
    assert "The very last words." in text
    assert "Session 29" in text
    assert "K7M2-Q9XP" in text


def _image_sizes(pdf: bytes) -> list[tuple[int, int]]:
    resources = PdfReader(io.BytesIO(pdf)).pages[0]["/Resources"]
    xobjects = resources.get("/XObject", {})
    images = [xobject.get_object() for xobject in xobjects.values()]
    return [(image["/Width"], image["/Height"]) for image in images if image["/Subtype"] == "/Image"]


def test_logo_and_signature_are_drawn_and_large_uploads_are_cut_to_print_resolution() -> None:
    assert _image_sizes(render_certificate(_data())) == []

    logo = _png((6000, 600))  # 160 mm wide at most: 300 dpi is 1890 px
    signature = _png((400, 120), "LA", (20, 200))
    sizes = _image_sizes(render_certificate(_data(logo_png=logo, signature_png=signature)))
    assert sorted(sizes) == [(400, 120), (1890, 189)]


def test_a_palette_png_with_transparency_is_drawn() -> None:
    image = Image.new("P", (300, 100), 1)
    image.putpalette([255, 255, 255, 29, 53, 87])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)
    assert len(_image_sizes(render_certificate(_data(logo_png=buffer.getvalue())))) == 1


def test_the_document_metadata_names_participant_event_and_organisation() -> None:
    metadata = PdfReader(io.BytesIO(render_certificate(_data()))).metadata
    assert metadata.title == "Certificate of Attendance: Zofia Łukasiewicz, European Congress of Imaging Informatics 2027"
    assert metadata.author == "European Society of Imaging Informatics"
    assert "European Congress of Imaging Informatics 2027" in metadata.subject
    assert "K7M2-Q9XP" in metadata.subject


def test_a_name_no_shipped_font_can_draw_is_refused_rather_than_misprinted() -> None:
    assert missing_glyphs("Anna 𠮷野") == "𠮷"
    assert missing_glyphs("علي علي") == "علي"
    assert missing_glyphs("Zoë 王小明 김민준 Иванова") == ""
    with pytest.raises(UnprintableText, match="𠮷"):
        render_certificate(_data(participant="𠮷野 花子"))
