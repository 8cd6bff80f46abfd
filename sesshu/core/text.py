"""Normalization of Japanese names and addresses, so that search and matching find what a clerk means.

Staff type names in hiragana or katakana, full or half width, with or without spaces, and with or
without the voiced marks a register may have (ガ/カ, パ/ハ: 清音化). Kanji names come with variant
forms (髙/高, 﨑/崎). Addresses come as 3丁目2番5号, ３－２－５ or 三丁目2-5. Each function here maps all
spellings of one thing to one key; the keys are stored beside the data and compared exactly or by
substring.
"""

import re
import unicodedata

import jaconv

_SPACES = re.compile(r"[\s\u3000・･]+")
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")
_VOICED_MARKS = {"\u3099", "\u309a", "\u309b", "\u309c"}
_NO_VOICED_MARKS = dict.fromkeys(map(ord, _VOICED_MARKS))
# Variant kanji that appear in registers but that NFKC does not fold (異体字). Deliberately short:
# only pairs whose equivalence no clerk would dispute.
_KANJI_VARIANTS = str.maketrans(
    {
        "髙": "高",
        "﨑": "崎",
        "嵜": "崎",
        "邊": "辺",
        "邉": "辺",
        "澤": "沢",
        "濱": "浜",
        "齋": "斉",
        "齊": "斉",
        "斎": "斉",
        "廣": "広",
        "國": "国",
        "櫻": "桜",
        "關": "関",
        "眞": "真",
        "德": "徳",
        "彌": "弥",
        "瀨": "瀬",
        "冨": "富",
        "萬": "万",
        "龍": "竜",
    }
)
_DASHES = re.compile(r"[‐‑‒–—―−－ｰ─━ー]")
_KANJI_DIGITS = str.maketrans("〇一二三四五六七八九", "0123456789")


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "")


def is_kana(text: str) -> bool:
    """True when the text (ignoring spaces) is all kana: a reading, not a kanji or Latin name."""
    body = _SPACES.sub("", nfkc(text))
    return bool(body) and all("\u3041" <= ch <= "\u30ff" or ch in "ーゝゞヽヾ" for ch in body)


def is_latin(text: str) -> bool:
    body = _SPACES.sub("", nfkc(text))
    return bool(body) and all(ch.isascii() and (ch.isalpha() or ch in "-'.,") for ch in body)


def _kana_key_table() -> dict[int, str | None]:
    """One translation doing what jaconv.hira2kata, then removing ``_SPACES``, then ``_SMALL_KANA``
    do in turn (each character maps to at most one, so they compose): one pass over the text
    instead of three, which a clinic file of 100,000 names runs 100,000 times. ``\\s`` is exactly
    ``str.isspace`` (both are Py_UNICODE_ISSPACE), and every whitespace character is below U+3001."""
    table: dict[int, str | None] = {}
    spaces = {chr(c) for c in range(0x3001) if chr(c).isspace()} | {"・", "･"}
    for code in {*jaconv.conv_table.H2K_TABLE, *_SMALL_KANA, *map(ord, spaces)}:
        katakana = jaconv.hira2kata(chr(code))
        table[code] = None if katakana in spaces else katakana.translate(_SMALL_KANA)
    return table


_KANA_KEY = _kana_key_table()


def kana_key(text: str) -> str:
    """Reading key: full-width katakana, no spaces, small kana enlarged, voiced marks removed."""
    text = nfkc(text).translate(_KANA_KEY)
    return unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).translate(_NO_VOICED_MARKS))


def kanji_key(text: str) -> str:
    """Written-name key: NFKC, no spaces, common variant kanji folded to their usual form."""
    return _SPACES.sub("", nfkc(text)).translate(_KANJI_VARIANTS)


def latin_key(text: str) -> str:
    return re.sub(r"[^A-Z]", "", nfkc(text).upper())


def name_key(text: str) -> tuple[str, str]:
    """Which key a name query is compared with, and the key: ("kana"|"latin"|"kanji", key)."""
    if is_kana(text):
        return "kana", kana_key(text)
    if is_latin(text):
        return "latin", latin_key(text)
    return "kanji", kanji_key(text)


def starts_with(field: str, prefix: str) -> dict:
    """A prefix match that an index can answer on each database.

    SQLite will not use an index for LIKE (it is case-insensitive there), but compares text by code
    point, so a range (>= prefix, < prefix + the last code point) uses the B-tree. PostgreSQL's LIKE
    'x%' uses the pattern index Django creates beside each indexed text column, whatever the
    database's collation (under which such a range could be wrong).
    """
    from django.db import connection

    if connection.vendor == "sqlite":
        return {f"{field}__gte": prefix, f"{field}__lt": prefix + "\U0010ffff"}
    return {f"{field}__startswith": prefix}


def address_key(text: str) -> str:
    """Address key: 3丁目2番5号, ３－２－５ and 三丁目２-５ all become 3-2-5."""
    text = _SPACES.sub("", nfkc(text)).translate(_KANJI_VARIANTS)
    text = re.sub(r"([〇一二三四五六七八九]+)(?=丁目)", lambda m: m.group(1).translate(_KANJI_DIGITS), text)
    text = re.sub(r"(?<=\d)" + _DASHES.pattern + r"(?=\d)", "-", text)
    text = re.sub(r"(\d+)丁目", r"\1-", text)
    text = re.sub(r"(\d+)番地?", r"\1-", text)
    text = re.sub(r"(\d+)号", r"\1", text)
    text = re.sub(r"-{2,}", "-", text)
    return text.rstrip("-")
