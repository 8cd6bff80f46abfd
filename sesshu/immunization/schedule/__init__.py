"""Japan's routine immunization schedule as data, and the forecasting engine that reads it.

    from sesshu.immunization.schedule import forecast
    fc = forecast(date(2024, 5, 1), "F", [("DPT-IPV-Hib", date(2024, 7, 1))], date(2025, 4, 1))
    fc.evaluations, fc.recommendations, fc.as_json()

docs/schedule.md describes every rule with its legal source, and how ages and intervals are counted.
"""

from .compiled import activate

# The compiled engine (mypyc) when it was built from these very sources, else the Python one: compiled.py.
activate(__path__)

from .bulk import forecast_many  # noqa: E402
from .campaigns import Campaign, campaigns, load_campaigns  # noqa: E402
from .engine import forecast, normalize_history  # noqa: E402
from .rules import Series, load_series, schedule  # noqa: E402
from .types import MISTAKE_CODES, STATUSES, DoseEvaluation, Extension, Forecast, Reason, Recommendation  # noqa: E402


class _Lazy:
    """SERIES and VACCINE_CODES read the data files on first use, not at import."""

    def __init__(self, make):
        self._make = make

    def _value(self):
        return self._make()

    def __iter__(self):
        return iter(self._value())

    def __len__(self):
        return len(self._value())

    def __contains__(self, item):
        return item in self._value()

    def __getitem__(self, key):
        return self._value()[key]

    def __repr__(self):
        return repr(self._value())


SERIES = _Lazy(lambda: {s.code: s for s in schedule().series})  # code -> Series, schedule order
VACCINE_CODES = _Lazy(lambda: tuple(schedule().vaccines))

__all__ = [
    "MISTAKE_CODES",
    "SERIES",
    "STATUSES",
    "VACCINE_CODES",
    "Campaign",
    "DoseEvaluation",
    "Extension",
    "Forecast",
    "Reason",
    "Recommendation",
    "Series",
    "campaigns",
    "forecast",
    "forecast_many",
    "load_campaigns",
    "load_series",
    "normalize_history",
]
