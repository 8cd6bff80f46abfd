"""Handing out 宛名番号 (10 digits from 1000000001) and 世帯番号 (10 digits from 9000000001)."""

from django.db.models import Max
from django.db.models.functions import Length

from .models import Household, NumberCounter, Resident

_SERIES = {
    "resident_number": (Resident, "resident_number", 10**9),
    "household_number": (Household, "household_number", 9 * 10**9),
}


def next_number(series: str) -> str:
    """The next free 宛名番号 or 世帯番号; call inside a transaction (the counter row stays locked)."""
    return next_number_for(series, *_SERIES[series])


def next_number_for(series: str, model, field: str, base: int) -> str:
    """The next free number of a series of fixed-length digit strings above ``base``."""
    return next_numbers_for(series, model, field, base, 1)[0]


def next_numbers_for(series: str, model, field: str, base: int, count: int) -> list[str]:
    """``count`` consecutive free numbers of a series; the counter row stays locked until commit.

    Rows written around the counter (the synthetic city, an imported register) are respected: the
    numbers start above both the counter and the highest number in the table.
    """
    NumberCounter.objects.get_or_create(name=series, defaults={"value": base})
    counter = NumberCounter.objects.select_for_update().get(name=series)
    highest = (
        model.objects.alias(digits=Length(field))
        .filter(digits=len(str(base)), **{f"{field}__gte": str(base)})
        .aggregate(m=Max(field))["m"]
    )
    first = max(counter.value, int(highest or base)) + 1
    counter.value = first + count - 1
    counter.save(update_fields=["value"])
    return [str(n) for n in range(first, first + count)]
