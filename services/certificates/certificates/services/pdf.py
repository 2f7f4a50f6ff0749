"""The attendance certificate as a one-page A4 PDF.

Pure (no database, no Flask) so that the issuing job, a re-issue after a name correction and the
tests all draw exactly the same page from the same data.

Names must print exactly as spelt, in any script our attendees use: text is drawn with Noto Sans
or Noto Serif (Latin, Greek, Cyrillic), and every character those lack falls back to WenQuanYi
Micro Hei (Chinese, Japanese, Korean). Both ship in ``suite_common/fonts`` so that a container
prints the same page as a laptop. A name with a character no shipped font has is refused rather
than printed with a blank box.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from itertools import groupby

import segno
from babel.dates import format_date
from flask import has_app_context
from flask_babel import gettext
from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepInFrame, Paragraph, Spacer, Table, TableStyle

from suite_common.fonts import SANS, SANS_BOLD, SERIF, missing_glyphs
from suite_common.fonts import markup as _markup
from suite_common.fonts import text_width as _width
from suite_common.i18n import format_number, in_language
from suite_common.pdf import ACCENT, INK, MUTED, UnprintableText, english_date, paragraph, paragraph_style

__all__ = ["CertificateData", "PrintedSystem", "UnprintableText", "format_credits", "missing_glyphs",
           "render_certificate"]


@dataclass(frozen=True)
class PrintedSystem:
    """One credit system's credits on a certificate of several systems, with its own wording."""

    name: str
    body: str
    credits: Decimal
    statement: str
    sessions: Sequence[tuple[str, Decimal]] = ()


@dataclass(frozen=True)
class CertificateData:
    """Everything printed on one certificate, already worded and formatted by the caller."""

    participant: str
    event_title: str
    event_dates: str
    place: str
    credits: Decimal
    credit_body: str
    credit_unit: str
    statement: str
    signatory_name: str
    signatory_title: str
    organisation_name: str
    issued_on: date
    verification_code: str
    verify_url: str
    logo_png: bytes | None = None
    signature_png: bytes | None = None
    revision: int = 1
    sessions: Sequence[tuple[str, Decimal]] = ()
    # Two or more printed credit systems: each is listed with its name, credits, sessions and
    # statement, and the single-system fields above (credits, unit, statement, sessions) are not drawn.
    systems: Sequence[PrintedSystem] = ()
    # The participant's language, kept in the certificate's snapshot: every label prints in it.
    language: str = "en"


PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 25 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
QR_SIZE = 32 * mm

GOLD = colors.HexColor("#b08d57")
RULE = colors.HexColor("#d0d4da")

def format_credits(value: Decimal) -> str:
    """Credits as people write them: 4.5, 4.25, 10 (never 4.50 or 1E+1)."""
    return format(value.normalize(), "f")


def _style(name: str, font: str, size: float, color: colors.Color = INK, align: int = TA_CENTER,
           leading: float | None = None, **kw: object) -> ParagraphStyle:
    return paragraph_style(name, font, size, color, align, leading, **kw)


ORGANISATION = _style("organisation", SANS_BOLD, 10, MUTED)
TITLE = _style("title", SERIF, 32, ACCENT, leading=38)
LEAD = _style("lead", SANS, 11, MUTED)
EVENT = _style("event", SANS_BOLD, 16, INK, leading=20)
WHEN = _style("when", SANS, 11, INK)
AWARD = _style("award", SANS_BOLD, 15, ACCENT, leading=19)
BODY_NOTE = _style("body", SANS, 9.5, MUTED)
SIGNER = _style("signer", SANS_BOLD, 10, INK, align=TA_LEFT)
SIGNER_TITLE = _style("signer-title", SANS, 8.5, MUTED, align=TA_LEFT, leading=10.5)
ISSUED = _style("issued", SANS_BOLD, 10, INK, align=TA_RIGHT)
ISSUED_LABEL = _style("issued-label", SANS, 8.5, MUTED, align=TA_RIGHT)
VERIFY_HEAD = _style("verify-head", SANS_BOLD, 9.5, INK, align=TA_LEFT)
CODE = _style("code", SANS_BOLD, 16, ACCENT, align=TA_LEFT, leading=20)
SMALL = _style("small", SANS, 7.5, MUTED, align=TA_LEFT, leading=9.5)

NAME_SIZE, NAME_MIN_SIZE = 28.0, 16.0


def _draw(c: Canvas, flowable: Flowable, x: float, top: float, width: float) -> float:
    """Draw ``flowable`` with its top edge at ``top``; return its bottom edge."""
    _, height = flowable.wrapOn(c, width, PAGE_HEIGHT)
    flowable.drawOn(c, x, top - height)
    return top - height


