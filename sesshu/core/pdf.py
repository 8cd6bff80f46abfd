"""What every PDF sesshu prints shares: the Japanese TrueType fonts, and a page measured from its top.

Used by the 住民票の写し (sesshu/residents/pdf.py) and the notices and 予診票
(sesshu/immunization/notices/pdf.py). The font must be TrueType (reportlab cannot embed CFF/OpenType
outlines such as Noto CJK); Debian's IPAex fonts are the default, and ``SESSHU_PDF_FONT`` names
another .ttf. reportlab embeds only the glyphs used (a subset).
"""

import threading
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from reportlab import rl_config
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas

# Compressed streams stay binary: ASCII85 on top of zlib makes every file a quarter larger, and without
# reportlab's C accelerator its pure-Python encoder took a tenth of each certificate's time.
rl_config.useA85 = 0

# Mincho for body text (what official letters are printed in), Gothic for titles.
MINCHO_PATHS = (
    "/usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/truetype/ipaexfont-mincho/ipaexm.ttf",
    "/usr/share/fonts/opentype/ipafont-mincho/ipam.ttf",
)
GOTHIC_PATHS = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
)
FONT_PACKAGE = "fonts-ipaexfont-mincho"

PAGE_WIDTH, PAGE_HEIGHT = A4
PADDING = 1.6 * mm  # left and right of text in a cell
PADDING_Y = 0.9 * mm
MIN_SIZE = 7.5  # below this a form is hard to read on paper; longer text wraps instead
LINE_FACTOR = 1.2
LINE_COLOR = Color(0.25, 0.25, 0.25)


class PdfFontMissing(RuntimeError):
    """No usable Japanese TrueType font: the server is set up wrong (not something a user can fix)."""


class UnprintableCharacters(ValueError):
    """Text has characters the font has no glyph for (外字): printing would silently drop them."""

    def __init__(self, characters: Iterable[str]):
        self.characters = sorted(set(characters))
        super().__init__("no glyph for " + " ".join(f"U+{ord(c):04X}" for c in self.characters))


# Fonts --------------------------------------------------------------------------------------------------


def configured_font() -> str:
    return str(getattr(settings, "SESSHU_PDF_FONT", "") or "")


_LOADED: dict[str, TTFont] = {}
_LOADING = threading.Lock()  # fonts are named by load order, so two threads must not load at once


def load_font(path: str) -> TTFont | None:
    """Register the TrueType font at ``path`` once per process; None when it is missing or unusable.

    Only successes are remembered: a font installed after an error is used without a restart.
    """
    with _LOADING:
        if path in _LOADED:
            return _LOADED[path]
        if not Path(path).is_file():
            return None
        try:
            font = TTFont(f"SesshuFont{len(_LOADED)}", path)  # one name per file, never reused
        except TTFError:  # e.g. CFF outlines, or a collection: not embeddable by reportlab
            return None
        pdfmetrics.registerFont(font)
        _LOADED[path] = font
        return font


def first_font(paths: Iterable[str]) -> TTFont | None:
    return next((font for path in paths if (font := load_font(path)) is not None), None)


def fonts(mincho_paths: Iterable[str] = MINCHO_PATHS, gothic_paths: Iterable[str] = GOTHIC_PATHS):
    """The (body, title) fonts; raise PdfFontMissing with the package to install when there is none."""
    configured = configured_font()
    if configured:
        body = load_font(configured)
        if body is None:
            raise PdfFontMissing(
                f"SESSHU_PDF_FONT names {configured!r}, which is not a TrueType (.ttf) font file."
            )
        return body, body
    body = first_font(mincho_paths) or first_font(gothic_paths)
    if body is None:
        raise PdfFontMissing(
            "No Japanese TrueType font for PDFs: install the Debian package "
            f"{FONT_PACKAGE} (apt-get install -y {FONT_PACKAGE} fonts-ipaexfont-gothic) "
            "or set SESSHU_PDF_FONT to a .ttf file."
        )
    return body, first_font(gothic_paths) or body


