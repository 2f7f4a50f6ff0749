"""Receipts, invoices and credit notes for conference registrations, as A4 PDF.

Pure (no database, no Flask): an issued document's content is frozen by the caller, and the same
``DocumentData`` always draws the same page, today or in ten years for an auditor.

VAT is worked out once, on the document's total, with ``money.vat_breakdown``: line amounts are
printed as charged (gross when prices include VAT), and the Net / VAT / Total below them always
add up.

Every label is in the document's language (``DocumentData.language``, the registration's, kept with
the issued content): ``render_document`` translates through Flask-Babel's ``gettext`` inside
``in_language``, which without an application (a script, a unit test) leaves the English words; dates
and amounts are written per locale with Babel (English keeps "6 December 2026" and "EUR 1,234.50").

Names and addresses print in any script our members use, with the suite's shipped fonts
(``suite_common.fonts``); a text with a character no shipped font has is refused
(``UnprintableText``) rather than printed with a blank box.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Literal, NamedTuple

from babel.dates import format_date
from babel.numbers import format_decimal
from flask import has_app_context
from flask_babel import gettext, lazy_gettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    KeepTogether,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from suite_common.fonts import SANS, SANS_BOLD, draw_text, markup, missing_glyphs, text_width
from suite_common.i18n import currency_decimals, in_language
from suite_common.i18n import format_money as format_money_in
from suite_common.pdf import (
    INK,
    MUTED,
    PLAIN,
    Letterhead,
    UnprintableText,
    english_date,
    logo_image,
    paragraph,
    paragraph_style,
)

from .money import Breakdown, check_currency, check_int, check_rate, format_money, format_rate, vat_breakdown

__all__ = ["KINDS", "Buyer", "DocumentData", "Letterhead", "Line", "Seller", "UnprintableText", "render_document"]

Kind = Literal["receipt", "invoice", "credit_note"]
KINDS: tuple[str, ...] = ("receipt", "invoice", "credit_note")
TITLES = {"receipt": lazy_gettext("Receipt"), "invoice": lazy_gettext("Invoice"),
          "credit_note": lazy_gettext("Credit note")}


# --- the data ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Seller:
    """The society issuing the document."""

    name: str
    address: Sequence[str]
    vat_number: str | None
    email: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", tuple(self.address))


@dataclass(frozen=True)
class Buyer:
    """Who paid or is to pay: the attendee, or their hospital or employer."""

    name: str
    address: Sequence[str] = ()
    email: str | None = None
    vat_number: str | None = None
    purchase_order: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", tuple(self.address))


class Line(NamedTuple):
    """One line of the document; ``unit_amount`` as charged (gross when prices include VAT)."""

    description: str
    quantity: int
    unit_amount: int

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_amount


@dataclass(frozen=True)
class DocumentData:
    """Everything printed on one receipt, invoice or credit note.

    Amounts are positive minor units for every kind: a credit note prints them as negative.
    """

    kind: Kind
    number: str
    issued_on: date
    seller: Seller
    buyer: Buyer
    lines: Sequence[Line]
    currency: str
    vat_rate: Decimal
    prices_include_vat: bool
    event_title: str
    event_dates: str
    reference: str
    payment_method: str | None = None
    paid_on: date | None = None
    due_on: date | None = None
    bank_details: Sequence[str] = ()
    refers_to: str | None = None
    # What a credit note corrects: an invoice, or (a card payment's) receipt.
    refers_to_kind: Literal["invoice", "receipt"] = "invoice"
    note: str | None = None
    # The attendee's language (suite_common.i18n): documents issued before languages existed are English.
    language: str = "en"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        if not self.number.strip():
            raise ValueError("the document needs a number")
        check_currency(self.currency)
        check_rate(self.vat_rate)
        lines = tuple(Line(*line) for line in self.lines)
        if not lines:
            raise ValueError("the document needs at least one line")
        for line in lines:
            if check_int(line.quantity, "a quantity") < 1:
                raise ValueError(f"quantities must be at least 1, not {line.quantity}")
            check_int(line.unit_amount, "a unit amount")
        object.__setattr__(self, "lines", lines)
        object.__setattr__(self, "bank_details", tuple(self.bank_details))
        if sum(line.amount for line in lines) < 0:
            raise ValueError("the lines add up to less than zero")
        if self.kind == "receipt" and self.paid_on is None:
            raise ValueError("a receipt needs the date of payment (paid_on)")
        if self.kind == "credit_note" and not self.refers_to:
            raise ValueError("a credit note needs the number of the document it refers to (refers_to)")

    @property
    def title(self) -> str:
        """"Receipt", "Invoice" or "Credit note", in the language being rendered."""
        return str(TITLES[self.kind])

    @property
    def amount(self) -> int:
        """The lines' total as charged, positive for every kind."""
        return sum(line.amount for line in self.lines)

    @property
    def breakdown(self) -> Breakdown:
        """Net, VAT and gross of the whole document, positive for every kind."""
        return vat_breakdown(self.amount, self.vat_rate, self.prices_include_vat)


