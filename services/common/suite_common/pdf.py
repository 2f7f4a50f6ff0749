"""What every PDF of the suite shares (receipts, invoices, credit notes, certificates): the palette,
paragraph styles and paragraphs in the shipped fonts, dates as printed, and the refusal of text
that no shipped font can draw.

The documents themselves stay in their services (``registration.services.documents``,
``certificates.services.pdf``); they are pure functions of their data, and so is everything here.
"""
from __future__ import annotations

from datetime import date

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Paragraph

from .fonts import markup

__all__ = ["ACCENT", "INK", "MUTED", "UnprintableText", "english_date", "paragraph", "paragraph_style"]

INK = colors.HexColor("#1f2328")
MUTED = colors.HexColor("#5b6169")
ACCENT = colors.HexColor("#1d3557")

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


class UnprintableText(ValueError):
    """A text of the document holds characters that no shipped font can draw."""


def english_date(value: date) -> str:
    """"6 December 2026", whatever the server's locale: the documents are in English."""
    return f"{value.day} {_MONTHS[value.month - 1]} {value.year}"


def paragraph_style(name: str, font: str, size: float, color: colors.Color = INK, align: int = TA_LEFT,
                    leading: float | None = None, line_height: float = 1.25, **kw: object) -> ParagraphStyle:
    """A style whose leading is ``line_height`` times the size unless given."""
    return ParagraphStyle(name, fontName=font, fontSize=size, leading=leading or size * line_height,
                          textColor=color, alignment=align, **kw)


def paragraph(text: str, style: ParagraphStyle) -> Paragraph:
    """Plain text (escaped, each run in the shipped font that has its characters) as a paragraph."""
    return Paragraph(markup(text, style.fontName), style)
