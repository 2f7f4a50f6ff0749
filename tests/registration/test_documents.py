"""Receipts, invoices and credit notes: VAT that always adds up, money as accounts read it, pages that say it."""

from __future__ import annotations

import dataclasses
import io
import unicodedata
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfReader

from registration.services.documents import Buyer, DocumentData, Line, Seller, UnprintableText, render_document
from registration.services.money import Breakdown, format_money, format_rate, minor_units, round_half_up, vat_breakdown
from tests.support.pdf import pdf_text as one_page_text


def pdf_text(pdf: bytes) -> str:
    """The text of the one page, with line breaks as spaces: a long name may wrap in its column."""
    return " ".join(one_page_text(pdf).split())

# --- VAT ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("amount", [0, 1, 99, 12345])
@pytest.mark.parametrize("prices_include_vat", [True, False])
def test_at_zero_percent_there_is_no_vat(amount: int, prices_include_vat: bool) -> None:
    assert vat_breakdown(amount, Decimal("0"), prices_include_vat) == Breakdown(net=amount, vat=0, gross=amount)


@pytest.mark.parametrize(("amount", "expected"), [
    (1, Breakdown(net=1, vat=0, gross=1)),              # 0.1666…
    (3, Breakdown(net=2, vat=1, gross=3)),              # 0.5 rounds up (half-even would give 0)
    (15, Breakdown(net=12, vat=3, gross=15)),           # 2.5 rounds up (half-even would give 2)
    (99, Breakdown(net=82, vat=17, gross=99)),          # 16.5
    (100, Breakdown(net=83, vat=17, gross=100)),        # 16.666…
    (12345, Breakdown(net=10287, vat=2058, gross=12345)),  # 2057.5
    (54000, Breakdown(net=45000, vat=9000, gross=54000)),
])
def test_twenty_percent_included_in_the_price(amount: int, expected: Breakdown) -> None:
    assert vat_breakdown(amount, Decimal("20"), prices_include_vat=True) == expected


@pytest.mark.parametrize(("amount", "expected"), [
    (1, Breakdown(net=1, vat=0, gross=1)),              # 0.2
    (3, Breakdown(net=3, vat=1, gross=4)),              # 0.6
    (99, Breakdown(net=99, vat=20, gross=119)),         # 19.8
    (12345, Breakdown(net=12345, vat=2469, gross=14814)),
    (45000, Breakdown(net=45000, vat=9000, gross=54000)),
])
def test_twenty_percent_on_top_of_the_price(amount: int, expected: Breakdown) -> None:
    assert vat_breakdown(amount, Decimal("20"), prices_include_vat=False) == expected


@pytest.mark.parametrize(("amount", "rate", "prices_include_vat", "vat"), [
    (5, Decimal("10"), False, 1),        # 0.5 up
    (25, Decimal("10"), False, 3),       # 2.5 up (half-even would give 2)
    (15, Decimal("10"), False, 2),       # 1.5 up
    (20, Decimal("7.5"), False, 2),      # 1.5 up
    (1000, Decimal("7.7"), True, 71),    # 71.494…
    (10770, Decimal("7.7"), True, 770),  # exactly 770
    (221, Decimal("10.5"), True, 21),    # 21.0
])
def test_halves_round_up_and_fractional_rates_are_exact(amount: int, rate: Decimal, prices_include_vat: bool,
                                                        vat: int) -> None:
    breakdown = vat_breakdown(amount, rate, prices_include_vat)
    assert breakdown.vat == vat
    assert breakdown.net + breakdown.vat == breakdown.gross


def test_a_negative_amount_splits_as_the_mirror_image() -> None:
    assert vat_breakdown(-15, Decimal("20"), True) == Breakdown(net=-12, vat=-3, gross=-15)


@pytest.mark.parametrize(("value", "rounded"), [
    (Fraction(1, 2), 1), (Fraction(5, 2), 3), (Fraction(-5, 2), -3), (Fraction(49, 100), 0), (Fraction(7), 7),
    (Fraction(-1, 3), 0),
])
def test_round_half_up(value: Fraction, rounded: int) -> None:
    assert round_half_up(value) == rounded