def missing_glyphs(font: TTFont, texts: Iterable[str]) -> set[str]:
    """Characters of ``texts`` the font cannot draw (a name in 外字, say)."""
    glyphs = font.face.charToGlyph
    return {ch for text in texts for ch in text if not ch.isspace() and ord(ch) not in glyphs}


# Text that fits its box ---------------------------------------------------------------------------------


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Break text into lines no wider than ``width``: Japanese breaks between any two characters."""
    return list(_wrap_cached(text, font, size, width))


@lru_cache(maxsize=4096)
def _char_width(ch: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(ch, font, size)


@lru_cache(maxsize=8192)
def _wrap_cached(text: str, font: str, size: float, width: float) -> tuple[str, ...]:
    # Widths add up character by character (reportlab applies no kerning to TrueType text), so a line
    # is measured once instead of re-measuring it for every character added; forms repeat the same
    # labels and questions on every page, hence the cache.
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, line_width = "", 0.0
        for ch in paragraph:
            ch_width = _char_width(ch, font, size)
            if line and line_width + ch_width > width:
                lines.append(line)
                line = ch.lstrip()
                line_width = _char_width(line, font, size) if line else 0.0
            else:
                line += ch
                line_width += ch_width
        lines.append(line)
    return tuple(lines)


def text_height(lines: list[str], size: float) -> float:
    return size * (LINE_FACTOR * (len(lines) - 1) + 1)


def fit(text: str, font: str, size: float, width: float, height: float) -> tuple[float, list[str]]:
    """The largest size (down to MIN_SIZE) at which the text fits the box; wrapped at MIN_SIZE if none."""
    current = size
    while current >= MIN_SIZE:
        lines = wrap(text, font, current, width)
        if text_height(lines, current) <= height:
            return current, lines
        current -= 0.5
    return MIN_SIZE, wrap(text, font, MIN_SIZE, width)


def needed_height(text: str, font: str, size: float, width: float) -> float:
    """The cell height for text wrapped at ``size``; rows grow to it instead of shrinking text further."""
    return text_height(wrap(text, font, size, width - 2 * PADDING), size) + 2 * PADDING_Y


class Sheet:
    """A canvas measured from the top-left corner of the page, in points, with boxes that fit their text."""

    def __init__(self, canvas: Canvas, body: str, title: str):
        self.canvas = canvas
        self.body = body
        self.title = title

    def text(self, x: float, top: float, text: str, size: float, *, align="left", font=None, color=black):
        canvas = self.canvas
        canvas.setFillColor(color)
        canvas.setFont(font or self.body, size)
        baseline = PAGE_HEIGHT - top - size * 0.88
        if align == "center":
            canvas.drawCentredString(x, baseline, text)
        elif align == "right":
            canvas.drawRightString(x, baseline, text)
        else:
            canvas.drawString(x, baseline, text)
        canvas.setFillColor(black)

    def box(self, x: float, top: float, width: float, height: float, *, fill=None, line_width=0.6):
        canvas = self.canvas
        canvas.setLineWidth(line_width)
        canvas.setStrokeColor(LINE_COLOR)
        if fill is not None:
            canvas.setFillColor(fill)
        canvas.rect(x, PAGE_HEIGHT - top - height, width, height, stroke=1, fill=1 if fill is not None else 0)
        canvas.setFillColor(black)

    def fitted(self, x: float, top: float, width: float, height: float, text: str, size: float, **kw):
        """Text inside a box, vertically centred, shrunk or wrapped so that it never leaves the box."""
        size, lines = fit(text, self.body, size, width - 2 * PADDING, height - 2 * PADDING_Y)
        line_top = top + (height - text_height(lines, size)) / 2
        for line in lines:
            self.text(x + PADDING, line_top, line, size, **kw)
            line_top += size * LINE_FACTOR

    def paragraph(self, x: float, top: float, width: float, text: str, size: float, **kw) -> float:
        """Wrapped text from ``top`` down; returns where the next line would start."""
        for line in wrap(text, kw.get("font") or self.body, size, width):
            self.text(x, top, line, size, **kw)
            top += size * LINE_FACTOR
        return top