@lru_cache(maxsize=16)
def _fit_image(png: bytes, max_w: float, max_h: float) -> tuple[ImageReader, float, float]:
    """The image, and its size in points scaled to fit max_w × max_h keeping its proportions.

    Decoded once per image (a bulk issue repeats the same logo and signature) and cut to
    300 dpi at that size, so that a large upload does not make every certificate large and slow.
    """
    with PILImage.open(io.BytesIO(png)) as image:
        image.load()
    if image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA")
    scale = min(max_w / image.width, max_h / image.height)
    width, height = image.width * scale, image.height * scale
    pixels = (round(width / 72 * 300), round(height / 72 * 300))
    if pixels[0] < image.width:
        image = image.resize(pixels, PILImage.Resampling.LANCZOS)
    return ImageReader(image), width, height


def _draw_qr(c: Canvas, data: str, x: float, y: float, size: float) -> None:
    """The QR symbol as one vector path: crisp at any resolution, no image library involved.

    segno encodes (error level M, as printed so far) in about half the time of reportlab's own
    encoder; the path is drawn in module units (one row down per unit), so every rectangle is
    written with small integers instead of formatted floats.
    """
    matrix = segno.make(data, error="m", micro=False, boost_error=False).matrix
    path = c.beginPath()
    for row_index, row in enumerate(matrix):
        col = 0
        for dark, cells in groupby(row):
            count = sum(1 for _ in cells)
            if dark:
                path.rect(col, row_index, count, 1)
            col += count
    module = size / len(matrix)
    c.saveState()
    c.translate(x, y + size)
    c.scale(module, -module)
    c.setFillColor(colors.black)
    c.drawPath(path, stroke=0, fill=1)
    c.restoreState()


def _name_paragraph(name: str) -> Paragraph:
    """The name on one line where possible: long names shrink before they wrap."""
    fitting = NAME_SIZE * 0.97 * CONTENT_WIDTH / _width(name, SERIF, NAME_SIZE)
    size = max(NAME_MIN_SIZE, min(NAME_SIZE, fitting))
    return paragraph(name, _style("name", SERIF, size, INK, leading=size * 1.3))


def _sessions_table(sessions: Sequence[tuple[str, Decimal]], size: float) -> Table:
    leading = size * 1.25
    head = _style("head", SANS_BOLD, size, INK, align=TA_LEFT, leading=leading)
    head_right = _style("head-right", SANS_BOLD, size, INK, align=TA_RIGHT, leading=leading)
    cell = _style("cell", SANS, size, INK, align=TA_LEFT, leading=leading)
    cell_right = _style("cell-right", SANS, size, INK, align=TA_RIGHT, leading=leading)
    rows = [[paragraph(gettext("Sessions attended"), head), paragraph(gettext("Credits"), head_right)]]
    rows += [[paragraph(title, cell), paragraph(format_credits(credits), cell_right)] for title, credits in sessions]
    table = Table(rows, colWidths=[CONTENT_WIDTH - 22 * mm, 22 * mm])
    table.setStyle(TableStyle([
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.3, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), size * 0.3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), size * 0.3),
    ]))
    return table


def _sessions_paragraph(sessions: Sequence[tuple[str, Decimal]], size: float) -> Paragraph:
    """A long list as running text: a table of many rows would crowd out the statement."""
    items = " · ".join(_markup(f"{title} ({format_credits(credits)})", SANS) for title, credits in sessions)
    style = _style("sessions", SANS, size, INK, align=TA_LEFT, leading=size * 1.35)
    return Paragraph(f"{_markup(gettext('Sessions attended (credits):') + ' ', SANS_BOLD)}{items}", style)


def _wording_flowables(sessions: Sequence[tuple[str, Decimal]], statement_text: str, size: float,
                       as_table: bool) -> list[Flowable]:
    parts: list[Flowable] = []
    if sessions:
        layout = _sessions_table if as_table else _sessions_paragraph
        parts += [layout(sessions, size), Spacer(0, size * 1.5)]
    statement = _style("statement", SANS, size, MUTED, align=TA_LEFT, leading=size * 1.35, spaceAfter=size * 0.5)
    for block in re.split(r"\n\s*\n", statement_text.strip()):
        lines = [_markup(line.strip(), SANS) for line in block.splitlines()]
        parts.append(Paragraph("<br/>".join(lines), statement))
    return parts