def _texts(data: DocumentData) -> dict[str, str]:
    """Every text of ``data`` that is printed, by the name of its field."""
    texts = {
        "number": data.number, "seller.name": data.seller.name, "seller.vat_number": data.seller.vat_number or "",
        "seller.email": data.seller.email or "", "buyer.name": data.buyer.name, "buyer.email": data.buyer.email or "",
        "buyer.vat_number": data.buyer.vat_number or "", "buyer.purchase_order": data.buyer.purchase_order or "",
        "event_title": data.event_title, "event_dates": data.event_dates, "reference": data.reference,
        "payment_method": data.payment_method or "", "refers_to": data.refers_to or "", "note": data.note or "",
    }
    texts |= {f"seller.address[{i}]": line for i, line in enumerate(data.seller.address)}
    texts |= {f"buyer.address[{i}]": line for i, line in enumerate(data.buyer.address)}
    texts |= {f"bank_details[{i}]": line for i, line in enumerate(data.bank_details)}
    texts |= {f"lines[{i}].description": line.description for i, line in enumerate(data.lines)}
    return texts


# --- the page ----------------------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 18 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
FOOTER_HEIGHT = 16 * mm

RULE = colors.HexColor("#c9ced6")
SHADE = colors.HexColor("#eef1f5")


def _style(name: str, font: str = SANS, size: float = 9, color: colors.Color = INK, align: int = TA_LEFT,
           leading: float | None = None, **kw: object) -> ParagraphStyle:
    return paragraph_style(name, font, size, color, align, leading, line_height=1.3, **kw)


# The styles printed in the society's colour get it per document (``_in_colour``).
SELLER_NAME = _style("seller-name", SANS_BOLD, 12.5, leading=15)
BRAND_NAME = _style("brand-name", SANS_BOLD, 9.5, leading=12)
BODY = _style("body")
BODY_BOLD = _style("body-bold", SANS_BOLD)
LABEL = _style("label", SANS_BOLD, 7.5, MUTED, leading=10)
TITLE = _style("title", SANS_BOLD, 22, INK, TA_RIGHT, leading=26)
META_LABEL = _style("meta-label", SANS, 8.5, MUTED)
META_VALUE = _style("meta-value", SANS_BOLD, 8.5, INK, TA_RIGHT)
BUYER_NAME = _style("buyer-name", SANS_BOLD, 10.5, INK, leading=13.5)
HEAD = _style("head", SANS_BOLD, 8, MUTED)
HEAD_RIGHT = _style("head-right", SANS_BOLD, 8, MUTED, TA_RIGHT)
CELL = _style("cell")
CELL_RIGHT = _style("cell-right", align=TA_RIGHT)
TOTAL_LABEL = _style("total-label", SANS_BOLD, 10.5)
TOTAL_VALUE = _style("total-value", SANS_BOLD, 10.5, align=TA_RIGHT)
STATUS = _style("status", SANS_BOLD, 10, INK, leading=13)
VAT_BASIS = _style("vat-basis", SANS, 8, MUTED, TA_RIGHT)


