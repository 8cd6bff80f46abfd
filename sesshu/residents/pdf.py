"""住民票の写し as a PDF: A4 portrait, laid out like a municipal certificate, the Japanese font embedded.

The renderer knows nothing of the database: ``certificates.py`` hands it a ``JuminhyoCopy`` whose
omitted items (本籍, 続柄, 住民票コード when not asked for) are already ``None``, so an item the
requester did not ask for never reaches the PDF whatever this module does.

Fonts and the page helpers are shared with the other PDFs (sesshu/core/pdf.py): TrueType only (IPAex by
default, ``SESSHU_PDF_FONT`` for another .ttf), embedded as a subset, a few tens of kilobytes a copy.
"""

import io
from dataclasses import dataclass
from datetime import date

import jaconv
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from sesshu.core import pdf as shared
from sesshu.core.pdf import (  # noqa: F401  (re-exported: callers and tests name them here)
    FONT_PACKAGE,
    GOTHIC_PATHS,
    LINE_COLOR,
    LINE_FACTOR,
    MIN_SIZE,
    MINCHO_PATHS,
    PADDING,
    PADDING_Y,
    PdfFontMissing,
    Sheet,
    UnprintableCharacters,
)
from sesshu.core.wareki import format_wareki

OMITTED = "省略"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 15 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X  # 180 mm
LABEL_WIDTH = 25 * mm
VALUE_WIDTH = (CONTENT_WIDTH - 2 * LABEL_WIDTH) / 2  # two label/value pairs per row
WIDE_VALUE_WIDTH = CONTENT_WIDTH - LABEL_WIDTH
ROW_HEIGHT = 6.5 * mm
NAME_ROW_HEIGHT = 11.5 * mm
VALUE_SIZE = 10
LABEL_SIZE = 8.5
NAME_SIZE = 14
KANA_SIZE = 7.5
# Rows are made tall enough for their text at these sizes; drawing then uses the largest that fits.
VALUE_WRAP_SIZE = 9
LABEL_WRAP_SIZE = 8
BLOCK_GAP = 3 * mm
HOUSEHOLD_TOP = 35 * mm  # the household box (住所, 世帯主) below the title
HOUSEHOLD_ROW_HEIGHT = 8 * mm
HOUSEHOLD_SIZE = 11
BODY_BOTTOM = PAGE_HEIGHT - 14 * mm  # above the page footer
CERTIFICATION_HEIGHT = 44 * mm  # 以下余白, the certification, the date, the mayor and the seal
LABEL_FILL = Color(0.93, 0.93, 0.93)
SEAL_RED = Color(0.78, 0.1, 0.1)


@dataclass(frozen=True)
class MemberEntry:
    """One resident's items as printed. ``None`` in an optional item prints 「省略」."""

    name: str
    name_kana: str
    latin_name: str
    birth_date: date
    sex: str  # 男 / 女
    relationship: str | None
    became_resident_on: date | None
    became_resident_reason: str
    address_since: date | None
    address_notified_on: date | None
    address_reason: str
    previous_address: str
    registered_domicile: str | None
    domicile_head: str | None
    juminhyo_code: str | None
    nationality: str = ""  # blank: Japanese national (本籍 is printed instead of the residence items)
    became_foreign_resident_on: date | None = None
    residence_status: str = ""
    residence_period: str = ""
    residence_expiry: date | None = None
    alias: str = ""
    alias_kana: str = ""


@dataclass(frozen=True)
class JuminhyoCopy:
    certificate_number: str
    city_name: str
    mayor_title: str
    issued_on: date
    as_of: date
    address: str
    head_name: str
    members: list[MemberEntry]


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


# Fonts and text that fits its box (shared with every other PDF: sesshu/core/pdf.py) -----------------------


def fonts():
    """The (body, title) fonts; the paths are read here so that they can be changed for a test."""
    return shared.fonts(MINCHO_PATHS, GOTHIC_PATHS)


def unprintable_characters(copy: JuminhyoCopy) -> set[str]:
    """Characters of the copy the body font cannot draw (a name in 外字, say)."""
    body, _ = fonts()
    texts = [copy.city_name, copy.mayor_title, copy.address, copy.head_name]
    for member in copy.members:
        texts += [str(v) for v in vars(member).values() if isinstance(v, str)]
    return shared.missing_glyphs(body, texts)


