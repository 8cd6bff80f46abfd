"""The daily register feed (庁内連携ファイル): one CSV layout, in (``import_feed``) and out (``export_feed``).

A city whose resident register is another vendor's system sends sesshu the register's changes as a
daily file; a city whose register is sesshu sends the same layout to its other systems. One row is one
event: who changed, how, on which day, and the resident's full register items after the change (the
keys of ``moves.event_payload``). docs/register-feed.md describes the layout for the other vendors.

Importing is all or nothing: every row is read and checked first, and one error anywhere means nothing
is written and the report lists every error with its row and column. A file that passes is written in
one transaction, rows in file order; rows whose event id the same source already sent are skipped, so
importing a file twice (or overlapping files) adds nothing the second time.
"""

import csv
import hashlib
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time

import jaconv
from django.db import DataError, IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record

from .history import new_resident, state_of, write_revision
from .models import (
    RECORD_FIELDS,
    EventKind,
    Household,
    RegisterEvent,
    Resident,
    ResidentRevision,
    ResidentStatus,
)
from .moves import event_payload
from .outbox import process_after_commit

PURPOSE_IMPORT = "住民記録 連携ファイル取込 (register feed import)"
PURPOSE_EXPORT = "住民記録 連携ファイル出力 (register feed export)"

# The busiest day of a large city (April's moves) is a few MB. The whole file is checked in memory
# before anything is written, at about 12 times its size, and written in one transaction: 50 MB is
# some 190,000 events, some 600 MB of memory and several minutes. A bigger file is a wrong file, or a
# whole register, which is loaded in parts.
MAX_FEED_BYTES = 50 * 1024 * 1024
MAX_REPORTED_ERRORS = 1000
MAX_REMARKS = 4000  # 備考 has no column limit; this only keeps a runaway cell out of the register
ENCODINGS = ("utf-8", "cp932")
GETA = "〓"  # 下駄記号: the registers' mark for a character the receiving side cannot represent
LOOKUP_CHUNK = 900  # bulk lookups stay under SQLite's bound-parameter limit

EVENT_COLUMNS = ["event_id", "event_kind", "effective_on"]
IDENTITY_COLUMNS = ["resident_number", "household_number", "juminhyo_code"]
COLUMNS = EVENT_COLUMNS + IDENTITY_COLUMNS + RECORD_FIELDS

LABELS = {
    "event_id": "異動ID",
    "event_kind": "異動種別",
    "effective_on": "異動日",
    "resident_number": "宛名番号",
    "household_number": "世帯番号",
    "juminhyo_code": "住民票コード",
    "status": "住民状態",
} | {name: str(Resident._meta.get_field(name).verbose_name) for name in RECORD_FIELDS if name != "status"}

# What an event means for the resident's status: leaving events must leave, entering ones must enter.
LEAVING_STATUS = {
    EventKind.MOVED_OUT: ResidentStatus.MOVED_OUT,
    EventKind.DIED: ResidentStatus.DECEASED,
    EventKind.DELETED: ResidentStatus.DELETED,
}
ENTERING_KINDS = {EventKind.MOVED_IN, EventKind.BORN}

_ISO_DATE = re.compile(r"^([0-9]{4})-([0-9]{2})-([0-9]{2})$")
_DIGITS = re.compile(r"^[0-9]+$")
_KATAKANA = re.compile(r"^[\u30a0-\u30ff\u3000 ]+$")  # the rule of input.Reader.kana
_EVENT_ID = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII without spaces: ids are compared exactly
# Text files carry tabs and line breaks; any other control character means binary data (or a file
# damaged in transfer), never a register item.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# 外字 in a vendor's user-defined area mean something only on that vendor's system.
_PRIVATE_USE = re.compile("[\ue000-\uf8ff\U000f0000-\U0010ffff]")
# Python's cp932 codec already writes 〜 ‖ − ¢ £ ¬ as Windows does; these few it cannot encode have
# a CP932 character that every Japanese reader takes for the same one, so they need not become 〓.
_TO_CP932_FORMS = str.maketrans(
    {
        "\u2014": "\u2015",  # — EM DASH -> ― (the dash of JIS X 0208)
        "\u00a5": "\uffe5",  # ¥ -> ￥
        "\u203e": "\uffe3",  # ‾ -> ￣
    }
)


