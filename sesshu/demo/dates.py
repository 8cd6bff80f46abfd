"""Date arithmetic the synthetic city needs: ages, months after birth, random days in a window."""

import calendar
import random
from datetime import date, timedelta

DAYS_PER_YEAR = 365.2425


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later (or earlier), clamped to the month's last day."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    if day.day <= 28:
        return date(year, month, day.day)  # the common case, and cheap: it runs a few hundred thousand times
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def years_before(day: date, years: float) -> date:
    return day - timedelta(days=round(years * DAYS_PER_YEAR))


def age_on(birth: date, day: date) -> int:
    """Completed years, as the law counts age (a birthday on 29 February is reached on 1 March)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def random_day(rng: random.Random, first: date, last: date) -> date:
    """A day from first to last inclusive (first when the window is empty)."""
    span = (last - first).days
    return first + timedelta(days=rng.randint(0, span)) if span > 0 else first


def school_entry(birth: date) -> date:
    """The April a child starts primary school: those born 2 April to 1 April next year start together."""
    year = birth.year + 7 if (birth.month, birth.day) > (4, 1) else birth.year + 6
    return date(year, 4, 1)


def fiscal_year_start(day: date) -> date:
    return date(day.year if day.month >= 4 else day.year - 1, 4, 1)