_wrap = shared.wrap
_text_height = shared.text_height
_fit = shared.fit
_needed_height = shared.needed_height


# The certificate ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    label: str
    value: str
    wide: bool = False  # the value spans the rest of the row


def _date_and_reason(day: date | None, reason: str, notified_on: date | None = None) -> str:
    text = f"{format_wareki(day)}　{reason}".strip("　") if day else reason
    if notified_on and notified_on != day:
        text += f"\n（{format_wareki(notified_on)}届出）"
    return text or "　"


def _or_omitted(value: str | None) -> str:
    return OMITTED if value is None else (value or "　")


def member_rows(member: MemberEntry) -> list[list[Pair]]:
    """The rows of one member's block below the name row, in the order a 住民票 prints them."""
    rows = [[Pair("英字氏名", member.latin_name, wide=True)]] if member.latin_name else []
    rows += [
        [Pair("生年月日", format_wareki(member.birth_date)), Pair("性別", member.sex)],
        [
            Pair(
                "住民となった日", _date_and_reason(member.became_resident_on, member.became_resident_reason)
            ),
            Pair("続柄", _or_omitted(member.relationship)),
        ],
        [
            Pair(
                "住所を定めた日",
                _date_and_reason(member.address_since, member.address_reason, member.address_notified_on),
            ),
            Pair("個人番号", OMITTED),  # until the addressee issue: never printed
        ],
        [Pair("前住所", member.previous_address or "　", wide=True)],
    ]
    if member.nationality:
        rows += [
            [
                Pair("国籍・地域", member.nationality),
                Pair("外国人住民となった日", format_wareki(member.became_foreign_resident_on) or "　"),
            ],
            [
                Pair("在留資格", member.residence_status or "　"),
                Pair("在留期間", member.residence_period or "　"),
            ],
            [
                Pair("在留期間等の満了の日", format_wareki(member.residence_expiry) or "　"),
                Pair("住民票コード", _or_omitted(member.juminhyo_code)),
            ],
        ]
        if member.alias:
            alias = (
                f"{member.alias}（{jaconv.kata2hira(member.alias_kana)}）"
                if member.alias_kana
                else member.alias
            )
            rows.append([Pair("通称", alias, wide=True)])
    else:
        rows += [
            [Pair("本籍", _or_omitted(member.registered_domicile), wide=True)],
            [
                Pair("筆頭者", _or_omitted(member.domicile_head)),
                Pair("住民票コード", _or_omitted(member.juminhyo_code)),
            ],
        ]
    return rows


def _row_height(row: list[Pair], font: str) -> float:
    height = ROW_HEIGHT
    for pair in row:
        width = WIDE_VALUE_WIDTH if pair.wide else VALUE_WIDTH
        height = max(height, _needed_height(pair.value, font, VALUE_WRAP_SIZE, width))
        height = max(height, _needed_height(pair.label, font, LABEL_WRAP_SIZE, LABEL_WIDTH))
    return height


def _block_height(member: MemberEntry, font: str) -> float:
    return NAME_ROW_HEIGHT + sum(_row_height(row, font) for row in member_rows(member))