# The report ---------------------------------------------------------------------------------------------


@dataclass
class FeedError:
    """One thing wrong with the file: ``row`` is the line number in the file (the header is line 1);
    ``row`` and ``column`` are None for a problem with the file as a whole."""

    row: int | None
    column: str | None
    code: str
    message_ja: str
    message_en: str

    def as_dict(self) -> dict:
        return {
            "row": self.row,
            "column": self.column,
            "code": self.code,
            "message_ja": self.message_ja,
            "message_en": self.message_en,
        }


@dataclass
class FeedReport:
    filename: str
    sha256: str
    encoding: str = ""
    rows: int = 0
    imported: int = 0
    skipped: int = 0
    replaced_characters: int = 0  # private-use characters (外字) read as 〓
    errors: list[FeedError] = field(default_factory=list)  # the first MAX_REPORTED_ERRORS
    error_count: int = 0

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, error: FeedError) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append(error)

    def as_dict(self) -> dict:
        return {
            "filename": self.filename,
            "sha256": self.sha256,
            "encoding": self.encoding,
            "rows": self.rows,
            "imported": self.imported,
            "skipped": self.skipped,
            "replaced_characters": self.replaced_characters,
            "error_count": self.error_count,
            "errors": [e.as_dict() for e in self.errors],
        }


class _Refused(Exception):
    """The file cannot be imported; the reasons are already in the report."""


def _file_error(report: FeedReport, code: str, ja: str, en: str) -> _Refused:
    report.add(FeedError(None, None, code, ja, en))
    return _Refused()


# A checked row ------------------------------------------------------------------------------------------


@dataclass(slots=True)
class FeedRow:
    line: int
    event_id: str
    kind: str
    effective_on: date
    resident_number: str
    household_number: str
    juminhyo_code: str  # "" when the row leaves it out
    state: dict  # every item of RECORD_FIELDS, typed as the model stores it


