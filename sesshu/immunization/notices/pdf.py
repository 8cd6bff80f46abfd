"""Notices as A4 PDFs: for each notice a letter (予防接種のお知らせ, or 勧奨 for a reminder) and its
予診票, both carrying the ticket number as text and as a QR code, dates in 和暦 beside ISO.

The renderer knows nothing of the database: it draws ``NoticeDocument``s. A protected person's
document carries only the mailing address it was sent to (or none), never the home address, because
the caller builds it from the notice's stored mailing fields.
"""

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import jaconv
import segno
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from sesshu.core.pdf import (
    PAGE_HEIGHT,
    PAGE_WIDTH,
    Sheet,
    UnprintableCharacters,
    fonts,
    missing_glyphs,
    needed_height,
)
from sesshu.core.wareki import format_wareki

from .questionnaire import Questionnaire, questionnaire_for
from .tickets import format_ticket_number

MARGIN_X = 18 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
LABEL_FILL = Color(0.93, 0.93, 0.93)
QR_SIZE = 28 * mm
QR_SMALL = 20 * mm


@dataclass(frozen=True)
class NoticeDocument:
    ticket_number: str
    reminder: bool
    reminder_reason: str  # "incomplete" / "not_started" / ""
    reissue: bool
    city_name: str
    contact: str
    issued_on: date
    postal_code: str
    address: str  # the mailing address as sent; empty for a held notice
    home_address: str  # printed on the 予診票; empty for a protected person (filled in by hand)
    addressee: str
    honorific: str
    name: str
    name_kana: str
    birth_date: date
    sex: str  # 男 / 女
    age: int
    series: str
    series_label: str
    dose_number: int
    earliest: date | None
    recommended_from: date | None
    recommended_until: date | None
    deadline: date | None
    free: bool  # A類: no charge


@dataclass(frozen=True)
class RenderedNotices:
    content: bytes
    pages: int


def _day(day: date | None) -> str:
    return f"{format_wareki(day)}（{day.isoformat()}）" if day else "―"


def _qr(sheet: Sheet, data: str, x: float, top: float, size: float) -> None:
    """The QR code drawn as vector squares (one path, runs of dark modules merged): sharp at any print
    resolution and a few hundred bytes a code."""
    qr = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in qr.matrix]
    border = 2
    count = len(matrix) + 2 * border
    module = size / count
    canvas = sheet.canvas
    canvas.setFillColor(Color(1, 1, 1))
    canvas.rect(x, PAGE_HEIGHT - top - size, size, size, stroke=0, fill=1)
    canvas.setFillColor(Color(0, 0, 0))
    path = canvas.beginPath()
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                left = x + (start + border) * module
                bottom = PAGE_HEIGHT - top - (r + border + 1) * module
                path.rect(left, bottom, (c - start) * module, module)
            else:
                c += 1
    canvas.drawPath(path, stroke=0, fill=1)


def _ticket_block(sheet: Sheet, doc: NoticeDocument, x: float, top: float, size: float) -> None:
    _qr(sheet, doc.ticket_number, x, top, size)
    sheet.text(x + size / 2, top + size + 1 * mm, "接種券番号", 7, align="center")
    sheet.text(
        x + size / 2, top + size + 4.2 * mm, format_ticket_number(doc.ticket_number), 9, align="center"
    )


def _rows(sheet: Sheet, top: float, rows: list[tuple[str, str]], label_width: float, height: float) -> float:
    for label, value in rows:
        sheet.box(MARGIN_X, top, label_width, height, fill=LABEL_FILL)
        sheet.fitted(MARGIN_X, top, label_width, height, label, 9)
        sheet.box(MARGIN_X + label_width, top, CONTENT_WIDTH - label_width, height)
        sheet.fitted(MARGIN_X + label_width, top, CONTENT_WIDTH - label_width, height, value, 10.5)
        top += height
    return top


def _letter_text(doc: NoticeDocument) -> str:
    who = f"{doc.name}さん"
    dose = f"{doc.series_label}（{doc.dose_number}回目）"
    if not doc.reminder:
        return (
            f"{who}は、{dose}の定期予防接種の対象です。下記の期間に、委託医療機関で接種を受けてください。"
            "接種の際は、この通知と予診票、母子健康手帳（お持ちの方）、本人確認書類を医療機関にお持ちください。"
        )
    if doc.reminder_reason == "incomplete":
        why = "接種を始めていますが、まだ必要な回数が済んでいません"
    else:
        why = "標準的な接種期間を過ぎても、まだ接種を受けていません"
    return (
        f"{who}の{dose}は、市の記録では{why}。接種期限までは定期接種（公費）として受けられます。"
        "体調のよいときに、早めに委託医療機関で接種を受けてください。すでに接種を受けた方は、"
        "母子健康手帳などの記録を添えて下記までお知らせください。"
    )


