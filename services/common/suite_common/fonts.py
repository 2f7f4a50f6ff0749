"""The suite's PDF fonts: names, addresses and titles print exactly as spelt, in any script.

Text is drawn with Noto Sans or Noto Serif (Latin, Greek, Cyrillic), and every character those
lack falls back to WenQuanYi Micro Hei (Chinese, Japanese, Korean). The files ship in
``suite_common/fonts`` so that a container prints the same page as a laptop, and each service's
PDFs (certificates, receipts, invoices) use the same faces.

reportlab draws one font per run of text and does no fallback itself: ``runs`` splits text into
runs per font, and ``markup`` / ``text_width`` / ``draw_text`` build on it. The fonts are
registered with reportlab once per process, when this module is first imported.
"""

from __future__ import annotations

import unicodedata
from itertools import groupby
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

__all__ = [
    "CJK", "FONT_DIR", "SANS", "SANS_BOLD", "SERIF",
    "draw_text", "markup", "missing_glyphs", "runs", "text_width",
]

FONT_DIR = Path(__file__).resolve().parent / "fonts"

SANS = "Suite-NotoSans"
SANS_BOLD = "Suite-NotoSans-Bold"
SERIF = "Suite-NotoSerif"
CJK = "Suite-WenQuanYiMicroHei"

_FONT_FILES = {
    SANS: "NotoSans-Regular.ttf",
    SANS_BOLD: "NotoSans-Bold.ttf",
    SERIF: "NotoSerif-Regular.ttf",
    CJK: "wqy-microhei.ttc",
}


def _register_fonts() -> dict[str, frozenset[int]]:
    """Load each font once per process: parsing the CJK face takes ~0.1 s, too slow per page."""
    coverage = {}
    for name, filename in _FONT_FILES.items():
        font = TTFont(name, str(FONT_DIR / filename), subfontIndex=0)
        pdfmetrics.registerFont(font)
        coverage[name] = frozenset(font.face.charToGlyph)
    return coverage


_COVERAGE = _register_fonts()


def missing_glyphs(text: str) -> str:
    """The characters of ``text`` that no shipped font has, in order of first appearance.

    Lets a form refuse a name that a PDF could not print.
    """
    missing = dict.fromkeys(
        ch for ch in unicodedata.normalize("NFC", text)
        if not ch.isspace() and not any(ord(ch) in cov for cov in _COVERAGE.values())
    )
    return "".join(missing)


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """Split ``text`` into (chunk, font) runs: ``font`` where it has the glyph, else the CJK face."""
    own, cjk = _COVERAGE[font], _COVERAGE[CJK]

    def pick(ch: str) -> str:
        return CJK if ord(ch) not in own and ord(ch) in cjk else font

    return [("".join(chars), face) for face, chars in groupby(text, key=pick)]


def markup(text: str, font: str) -> str:
    """Paragraph markup for plain ``text`` in ``font``, with the CJK fallback per run."""
    text = unicodedata.normalize("NFC", text)
    return "".join(f'<font face="{face}">{escape(chunk)}</font>' for chunk, face in runs(text, font))


def text_width(text: str, font: str, size: float) -> float:
    """The width in points of ``text`` drawn in ``font`` at ``size``, fallback runs included."""
    text = unicodedata.normalize("NFC", text)
    return sum(pdfmetrics.stringWidth(chunk, face, size) for chunk, face in runs(text, font))


def draw_text(c: Canvas, x: float, y: float, text: str, font: str, size: float, align: str = "left") -> None:
    """Draw one line of ``text`` on the canvas with its baseline at ``y``.

    ``align`` is "left" (``x`` is the left edge), "right" (``x`` is the right edge) or "centre".
    """
    text = unicodedata.normalize("NFC", text)
    width = text_width(text, font, size)
    if align == "right":
        x -= width
    elif align == "centre":
        x -= width / 2
    elif align != "left":
        raise ValueError(f"align must be left, right or centre, not {align!r}")
    for chunk, face in runs(text, font):
        c.setFont(face, size)
        c.drawString(x, y, chunk)
        x += pdfmetrics.stringWidth(chunk, face, size)
