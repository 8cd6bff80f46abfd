"""Forecasting many persons at once (extraction, the benchmark): same answers as ``forecast``."""

from collections.abc import Iterable, Iterator
from datetime import date

from .engine import forecast
from .types import Extension, Forecast

Row = tuple[int, date, str, list[tuple[str, date]], list[Extension]]


def forecast_many(rows: Iterable[Row], as_of: date) -> Iterator[tuple[int, Forecast]]:
    """(person_id, Forecast) for each (person_id, birth_date, sex, history, extensions), in order."""
    for person_id, birth, sex, history, extensions in rows:
        yield person_id, forecast(birth, sex, history, as_of, extensions=extensions, checked=True)