def _in_colour(style: ParagraphStyle, look: Letterhead) -> ParagraphStyle:
    return ParagraphStyle(f"{style.name}-brand", parent=style, textColor=look.accent_text)


def _lines(texts: Sequence[str], style: ParagraphStyle) -> Paragraph:
    """Several lines of plain text as one paragraph, one line each (long ones wrap)."""
    return Paragraph("<br/>".join(markup(text, style.fontName) for text in texts), style)


def _plain_table(rows: list[list[object]], widths: list[float], **extra: object) -> Table:
    table = Table(rows, colWidths=widths, **extra)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]))
    return table


def _header(data: DocumentData, look: Letterhead) -> Table:
    """The society's logo and seller top left; title, number, dates and references top right."""
    seller = data.seller
    left: list[Flowable] = []
    if look.logo:
        left += [logo_image(look.logo, 60 * mm, 18 * mm), Spacer(0, 3 * mm)]
    if look.name and look.name != seller.name:  # the name members know, above the legal name
        left += [paragraph(look.name, _in_colour(BRAND_NAME, look)), Spacer(0, 0.8 * mm)]
    left += [paragraph(seller.name, _in_colour(SELLER_NAME, look)), Spacer(0, 1.5 * mm)]
    details = list(seller.address)
    if seller.vat_number:
        details.append(gettext("VAT no. %(number)s", number=seller.vat_number))
    if seller.email:
        details.append(seller.email)
    left.append(_lines(details, BODY))

    number_label = {"receipt": gettext("Receipt no."), "invoice": gettext("Invoice no."),
                    "credit_note": gettext("Credit note no.")}[data.kind]
    meta = [(number_label, data.number), (gettext("Date of issue"), _date(data.issued_on, data.language))]
    if data.kind == "credit_note":
        meta.append((gettext("Refers to receipt") if data.refers_to_kind == "receipt" else gettext("Refers to invoice"),
                     data.refers_to or ""))
    if data.kind == "invoice" and data.due_on and not data.paid_on:
        meta.append((gettext("Due date"), _date(data.due_on, data.language)))
    meta.append((gettext("Registration ref."), data.reference))
    if data.buyer.purchase_order:
        meta.append((gettext("Your order no."), data.buyer.purchase_order))
    meta_width = 72 * mm
    meta_table = _plain_table([[paragraph(label, META_LABEL), paragraph(value, META_VALUE)] for label, value in meta],
                              [28 * mm, meta_width - 28 * mm])
    meta_table.hAlign = "RIGHT"
    meta_table.setStyle(TableStyle([("BOTTOMPADDING", (0, 0), (-1, -1), 1.2)]))
    right: list[Flowable] = [paragraph(data.title, _in_colour(TITLE, look)), Spacer(0, 3 * mm), meta_table]
    table = _plain_table([[left, right]], [CONTENT_WIDTH - meta_width - 8 * mm, meta_width + 8 * mm])
    table.setStyle(TableStyle([("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    return table


def _parties(data: DocumentData) -> Table:
    """Buyer on the left, the event on the right."""
    buyer = data.buyer
    label = {"receipt": gettext("RECEIVED FROM"), "invoice": gettext("BILL TO"),
             "credit_note": gettext("CREDIT TO")}[data.kind]
    left: list[Flowable] = [paragraph(label, LABEL), Spacer(0, 1 * mm), paragraph(buyer.name, BUYER_NAME)]
    details = list(buyer.address)
    if buyer.vat_number:
        details.append(gettext("VAT no. %(number)s", number=buyer.vat_number))
    if buyer.email:
        details.append(buyer.email)
    if details:
        left.append(_lines(details, BODY))
    right: list[Flowable] = [
        paragraph(gettext("EVENT"), LABEL), Spacer(0, 1 * mm), paragraph(data.event_title, BODY_BOLD), paragraph(data.event_dates, BODY),
    ]
    half = (CONTENT_WIDTH - 8 * mm) / 2
    return _plain_table([[left, "", right]], [half, 8 * mm, half])


def _date(value: date, language: str) -> str:
    """"6 December 2026" in English (as before languages), else the locale's long date ("6. Dezember 2026")."""
    return english_date(value) if language == "en" else format_date(value, "long", locale=language)


def _money(amount: int, currency: str, language: str) -> str:
    """"EUR 1,234.50" in English (as accounts departments read it), else the locale's ("1.234,50 €")."""
    return format_money(amount, currency) if language == "en" else format_money_in(amount, currency, language)


def _figure(amount: int, currency: str, language: str) -> str:
    """``amount`` without its currency code, for a column whose heading names the currency."""
    if language == "en":
        return format_money(amount, currency).removeprefix(f"{currency} ")
    decimals = currency_decimals(currency)
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(Decimal(amount).scaleb(-decimals), format=pattern, locale=language)


def _lines_table(data: DocumentData, sign: int, look: Letterhead) -> Table:
    money = data.currency
    rows: list[list[object]] = [[
        paragraph(gettext("Description"), HEAD), paragraph(gettext("Qty"), HEAD_RIGHT),
        paragraph(gettext("Unit price (%(currency)s)", currency=money), HEAD_RIGHT),
        paragraph(gettext("Amount (%(currency)s)", currency=money), HEAD_RIGHT),
    ]]
    for line in data.lines:
        rows.append([
            paragraph(line.description, CELL), paragraph(str(line.quantity), CELL_RIGHT),
            paragraph(_figure(sign * line.unit_amount, money, data.language), CELL_RIGHT),
            paragraph(_figure(sign * line.amount, money, data.language), CELL_RIGHT),
        ])
    widths = [CONTENT_WIDTH - 12 * mm - 32 * mm - 34 * mm, 12 * mm, 32 * mm, 34 * mm]
    table = Table(rows, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), SHADE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, look.accent),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 1.6 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.8 * mm),
    ]))
    return table