rates = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@given(amount=st.integers(min_value=0, max_value=10**12), rate=rates, prices_include_vat=st.booleans())
def test_net_and_vat_always_add_up_to_gross(amount: int, rate: Decimal, prices_include_vat: bool) -> None:
    net, vat, gross = vat_breakdown(amount, rate, prices_include_vat)
    assert net + vat == gross
    assert vat >= 0
    assert (gross if prices_include_vat else net) == amount
    exact = Fraction(amount) * Fraction(rate) / (100 + Fraction(rate) if prices_include_vat else 100)
    assert abs(vat - exact) <= Fraction(1, 2)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError):
        vat_breakdown(12.5, Decimal("20"), True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        vat_breakdown(100, 20.0, True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        format_money(12.5, "EUR")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        vat_breakdown(100, Decimal("-1"), True)


# --- money -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "currency", "printed"), [
    (123450, "EUR", "EUR 1,234.50"),
    (0, "EUR", "EUR 0.00"),
    (1, "EUR", "EUR 0.01"),
    (99, "EUR", "EUR 0.99"),
    (-54000, "EUR", "EUR -540.00"),
    (123456789, "EUR", "EUR 1,234,567.89"),
    (12345, "JPY", "JPY 12,345"),
    (7, "JPY", "JPY 7"),
    (1234567, "KWD", "KWD 1,234.567"),
    (5, "KWD", "KWD 0.005"),
    (-1500, "BHD", "BHD -1.500"),
    (100000, "ISK", "ISK 100,000"),
    (250000, "CHF", "CHF 2,500.00"),
])
def test_format_money(amount: int, currency: str, printed: str) -> None:
    assert format_money(amount, currency) == printed


def test_minor_units_and_currency_codes() -> None:
    assert [minor_units(code) for code in ("EUR", "GBP", "JPY", "KRW", "KWD", "OMR", "TND")] == [2, 2, 0, 0, 3, 3, 3]
    for bad in ("eur", "EURO", "E1R", ""):
        with pytest.raises(ValueError):
            format_money(100, bad)


@pytest.mark.parametrize(("rate", "printed"), [
    (Decimal("20"), "20%"), (Decimal("20.00"), "20%"), (Decimal("7.7"), "7.7%"), (Decimal("0"), "0%"),
    (Decimal("2E+1"), "20%"),
])
def test_format_rate(rate: Decimal, printed: str) -> None:
    assert format_rate(rate) == printed


# --- the documents -----------------------------------------------------------------------------

SELLER = Seller(
    name="European Society of Imaging Informatics",
    address=["Neutorgasse 9", "1010 Vienna", "Austria"],
    vat_number="ATU12345678",
    email="accounts@esii.example.org",
)
BANK = ["Account holder: European Society of Imaging Informatics", "IBAN: AT61 1904 3002 3457 3201", "BIC: BKAUATWW"]


def _receipt(**changes: object) -> DocumentData:
    data = DocumentData(
        kind="receipt",
        number="2027-000042",
        issued_on=date(2027, 2, 3),
        seller=SELLER,
        buyer=Buyer(name="Dr. Νίκος Παπαδόπουλος-Müller", email="n.papadopoulos@example.gr"),
        lines=[("Congress registration – Member rate", 1, 45000),
               ("Workshop: Federated learning in radiology", 1, 9000)],
        currency="EUR",
        vat_rate=Decimal("20"),
        prices_include_vat=True,
        event_title="European Congress of Imaging Informatics 2027",
        event_dates="1–2 March 2027 · Vienna, Austria",
        reference="ECII27-7K3M",
        paid_on=date(2027, 2, 3),
        payment_method="Card (Stripe)",
    )
    return dataclasses.replace(data, **changes)


