"""The fee reconciliation of one clinic for one 請求年月 as PDF (A4 landscape), for the finance section.

Page 1: the clinic and the month, claimed against payable, the files the claims came in, a total per
verdict with what the finance section does with it, and the confirmation box (担当・係長・課長, the
amount decided). The following pages: one line per row of the files (file number and line, vaccine,
dose, date in 和暦 and ISO, claimed, table, payable, verdict, reason). No names: a row is found by its
file number and line, as in the clinic's own file. Every page carries the clinic, the month and "n / N".

Fonts and text that fits its box come from ``sesshu.core.pdf`` (its ``Sheet`` measures from the top of
a portrait page; the canvas is shifted so the same arithmetic works on the landscape page). A character
the font cannot draw is printed as 〓 rather than dropped: this is a working list, not a certificate.
"""

import io
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.utils import timezone
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from sesshu.core.pdf import LINE_FACTOR, PADDING, PADDING_Y, PAGE_HEIGHT, Sheet, fonts, text_height
from sesshu.core.wareki import format_wareki

from ..models import Vaccine
from .fees import PENDING, ClinicReport, FeeLine

WIDTH, HEIGHT = landscape(A4)
MARGIN_X = 12 * mm
CONTENT = WIDTH - 2 * MARGIN_X
TABLE_TOP = 27 * mm  # below the running header
BOTTOM = HEIGHT - 14 * mm  # above the footer
HEAD_FILL = Color(0.92, 0.92, 0.92)
PENDING_FILL = Color(1.0, 0.95, 0.85)  # the lines the city has to decide on
ROW_SIZE = 8.0
GETA = "〓"

# (label, width in mm, align): 273 mm in all (A4 landscape less the margins).
COLUMNS = (
    ("通番", 10, "right"),
    ("ファイル：行", 27, "left"),
    ("ワクチン", 36, "left"),
    ("回", 11, "right"),
    ("接種日", 29, "left"),
    ("請求額(円)", 19, "right"),
    ("単価表(円)", 19, "right"),
    ("支払額(円)", 19, "right"),
    ("判定", 20, "left"),
    ("理由", 83, "left"),
)


