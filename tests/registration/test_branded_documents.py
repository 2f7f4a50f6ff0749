"""Receipts, invoices and credit notes wear the society's letterhead: its logo (an embedded image),
name, colour and footer; a pale colour draws the lines but never unreadable headings."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from pypdf import PdfReader
from reportlab.lib import colors

from registration.services.documents import render_document
from suite_common.branding import Branding, Logo
from suite_common.pdf import ACCENT, PLAIN, letterhead
from tests.registration.test_branding import BRANDING, image_bytes, upload
from tests.registration.test_documents import _credit_note, _invoice, _receipt
from tests.support.factories import create_event, sign_up
from tests.support.pdf import pdf_text

LOOK = Branding(organisation_id=1, display_name="Nederlandse Vereniging voor Beeldvorming", primary_colour="#7a1f5c",
                footer_text="Postbus 1, 3500 AA Utrecht\nKvK 12345678", logo_version="x")


def images(pdf: bytes) -> list[tuple[int, int]]:
    """The size in pixels of every image embedded in the document's first page."""
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return [(image.image.width, image.image.height) for image in page.images]


@pytest.mark.parametrize("document", [_receipt, _invoice, _credit_note], ids=["receipt", "invoice", "credit note"])
def test_each_kind_of_document_prints_the_logo_name_and_footer(document) -> None:  # type: ignore[no-untyped-def]
    branded = render_document(document(), letterhead(LOOK, Logo("image/png", image_bytes("PNG", (240, 80)))))
    text = pdf_text(branded)
    assert "Nederlandse Vereniging voor Beeldvorming" in text
    assert "European Society of Imaging Informatics" in text  # the legal seller stays
    assert "Postbus 1, 3500 AA Utrecht · KvK 12345678" in text
    assert images(branded) == [(240, 80)]

    plain = render_document(document())
    assert images(plain) == [] and "Nederlandse Vereniging" not in pdf_text(plain)


def test_a_jpeg_logo_is_embedded_too() -> None:
    branded = render_document(_receipt(), letterhead(LOOK, Logo("image/jpeg", image_bytes("JPEG", (300, 100)))))
    assert images(branded) == [(300, 100)]


def test_the_colour_draws_headings_only_where_it_reads_on_paper() -> None:
    dark = letterhead(LOOK, None)
    assert dark.accent == dark.accent_text == colors.HexColor("#7a1f5c")
    pale = letterhead(Branding(organisation_id=1, primary_colour="#f4c430"), None)
    assert pale.accent == colors.HexColor("#f4c430") and pale.accent_text == ACCENT
    assert letterhead(None, None) == PLAIN


def test_letterhead_text_no_font_can_print_is_left_out_not_refused() -> None:
    look = letterhead(Branding(organisation_id=1, display_name="\U0001d11e Society", footer_text="Postbus 1\n\U0001d11e"),
                      None)
    text = pdf_text(render_document(_receipt(), look))
    assert "Postbus 1" in text and "Society" not in text.split("European Society")[0]


def test_the_attendees_receipt_and_credit_note_wear_the_societys_look(registration_app, client, auth) -> None:  # type: ignore[no-untyped-def]
    from registration.models import Registration
    from registration.services import receipts

    assert client.put("/api/v1/organisation/branding", json=BRANDING, headers=auth).status_code == 200
    assert upload(client, auth, image_bytes("PNG", (160, 50))).status_code == 200
    event = create_event(client, auth)
    signed_up = sign_up(client, event["slug"])
    now = dt.datetime.now(dt.UTC)
    with registration_app.app_context(), registration_app.extensions["suite_db"].session_scope() as session:
        registration = session.get(Registration, signed_up["id"])
        receipts.issue_receipt(session, registration, now)
        receipts.issue_credit_note(session, registration, 0, now)
    manage = signed_up["manage_url"].split("localhost", 1)[-1]
    for path in (f"{manage}/receipt.pdf", f"{manage}/credit-note.pdf"):
        answer = client.get(path)
        assert answer.status_code == 200 and answer.mimetype == "application/pdf", path
        text = pdf_text(answer.data)
        assert "Nederlandse Vereniging voor Beeldvorming" in text and "Postbus 1, 3500 AA Utrecht" in text, path
        assert images(answer.data) == [(160, 50)], path