def _totals_table(data: DocumentData, sign: int, look: Letterhead) -> Table:
    net, vat, gross = data.breakdown
    money, language = data.currency, data.language
    rows = [
        [paragraph(gettext("Net (excl. VAT)"), CELL), paragraph(_money(sign * net, money, language), CELL_RIGHT)],
        [paragraph(gettext("VAT %(rate)s", rate=format_rate(data.vat_rate)), CELL),
         paragraph(_money(sign * vat, money, language), CELL_RIGHT)],
        [paragraph(gettext("Total credited") if sign < 0 else gettext("Total"), TOTAL_LABEL),
         paragraph(_money(sign * gross, money, language), TOTAL_VALUE)],
    ]
    table = Table(rows, colWidths=[44 * mm, 40 * mm], hAlign="RIGHT")
    table.setStyle(TableStyle([
        ("LINEABOVE", (0, 2), (-1, 2), 0.8, look.accent),
        ("BACKGROUND", (0, 2), (-1, 2), SHADE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2 * mm),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 1.2 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.4 * mm),
        ("TOPPADDING", (0, 2), (-1, 2), 2 * mm),
        ("BOTTOMPADDING", (0, 2), (-1, 2), 2.4 * mm),
    ]))
    return table


def _boxed(flowables: list[Flowable], border: colors.Color = RULE) -> Table:
    table = Table([[flowables]], colWidths=[CONTENT_WIDTH])
    table.setStyle(TableStyle([
        ("BOX", (0, 0), (-1, -1), 0.6, border),
        ("LEFTPADDING", (0, 0), (-1, -1), 3.5 * mm),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3.5 * mm),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5 * mm),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3 * mm),
    ]))
    return table