def _yen(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def _both(day: date | None) -> str:
    return f"{format_wareki(day)}（{day.isoformat()}）" if day else ""


def _month(day: date) -> str:
    wareki = format_wareki(day)
    return f"{wareki[: wareki.index('月') + 1]}（{day:%Y-%m}）"


@dataclass
class _Row:
    cells: tuple[str, ...]
    height: float
    pending: bool
    total: bool = False


# 禁則: characters a line must not start with, and ones it must not end with.
NO_LINE_START = frozenset("。、，．・：；？！）」』】〕＞ーぁぃぅぇぉっゃゅょァィゥェォッャュョ)]},.:;!?%")
NO_LINE_END = frozenset("（「『【〔＜([{")


@lru_cache(maxsize=4096)
def _width(ch: str, font: str, size: float) -> float:
    return pdfmetrics.stringWidth(ch, font, size)


def lines_of(text: str, font: str, size: float, width: float) -> list[str]:
    """Text wrapped to a cell ``width`` wide (padding included), with 禁則: one closing mark may hang
    past the line (ぶら下げ: the full-width forms draw in the left half of their square, inside the
    padding); a second one takes the last character down with it (追い出し); an opening bracket never
    ends a line."""
    room = width - 2 * PADDING
    out: list[str] = []
    for paragraph in text.split("\n"):
        line, used, hung = "", 0.0, False
        for ch in paragraph:
            w = _width(ch, font, size)
            if not line or used + w <= room:
                line, used = line + ch, used + w
                continue
            if ch in NO_LINE_START and not hung:
                line, hung = line + ch, True
                continue
            carry = ""
            if ch in NO_LINE_START:  # take characters down until the new line may start with them
                while line and (not carry or carry[0] in NO_LINE_START):
                    carry, line = line[-1] + carry, line[:-1]
            while line and line[-1] in NO_LINE_END:
                carry, line = line[-1] + carry, line[:-1]
            if not line:  # nothing left to break at: keep the line as it is
                line, carry = carry, ""
            out.append(line)
            line = (carry + ch).lstrip()
            used, hung = sum(_width(c, font, size) for c in line), False
        out.append(line)
    return out


def cell_height(text: str, font: str, size: float, width: float) -> float:
    return text_height(lines_of(text, font, size, width), size) + 2 * PADDING_Y


class _Page:
    """Draws on a landscape page with ``Sheet``'s top-down arithmetic (written for portrait A4)."""

    def __init__(self, canvas: Canvas, body: str, title: str, glyphs: set[int]):
        self.sheet = Sheet(canvas, body, title)
        self.canvas = canvas
        self.glyphs = glyphs

    def start(self) -> None:
        # Sheet puts y = PAGE_HEIGHT - top; the landscape page needs HEIGHT - top.
        self.canvas.translate(0, HEIGHT - PAGE_HEIGHT)

    def safe(self, text: str) -> str:
        return "".join(ch if ch.isspace() or ord(ch) in self.glyphs else GETA for ch in text)

    def text(self, x, top, text, size, **kw):
        self.sheet.text(x, top, self.safe(text), size, **kw)

    def cell(self, x, top, width, height, text, size, *, align="left", fill=None, font=None):
        self.sheet.box(x, top, width, height, fill=fill)
        text = self.safe(text)
        if align == "right":
            self.sheet.text(x + width - PADDING, top + (height - size) / 2, text, size, align="right")
            return
        lines = lines_of(text, font or self.sheet.body, size, width)
        line_top = top + (height - text_height(lines, size)) / 2
        for line in lines:
            self.sheet.text(x + PADDING, line_top, line, size, font=font)
            line_top += size * LINE_FACTOR


class _Renderer:
    def __init__(self, report: ClinicReport, city: str, created: date):
        self.report = report
        self.city = city
        self.created = created
        self.vaccines = {v.pk: v.name_ja for v in Vaccine.objects.all()}
        body, title = fonts()
        self.body, self.title = body.fontName, title.fontName
        glyphs = set(body.face.charToGlyph)
        self.buffer = io.BytesIO()
        self.canvas = Canvas(
            self.buffer, pagesize=(WIDTH, HEIGHT), initialFontName=self.body, invariant=1, pageCompression=1
        )
        self.canvas.setTitle(f"fee report {report.code} {report.month:%Y-%m}")  # nothing personal
        self.canvas.setAuthor(city)
        self.canvas.setCreator("sesshu")
        self.page = _Page(self.canvas, self.body, self.title, glyphs)
        self.number = 0
        self.total = 1

    # Layout ---------------------------------------------------------------------------------------

    def _row(self, n: int, line: FeeLine) -> _Row:
        v = line.values
        vaccine = v.get("vaccine", "")
        name = self.vaccines.get(vaccine, "")
        cells = (
            str(n),
            f"{line.source.pk}：{line.row.row_number}行",
            f"{name}（{vaccine}）" if name and name != vaccine else vaccine,
            str(v.get("dose_number") or ""),
            f"{format_wareki(line.vaccinated_on)}\n{line.vaccinated_on.isoformat()}"
            if line.vaccinated_on
            else "",
            _yen(line.claimed),
            _yen(v.get("fee_table_yen")),
            _yen(line.payable),
            line.verdict,
            line.reason,
        )
        height = max(
            cell_height(self.page.safe(text), self.body, ROW_SIZE, width * mm)
            for text, (_, width, _) in zip(cells, COLUMNS, strict=True)
        )
        return _Row(cells, max(height, 7 * mm), line.verdict in PENDING)

    def _pages(self, rows: list[_Row]) -> list[list[_Row]]:
        pages: list[list[_Row]] = []
        top = BOTTOM  # forces a first page
        for row in rows:
            if top + row.height > BOTTOM:
                pages.append([])
                top = TABLE_TOP + 8 * mm
            pages[-1].append(row)
            top += row.height
        return pages

    # Drawing --------------------------------------------------------------------------------------

    def _new_page(self) -> None:
        if self.number:
            self.canvas.showPage()
        self.number += 1
        self.page.start()
        r, p = self.report, self.page
        p.text(MARGIN_X, 8 * mm, f"{self.city}　予防接種委託料 照合表", 9)
        p.text(WIDTH - MARGIN_X, 8 * mm, f"作成日 {_both(self.created)}", 9, align="right")
        p.text(MARGIN_X, 14 * mm, f"医療機関コード {r.code or '―'}　{r.name}", 12, font=p.sheet.title)
        p.text(
            WIDTH - MARGIN_X, 14 * mm, f"請求年月 {_month(r.month)}", 12, align="right", font=p.sheet.title
        )
        self.canvas.setLineWidth(0.8)
        self.canvas.line(MARGIN_X, PAGE_HEIGHT - 21 * mm, WIDTH - MARGIN_X, PAGE_HEIGHT - 21 * mm)
        p.text(WIDTH / 2, HEIGHT - 10 * mm, f"{self.number} / {self.total}", 9, align="center")
        p.text(
            MARGIN_X,
            HEIGHT - 10 * mm,
            "氏名は記載していません。各行はファイル番号と行番号（医療機関のファイルの行）で特定します。",
            7.5,
        )

    def _summary(self) -> None:
        r, p = self.report, self.page
        top = TABLE_TOP
        p.text(MARGIN_X, top, "照合結果", 14, font=p.sheet.title)
        top += 8 * mm
        boxes = (
            ("請求額合計", f"{r.claimed:,} 円"),
            ("支払額合計（単価表による）", f"{r.payable:,} 円"),
            ("差額（請求額 − 支払額）", f"{r.difference:,} 円"),
            ("件数（うち要判断）", f"{len(r.lines)} 件（{r.pending} 件）"),
        )
        width = 64 * mm
        for i, (label, value) in enumerate(boxes):
            x = MARGIN_X + i * (width + 4 * mm)
            p.cell(x, top, width, 6 * mm, label, 8.5, fill=HEAD_FILL)
            p.sheet.box(x, top + 6 * mm, width, 10 * mm)
            p.text(x + width - 3 * mm, top + 8.5 * mm, value, 13, align="right", font=p.sheet.title)
        top += 22 * mm

        # Totals per verdict, left; files and the confirmation box, right.
        p.text(MARGIN_X, top, "判定別の集計", 10.5, font=p.sheet.title)
        p.text(MARGIN_X + 166 * mm, top, "対象ファイル", 10.5, font=p.sheet.title)
        top += 6 * mm
        cols = (("判定", 22), ("件数", 14), ("請求額(円)", 24), ("支払額(円)", 24), ("財政担当の対応", 74))
        right = {"件数", "請求額(円)", "支払額(円)"}
        x = MARGIN_X
        for label, w in cols:
            p.cell(x, top, w * mm, 6 * mm, label, 8.5, fill=HEAD_FILL)
            x += w * mm
        row_top = top + 6 * mm
        rows = [(t.verdict, str(t.count), _yen(t.claimed), _yen(t.payable), t.action) for t in r.totals()]
        rows.append(("合計", str(len(r.lines)), _yen(r.claimed), _yen(r.payable), ""))
        for values in rows:
            x = MARGIN_X
            fill = PENDING_FILL if values[0] in PENDING else (HEAD_FILL if values[0] == "合計" else None)
            for (label, w), value in zip(cols, values, strict=True):
                p.cell(
                    x,
                    row_top,
                    w * mm,
                    6.5 * mm,
                    value,
                    8.5,
                    align="right" if label in right else "left",
                    fill=fill,
                )
                x += w * mm
            row_top += 6.5 * mm
        if not r.lines:
            p.text(MARGIN_X, row_top + 2 * mm, "この月の請求はありません。", 10)
        note = (
            "間違い接種・定期接種外は、予防接種法の年齢・間隔等により定期接種として数えられない接種です。"
            "支払額は0円（保留）として計上しています。支払の可否は市が個別に判断し、支払う場合は確認欄に"
            "支払決定額を記入してください。照合待ち・単価なしは、照合確認・単価表の登録の後に再照合します。"
        )
        note_top = max(row_top, top + 6 * mm) + 5 * mm
        for text in lines_of(note, self.body, 8.5, 158 * mm + 2 * PADDING):
            p.text(MARGIN_X, note_top, text, 8.5)
            note_top += 8.5 * LINE_FACTOR

        fx = MARGIN_X + 166 * mm
        fcols = (("番号", 12), ("ファイル名", 47), ("受付日", 22), ("状態", 14), ("行数", 12))
        x = fx
        for label, w in fcols:
            p.cell(x, top, w * mm, 6 * mm, label, 8, fill=HEAD_FILL)
            x += w * mm
        counts: dict[int, int] = {}
        for line in r.lines:
            counts[line.source.pk] = counts.get(line.source.pk, 0) + 1
        file_top = top + 6 * mm
        files = r.files
        for f in files[:8]:
            received = timezone.localtime(f.uploaded_at).date().isoformat()
            values = (str(f.pk), f.file_name, received, f.get_status_display(), str(counts[f.pk]))
            height = max(6 * mm, cell_height(p.safe(f.file_name), self.body, 8, fcols[1][1] * mm))
            x = fx
            for (label, w), value in zip(fcols, values, strict=True):
                align = "right" if label in ("番号", "行数") else "left"
                p.cell(x, file_top, w * mm, height, value, 8, align=align)
                x += w * mm
            file_top += height
        if len(files) > 8:
            p.text(fx, file_top + 1 * mm, f"ほか {len(files) - 8} ファイル（明細を参照）", 8)
        self._confirmation(fx, max(file_top + 8 * mm, top + 62 * mm))

    def _confirmation(self, x: float, top: float) -> None:
        p = self.page
        width = CONTENT - (x - MARGIN_X)
        p.text(x, top, "確認欄（財政担当）", 10.5, font=p.sheet.title)
        top += 6 * mm
        stamp = width / 3
        for i, label in enumerate(("担当", "係長", "課長")):
            p.cell(x + i * stamp, top, stamp, 6 * mm, label, 8.5, fill=HEAD_FILL)
            p.sheet.box(x + i * stamp, top + 6 * mm, stamp, 18 * mm)
        top += 24 * mm
        for label in ("確認日", "支払決定額", "備考"):
            p.cell(x, top, 26 * mm, 8 * mm, label, 8.5, fill=HEAD_FILL)
            p.sheet.box(x + 26 * mm, top, width - 26 * mm, 8 * mm)
            if label == "確認日":
                p.text(x + width - 3 * mm, top + 2.5 * mm, "年　　月　　日", 9, align="right")
            if label == "支払決定額":
                p.text(x + width - 3 * mm, top + 2.5 * mm, "円", 9, align="right")
            top += 8 * mm

    def _table(self, rows: list[_Row]) -> None:
        p = self.page
        top = TABLE_TOP
        x = MARGIN_X
        for label, w, _ in COLUMNS:
            p.cell(x, top, w * mm, 8 * mm, label, 8.5, fill=HEAD_FILL)
            x += w * mm
        top += 8 * mm
        for row in rows:
            x = MARGIN_X
            fill = HEAD_FILL if row.total else (PENDING_FILL if row.pending else None)
            for (_, w, align), text in zip(COLUMNS, row.cells, strict=True):
                p.cell(x, top, w * mm, row.height, text, ROW_SIZE, align=align, fill=fill)
                x += w * mm
            top += row.height

    def render(self) -> bytes:
        r = self.report
        rows = [self._row(n, line) for n, line in enumerate(r.lines, start=1)]
        if rows:
            total = ("", "合計", f"{len(r.lines)} 件", "", "", _yen(r.claimed), "", _yen(r.payable), "", "")
            rows.append(_Row(total, 7 * mm, False, total=True))
        pages = self._pages(rows)
        self.total = 1 + len(pages)
        self._new_page()
        self._summary()
        for page in pages:
            self._new_page()
            self._table(page)
        self.canvas.showPage()
        self.canvas.save()
        return self.buffer.getvalue()


def render_clinic_report(report: ClinicReport, *, created: date | None = None) -> bytes:
    city = getattr(settings, "SESSHU_CITY_NAME", "")
    return _Renderer(report, city, created or timezone.localdate()).render()