class _RowReader:
    """Reads one row's cells into typed values, adding an error for each cell it cannot accept.

    Messages name the column but never repeat a person's data: the report is shown on screens and
    consoles, and only its counts go into the audit log.
    """

    def __init__(self, line: int, cells: dict[str, str], report: FeedReport):
        self.line = line
        self.cells = cells
        self.report = report
        self.failed = False

    def error(self, column: str | None, code: str, ja: str, en: str) -> None:
        self.failed = True
        self.report.add(FeedError(self.line, column, code, ja, en))

    def _head(self, column: str) -> str:
        return f"{LABELS.get(column, column)}（{column}）"

    def _missing(self, column: str) -> None:
        self.error(column, "required", f"{self._head(column)}が空です。", f"{column} is empty.")

    def _too_long(self, column: str, limit: int, length: int) -> None:
        self.error(
            column,
            "too_long",
            f"{self._head(column)}は{limit}文字以内です（{length}文字あります）。",
            f"{column} must be at most {limit} characters (it has {length}).",
        )

    def text(self, column: str, *, required: bool, limit: int, multiline: bool = False) -> str:
        value = self.cells[column].strip()
        if not value:
            if required:
                self._missing(column)
        elif len(value) > limit:
            self._too_long(column, limit, len(value))
        elif not multiline and ("\n" in value or "\r" in value):
            self.error(
                column,
                "line_break",
                f"{self._head(column)}に改行は入れられません。",
                f"{column} cannot contain a line break.",
            )
        return value

    def kana(self, column: str, *, required: bool, limit: int) -> str:
        raw = self.cells[column].strip()
        # Readings arrive in hiragana or half-width katakana too; the register keeps full-width katakana.
        value = jaconv.hira2kata(jaconv.h2z(raw, kana=True, ascii=False, digit=False))
        if not value:
            if required:
                self._missing(column)
        elif not _KATAKANA.match(value):
            self.error(
                column,
                "not_kana",
                f"{self._head(column)}はカタカナ（またはひらがな）で書いてください。",
                f"{column} must be written in katakana (or hiragana).",
            )
        elif len(value) > limit:
            self._too_long(column, limit, len(value))
        return value

    def date(self, column: str, *, required: bool) -> date | None:
        raw = self.cells[column].strip()
        if not raw:
            if required:
                self._missing(column)
            return None
        match = _ISO_DATE.match(raw)
        if not match:
            self.error(
                column,
                "invalid_date",
                f"{self._head(column)}は YYYY-MM-DD（例: 2025-04-01）の形で書いてください。",
                f"{column} must be a date written YYYY-MM-DD (e.g. 2025-04-01).",
            )
            return None
        try:
            return date(*(int(g) for g in match.groups()))
        except ValueError:
            self.error(
                column,
                "impossible_date",
                f"{self._head(column)}の日付は存在しません（月は1〜12、日はその月の日数まで）。",
                f"{column} is not a real date (months run 1-12, days to the end of the month).",
            )
            return None

    def flag(self, column: str) -> bool:
        value = self.cells[column].strip()
        if value not in ("0", "1"):
            self.error(
                column,
                "invalid_flag",
                f"{self._head(column)}は 0 か 1 で書いてください。",
                f"{column} must be 0 or 1.",
            )
        return value == "1"

    def choice(self, column: str, choices: Iterable[str], *, required: bool = True) -> str:
        value = self.cells[column].strip()
        allowed = list(choices)
        if not value:
            if required:
                self._missing(column)
        elif value not in allowed:
            # A code, not personal data: echoing (the start of) it tells the sender what to fix.
            self.error(
                column,
                "invalid_choice",
                f"{self._head(column)}の値「{value[:20]}」は使えません（使える値: {', '.join(allowed)}）。",
                f"“{value[:20]}” is not a valid {column} (allowed: {', '.join(allowed)}).",
            )
        return value

    def digits(self, column: str, *, required: bool, limit: int, exact: bool = False) -> str:
        value = self.cells[column].strip()
        if not value:
            if required:
                self._missing(column)
        elif not _DIGITS.match(value) or len(value) > limit or (exact and len(value) != limit):
            size = f"{limit}桁" if exact else f"{limit}桁以内"
            size_en = f"exactly {limit}" if exact else f"at most {limit}"
            self.error(
                column,
                "invalid_number",
                f"{self._head(column)}は半角数字{size}で書いてください。",
                f"{column} must be {size_en} digits (0-9).",
            )
        return value


def _record_reader(name: str):
    """How one register item is read, chosen from the model field (so the layout follows the model)."""
    model_field = Resident._meta.get_field(name)
    required = not model_field.blank
    if isinstance(model_field, models.BooleanField):
        return lambda reader: reader.flag(name)
    if isinstance(model_field, models.DateField):
        return lambda reader: reader.date(name, required=not model_field.null)
    if model_field.choices:
        values = [value for value, _ in model_field.choices]
        return lambda reader: reader.choice(name, values, required=required)
    if name.endswith("_kana"):
        return lambda reader: reader.kana(name, required=required, limit=model_field.max_length)
    if isinstance(model_field, models.TextField):
        return lambda reader: reader.text(name, required=required, limit=MAX_REMARKS, multiline=True)
    return lambda reader: reader.text(name, required=required, limit=model_field.max_length)


_RECORD_READERS = {name: _record_reader(name) for name in RECORD_FIELDS}
_EVENT_KINDS = [kind.value for kind in EventKind]