def _payment(data: DocumentData, look: Letterhead) -> list[Flowable]:
    """Paid, due or refunded, and for invoices where to pay."""
    parts: list[Flowable] = []
    status_style = _in_colour(STATUS, look)
    method = data.payment_method
    total = _money(data.breakdown.gross, data.currency, data.language)
    paid_on = _date(data.paid_on, data.language) if data.paid_on else ""
    if data.kind == "credit_note":
        status = [paragraph(
            gettext("This credit note refers to receipt %(number)s.", number=data.refers_to)
            if data.refers_to_kind == "receipt" else
            gettext("This credit note refers to invoice %(number)s.", number=data.refers_to), status_style)]
        if data.paid_on:
            status.append(paragraph(
                gettext("%(total)s refunded on %(date)s by %(method)s.", total=total, date=paid_on, method=method)
                if method else gettext("%(total)s refunded on %(date)s.", total=total, date=paid_on), BODY))
        parts.append(_boxed(status, look.accent))
    elif data.paid_on:
        status = [paragraph(gettext("Paid in full on %(date)s by %(method)s.", date=paid_on, method=method) if method
                            else gettext("Paid in full on %(date)s.", date=paid_on), status_style)]
        if data.kind == "receipt":
            status.append(paragraph(gettext("Received with thanks: %(total)s. Nothing further is due.", total=total),
                                    BODY))
        parts.append(_boxed(status, look.accent))
    else:
        status = [paragraph(gettext("Payment due by %(date)s: %(total)s.", date=_date(data.due_on, data.language),
                                    total=total) if data.due_on
                            else gettext("Payment due on receipt: %(total)s.", total=total), status_style),
                  paragraph(gettext("Please quote invoice number %(number)s with your payment.", number=data.number),
                            BODY)]
        if data.payment_method:
            status.append(paragraph(gettext("Payment method: %(method)s.", method=data.payment_method), BODY))
        parts.append(_boxed(status, look.accent))
    if data.kind == "invoice" and data.bank_details:
        parts += [Spacer(0, 4 * mm), _boxed([paragraph(gettext("BANK DETAILS"), LABEL), Spacer(0, 1 * mm),
                                             _lines(data.bank_details, BODY)])]
    return parts


def _story(data: DocumentData, look: Letterhead) -> list[Flowable]:
    sign = -1 if data.kind == "credit_note" else 1
    story: list[Flowable] = [
        _header(data, look),
        Spacer(0, 7 * mm),
        _Rule(look.accent),
        Spacer(0, 5 * mm),
        _parties(data),
        Spacer(0, 8 * mm),
        _lines_table(data, sign, look),
        Spacer(0, 3 * mm),
    ]
    closing: list[Flowable] = [_totals_table(data, sign, look)]
    basis = (gettext("Unit prices and amounts include VAT at %(rate)s.", rate=format_rate(data.vat_rate))
             if data.prices_include_vat else gettext("Unit prices and amounts exclude VAT."))
    closing += [Spacer(0, 1.5 * mm), paragraph(basis, VAT_BASIS)]
    if data.note:
        closing += [Spacer(0, 4 * mm), paragraph(data.note, BODY_BOLD)]
    story.append(KeepTogether(closing))
    story += [Spacer(0, 7 * mm), KeepTogether(_payment(data, look))]
    return story


class _Rule(Flowable):
    """A thin full-width line in the society's colour."""

    def __init__(self, colour: colors.Color) -> None:
        super().__init__()
        self.colour = colour

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        self.width = available_width
        return available_width, 0.6

    def draw(self) -> None:
        self.canv.setStrokeColor(self.colour)
        self.canv.setLineWidth(0.6)
        self.canv.line(0, 0, self.width, 0)