def _draw_member(sheet: Sheet, member: MemberEntry, top: float) -> float:
    """One member's bordered block; returns where the next block may start."""
    x = MARGIN_X
    block_top = top
    # The name row: ふりがな in small type above the name, each kept inside the cell however long.
    sheet.box(x, top, LABEL_WIDTH, NAME_ROW_HEIGHT, fill=LABEL_FILL)
    sheet.fitted(x, top, LABEL_WIDTH, NAME_ROW_HEIGHT, "氏名", LABEL_SIZE)
    sheet.box(x + LABEL_WIDTH, top, WIDE_VALUE_WIDTH, NAME_ROW_HEIGHT)
    reading = jaconv.kata2hira(member.name_kana)
    room = WIDE_VALUE_WIDTH - 2 * PADDING
    reading_size = min(
        KANA_SIZE, KANA_SIZE * room / max(pdfmetrics.stringWidth(reading, sheet.body, KANA_SIZE), 1)
    )
    sheet.text(x + LABEL_WIDTH + PADDING, top + 1.1 * mm, reading, reading_size)
    name_top = top + 3.6 * mm
    sheet.fitted(
        x + LABEL_WIDTH, name_top, WIDE_VALUE_WIDTH, NAME_ROW_HEIGHT - 3.6 * mm, member.name, NAME_SIZE
    )
    top += NAME_ROW_HEIGHT
    for row in member_rows(member):
        height = _row_height(row, sheet.body)
        cell_x = x
        for pair in row:
            width = WIDE_VALUE_WIDTH if pair.wide else VALUE_WIDTH
            sheet.box(cell_x, top, LABEL_WIDTH, height, fill=LABEL_FILL)
            sheet.fitted(cell_x, top, LABEL_WIDTH, height, pair.label, LABEL_SIZE)
            sheet.box(cell_x + LABEL_WIDTH, top, width, height)
            sheet.fitted(cell_x + LABEL_WIDTH, top, width, height, pair.value, VALUE_SIZE)
            cell_x += LABEL_WIDTH + width
        top += height
    # The block's outline drawn heavier, so each person stands apart on the page.
    sheet.box(x, block_top, CONTENT_WIDTH, top - block_top, line_width=1.2)
    return top + BLOCK_GAP


def _household_rows(copy: JuminhyoCopy, font: str) -> list[tuple[str, str, float]]:
    """(label, value, height) of the household box; a long address makes its row taller."""
    rows = []
    for label, value in (("住所", copy.address), ("世帯主", copy.head_name)):
        height = max(HOUSEHOLD_ROW_HEIGHT, _needed_height(value, font, VALUE_WRAP_SIZE, WIDE_VALUE_WIDTH))
        rows.append((label, value, height))
    return rows


def members_top(copy: JuminhyoCopy, font: str) -> float:
    """Where the first member's block starts on every page: below the household box."""
    return HOUSEHOLD_TOP + sum(height for _, _, height in _household_rows(copy, font)) + 5 * mm


def paginate(copy: JuminhyoCopy, font: str) -> list[list[MemberEntry]]:
    """Members per page; the last page keeps room for the certification below its last member."""
    pages: list[list[MemberEntry]] = [[]]
    first = members_top(copy, font)
    bottom = first
    for member in copy.members:
        height = _block_height(member, font)
        if pages[-1] and bottom + height > BODY_BOTTOM:
            pages.append([])
            bottom = first
        pages[-1].append(member)
        bottom += height + BLOCK_GAP
    if bottom + CERTIFICATION_HEIGHT > BODY_BOTTOM:
        # Carry the last member over so that the certification never stands on a page of its own.
        moved = [pages[-1].pop()] if len(pages[-1]) > 1 else []
        pages.append(moved)
    return pages


def _draw_page_header(sheet: Sheet, copy: JuminhyoCopy) -> None:
    sheet.text(MARGIN_X, 12 * mm, copy.city_name, 10.5)
    sheet.text(PAGE_WIDTH - MARGIN_X, 12 * mm, f"証明書番号　{copy.certificate_number}", 9, align="right")
    sheet.canvas.setFont(sheet.title, 20)
    title = "住民票（写）"
    # Letter-spaced, as printed certificates set their titles.
    spacing = 3 * mm
    width = pdfmetrics.stringWidth(title, sheet.title, 20) + spacing * (len(title) - 1)
    x = (PAGE_WIDTH - width) / 2
    for ch in title:
        sheet.text(x, 20 * mm, ch, 20, font=sheet.title)
        x += pdfmetrics.stringWidth(ch, sheet.title, 20) + spacing
    if copy.as_of != copy.issued_on:
        sheet.text(
            PAGE_WIDTH / 2, 29.5 * mm, f"（{format_wareki(copy.as_of)}現在の記載事項）", 9, align="center"
        )
    top = HOUSEHOLD_TOP
    for label, value, height in _household_rows(copy, sheet.body):
        sheet.box(MARGIN_X, top, LABEL_WIDTH, height, fill=LABEL_FILL)
        sheet.fitted(MARGIN_X, top, LABEL_WIDTH, height, label, LABEL_SIZE)
        sheet.box(MARGIN_X + LABEL_WIDTH, top, WIDE_VALUE_WIDTH, height)
        sheet.fitted(MARGIN_X + LABEL_WIDTH, top, WIDE_VALUE_WIDTH, height, value, HOUSEHOLD_SIZE)
        top += height
    sheet.box(MARGIN_X, HOUSEHOLD_TOP, CONTENT_WIDTH, top - HOUSEHOLD_TOP, line_width=1.2)


