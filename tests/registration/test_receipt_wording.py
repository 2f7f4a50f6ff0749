"""What a receipt and its credit note say: the discount as a line of its own, and a credit note for a
card payment's receipt that names the receipt, not an invoice."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from registration.services.documents import Buyer, DocumentData, Line, Seller, render_document
from registration.services.receipts import lines
from tests.support.pdf import pdf_text


def _registration(discount_code_id: int | None, amount_due: int) -> SimpleNamespace:
    event = SimpleNamespace(title="Demo Congress")
    return SimpleNamespace(event=event, rate=SimpleNamespace(name="Member", amount=45000), workshops=[],
                           amount_due=amount_due, discount_code_id=discount_code_id)


def test_the_discount_is_a_line_of_its_own_and_the_lines_still_add_up():
    printed = lines(_registration(discount_code_id=7, amount_due=40500))
    assert printed == [["Demo Congress: Member", 1, 45000], ["Discount", 1, -4500]]
    assert lines(_registration(discount_code_id=None, amount_due=45000)) == [["Demo Congress: Member", 1, 45000]]


def _credit_note(refers_to_kind: str) -> DocumentData:
    return DocumentData(
        kind="credit_note", number="CN-2031-0001", issued_on=date(2031, 3, 1),
        seller=Seller("Demo Society", ["Am Gestade 1", "1010 Wien"], "ATU00000000"), buyer=Buyer("王 芳"),
        lines=[Line("Refund: Demo Congress: Member", 1, 40500)], currency="EUR", vat_rate=Decimal("0"),
        prices_include_vat=True, event_title="Demo Congress", event_dates="1–3 March 2031", reference="R1",
        paid_on=date(2031, 3, 1), refers_to="RC-2031-0007", refers_to_kind=refers_to_kind)  # type: ignore[arg-type]


def test_a_credit_note_for_a_receipt_says_receipt():
    text = " ".join(pdf_text(render_document(_credit_note("receipt"))).split())
    assert "Refers to receipt" in text and "refers to receipt RC-2031-0007" in text
    assert "invoice" not in text.lower()
    invoice_text = " ".join(pdf_text(render_document(_credit_note("invoice"))).split())
    assert "refers to invoice RC-2031-0007" in invoice_text
