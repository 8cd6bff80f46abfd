"""和暦 (Japanese era) dates: shown beside ISO dates on screens and forms, accepted in search input."""

import re
from dataclasses import dataclass
from datetime import date

from .problems import Problem
from .text import nfkc


@dataclass(frozen=True)
class Era:
    name: str
    letter: str
    start: date


# Start dates as the government counts them for register dates.
ERAS = (
    Era("令和", "R", date(2019, 5, 1)),
    Era("平成", "H", date(1989, 1, 8)),
    Era("昭和", "S", date(1926, 12, 25)),
    Era("大正", "T", date(1912, 7, 30)),
    Era("明治", "M", date(1868, 10, 23)),
)


def era_of(day: date) -> Era | None:
    for era in ERAS:
        if day >= era.start:
            return era
    return None


def format_wareki(day: date | None) -> str:
    """2025-04-01 -> 令和7年4月1日; the first year is 元年."""
    if day is None:
        return ""
    era = era_of(day)
    if era is None:
        return f"{day.year}年{day.month}月{day.day}日"
    year = day.year - era.start.year + 1
    year_text = "元" if year == 1 else str(year)
    return f"{era.name}{year_text}年{day.month}月{day.day}日"


_ISO = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_ERA = re.compile(r"^(明治|大正|昭和|平成|令和|[MTSHRmtshr])(元|\d{1,2})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def invalid_date(raw: str, field: str | None = None) -> Problem:
    return Problem(
        "invalid_date",
        f"日付「{raw[:20]}」を読み取れません。2025-04-01、令和7年4月1日、R7.4.1 の形で入力してください。",
        f"Cannot read the date “{raw[:20]}”. Use 2025-04-01, 令和7年4月1日 or R7.4.1.",
        field,
    )


def parse_date(raw: str, field: str | None = None) -> date:
    """Read a date as staff type it: ISO, slashes, 8 digits, or 和暦 with era name or letter."""
    text = nfkc(raw).strip().replace(" ", "")
    if match := _ISO.match(text) or _COMPACT.match(text):
        year, month, day = (int(g) for g in match.groups())
        return _make_date(year, month, day, raw, field)
    if match := _ERA.match(text):
        era_token, year_text, month, day = match.groups()
        era = next(e for e in ERAS if era_token in (e.name, e.letter, e.letter.lower()))
        era_year = 1 if year_text == "元" else int(year_text)
        result = _make_date(era.start.year + era_year - 1, int(month), int(day), raw, field)
        following = [e for e in ERAS if e.start > era.start]
        if result < era.start or (following and result >= min(e.start for e in following)) or era_year < 1:
            raise Problem(
                "date_outside_era",
                f"{era.name}{year_text}年{month}月{day}日は{era.name}の期間にありません。",
                f"{era.name} year {year_text}, month {month}, day {day} is outside the {era.name} era.",
                field,
            )
        return result
    raise invalid_date(raw, field)


def _make_date(year: int, month: int, day: int, raw: str, field: str | None) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise Problem(
            "impossible_date",
            f"{year}年{month}月{day}日という日付はありません。",
            f"There is no such date: {year}-{month:02d}-{day:02d}.",
            field,
        ) from None
