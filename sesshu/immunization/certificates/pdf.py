"""The certificates as PDF (A4 portrait): 予防接種済証 in Japanese, 接種証明書 in Japanese and English with
the SMART Health Card QR code.

The renderer knows nothing of the database: ``services`` hands it a ``CertificateDocument``. Fonts, the
page measured from its top and the glyph check come from ``sesshu.core.pdf``. The QR code is drawn as vector
squares (see ``draw_qr``).
"""

import io
from dataclasses import dataclass, field
from datetime import date

import segno
from reportlab.lib.colors import Color, black, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from sesshu.core.pdf import PAGE_HEIGHT, PAGE_WIDTH, PdfFontMissing, Sheet, UnprintableCharacters, fonts
from sesshu.core.pdf import missing_glyphs as _missing_glyphs
from sesshu.core.wareki import format_wareki

from .shc import qr_code

__all__ = [
    "CertificateDocument",
    "DoseLine",
    "PassportLine",
    "PdfFontMissing",
    "UnprintableCharacters",
    "missing_glyphs",
    "render_certificate",
]

MARGIN_X = 15 * mm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
LABEL_WIDTH = 50 * mm
ROW_HEIGHT = 9 * mm
LABEL_FILL = Color(0.93, 0.93, 0.93)
SEAL_RED = Color(0.78, 0.1, 0.1)
QR_SIZE = 62 * mm  # about 0.55 mm a module at version 22, which phone cameras read from paper
QR_QUIET_MODULES = 4


@dataclass(frozen=True)
class DoseLine:
    dose_number: int
    vaccine_ja: str
    vaccine_en: str
    vaccinated_on: date
    lot_number: str = ""
    clinic: str = ""
    product: str = ""
    maker: str = ""


@dataclass(frozen=True)
class PassportLine:
    latin_name: str  # FAMILY GIVEN, as in the passport
    nationality: str
    passport_number: str
    other_names: str = ""


@dataclass(frozen=True)
class CertificateDocument:
    kind: str  # completion | domestic | overseas
    certificate_id: str
    issued_on: date
    city_name: str
    mayor_title: str
    name: str
    name_kana: str
    birth_date: date
    address: str = ""
    doses: list[DoseLine] = field(default_factory=list)
    passport: PassportLine | None = None
    latin_name: str = ""
    shc: str = ""  # the shc:/ text of the QR code (the two 接種証明書)
    revoked: bool = False


def _texts(doc: CertificateDocument) -> list[str]:
    texts = [doc.city_name, doc.mayor_title, doc.name, doc.name_kana, doc.address, doc.latin_name]
    for dose in doc.doses:
        texts += [dose.vaccine_ja, dose.vaccine_en, dose.lot_number, dose.clinic, dose.product, dose.maker]
    if doc.passport:
        texts += [doc.passport.latin_name, doc.passport.nationality, doc.passport.passport_number]
        texts.append(doc.passport.other_names)
    return texts


def missing_glyphs(doc: CertificateDocument) -> set[str]:
    body, _ = fonts()
    return _missing_glyphs(body, _texts(doc))


def _date_both(day: date) -> str:
    return f"{format_wareki(day)} ({day.isoformat()})"


# Drawing ------------------------------------------------------------------------------------------------


def _title(sheet: Sheet, top: float, ja: str, en: str) -> None:
    sheet.text(PAGE_WIDTH / 2, top, ja, 20, align="center", font=sheet.title)
    if en:
        sheet.text(PAGE_WIDTH / 2, top + 9 * mm, en, 12, align="center")


def _rows(sheet: Sheet, top: float, rows: list[tuple[str, str]], *, width: float = CONTENT_WIDTH) -> float:
    for label, value in rows:
        sheet.box(MARGIN_X, top, LABEL_WIDTH, ROW_HEIGHT, fill=LABEL_FILL)
        sheet.fitted(MARGIN_X, top, LABEL_WIDTH, ROW_HEIGHT, label, 8.5)
        sheet.box(MARGIN_X + LABEL_WIDTH, top, width - LABEL_WIDTH, ROW_HEIGHT)
        sheet.fitted(MARGIN_X + LABEL_WIDTH, top, width - LABEL_WIDTH, ROW_HEIGHT, value, 10.5)
        top += ROW_HEIGHT
    return top


def _seal(sheet: Sheet, x: float, top: float, size: float) -> None:
    canvas = sheet.canvas
    canvas.setStrokeColor(SEAL_RED)
    canvas.setLineWidth(1.6)
    canvas.rect(x, PAGE_HEIGHT - top - size, size, size, stroke=1, fill=0)
    char = size * 0.36
    for column, text in ((1, "市長"), (0, "之印")):
        for row, ch in enumerate(text):
            cx = x + size * (0.27 + 0.46 * column)
            sheet.text(cx, top + size * 0.1 + row * char * 1.08, ch, char, align="center", color=SEAL_RED)
    canvas.setStrokeColor(black)


