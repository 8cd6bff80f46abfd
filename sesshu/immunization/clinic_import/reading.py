"""From the uploaded bytes to rows of text: size, encoding (UTF-8 with or without BOM, or CP932),
the header row. Problems of the whole file are raised here; problems of a row are the row's."""

import csv
import io

from sesshu.core.problems import Problem, ProblemList
from sesshu.core.text import nfkc

from .layout import BY_HEADER, KEYS, REQUIRED

MAX_BYTES = (
    50 * 1024 * 1024
)  # a month of a city's doses is a few MB; 50 MB leaves room and refuses a 1 GB file
MAX_ROWS = 300_000


def too_large(size: int) -> Problem:
    mb, limit = size // (1024 * 1024), MAX_BYTES // (1024 * 1024)
    return Problem(
        "file_too_large",
        f"ファイルが大きすぎます（{mb} MB）。上限は{limit} MBです。月ごと・医療機関ごとに分けてください。",
        f"The file is too large ({mb} MB); the limit is {limit} MB. Split it by month or by clinic.",
        "file",
    )


def decode(data: bytes) -> tuple[str, str]:
    """The text and the encoding it was in. A file in neither UTF-8 nor CP932 is refused."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ("utf-8-sig",)
    else:
        candidates = ("utf-8", "cp932")
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text, "utf-8" if encoding.startswith("utf-8") else encoding
    raise Problem(
        "wrong_encoding",
        "文字コードを読み取れません。UTF-8 または Shift_JIS（CP932）のCSVで保存してください。",
        "The file's encoding cannot be read: save the CSV as UTF-8 or Shift_JIS (CP932).",
        "file",
    )


def read_rows(data: bytes) -> tuple[str, list[tuple[int, list[str]]]]:
    """(encoding, [(line number, [cell text per layout column, in the layout's order])]): "" for a
    column the file lacks or a short row leaves out. Raises ProblemList for the whole file."""
    if len(data) > MAX_BYTES:
        raise ProblemList([too_large(len(data))])
    try:
        text, encoding = decode(data)
    except Problem as problem:
        raise ProblemList([problem]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise ProblemList(
                [
                    Problem(
                        "empty_file",
                        "ファイルが空です（見出し行がありません）。",
                        "The file is empty (no header row).",
                        "file",
                    )
                ]
            )
        columns = [BY_HEADER.get(nfkc(cell).strip()) for cell in header]
        found = {c.key for c in columns if c}
        missing = [c for c in REQUIRED if c.key not in found]
        if missing:
            raise ProblemList(
                [
                    Problem(
                        "missing_columns",
                        "必須の列がありません: " + "、".join(c.ja for c in missing),
                        "Required columns are missing: " + ", ".join(c.en for c in missing),
                        "file",
                    )
                ]
            )
        # Where each layout column is in the file (the last of a repeated header wins).
        position = {column.key: i for i, column in enumerate(columns) if column}
        width = len(KEYS)
        in_order = [position.get(key) for key in KEYS] == list(range(width))
        picks = [position.get(key, -1) for key in KEYS]
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not "".join(cells).strip():  # no cell with anything but spaces
                continue
            if len(rows) >= MAX_ROWS:
                raise ProblemList(
                    [
                        Problem(
                            "too_many_rows",
                            f"行数が上限（{MAX_ROWS:,}行）を超えています。ファイルを分けてください。",
                            f"More than {MAX_ROWS:,} rows: split the file.",
                            "file",
                        )
                    ]
                )
            if in_order:  # the layout's own columns, in its order (extra columns after them ignored)
                if len(cells) < width:  # a short row lacks the last ones
                    cells += [""] * (width - len(cells))
                rows.append((line, cells))
            else:
                n = len(cells)
                rows.append((line, [cells[i] if 0 <= i < n else "" for i in picks]))
    except csv.Error as exc:
        raise ProblemList(
            [
                Problem(
                    "malformed_csv",
                    f"CSVとして読めません（{reader.line_num}行目）。",
                    f"The file is not valid CSV (line {reader.line_num}): {exc}"[:200],
                    "file",
                )
            ]
        ) from None
    if not rows:
        raise ProblemList(
            [Problem("no_rows", "データ行がありません。", "The file has no data rows.", "file")]
        )
    return encoding, rows