def _read_row(line: int, cells: dict[str, str], report: FeedReport, today: date) -> FeedRow | None:
    reader = _RowReader(line, cells, report)
    event_id = reader.text("event_id", required=True, limit=60)
    if event_id and not reader.failed and not _EVENT_ID.match(event_id):
        reader.error(
            "event_id",
            "invalid_event_id",
            "異動ID（event_id）は空白を含まない半角英数記号で書いてください。",
            "event_id must be printable ASCII without spaces.",
        )
    kind = reader.choice("event_kind", _EVENT_KINDS)
    effective_on = reader.date("effective_on", required=True)
    resident_number = reader.digits("resident_number", required=True, limit=12)
    household_number = reader.digits("household_number", required=True, limit=12)
    # Stored as received (住基ネット issues them): only the form is checked, not a check digit.
    juminhyo_code = reader.digits("juminhyo_code", required=False, limit=11, exact=True)
    state = {name: read(reader) for name, read in _RECORD_READERS.items()}
    _check_row_rules(reader, kind, effective_on, state, today)
    if reader.failed:
        return None
    return FeedRow(
        line, event_id, kind, effective_on, resident_number, household_number, juminhyo_code, state
    )


def _check_row_rules(
    reader: _RowReader, kind: str, effective_on: date | None, state: dict, today: date
) -> None:
    """The rules between cells of one row (each cell on its own was read already)."""
    birth, left_on, status = state["birth_date"], state["left_on"], state["status"]
    if effective_on and effective_on > today:
        reader.error(
            "effective_on",
            "future_date",
            "異動日（effective_on）が未来の日付です。",
            "effective_on is in the future.",
        )
    if birth and effective_on and birth > effective_on:
        reader.error(
            "birth_date",
            "born_after_effective",
            "生年月日（birth_date）が異動日より後になっています。",
            "birth_date is after effective_on.",
        )
    if kind == EventKind.BORN and birth and effective_on and birth != effective_on:
        reader.error(
            "effective_on",
            "birth_date_mismatch",
            "出生（born）の異動日は生年月日と同じ日です。",
            "The effective_on of a birth is the date of birth.",
        )
    if birth and state["became_resident_on"] and state["became_resident_on"] < birth:
        reader.error(
            "became_resident_on",
            "before_birth",
            "住民となった日（became_resident_on）が生年月日より前です。",
            "became_resident_on is before birth_date.",
        )
    if birth and left_on and left_on < birth:
        reader.error(
            "left_on",
            "before_birth",
            "消除日（left_on）が生年月日より前です。",
            "left_on is before birth_date.",
        )
    if kind in LEAVING_STATUS and status and status != LEAVING_STATUS[kind]:
        reader.error(
            "status",
            "status_mismatch",
            f"異動種別 {kind} の住民状態（status）は {LEAVING_STATUS[kind]} です。",
            f"After a {kind} event the status is {LEAVING_STATUS[kind]}.",
        )
    if kind in ENTERING_KINDS and status and status != ResidentStatus.RESIDENT:
        reader.error(
            "status",
            "status_mismatch",
            f"異動種別 {kind} の住民状態（status）は resident です。",
            f"After a {kind} event the status is resident.",
        )
    leaving = kind in LEAVING_STATUS or (status and status != ResidentStatus.RESIDENT)
    if leaving and not left_on and not reader.cells["left_on"].strip():  # a bad date was reported already
        reader.error(
            "left_on",
            "left_on_required",
            "転出・死亡・消除の後は消除日（left_on）が必要です。",
            "left_on is required for a resident who moved out, died or was deleted.",
        )


# Reading the file ---------------------------------------------------------------------------------------