def _draw_page_footer(sheet: Sheet, copy: JuminhyoCopy, page: int, pages: int) -> None:
    top = PAGE_HEIGHT - 10 * mm
    sheet.text(MARGIN_X, top, f"証明書番号　{copy.certificate_number}", 8)
    sheet.text(PAGE_WIDTH / 2, top, f"{page}/{pages}", 9, align="center")
    if page < pages:
        sheet.text(PAGE_WIDTH - MARGIN_X, top, "（次頁に続く）", 8, align="right")


def _draw_seal(sheet: Sheet, x: float, top: float, size: float) -> None:
    """The city's official seal (公印) as printed on copies: a red square with 市長之印."""
    canvas = sheet.canvas
    canvas.setStrokeColor(SEAL_RED)
    canvas.setLineWidth(1.6)
    canvas.rect(x, PAGE_HEIGHT - top - size, size, size, stroke=1, fill=0)
    canvas.setLineWidth(0.5)
    inset = 1.1 * mm
    canvas.rect(x + inset, PAGE_HEIGHT - top - size + inset, size - 2 * inset, size - 2 * inset, stroke=1)
    # Seal text reads in columns from the right: 市長 | 之印.
    char = size * 0.36
    for column, text in ((1, "市長"), (0, "之印")):
        for row, ch in enumerate(text):
            cx = x + size * (0.27 + 0.46 * column)
            sheet.text(cx, top + size * 0.1 + row * char * 1.08, ch, char, align="center", color=SEAL_RED)
    canvas.setStrokeColor(LINE_COLOR)


def _draw_certification(sheet: Sheet, copy: JuminhyoCopy, top: float) -> None:
    sheet.text(PAGE_WIDTH / 2, top, "以下余白", 9, align="center")
    top += 9 * mm
    sheet.text(MARGIN_X + 8 * mm, top, "この写しは、住民票の原本と相違ないことを証明する。", 11)
    top += 9 * mm
    sheet.text(MARGIN_X + 8 * mm, top, format_wareki(copy.issued_on), 11)
    top += 9 * mm
    seal = 18 * mm
    right = PAGE_WIDTH - MARGIN_X - 4 * mm
    sheet.text(right - seal - 3 * mm, top + 2 * mm, copy.mayor_title, 14, align="right")
    _draw_seal(sheet, right - seal, top - 2 * mm, seal)


def render_juminhyo(copy: JuminhyoCopy) -> RenderedPdf:
    """Draw the copy; raise UnprintableCharacters rather than print a name with a missing glyph."""
    body, title = fonts()
    if missing := unprintable_characters(copy):
        raise UnprintableCharacters(missing)
    buffer = io.BytesIO()
    # invariant: no creation time or random document id in the file, so one copy renders to one hash.
    canvas = Canvas(buffer, pagesize=A4, initialFontName=body.fontName, invariant=1, pageCompression=1)
    canvas.setTitle(f"住民票（写） {copy.certificate_number}")  # nothing personal in the metadata
    canvas.setAuthor(copy.city_name)
    canvas.setCreator("sesshu")
    sheet = Sheet(canvas, body.fontName, title.fontName)
    pages = paginate(copy, body.fontName)
    first_top = members_top(copy, body.fontName)
    for number, members in enumerate(pages, start=1):
        _draw_page_header(sheet, copy)
        top = first_top
        for member in members:
            top = _draw_member(sheet, member, top)
        if number == len(pages):
            _draw_certification(sheet, copy, top + 1 * mm)
        _draw_page_footer(sheet, copy, number, len(pages))
        canvas.showPage()
    canvas.save()
    return RenderedPdf(buffer.getvalue(), len(pages))