def _revoked_stamp(sheet: Sheet) -> None:
    """A line under the header anyone can read (and a text extractor find), and a large diagonal stamp."""
    sheet.text(
        PAGE_WIDTH / 2, 17 * mm, "失効 REVOKED: この証明書は無効です This certificate is not valid", 9,
        align="center", color=SEAL_RED,
    )  # fmt: skip
    canvas = sheet.canvas
    canvas.saveState()
    canvas.setFillColor(SEAL_RED)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(30)
    canvas.setFont(sheet.title, 54)
    canvas.drawCentredString(0, 0, "失効 REVOKED")
    canvas.restoreState()


def draw_qr(canvas: Canvas, qr: segno.QRCode, x: float, top: float, size: float) -> None:
    """The QR code, ``size`` wide from (x, top), quiet zone included, as vector squares (sharp at any
    resolution; an image would be smoothed by viewers when scaled). Written as one path of PDF operators
    in module units, one rectangle per run of dark modules: thousands of ``canvas.rect`` calls would take
    a hundred milliseconds a certificate."""
    matrix = qr.matrix
    count = len(matrix)
    module = size / (count + 2 * QR_QUIET_MODULES)
    canvas.setFillColor(white)
    canvas.rect(x, PAGE_HEIGHT - top - size, size, size, stroke=0, fill=1)
    canvas.setFillColor(black)
    origin_x = x + QR_QUIET_MODULES * module
    origin_y = PAGE_HEIGHT - top - QR_QUIET_MODULES * module
    # Module units, y pointing down from the code's top-left corner.
    ops = [f"q {module:.5f} 0 0 {-module:.5f} {origin_x:.5f} {origin_y:.5f} cm 0 g"]
    for row, line in enumerate(matrix):
        column = 0
        while column < count:
            if line[column]:
                start = column
                while column < count and line[column]:
                    column += 1
                ops.append(f"{start} {row} {column - start} 1 re")
            else:
                column += 1
    ops.append("f Q")
    canvas.addLiteral("\n".join(ops))


def _certification(sheet: Sheet, doc: CertificateDocument, top: float, statement_ja: str, statement_en: str):
    sheet.text(MARGIN_X + 4 * mm, top, statement_ja, 11)
    if statement_en:
        sheet.text(MARGIN_X + 4 * mm, top + 6 * mm, statement_en, 9)
    top += 14 * mm
    label = "交付日 Date of issue" if statement_en else "交付日"
    sheet.text(MARGIN_X + 4 * mm, top, f"{label}: {_date_both(doc.issued_on)}", 10)
    top += 10 * mm
    seal = 18 * mm
    right = PAGE_WIDTH - MARGIN_X - 4 * mm
    sheet.text(right - seal - 3 * mm, top + 2 * mm, doc.mayor_title, 14, align="right")
    if statement_en:
        sheet.text(right - seal - 3 * mm, top + 9 * mm, f"Mayor, {doc.city_name}", 8.5, align="right")
    _seal(sheet, right - seal, top - 2 * mm, seal)


def _header(sheet: Sheet, doc: CertificateDocument) -> None:
    sheet.text(MARGIN_X, 12 * mm, doc.city_name, 10.5)
    sheet.text(
        PAGE_WIDTH - MARGIN_X, 12 * mm, f"証明書ID Certificate ID  {doc.certificate_id}", 9, align="right"
    )


def _draw_completion(sheet: Sheet, doc: CertificateDocument) -> None:
    _header(sheet, doc)
    _title(sheet, 24 * mm, "予防接種済証", "")
    dose = doc.doses[0]
    vaccine = dose.vaccine_ja + (f"（{dose.product}）" if dose.product else "")
    rows = [
        ("住所", doc.address),
        ("氏名", f"{doc.name}（{doc.name_kana}）" if doc.name_kana else doc.name),
        ("生年月日", _date_both(doc.birth_date)),
        ("予防接種の種類", vaccine),
        ("接種回", f"第{dose.dose_number}回"),
        ("接種年月日", _date_both(dose.vaccinated_on)),
        ("ワクチンメーカー", dose.maker or "―"),
        ("ロット番号", dose.lot_number or "―"),
        ("実施医療機関", dose.clinic or "―"),
    ]
    top = _rows(sheet, 45 * mm, rows)
    sheet.box(MARGIN_X, 45 * mm, CONTENT_WIDTH, top - 45 * mm, line_width=1.2)
    _certification(sheet, doc, top + 14 * mm, "上記のとおり予防接種を行ったことを証明します。", "")


