"""What every PDF of the suite shares (receipts, invoices, credit notes, certificates): the palette,
paragraph styles and paragraphs in the shipped fonts, dates as printed, and the refusal of text
that no shipped font can draw.

The documents themselves stay in their services (``registration.services.documents``,
``certificates.services.pdf``); they are pure functions of their data, and so is everything here.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Image, Paragraph

from .branding import Branding, Logo, contrast_ratio
from .fonts import markup

__all__ = ["ACCENT", "INK", "MUTED", "PLAIN", "Letterhead", "UnprintableText", "english_date", "letterhead",
           "logo_image", "paragraph", "paragraph_style"]

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


@dataclass(frozen=True)
class Letterhead:
    """The society's look on a document (``suite_common.branding``): its logo, name, colour and footer.

    The brand's colour draws the rules, boxes and headings; as text on white paper it is used only
    when it reads (4.5:1, WCAG's AA for body text), else headings keep the suite's dark blue and the
    colour stays on the lines, so a pale yellow brand never prints unreadable headings.
    """

    name: str | None = None
    accent: colors.Color = ACCENT
    accent_text: colors.Color = ACCENT
    logo: bytes | None = None
    footer: tuple[str, ...] = ()


PLAIN = Letterhead()
READABLE_ON_PAPER = 4.5


def letterhead(branding: Branding | None, logo: Logo | None) -> Letterhead:
    """The letterhead of ``branding`` (None: the suite's plain look)."""
    if branding is None:
        return PLAIN
    colour = branding.primary_colour
    readable = contrast_ratio(colour, "#ffffff") >= READABLE_ON_PAPER
    return Letterhead(
        name=branding.display_name, accent=colors.HexColor(colour),
        accent_text=colors.HexColor(colour) if readable else ACCENT, logo=logo.data if logo else None,
        footer=tuple(line.strip() for line in (branding.footer_text or "").splitlines() if line.strip()))


def logo_image(data: bytes, max_width: float, max_height: float) -> Image:
    """The logo as a flowable scaled to fit ``max_width`` × ``max_height`` points, keeping its proportions."""
    with PILImage.open(io.BytesIO(data)) as image:
        pixels_wide, pixels_high = image.size
    scale = min(max_width / pixels_wide, max_height / pixels_high)
    flowable = Image(io.BytesIO(data), width=pixels_wide * scale, height=pixels_high * scale)
    flowable.hAlign = "LEFT"
    return flowable
