"""The print-vendor file: one line per notice to be printed and mailed, CP932 or UTF-8 (docs/notices.md).

CP932 is what most print vendors' systems read; a character CP932 cannot hold (a name in JIS X 0213
only, say) is written as 〓 (下駄記号) and counted, so the clerk can tell the vendor which to set by
hand. Held notices (a protected person without a mailing address) are not in the file: a vendor must
never mail them. Notices of runs that are not done are not in it either.
"""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone

from sesshu.core.wareki import format_wareki

from ..models import BatchPurpose, MailTo
from .engine import is_a_class, series_label
from .tickets import format_ticket_number

ENCODINGS = ("cp932", "utf-8")
GETA = "〓"
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
# Forms that have a CP932 character every reader takes for the same one.
_TO_CP932 = str.maketrans({"\u2014": "\u2015", "\u00a5": "\uffe5", "\u203e": "\uffe3"})
GUARDIAN_UNDER = 16  # notices for children are addressed to their guardian (保護者)

# (column header, what it holds): the documented layout, in order.
COLUMNS = (
    ("接種券番号", "16 digits: municipality code, serial, check digit (no spaces)"),
    ("接種券番号表示", "the same, grouped as printed: 992011 000001234 5"),
    ("通知種別", "通知 (notice) or 勧奨 (reminder)"),
    ("再発行", "1 for a reissued notice, else empty"),
    ("送付先区分", "住所 (home) or 送付先 (a protected person's mailing address)"),
    ("郵便番号", "NNN-NNNN"),
    ("送付先住所", "the address the envelope goes to"),
    ("宛名", "the name on the envelope"),
    ("宛名敬称", "様, or 保護者様 for a child under 16"),
    ("対象者氏名", "the person to be vaccinated"),
    ("対象者氏名カナ", "full-width katakana"),
    ("生年月日", "YYYY-MM-DD"),
    ("生年月日和暦", "令和2年4月1日"),
    ("性別", "男 or 女"),
    ("年齢", "age on the last day of the period (年度末年齢 for a fiscal year)"),
    ("シリーズ", "the engine's series code (MR-2, Flu, JE-1 ...)"),
    ("ワクチン名", "the series' name in Japanese"),
    ("接種回", "the dose the notice is for"),
    ("接種可能日", "YYYY-MM-DD, the first day the law allows this dose (may be in the past)"),
    ("標準的な接種期間開始", "YYYY-MM-DD or empty"),
    ("標準的な接種期間終了", "YYYY-MM-DD or empty"),
    ("接種期限", "YYYY-MM-DD, last day of the routine (free) vaccination, or empty"),
    ("接種期限和暦", "the same in 和暦"),
    ("発行日", "YYYY-MM-DD"),
    ("抽出番号", "batch id-run number"),
    ("QRデータ", "what the QR code on the notice holds (the 16-digit ticket number)"),
)
HEADER = [name for name, _ in COLUMNS]


@dataclass(frozen=True)
class PrintFile:
    content: bytes
    rows: int
    replaced_characters: int
    encoding: str
    person_ids: list[int]


class TextEncoder:
    """Text to bytes for a Japanese PC: characters CP932 lacks are mapped to their CP932 look-alikes
    where there is one, else printed as 〓 (and counted in ``replaced``); private-use 外字 as 〓."""

    def __init__(self, encoding: str):
        if encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}")
        self.encoding = encoding
        self.replaced = 0

    def __call__(self, text: str) -> bytes:
        text, count = _PRIVATE_USE.subn(GETA, text)
        self.replaced += count
        if self.encoding == "utf-8":
            return text.encode("utf-8")
        text = text.translate(_TO_CP932)
        try:
            return text.encode("cp932")
        except UnicodeEncodeError:
            pass
        out = []
        for ch in text:
            try:
                out.append(ch.encode("cp932"))
            except UnicodeEncodeError:
                out.append(GETA.encode("cp932"))
                self.replaced += 1
        return b"".join(out)


def _iso(day) -> str:
    return day.isoformat() if day else ""


def honorific(series: str, age: int) -> str:
    if is_a_class(series) and age < GUARDIAN_UNDER:
        return "保護者様"
    return "様"


# What a line is made of, read as plain values (no model instances: a file can hold 100,000 lines).
ROW_FIELDS = (
    "ticket_number", "kind", "reissue_of_id", "mail_to", "postal_code", "address", "addressee_name",
    "addressee_kana", "age", "series", "dose_number", "earliest", "recommended_from", "recommended_until",
    "deadline", "issued_at", "batch_id", "run__number", "person_id", "person__birth_date", "person__sex",
)  # fmt: skip


def notice_row(n: dict) -> list[str]:
    birth_date = n["person__birth_date"]
    return [
        n["ticket_number"],
        format_ticket_number(n["ticket_number"]),
        "勧奨" if n["kind"] == BatchPurpose.REMINDER else "通知",
        "1" if n["reissue_of_id"] else "",
        "送付先" if n["mail_to"] == MailTo.ALTERNATIVE else "住所",
        n["postal_code"],
        n["address"],
        n["addressee_name"],
        honorific(n["series"], n["age"]),
        n["addressee_name"],
        n["addressee_kana"],
        birth_date.isoformat(),
        format_wareki(birth_date),
        "男" if n["person__sex"] == "M" else "女",
        str(n["age"]),
        n["series"],
        series_label(n["series"]),
        str(n["dose_number"]),
        _iso(n["earliest"]),
        _iso(n["recommended_from"]),
        _iso(n["recommended_until"]),
        _iso(n["deadline"]),
        format_wareki(n["deadline"]),
        timezone.localtime(n["issued_at"]).date().isoformat(),
        f"{n['batch_id']}-{n['run__number']}",
        n["ticket_number"],
    ]


def printable(notices):
    """The notices a vendor may print and mail: issued (not voided), not held, of finished runs."""
    return (
        notices.filter(run__status="done", status="issued")
        .exclude(mail_to=MailTo.HELD)
        .order_by("postal_code", "id")
        .values(*ROW_FIELDS)
    )


def build(notices: Iterable[dict], encoding: str) -> PrintFile:
    encode = TextEncoder(encoding)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    parts: list[bytes] = []
    person_ids: list[int] = []

    def line(cells: list[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return encode(buffer.getvalue())

    if encoding == "utf-8":
        parts.append("\ufeff".encode())  # the BOM: Excel then reads UTF-8 as UTF-8
    parts.append(line(HEADER))
    for notice in notices:
        parts.append(line(notice_row(notice)))
        person_ids.append(notice["person_id"])
    return PrintFile(b"".join(parts), len(person_ids), encode.replaced, encoding, person_ids)