def _middle_flowables(data: CertificateData, size: float, as_table: bool) -> list[Flowable]:
    """Sessions and statement at ``size`` points: the part of the page that grows with the wording;
    with several credit systems, each one's under its own heading."""
    if len(data.systems) < 2:
        return _wording_flowables(data.sessions, data.statement, size, as_table)
    heading = _style("system", SANS_BOLD, size * 1.1, INK, align=TA_LEFT, leading=size * 1.4, spaceAfter=size * 0.4)
    parts: list[Flowable] = []
    for system in data.systems:
        parts.append(paragraph(f"{format_credits(system.credits)} {system.name} · {system.body}", heading))
        parts += _wording_flowables(system.sessions, system.statement, size, as_table)
        parts.append(Spacer(0, size * 0.6))
    return parts


def _draw_middle(c: Canvas, data: CertificateData, top: float, bottom: float) -> None:
    """Draw sessions and statement as large as they fit between ``top`` and ``bottom``.

    Tries the sessions as a table from 8.5 pt down to 7 pt, then as running text down to 5.5 pt,
    and scales that last one down further if it still does not fit: a long accreditation
    statement must still leave the certificate on one page.
    """
    room = top - bottom
    attempts = [(size / 10, True) for size in range(85, 65, -5)] + [(size / 10, False) for size in range(85, 50, -5)]
    for size, as_table in attempts:
        flowables = _middle_flowables(data, size, as_table)
        height = sum(f.wrapOn(c, CONTENT_WIDTH, room)[1] + f.getSpaceAfter() for f in flowables)
        if height <= room:
            break
    else:
        flowables = [KeepInFrame(CONTENT_WIDTH, room, flowables, mode="shrink")]
        height = flowables[0].wrapOn(c, CONTENT_WIDTH, room)[1]
    y = top - (room - height) / 3
    for flowable in flowables:
        y = _draw(c, flowable, MARGIN, y, CONTENT_WIDTH) - flowable.getSpaceAfter()


def _draw_border(c: Canvas) -> None:
    c.setStrokeColor(ACCENT)
    c.setLineWidth(1.4)
    c.rect(9 * mm, 9 * mm, PAGE_WIDTH - 18 * mm, PAGE_HEIGHT - 18 * mm)
    c.setStrokeColor(GOLD)
    c.setLineWidth(0.5)
    c.rect(11 * mm, 11 * mm, PAGE_WIDTH - 22 * mm, PAGE_HEIGHT - 22 * mm)


def _draw_footer(c: Canvas, data: CertificateData) -> float:
    """QR code, verification code and address at the foot; return the top of the footer."""
    bottom = 18 * mm
    _draw_qr(c, data.verify_url, MARGIN, bottom, QR_SIZE)
    text_x = MARGIN + QR_SIZE + 7 * mm
    text_w = PAGE_WIDTH - MARGIN - text_x
    lines = [
        (0, paragraph(gettext("Verify this certificate"), VERIFY_HEAD)),
        (1, paragraph(data.verification_code, CODE)),
        (1, paragraph(data.verify_url, SMALL)),
        (1.5, paragraph(gettext("Scan the code or open the address above: the page says whether this certificate "
                                "is valid or has been revoked."), SMALL)),
    ]
    if data.revision > 1:
        lines.append((1.5, paragraph(gettext("Revision %(number)s", number=data.revision), SMALL)))
    y = bottom + QR_SIZE
    for gap, flowable in lines:
        y = _draw(c, flowable, text_x, y - gap * mm, text_w)
    return bottom + QR_SIZE


def _draw_signatures(c: Canvas, data: CertificateData, bottom: float) -> float:
    """Signature over the signatory's name on the left, issue date on the right; return the top."""
    column = 70 * mm
    right_x = PAGE_WIDTH - MARGIN - column
    below = [paragraph(data.signatory_name, SIGNER), paragraph(data.signatory_title, SIGNER_TITLE)]
    line_y = bottom + sum(p.wrapOn(c, column, PAGE_HEIGHT)[1] for p in below) + 1.5 * mm
    y = line_y - 1.5 * mm
    for flowable in below:
        y = _draw(c, flowable, MARGIN, y, column)
    _draw(c, paragraph(gettext("Date of issue"), ISSUED_LABEL), right_x, line_y - 1.5 * mm, column)
    c.setStrokeColor(INK)
    c.setLineWidth(0.5)
    c.line(MARGIN, line_y, MARGIN + column, line_y)
    c.line(right_x, line_y, right_x + column, line_y)
    issued = english_date(data.issued_on) if data.language == "en" else format_date(data.issued_on, "long",
                                                                                       locale=data.language)
    top = _draw(c, paragraph(issued, ISSUED), right_x, line_y + 7 * mm, column) + 5 * mm
    if data.signature_png:
        reader, w, h = _fit_image(data.signature_png, 55 * mm, 15 * mm)
        c.drawImage(reader, MARGIN, line_y + 1 * mm, w, h, mask="auto")
        top = max(top, line_y + 1 * mm + h)
    return top