def _decode(raw: bytes, report: FeedReport) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _file_error(
            report,
            "unsupported_encoding",
            "UTF-16 のファイルは読めません。UTF-8 か Shift_JIS（CP932）で保存してください。",
            "UTF-16 files cannot be read: save the file as UTF-8 or Shift_JIS (CP932).",
        )
    if b"\x00" in raw:
        raise _file_error(
            report,
            "binary_file",
            "ファイルに NUL 文字があります。CSV のテキストファイルではありません。",
            "The file contains NUL bytes: it is not a CSV text file.",
        )
    if raw.startswith(b"\xef\xbb\xbf"):
        candidates = [("utf-8-sig", raw[3:])]  # a BOM says UTF-8: no second guess
    else:
        candidates = [("utf-8", raw), ("cp932", raw)]
    for encoding, body in candidates:
        try:
            text = body.decode("utf-8" if encoding == "utf-8-sig" else encoding)
        except UnicodeDecodeError:
            continue
        report.encoding = encoding
        break
    else:
        raise _file_error(
            report,
            "unknown_encoding",
            "文字コードを判別できません。UTF-8 か Shift_JIS（CP932）のファイルを送ってください。",
            "The file is neither UTF-8 nor Shift_JIS (CP932): send it in one of those.",
        )
    if _CONTROL.search(text):
        raise _file_error(
            report,
            "binary_file",
            "ファイルに制御文字があります。CSV のテキストファイルではないか、壊れています。",
            "The file contains control characters: it is not a CSV text file, or it is damaged.",
        )
    text, report.replaced_characters = _PRIVATE_USE.subn(GETA, text)
    return text