def _canvas_maker(data: DocumentData, look: Letterhead) -> type[Canvas]:
    """A canvas that writes the footer, with "page n of N", on every page once all are laid out; the
    society's own footer (its address, registered numbers) on a third line."""
    seller = data.seller
    first = " · ".join(part for part in (seller.name, ", ".join(seller.address)) if part)
    second = " · ".join(part for part in (gettext("VAT no. %(number)s", number=seller.vat_number)
                                           if seller.vat_number else "",
                                           seller.email or "") if part)
    third = " · ".join(look.footer)

    title = data.title

    def page_text(page: int, pages: int) -> str:
        return gettext("%(title)s %(number)s · page %(page)s of %(pages)s", title=title, number=data.number,
                       page=page, pages=pages)

    class FooterCanvas(Canvas):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)
            self._saved_pages: list[dict[str, object]] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._saved_pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._saved_pages)
            for number, state in enumerate(self._saved_pages, start=1):
                self.__dict__.update(state)
                self._draw_footer(page_text(number, total))
                super().showPage()
            super().save()

        def _draw_footer(self, page_text: str) -> None:
            size = 7
            top = FOOTER_HEIGHT + 2 * mm
            self.setStrokeColor(look.accent if look.footer else RULE)
            self.setLineWidth(0.5)
            self.line(MARGIN, top, PAGE_WIDTH - MARGIN, top)
            self.setFillColor(MUTED)
            room = CONTENT_WIDTH - text_width(page_text, SANS, size) - 8 * mm
            for row, text in enumerate((first, second, third)):
                while text_width(text, SANS, size) > room:
                    text = text[:-2] + "…"
                draw_text(self, MARGIN, top - 3.5 * mm - row * 3.3 * mm, text, SANS, size)
            draw_text(self, PAGE_WIDTH - MARGIN, top - 3.5 * mm, page_text, SANS, size, align="right")

    return FooterCanvas


def render_document(data: DocumentData, look: Letterhead = PLAIN) -> bytes:
    """Draw ``data`` as an A4 PDF in its language under the society's letterhead (``look``: the
    society's look of today, not frozen with the content, as a reprinted letter wears the current
    letterhead): one page for any ordinary document, more for a very long list of lines.

    Raises UnprintableText when a text of ``data`` has a character no shipped font has; a letterhead
    text that has one is left out instead (the society's look must not stop its receipts).
    """
    if not has_app_context():
        return _render(data, look)
    with in_language(data.language):
        return _render(data, look)


def _printable(look: Letterhead) -> Letterhead:
    return replace(look, name=look.name if look.name and not missing_glyphs(look.name) else None,
                   footer=tuple(line for line in look.footer if not missing_glyphs(line)))


def _render(data: DocumentData, look: Letterhead) -> bytes:
    look = _printable(look)
    for name, text in _texts(data).items():
        missing = missing_glyphs(text)
        if missing:
            raise UnprintableText(f"no font for {missing!r} in {name}")

    sign = -1 if data.kind == "credit_note" else 1
    buffer = io.BytesIO()
    body = Frame(MARGIN, FOOTER_HEIGHT + 6 * mm, CONTENT_WIDTH, PAGE_HEIGHT - MARGIN - FOOTER_HEIGHT - 6 * mm,
                 leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0, id="body")
    doc = BaseDocTemplate(
        buffer, pagesize=A4, pageTemplates=[PageTemplate("page", [body])], pageCompression=1, lang=data.language,
        title=f"{data.title} {data.number}", author=data.seller.name, creator=data.seller.name,
        subject=f"{data.title} {data.number} for {data.buyer.name}: {data.event_title}, {data.event_dates}; "
                f"registration {data.reference}; total {_money(sign * data.breakdown.gross, data.currency, data.language)}",
    )
    doc.build(_story(data, look), canvasmaker=_canvas_maker(data, look))
    return buffer.getvalue()
