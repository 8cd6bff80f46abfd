"""Ages and intervals exactly as the ministry reads the law for vaccination.

年齢計算ニ関スル法律 counts age from the day of birth, and 民法 §143 ends a period of months or years on
the day before the day that corresponds to the start (the last day of the month when there is none).
So a person "reaches" N years (or N months) at the end of the day before the Nth birthday (or the
day before the same day N months on). The ministry's reading for vaccination (厚生労働省 事務連絡,
reproduced by city health pages as 定期予防接種における「対象者」と「接種間隔」の解釈):

- 「N歳以上」「生後N月から」: from the day the age is reached (the day before the birthday);
- 「N歳に至るまで」「N歳未満」「生後N月に至るまで」: up to and including that same day;
- 「N歳に至った日の翌日」: the birthday itself;
- 「出生N週M日後」: the day of birth is week 0 day 0; both 「から」 and 「まで」 include that day;
- 「N日以上の間隔」: the next dose from the (N+1)th day after the dose (27日以上: 4 weeks on, same weekday);
- 「N月以上の間隔」: from the same day N months later; when that month has no such day, from the 1st of
  the month after.

Fiscal (school) years run 1 April to 31 March; a child born on 1 April reaches each age on 31 March and
so belongs to the earlier school year.
"""

import calendar
import re
from datetime import date, timedelta
from functools import lru_cache

ONE_DAY = timedelta(days=1)


def _month_shift(day: date, months: int) -> tuple[int, int]:
    index = day.month - 1 + months
    return day.year + index // 12, index % 12 + 1


def reached_months(birth: date, months: int) -> date:
    """The day a person reaches ``months`` months of age (生後N月に至った日)."""
    index = birth.month - 1 + months
    year, month = birth.year + index // 12, index % 12 + 1
    if birth.day == 1:
        return date(year, month, 1) - ONE_DAY
    if birth.day <= 28:
        return date(year, month, birth.day - 1)  # the common case, without calendar look-ups
    last = calendar.monthrange(year, month)[1]
    if birth.day <= last:
        return date(year, month, birth.day - 1)
    return date(year, month, last)  # no corresponding day: the period ends on the month's last day


def reached_years(birth: date, years: int) -> date:
    """The day a person reaches ``years`` years of age: the day before the birthday (N歳に達した日)."""
    return reached_months(birth, 12 * years)


def after_weeks(birth: date, weeks: int, days: int = 0) -> date:
    """出生N週M日後: the day of birth is 0 weeks 0 days."""
    return birth + timedelta(days=7 * weeks + days)


def after_days_interval(previous: date, days: int) -> date:
    """The first day allowed after 「N日以上の間隔」."""
    return previous + timedelta(days=days + 1)


def after_months_interval(previous: date, months: int) -> date:
    """The first day allowed after 「N月以上の間隔」: the same day N months on, else the next 1st."""
    year, month = _month_shift(previous, months)
    last = calendar.monthrange(year, month)[1]
    if previous.day <= last:
        return date(year, month, previous.day)
    return date(year, month, last) + ONE_DAY


def fiscal_year_of(day: date) -> int:
    """The fiscal (school) year a day belongs to, named by the calendar year it starts in."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_start(year: int) -> date:
    return date(year, 4, 1)


def fiscal_year_end(year: int) -> date:
    return date(year + 1, 3, 31)


def school_entry(birth: date) -> date:
    """小学校就学の始期 (学校教育法 §17): the first 1 April after the day the child reaches 6 years.

    Reaching 6 is the day before the 6th birthday, so a child born on 1 April (who reaches 6 on
    31 March) starts that very April: the earlier school year.
    """
    reached = reached_years(birth, 6)
    year = reached.year if reached < date(reached.year, 4, 1) else reached.year + 1
    return date(year, 4, 1)


# Age and interval specifications in the data files: "2mo", "60mo", "65y", "6w0d", "27d", "3mo".
SPEC = re.compile(r"^(?:(?P<y>\d+)y)?(?:(?P<mo>\d+)mo)?(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?$")


@lru_cache(maxsize=512)
def parse_spec(text: str) -> tuple[int, int, int]:
    """(months, weeks, days) of "65y", "2mo", "6w0d", "27d"; ValueError when it is not one of them."""
    match = SPEC.match(text.strip()) if text else None
    if not match or not any(match.groupdict().values()):
        raise ValueError(text)
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    months = 12 * parts["y"] + parts["mo"]
    if months and (parts["w"] or parts["d"]):
        raise ValueError(text)
    return months, parts["w"], parts["d"]


@lru_cache(maxsize=1_000_000)
def age_day(birth: date, spec: str) -> date:
    """The day an age written in a rule is reached (inclusive at both ends of a window)."""
    months, weeks, days = parse_spec(spec)
    if months:
        return reached_months(birth, months)
    return after_weeks(birth, weeks, days)


@lru_cache(maxsize=1_000_000)
def interval_day(previous: date, spec: str) -> date:
    """The first day a dose is allowed after ``previous`` under 「spec以上の間隔」."""
    months, weeks, days = parse_spec(spec)
    if months:
        return after_months_interval(previous, months)
    return after_days_interval(previous, 7 * weeks + days)