NOTES = (
    "この通知は、市に住民登録のある方だけが使えます。転出した場合は、転出先の市区町村にお問い合わせください。",
    "接種券番号は医療機関が QR コードで読み取ります。汚したり折り曲げたりしないでください。",
    "通知をなくしたときや、記載に誤りがあるときは、下記の窓口で再発行します（前の通知は使えなくなります）。",
    "発熱しているときや体調の悪いときは接種を見合わせ、医師に相談してください。",
)


def _draw_letter(sheet: Sheet, doc: NoticeDocument) -> None:
    sheet.text(MARGIN_X, 12 * mm, doc.city_name, 10.5)
    issued = f"発行日　{_day(doc.issued_on)}" + ("　再発行" if doc.reissue else "")
    sheet.text(PAGE_WIDTH - MARGIN_X, 12 * mm, issued, 9, align="right")
    # The address block sits where a window envelope shows it (long 3: 90 x 45 mm from 20 mm down).
    top = 26 * mm
    if doc.address:
        sheet.text(MARGIN_X + 4 * mm, top, f"〒{doc.postal_code}", 11)
        top = sheet.paragraph(MARGIN_X + 4 * mm, top + 6 * mm, 95 * mm, doc.address, 11)
    else:
        sheet.text(MARGIN_X + 4 * mm, top, "（窓口でお渡しします）", 10)
        top += 6 * mm
    sheet.fitted(MARGIN_X + 2 * mm, top + 3 * mm, 105 * mm, 10 * mm, f"{doc.addressee}　{doc.honorific}", 15)
    _ticket_block(sheet, doc, PAGE_WIDTH - MARGIN_X - QR_SIZE, 22 * mm, QR_SIZE)

    title = "予防接種の勧奨（お知らせ）" if doc.reminder else "予防接種のお知らせ"
    sheet.text(PAGE_WIDTH / 2, 78 * mm, title, 18, align="center", font=sheet.title)
    top = sheet.paragraph(MARGIN_X, 92 * mm, CONTENT_WIDTH, _letter_text(doc), 10.5)
    sheet.text(PAGE_WIDTH / 2, top + 3 * mm, "記", 11, align="center")
    period = (
        f"{_day(doc.recommended_from)} から {_day(doc.recommended_until)} まで"
        if doc.recommended_from or doc.recommended_until
        else "―"
    )
    rows = [
        ("対象者", f"{doc.name}（{jaconv.kata2hira(doc.name_kana)}）"),
        ("生年月日", f"{_day(doc.birth_date)}　{doc.sex}"),
        ("予防接種", f"{doc.series_label}　{doc.dose_number}回目"),
        ("接種できる日", f"{_day(doc.earliest)} から" if doc.earliest else "今日から接種できます"),
        ("標準的な接種期間", period),
        ("接種期限", f"{_day(doc.deadline)} まで（定期接種として）" if doc.deadline else "―"),
        ("費用", "無料（公費負担）" if doc.free else "自己負担金があります（生活保護世帯等は免除）"),
        ("接種券番号", format_ticket_number(doc.ticket_number)),
    ]
    top = _rows(sheet, top + 10 * mm, rows, 34 * mm, 8.5 * mm)
    top += 5 * mm
    sheet.text(MARGIN_X, top, "ご注意", 10.5, font=sheet.title)
    top += 6 * mm
    for note in NOTES:
        top = sheet.paragraph(MARGIN_X + 3 * mm, top, CONTENT_WIDTH - 3 * mm, f"・{note}", 9)
        top += 1 * mm
    sheet.box(MARGIN_X, PAGE_HEIGHT - 30 * mm, CONTENT_WIDTH, 14 * mm)
    sheet.fitted(MARGIN_X, PAGE_HEIGHT - 30 * mm, CONTENT_WIDTH, 14 * mm, f"問い合わせ先　{doc.contact}", 10)