def _invoice(**changes: object) -> DocumentData:
    data = _receipt(
        kind="invoice",
        number="2027-000043",
        buyer=Buyer(name="Universitätsklinikum Łódź – Zakład Radiologii",
                    address=["ul. Kopcińskiego 22", "90-153 Łódź", "Poland"], email="faktury@example.pl",
                    vat_number="PL7250000000", purchase_order="PO-2027/0815"),
        lines=[("Congress registration – Non-member rate: Dr. Zofia Łukasiewicz", 1, 52000),
               ("Workshop: Federated learning in radiology", 2, 9000)],
        prices_include_vat=False,
        vat_rate=Decimal("0"),
        paid_on=None,
        payment_method="Bank transfer",
        due_on=date(2027, 3, 5),
        bank_details=BANK,
        note="Reverse charge: VAT to be accounted for by the recipient",
    )
    return dataclasses.replace(data, **changes)


def _credit_note(**changes: object) -> DocumentData:
    data = _receipt(kind="credit_note", number="2027-CN-000003", issued_on=date(2027, 2, 20), refers_to="2027-000042",
                    paid_on=date(2027, 2, 20))
    return dataclasses.replace(data, **changes)


def test_a_receipt_states_seller_buyer_figures_and_payment() -> None:
    data = _receipt()
    assert data.breakdown == Breakdown(net=45000, vat=9000, gross=54000)
    text = pdf_text(render_document(data))
    for expected in (
        "Receipt",
        "2027-000042",
        "European Society of Imaging Informatics",
        "VAT no. ATU12345678",
        "Dr. Νίκος Παπαδόπουλος-Müller",
        "European Congress of Imaging Informatics 2027",
        "ECII27-7K3M",
        "3 February 2027",
        "Congress registration – Member rate",
        "450.00",
        "Net (excl. VAT)",
        "EUR 450.00",
        "VAT 20%",
        "EUR 90.00",
        "Total",
        "EUR 540.00",
        "include VAT at 20%",
        "Paid in full on 3 February 2027 by Card (Stripe).",
    ):
        assert expected in text, expected
    assert "-" + "450.00" not in text
    assert "IBAN" not in text


def test_an_invoice_states_buyer_vat_order_due_date_and_bank_details() -> None:
    data = _invoice()
    assert data.breakdown == Breakdown(net=70000, vat=0, gross=70000)
    text = pdf_text(render_document(data))
    for expected in (
        "Invoice",
        "2027-000043",
        "VAT no. ATU12345678",
        "Universitätsklinikum Łódź – Zakład Radiologii",
        "ul. Kopcińskiego 22",
        "VAT no. PL7250000000",
        "PO-2027/0815",
        "Dr. Zofia Łukasiewicz",
        "180.00",
        "EUR 700.00",
        "VAT 0%",
        "EUR 0.00",
        "exclude VAT",
        "Reverse charge: VAT to be accounted for by the recipient",
        "Payment due by 5 March 2027: EUR 700.00.",
        "Please quote invoice number 2027-000043",
        "IBAN: AT61 1904 3002 3457 3201",
        "BIC: BKAUATWW",
    ):
        assert expected in text, expected


def test_vat_on_top_is_added_to_the_total() -> None:
    text = pdf_text(render_document(_invoice(vat_rate=Decimal("20"), note=None)))
    for expected in ("EUR 700.00", "VAT 20%", "EUR 140.00", "EUR 840.00", "Payment due by 5 March 2027: EUR 840.00."):
        assert expected in text, expected


def test_a_paid_invoice_says_so_instead_of_asking_for_payment() -> None:
    text = pdf_text(render_document(_invoice(paid_on=date(2027, 2, 10))))
    assert "Paid in full on 10 February 2027 by Bank transfer." in text
    assert "Payment due" not in text


def test_a_credit_note_refers_to_the_invoice_and_shows_negative_amounts() -> None:
    text = pdf_text(render_document(_credit_note()))
    for expected in (
        "Credit note",
        "2027-CN-000003",
        "Refers to invoice",
        "This credit note refers to invoice 2027-000042.",
        "-450.00",
        "-90.00",
        "EUR -450.00",
        "EUR -90.00",
        "EUR -540.00",
        "Dr. Νίκος Παπαδόπουλος-Müller",
        "VAT no. ATU12345678",
        "refunded on 20 February 2027 by Card (Stripe)",
    ):
        assert expected in text, expected
    assert "EUR 540.00 refunded" in text
    assert "Paid in full" not in text