def _draw_header(c: Canvas, data: CertificateData) -> float:
    """Logo, organisation, title, the participant and what they earned; return the bottom."""
    y = PAGE_HEIGHT - 20 * mm
    if data.logo_png:
        reader, w, h = _fit_image(data.logo_png, CONTENT_WIDTH, 16 * mm)
        c.drawImage(reader, (PAGE_WIDTH - w) / 2, y - h, w, h, mask="auto")
        y -= h + 3 * mm
    y = _draw(c, paragraph(data.organisation_name, ORGANISATION), MARGIN, y, CONTENT_WIDTH)
    y = _draw(c, paragraph(gettext("Certificate of Attendance"), TITLE), MARGIN, y - 6 * mm, CONTENT_WIDTH)
    c.setStrokeColor(GOLD)
    c.setLineWidth(1)
    c.line(PAGE_WIDTH / 2 - 20 * mm, y - 2.5 * mm, PAGE_WIDTH / 2 + 20 * mm, y - 2.5 * mm)
    if len(data.systems) < 2:
        awards = [(1.5, paragraph(_award(data.credits, data.credit_unit, data.language), AWARD)),
                  (0.5, paragraph(gettext("Accrediting body: %(body)s", body=data.credit_body), BODY_NOTE))]
    else:
        awards = [(1.5 if index == 0 else 1, paragraph(_award(s.credits, s.name, data.language), AWARD))
                  for index, s in enumerate(data.systems)]
        awards.append((0.5, paragraph(gettext("Accrediting bodies: %(bodies)s",
                                              bodies=" · ".join(s.body for s in data.systems)), BODY_NOTE)))
    for gap, flowable in (
        (7, paragraph(gettext("This is to certify that"), LEAD)),
        (2, _name_paragraph(data.participant)),
        (1.5, paragraph(gettext("attended"), LEAD)),
        (2, paragraph(data.event_title, EVENT)),
        (1, paragraph(f"{data.event_dates} · {data.place}", WHEN)),
        (4, paragraph(gettext("and is awarded"), LEAD)),
        *awards,
    ):
        y = _draw(c, flowable, MARGIN, y - gap * mm, CONTENT_WIDTH)
    return y


def _award(credits: Decimal, system: str, language: str) -> str:
    """"4.5 European CME credits", "4,5 NVvTG punten": the number as the language writes it, then the credit
    system's own name, which the organiser words (and pluralises) in the event's language."""
    return f"{format_number(credits.normalize(), language)} {system}"


def render_certificate(data: CertificateData) -> bytes:
    """Draw ``data`` as a one-page A4 PDF in the participant's language (English without an app).

    Raises UnprintableText when the participant's name has a character no shipped font has:
    a certificate must never carry a misprinted name.
    """
    if not has_app_context():
        return _render(data)
    with in_language(data.language):
        return _render(data)


def _render(data: CertificateData) -> bytes:
    missing = missing_glyphs(data.participant)
    if missing:
        raise UnprintableText(f"no font for {missing!r} in the participant's name")

    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, lang=data.language)
    c.setTitle(f"Certificate of Attendance: {data.participant}, {data.event_title}")
    c.setAuthor(data.organisation_name)
    awarded = (f"{format_credits(data.credits)} {data.credit_unit}" if len(data.systems) < 2
               else "; ".join(f"{format_credits(s.credits)} {s.name}" for s in data.systems))
    c.setSubject(f"{data.event_title}, {data.event_dates}, {data.place}: "
                 f"{awarded}; verification code {data.verification_code}")
    c.setCreator(data.organisation_name)

    _draw_border(c)
    header_bottom = _draw_header(c, data)
    footer_top = _draw_footer(c, data)
    c.setStrokeColor(RULE)
    c.setLineWidth(0.5)
    c.line(MARGIN, footer_top + 5 * mm, PAGE_WIDTH - MARGIN, footer_top + 5 * mm)
    signatures_top = _draw_signatures(c, data, footer_top + 10 * mm)

    _draw_middle(c, data, header_bottom - 7 * mm, signatures_top + 6 * mm)

    c.showPage()
    c.save()
    return buffer.getvalue()
