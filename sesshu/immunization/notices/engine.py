"""The schedule engine as the extraction sees it: forecasts for many persons, the series a clerk can
pick, and the version of the rules a run used (kept on the run, so a run can be reproduced).

The engine lives in sesshu/immunization/schedule/ and forecast_service.py; this module only reads
the register's data for it in bulk.
"""

import hashlib
from collections.abc import Iterator
from datetime import date
from functools import cache
from pathlib import Path

from sesshu.addressee.models import Person, PersonStatus

from ..schedule import Forecast, forecast_many

CHUNK = 20_000


def _series(code: str):
    from ..schedule import SERIES

    return SERIES[code] if code in SERIES else None


@cache
def series_label(code: str, language: str = "ja") -> str:
    """The series' name as printed on notices and shown on screens (the schedule data's own)."""
    series = _series(code)
    if series is None:
        return code
    return series.name_en if language.startswith("en") else series.name_ja


@cache
def is_a_class(code: str) -> bool:
    """A類 (free, the guardian is addressed for children); B類 carries a co-payment."""
    series = _series(code)
    return series is None or series.category != "B"


def series_codes() -> list[str]:
    """The series of the schedule in its own order (what extraction may be asked for)."""
    from ..schedule import SERIES

    return list(SERIES)


@cache
def rules_version() -> str:
    """The rules a run used: the engine's own version when it declares one, else a digest of the
    schedule's data files (any change to a rule changes it)."""
    from .. import schedule

    declared = getattr(schedule, "RULES_VERSION", None) or getattr(schedule, "__version__", None)
    if declared:
        return str(declared)[:100]
    digest = hashlib.sha256()
    data_dir = Path(schedule.__file__).resolve().parent / "data"
    for path in sorted(data_dir.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(data_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return f"data-{digest.hexdigest()[:16]}"


def resident_rows() -> Iterator[tuple]:
    """(person_id, birth_date, sex, history, extensions) for every resident, in id order, in one query
    (forecast_service.city_rows). The dead, the moved-out, deleted and non-resident persons are not the
    city's targets and are not read at all."""
    from ..forecast_service import city_rows

    return city_rows(residents_only=True, chunk=CHUNK)


def forecasts(as_of: date) -> Iterator[tuple[int, Forecast]]:
    """(person_id, Forecast) for every resident, as of ``as_of``."""
    return forecast_many(resident_rows(), as_of)


def count_residents() -> int:
    return Person.objects.filter(status=PersonStatus.RESIDENT).count()