def _records(text: str, report: FeedReport) -> Iterator[tuple[int, list[str]]]:
    """(line number where the record starts, cells) for each non-blank record of the CSV text."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    ended = 0
    try:
        for cells in reader:
            start, ended = ended + 1, reader.line_num
            if cells and any(cell.strip() for cell in cells):
                yield start, cells
    except csv.Error as exc:
        raise _file_error(
            report,
            "malformed_csv",
            f'{reader.line_num}行目付近で CSV として読めません（引用符 " の対応などを確認してください）。',
            f"The file is not valid CSV near line {reader.line_num} ({exc}); check the quotes.",
        ) from None


def _header(cells: list[str], report: FeedReport) -> list[str]:
    names = [cell.strip() for cell in cells]
    unknown = [n for n in dict.fromkeys(names) if n not in COLUMNS]
    missing = [n for n in COLUMNS if n not in names]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if unknown:
        shown = ", ".join(n[:40] or '""' for n in unknown[:10])
        report.add(
            FeedError(
                None,
                None,
                "unknown_columns",
                f"見出し行に知らない列があります: {shown}",
                f"The header names unknown columns: {shown}",
            )
        )
    if missing:
        shown = ", ".join(missing)
        report.add(
            FeedError(
                None,
                None,
                "missing_columns",
                f"見出し行に必要な列がありません: {shown}",
                f"The header lacks required columns: {shown}",
            )
        )
    if repeated:
        shown = ", ".join(n[:40] for n in repeated[:10])
        report.add(
            FeedError(
                None,
                None,
                "duplicate_columns",
                f"見出し行に同じ列が二つ以上あります: {shown}",
                f"The header repeats columns: {shown}",
            )
        )
    if unknown or missing or repeated:
        raise _Refused()
    return names


def read_feed(raw: bytes, report: FeedReport, today: date | None = None) -> list[FeedRow]:
    """Decode and check every row of a feed file on its own (nothing is looked up in the register).

    Raises _Refused for a file that cannot be read at all; otherwise returns the rows that passed and
    leaves each failing row's errors in the report.
    """
    today = today or timezone.localdate()
    if len(raw) > MAX_FEED_BYTES:
        raise _file_error(
            report,
            "file_too_large",
            f"ファイルが大きすぎます（上限 {MAX_FEED_BYTES // 1024 // 1024} MB）。分割して送ってください。",
            f"The file is too large (the limit is {MAX_FEED_BYTES // 1024 // 1024} MB); split it.",
        )
    if not raw.strip().removeprefix(b"\xef\xbb\xbf").strip():
        # Even a day without changes has its header line: no header means a failed transfer.
        raise _file_error(
            report,
            "empty_file",
            "ファイルが空です（見出し行もありません）。",
            "The file is empty (it has no header line).",
        )
    records = _records(_decode(raw, report), report)
    first = next(records, None)
    if first is None:
        raise _file_error(report, "empty_file", "ファイルが空です。", "The file is empty.")
    names = _header(first[1], report)
    rows, first_line_of = [], {}
    for line, cells in records:
        report.rows += 1
        if len(cells) != len(names):
            report.add(
                FeedError(
                    line,
                    None,
                    "column_count",
                    f"列の数が見出しと違います（見出し {len(names)} 列、この行 {len(cells)} 列）。",
                    f"The row has {len(cells)} cells; the header has {len(names)}.",
                )
            )
            continue
        row = _read_row(line, dict(zip(names, cells, strict=True)), report, today)
        if row is None:
            continue
        if row.event_id in first_line_of:
            report.add(
                FeedError(
                    line,
                    "event_id",
                    "duplicate_event_id",
                    f"異動ID（event_id）が {first_line_of[row.event_id]} 行目と同じです。",
                    f"event_id repeats the one on line {first_line_of[row.event_id]}.",
                )
            )
            continue
        first_line_of[row.event_id] = line
        rows.append(row)
    return rows


# Checking against the register and writing --------------------------------------------------------------


def _chunks(values: Iterable, size: int = LOOKUP_CHUNK) -> Iterator[list]:
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class _Register:
    """What the rows touch, looked up in bulk: residents, households, their latest revision dates."""

    residents: dict[str, Resident]
    households: dict[str, Household]
    latest: dict[str, date]
    code_owners: dict[str, str]  # 住民票コード -> 宛名番号

    @classmethod
    def load(cls, rows: list[FeedRow]) -> "_Register":
        numbers = {r.resident_number for r in rows}
        residents, latest, households, owners = {}, {}, {}, {}
        for chunk in _chunks(numbers):
            # Locked, so that a concurrent import or move cannot slip a revision in between the order
            # check and the write (PostgreSQL; SQLite writes one transaction at a time anyway).
            for resident in Resident.objects.select_for_update().filter(resident_number__in=chunk):
                residents[resident.resident_number] = resident
            latest |= dict(
                ResidentRevision.objects.filter(resident__resident_number__in=chunk)
                .values("resident__resident_number")
                .annotate(last=Max("valid_from"))
                .values_list("resident__resident_number", "last")
            )
        for chunk in _chunks({r.household_number for r in rows}):
            households |= {
                h.household_number: h for h in Household.objects.filter(household_number__in=chunk)
            }
        for chunk in _chunks({r.juminhyo_code for r in rows if r.juminhyo_code}):
            owners |= dict(
                Resident.objects.filter(juminhyo_code__in=chunk).values_list(
                    "juminhyo_code", "resident_number"
                )
            )
        return cls(residents, households, latest, owners)


def _already_imported(rows: list[FeedRow], source: str) -> set[str]:
    seen = set()
    for chunk in _chunks(r.event_id for r in rows):
        seen |= set(
            RegisterEvent.objects.filter(source=source, external_id__in=chunk).values_list(
                "external_id", flat=True
            )
        )
    return seen


def _check_against_register(rows: list[FeedRow], register: _Register, report: FeedReport) -> None:
    """Rules that need the register: each resident's rows in date order after its last revision, and
    one 住民票コード per person."""
    latest = dict(register.latest)
    code_owners = dict(register.code_owners)
    for row in rows:
        last = latest.get(row.resident_number)
        if last and row.effective_on < last:
            report.add(
                FeedError(
                    row.line,
                    "effective_on",
                    "out_of_order",
                    f"異動日がこの住民の前の異動日（{last.isoformat()}）より前です。異動日の順に送ってください。",
                    f"effective_on is before this resident's previous change ({last.isoformat()}); "
                    "the feed must arrive in date order.",
                )
            )
        else:
            latest[row.resident_number] = row.effective_on
        if row.juminhyo_code:
            owner = code_owners.setdefault(row.juminhyo_code, row.resident_number)
            if owner != row.resident_number:
                report.add(
                    FeedError(
                        row.line,
                        "juminhyo_code",
                        "juminhyo_code_taken",
                        "この住民票コードは別の宛名番号の住民のものです。",
                        "This juminhyo_code belongs to a resident with another resident_number.",
                    )
                )


def _write(rows: list[FeedRow], register: _Register, source: str) -> set[int]:
    """Write each row as the register's next state and its event, in file order; the touched ids."""
    recorded_at = timezone.now()
    touched, events = set(), []
    new_households = {}
    for row in rows:  # a new household exists from the first row that names it
        if row.household_number not in register.households:
            new_households.setdefault(
                row.household_number,
                Household(household_number=row.household_number, created_on=row.effective_on),
            )
    for household in Household.objects.bulk_create(new_households.values(), batch_size=500):
        register.households[household.household_number] = household
    for row in rows:
        household = register.households[row.household_number]
        state = row.state | {"household_id": household.pk}
        resident = register.residents.get(row.resident_number)
        if resident is None:
            resident = new_resident(row.resident_number, state, row.juminhyo_code or None)
            ResidentRevision.objects.create(
                resident=resident,
                seq=1,
                valid_from=row.effective_on,
                recorded_at=recorded_at,
                **state_of(resident),
            )
            register.residents[row.resident_number] = resident
        else:
            # A blank code means "not sent", not "removed": a 住民票コード is never taken away.
            if row.juminhyo_code:
                resident.juminhyo_code = row.juminhyo_code
            write_revision(resident, state, row.effective_on, recorded_at=recorded_at)
        resident.household = household  # event_payload reads the number without another query
        touched.add(resident.pk)
        events.append(
            RegisterEvent(
                kind=row.kind,
                resident_number=row.resident_number,
                effective_on=row.effective_on,
                payload=event_payload(resident),
                source=source,
                external_id=row.event_id,
            )
        )
    RegisterEvent.objects.bulk_create(events, batch_size=500)
    return touched