def _draw_vaccination(sheet: Sheet, doc: CertificateDocument) -> None:
    _header(sheet, doc)
    if doc.kind == "overseas":
        _title(sheet, 22 * mm, "予防接種証明書（海外用）", "Vaccination Certificate (for use abroad)")
    else:
        _title(sheet, 22 * mm, "予防接種証明書（日本国内用）", "Vaccination Certificate (for use in Japan)")
    top = 42 * mm
    rows = [("氏名 Name", doc.name)]
    if doc.name_kana:
        rows.append(("フリガナ Kana", doc.name_kana))
    if doc.latin_name:
        rows.append(("ローマ字氏名 Name (Latin)", doc.latin_name))
    rows.append(("生年月日 Date of birth", _date_both(doc.birth_date)))
    if doc.passport:
        rows += [
            ("国籍 Nationality", doc.passport.nationality),
            ("旅券番号 Passport No.", doc.passport.passport_number),
        ]
        if doc.passport.other_names:
            rows.append(("旧姓・別姓・別名 Other names", doc.passport.other_names))
    person_width = CONTENT_WIDTH - QR_SIZE - 4 * mm
    end = _rows(sheet, top, rows, width=person_width)
    sheet.box(MARGIN_X, top, person_width, end - top, line_width=1.2)
    if doc.shc:
        qr_x = PAGE_WIDTH - MARGIN_X - QR_SIZE
        draw_qr(sheet.canvas, qr_code(doc.shc), qr_x, top, QR_SIZE)
        sheet.text(qr_x + QR_SIZE / 2, top + QR_SIZE + 1 * mm, "SMART Health Card", 8, align="center")
    top = max(end, top + QR_SIZE + 6 * mm) + 6 * mm
    sheet.text(MARGIN_X, top, "接種記録 Vaccination record", 11, font=sheet.title)
    top += 7 * mm
    top = _dose_table(sheet, doc, top)
    if top + CERTIFICATION_HEIGHT > PAGE_HEIGHT - 12 * mm:
        _new_page(sheet, doc)
        top = 30 * mm
    _certification(
        sheet,
        doc,
        top + 8 * mm,
        "上記のとおり予防接種を受けたことを証明します。",
        "This is to certify that the person above received the vaccinations listed.",
    )


DOSE_COLUMNS = (  # (label, width in mm)
    ("回 Dose", 12),
    ("ワクチン Vaccine", 50),
    ("製品・メーカー Product / Maker", 53),
    ("ロット Lot", 22),
    ("接種日 Date", 43),
)


CERTIFICATION_HEIGHT = 48 * mm
DOSE_ROW_HEIGHT = 11 * mm


def _new_page(sheet: Sheet, doc: CertificateDocument) -> None:
    if doc.revoked:
        _revoked_stamp(sheet)
    sheet.canvas.showPage()
    _header(sheet, doc)


def _table_head(sheet: Sheet, top: float) -> float:
    x = MARGIN_X
    for label, width in DOSE_COLUMNS:
        sheet.box(x, top, width * mm, ROW_HEIGHT, fill=LABEL_FILL)
        sheet.fitted(x, top, width * mm, ROW_HEIGHT, label, 8)
        x += width * mm
    return top + ROW_HEIGHT


def _dose_table(sheet: Sheet, doc: CertificateDocument, top: float) -> float:
    """The doses, continued on further pages (with the head repeated) when they do not fit."""
    top = _table_head(sheet, top)
    height = DOSE_ROW_HEIGHT
    for dose in doc.doses:
        if top + height > PAGE_HEIGHT - 15 * mm:
            _new_page(sheet, doc)
            top = _table_head(sheet, 24 * mm)
        product = " / ".join(p for p in (dose.product, dose.maker) if p) or "―"
        values = (
            str(dose.dose_number),
            f"{dose.vaccine_ja}\n{dose.vaccine_en}",
            product,
            dose.lot_number or "―",
            f"{format_wareki(dose.vaccinated_on)}\n{dose.vaccinated_on.isoformat()}",
        )
        x = MARGIN_X
        for (_, width), value in zip(DOSE_COLUMNS, values, strict=True):
            sheet.box(x, top, width * mm, height)
            sheet.fitted(x, top, width * mm, height, value, 9)
            x += width * mm
        top += height
    return top


def render_certificate(doc: CertificateDocument) -> bytes:
    """Draw the certificate; raise UnprintableCharacters rather than print a name with a missing glyph."""
    body, title = fonts()
    if missing := _missing_glyphs(body, _texts(doc)):
        raise UnprintableCharacters(missing)
    buffer = io.BytesIO()
    # invariant: no creation time or random id in the file, so one certificate renders to one hash.
    canvas = Canvas(buffer, pagesize=A4, initialFontName=body.fontName, invariant=1, pageCompression=1)
    canvas.setTitle(f"certificate {doc.certificate_id}")  # nothing personal in the metadata
    canvas.setAuthor(doc.city_name)
    canvas.setCreator("sesshu")
    sheet = Sheet(canvas, body.fontName, title.fontName)
    if doc.kind == "completion":
        _draw_completion(sheet, doc)
    else:
        _draw_vaccination(sheet, doc)
    if doc.revoked:
        _revoked_stamp(sheet)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