@pytest.mark.parametrize("name", [
    "María Ñúñez", "Søren Øster", "Çağlar Öztürk-Đặng", "Νίκος Παπαδόπουλος", "Анна Иванова", "王小明", "山田太郎",
    "김민준 (Kim Min-jun)",
])
def test_the_buyer_prints_exactly_as_spelt_in_every_script(name: str) -> None:
    text = pdf_text(render_document(_receipt(buyer=Buyer(name=name, address=[f"c/o {name}"]))))
    assert name in text
    assert f"c/o {name}" in text


def test_a_decomposed_name_prints_as_its_composed_form() -> None:
    decomposed = unicodedata.normalize("NFD", "María Ñúñez")
    assert "María Ñúñez" in pdf_text(render_document(_receipt(buyer=Buyer(name=decomposed))))


def test_a_text_no_shipped_font_can_draw_is_refused_rather_than_misprinted() -> None:
    with pytest.raises(UnprintableText, match="buyer.address"):
        render_document(_invoice(buyer=Buyer(name="King Faisal Specialist Hospital", address=["مستشفى الملك فيصل"])))


def test_zero_and_three_decimal_currencies_print_their_own_minor_units() -> None:
    yen = pdf_text(render_document(_receipt(currency="JPY", lines=[("Registration", 1, 12345)])))
    assert "JPY 12,345" in yen
    assert "JPY 10,287" in yen and "JPY 2,058" in yen
    dinar = pdf_text(render_document(_receipt(currency="KWD", lines=[("Registration", 1, 123450)])))
    assert "KWD 123.450" in dinar


def test_the_document_metadata_names_document_seller_and_buyer() -> None:
    metadata = PdfReader(io.BytesIO(render_document(_invoice()))).metadata
    assert metadata.title == "Invoice 2027-000043"
    assert metadata.author == "European Society of Imaging Informatics"
    assert "Universitätsklinikum Łódź" in metadata.subject
    assert "EUR 700.00" in metadata.subject


def test_a_very_long_list_of_lines_flows_onto_more_pages_with_numbered_footers() -> None:
    lines = [Line(f"Group registration {n}: congress and workshop, member rate", 1, 45000) for n in range(60)]
    reader = PdfReader(io.BytesIO(render_document(_invoice(lines=lines))))
    pages = len(reader.pages)
    assert pages >= 2
    texts = [page.extract_text() for page in reader.pages]
    assert f"page 1 of {pages}" in texts[0]
    assert f"page {pages} of {pages}" in texts[-1]
    assert "Description" in texts[1]  # the table heading repeats
    assert "Group registration 59" in "".join(texts)
    assert "EUR 27,000.00" in texts[-1]


@pytest.mark.parametrize(("changes", "error"), [
    ({"kind": "quote"}, ValueError),
    ({"number": " "}, ValueError),
    ({"lines": []}, ValueError),
    ({"lines": [("Registration", 0, 100)]}, ValueError),
    ({"lines": [("Registration", 1, 100.0)]}, TypeError),
    ({"lines": [("Registration", 1, 100), ("Discount", 1, -200)]}, ValueError),
    ({"vat_rate": 20.0}, TypeError),
    ({"currency": "euro"}, ValueError),
    ({"paid_on": None}, ValueError),
])
def test_inconsistent_data_is_refused(changes: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        _receipt(**changes)


def test_a_credit_note_needs_the_document_it_refers_to() -> None:
    with pytest.raises(ValueError, match="refers_to"):
        _credit_note(refers_to=None)


def test_a_discount_line_is_allowed_while_the_total_stays_positive() -> None:
    data = _receipt(lines=[("Registration", 1, 45000), ("Early-bird discount", 1, -5000)])
    assert data.amount == 40000
    assert "-50.00" in pdf_text(render_document(data))