def _check_source(source: str, report: FeedReport) -> None:
    limit = RegisterEvent._meta.get_field("source").max_length
    if not source or len(source) > limit or not _EVENT_ID.match(source) or source == "sesshu":
        raise _file_error(
            report,
            "invalid_source",
            f"送信元（source）は {limit} 文字以内の半角英数記号で、sesshu 以外の名前にしてください。",
            f"The source must be up to {limit} printable ASCII characters, and not “sesshu”.",
        )


def import_feed(raw_bytes: bytes, *, source: str, filename: str) -> FeedReport:
    """Import a feed file: every row or none. Never raises for anything in the file: read the report."""
    report = FeedReport(filename=filename, sha256=hashlib.sha256(raw_bytes).hexdigest())
    try:
        _check_source(source, report)
        rows = read_feed(raw_bytes, report)
        if not report.ok:
            raise _Refused()
        with transaction.atomic():
            seen = _already_imported(rows, source)
            new_rows = [row for row in rows if row.event_id not in seen]
            register = _Register.load(new_rows)
            _check_against_register(new_rows, register, report)
            if not report.ok:
                raise _Refused()
            touched = _write(new_rows, register, source)
            report.imported, report.skipped = len(new_rows), len(rows) - len(new_rows)
            record(
                Action.CREATE,
                purpose=PURPOSE_IMPORT,
                object_type="resident",
                subjects=touched,
                result_count=report.imported,
                detail=_audit_detail(report),
            )
            process_after_commit()
    except _Refused:
        pass
    except (IntegrityError, DataError):
        # Checked rows should never reach this; a concurrent import of the same events can.
        report.imported = report.skipped = 0
        report.add(
            FeedError(
                None,
                None,
                "database_refused",
                "データベースが書き込みを拒否したため、何も取り込んでいません。"
                "同じファイルを同時に取り込んでいないか確認し、もう一度実行してください。",
                "The database refused the write, so nothing was imported. Check that the same file is "
                "not being imported at the same time, and run the import again.",
            )
        )
    if not report.ok:
        record(
            Action.CREATE,
            purpose=PURPOSE_IMPORT,
            object_type="resident",
            outcome=Outcome.FAILED,
            result_count=0,
            detail=_audit_detail(report) | {"errors": report.error_count},
        )
    return report