def _draw_questionnaire(sheet: Sheet, doc: NoticeDocument, form: Questionnaire) -> None:
    sheet.text(MARGIN_X, 12 * mm, doc.city_name, 9)
    sheet.text(MARGIN_X, 18 * mm, form.title, 15, font=sheet.title)
    _ticket_block(sheet, doc, PAGE_WIDTH - MARGIN_X - QR_SMALL, 8 * mm, QR_SMALL)
    rows = [
        ("住所", doc.home_address or "（ご記入ください）"),
        ("氏名", f"{doc.name}（{jaconv.kata2hira(doc.name_kana)}）　{doc.sex}"),
        # The age on the day of vaccination is written by hand: the notice is printed months before.
        ("生年月日", f"{_day(doc.birth_date)}　（接種日の年齢　満　　　歳　　　か月）"),
        ("保護者氏名" if not form.adult else "電話番号", ""),
        ("診察前の体温", "　　　　　度　　　　分"),
    ]
    top = _rows(sheet, 36 * mm, rows, 30 * mm, 7.5 * mm) + 3 * mm
    answer_w, doctor_w = 24 * mm, 22 * mm
    question_w = CONTENT_WIDTH - answer_w - doctor_w
    header = (("質問事項", question_w), ("回答", answer_w), ("医師記入欄", doctor_w))
    x = MARGIN_X
    for label, width in header:
        sheet.box(x, top, width, 6 * mm, fill=LABEL_FILL)
        sheet.fitted(x, top, width, 6 * mm, label, 8.5)
        x += width
    top += 6 * mm
    size = 8.5 if len(form.questions) <= 15 else 8
    for number, question in enumerate(form.questions, start=1):
        height = max(7 * mm, _question_height(sheet, f"{number}. {question}", question_w, size))
        sheet.box(MARGIN_X, top, question_w, height)
        sheet.fitted(MARGIN_X, top, question_w, height, f"{number}. {question}", size)
        sheet.box(MARGIN_X + question_w, top, answer_w, height)
        sheet.fitted(MARGIN_X + question_w, top, answer_w, height, "はい ・ いいえ", 8.5)
        sheet.box(MARGIN_X + question_w + answer_w, top, doctor_w, height)
        top += height
    top += 2 * mm
    sheet.box(MARGIN_X, top, CONTENT_WIDTH, 12 * mm)
    sheet.fitted(
        MARGIN_X, top, CONTENT_WIDTH, 12 * mm,
        "医師記入欄　以上の問診及び診察の結果、今日の予防接種は（ 可能 ・ 見合わせる ）。"
        "　医師署名又は記名押印　　　　　　　　　　",
        9,
    )  # fmt: skip
    top += 13 * mm
    top = sheet.paragraph(MARGIN_X, top, CONTENT_WIDTH, form.consent, 8.5)
    signer = "本人自署" if form.adult else "保護者自署"
    sheet.text(PAGE_WIDTH - MARGIN_X, top + 1 * mm, f"{signer}　＿＿＿＿＿＿＿＿＿＿＿＿", 9.5, align="right")
    top += 8 * mm
    cols = (
        ("ワクチン名", 42 * mm),
        ("Lot No.", 30 * mm),
        ("接種量", 20 * mm),
        ("実施場所・医師名", 0),
        ("接種年月日", 34 * mm),
    )
    fixed = sum(w for _, w in cols)
    x = MARGIN_X
    for label, width in cols:
        width = width or CONTENT_WIDTH - fixed
        sheet.box(x, top, width, 5.5 * mm, fill=LABEL_FILL)
        sheet.fitted(x, top, width, 5.5 * mm, label, 8)
        sheet.box(x, top + 5.5 * mm, width, 11 * mm)
        x += width
    sheet.fitted(PAGE_WIDTH - MARGIN_X - 34 * mm, top + 5.5 * mm, 34 * mm, 11 * mm, "令和　年　月　日", 8.5)
    sheet.text(MARGIN_X, PAGE_HEIGHT - 10 * mm, form.source, 7)
    sheet.text(
        PAGE_WIDTH - MARGIN_X,
        PAGE_HEIGHT - 10 * mm,
        format_ticket_number(doc.ticket_number),
        7,
        align="right",
    )


def _question_height(sheet: Sheet, text: str, width: float, size: float) -> float:
    return needed_height(text, sheet.body, size, width)


def unprintable(docs: Iterable[NoticeDocument]) -> set[str]:
    body, _ = fonts()
    texts = []
    for doc in docs:
        texts += [doc.address, doc.addressee, doc.name, doc.name_kana, doc.city_name, doc.contact]
    return missing_glyphs(body, texts)


def render_notices(docs: Iterable[NoticeDocument], *, title: str = "予防接種のお知らせ") -> RenderedNotices:
    """Two pages per notice (the letter, the 予診票). Refuses names the font cannot print, rather than
    drop a character from someone's name."""
    docs = list(docs)
    body, heading = fonts()
    if missing := unprintable(docs):
        raise UnprintableCharacters(missing)
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, initialFontName=body.fontName, invariant=1, pageCompression=1)
    canvas.setTitle(title)  # nothing personal in the metadata
    canvas.setCreator("sesshu")
    sheet = Sheet(canvas, body.fontName, heading.fontName)
    forms: dict[str, Questionnaire] = {}
    for doc in docs:
        _draw_letter(sheet, doc)
        canvas.showPage()
        form = forms.get(doc.series) or forms.setdefault(doc.series, questionnaire_for(doc.series))
        _draw_questionnaire(sheet, doc, form)
        canvas.showPage()
    canvas.save()
    return RenderedNotices(buffer.getvalue(), 2 * len(docs))