def _audit_detail(report: FeedReport) -> dict:
    # Counts and the file's identity only: no row content goes into the audit log.
    return {
        "file": report.filename[:200],
        "sha256": report.sha256,
        "rows": report.rows,
        "imported": report.imported,
        "skipped": report.skipped,
    }


# Export -------------------------------------------------------------------------------------------------


class ExportedFeed(bytes):
    """The file's bytes, with what went into it: ``events`` rows, ``replaced_characters`` written as 〓."""

    events: int
    replaced_characters: int
    encoding: str

    def __new__(cls, data: bytes, *, events: int, replaced_characters: int, encoding: str):
        feed = super().__new__(cls, data)
        feed.events = events
        feed.replaced_characters = replaced_characters
        feed.encoding = encoding
        return feed


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def event_row(event: RegisterEvent) -> list[str]:
    """One event as a feed row; items an older payload lacks are left blank."""
    payload = event.payload or {}
    head = [str(event.pk), event.kind, event.effective_on.isoformat()]
    return head + [_cell(payload.get(name)) for name in IDENTITY_COLUMNS + RECORD_FIELDS]


class _LineEncoder:
    """Encodes CSV lines, writing 〓 for each character the encoding (or any receiver) cannot hold."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self.replaced = 0

    def __call__(self, line: str) -> bytes:
        line, count = _PRIVATE_USE.subn(GETA, line)
        self.replaced += count
        if self.encoding == "utf-8":
            return line.encode("utf-8")
        line = line.translate(_TO_CP932_FORMS)
        try:
            return line.encode("cp932")
        except UnicodeEncodeError:
            pass
        kept = []
        for ch in line:
            try:
                kept.append(ch.encode("cp932"))
            except UnicodeEncodeError:
                kept.append(GETA.encode("cp932"))
                self.replaced += 1
        return b"".join(kept)


def export_feed(
    since_event_id: int | None = None, since_date: date | None = None, encoding: str = "utf-8"
) -> ExportedFeed:
    """The events after ``since_event_id`` and/or recorded on or after ``since_date``, in id order.

    ``since_date`` is the day an event was recorded in sesshu, not its 異動日: a late notification
    recorded today belongs in today's file even when the move was last week.
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}")
    events = RegisterEvent.objects.order_by("id")
    if since_event_id is not None:
        events = events.filter(id__gt=since_event_id)
    if since_date is not None:
        start = datetime.combine(since_date, time.min, tzinfo=timezone.get_current_timezone())
        events = events.filter(created_at__gte=start)
    encode = _LineEncoder(encoding)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    parts, count, numbers = [], 0, set()

    def line(cells: list[str]) -> bytes:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return encode(buffer.getvalue())

    parts.append(line(COLUMNS))
    for event in events.iterator(chunk_size=2000):
        parts.append(line(event_row(event)))
        numbers.add(event.resident_number)
        count += 1
    subjects = []
    for chunk in _chunks(numbers):
        subjects += Resident.objects.filter(resident_number__in=chunk).values_list("id", flat=True)
    record(
        Action.EXPORT,
        purpose=PURPOSE_EXPORT,
        object_type="resident",
        subjects=subjects,
        result_count=count,
        criteria={"since_event_id": since_event_id, "since_date": since_date},
        detail={"events": count, "encoding": encoding, "replaced_characters": encode.replaced},
    )
    return ExportedFeed(b"".join(parts), events=count, replaced_characters=encode.replaced, encoding=encoding)
