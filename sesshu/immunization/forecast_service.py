"""Forecasts of stored persons: history from the register, 長期療養特例 from its records, reads audited.

``forecast_for_person`` is the one-person read (the person page, the API); ``city_rows`` and
``forecast_city`` read many persons with two ordered queries and no query per person (extraction,
the benchmark). The engine itself is pure: ``sesshu.immunization.schedule``.
"""

from collections.abc import Iterator
from datetime import date
from itertools import pairwise

from django.db import connection, transaction

from sesshu.addressee.models import Person
from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.core.problems import Problem, ProblemList

from .models import LongTermCareException, VaccinationRecord
from .schedule import SERIES, Extension, Forecast, forecast, forecast_many
from .services import access_person

PURPOSE_FORECAST = "予防接種台帳 接種予定の判定 (immunization register: schedule forecast)"
PURPOSE_LONG_TERM_CARE = (
    "予防接種台帳 長期療養特例の記録 (immunization register: long-term illness exception)"
)


def extensions_of(person: Person) -> list[Extension]:
    return [
        Extension(e.series, e.illness_from, e.illness_until, e.reason)
        for e in LongTermCareException.objects.filter(person=person).order_by("illness_from")
    ]


def history_of(person: Person) -> list[tuple[str, date]]:
    return list(
        VaccinationRecord.objects.given()
        .filter(person=person)
        .order_by("vaccinated_on", "vaccine__sort_order")
        .values_list("vaccine_id", "vaccinated_on")
    )


def forecast_for_person(person: Person, as_of: date, *, audit: bool = True) -> Forecast:
    """The person's forecast. Writes a view event unless the caller already logged the read (the
    person page logs the whole page once)."""
    fc = forecast(person.birth_date, person.sex, history_of(person), as_of, extensions=extensions_of(person))
    if audit:
        record(
            Action.VIEW,
            purpose=PURPOSE_FORECAST,
            object_type="forecast",
            subjects=[person.pk],
            result_count=len(fc.evaluations),
            criteria={"as_of": as_of.isoformat()},
        )
    return fc


def person_forecast(person_id: int, as_of: date) -> tuple[Person, Forecast]:
    person = access_person(person_id, PURPOSE_FORECAST)
    return person, forecast_for_person(person, as_of)


# 長期療養特例 ------------------------------------------------------------------------------------


def record_long_term_care(person: Person, data: dict, by) -> LongTermCareException:
    """Validate and store an exception; audited as a change to the person's record."""
    problems = []
    series = (data.get("series") or "").strip()
    if series not in SERIES or SERIES[series].category != "A":
        problems.append(Problem("invalid_series", "対象の接種（A類）を選んでください。",
                                "Choose the vaccination (an A-class series).", "series"))  # fmt: skip
    reason = (data.get("reason") or "").strip()
    if not reason:
        problems.append(Problem("required", "特別の事情（疾病名等）を入力してください。",
                                "Enter the circumstance (the illness).", "reason"))  # fmt: skip
    elif len(reason) > 200:
        problems.append(
            Problem(
                "too_long",
                "特別の事情は200文字以内です。",
                "The circumstance is at most 200 characters.",
                "reason",
            )
        )
    days = {}
    for field, ja, en in (("illness_from", "開始日", "start date"), ("illness_until", "終了日", "end date")):
        try:
            days[field] = date.fromisoformat((data.get(field) or "").strip())
        except ValueError:
            problems.append(Problem("invalid_date", f"{ja}をYYYY-MM-DDの実在する日付で入力してください。",
                                    f"Enter the {en} as a real date, YYYY-MM-DD.", field))  # fmt: skip
    if len(days) == 2 and days["illness_until"] < days["illness_from"]:
        problems.append(
            Problem(
                "invalid_period",
                "終了日が開始日より前です。",
                "The end date is before the start date.",
                "illness_until",
            )
        )
    if len(days) == 2 and days["illness_from"] < person.birth_date:
        problems.append(
            Problem(
                "invalid_period",
                "開始日が生年月日より前です。",
                "The start date is before the date of birth.",
                "illness_from",
            )
        )
    if problems:
        raise ProblemList(problems)
    with transaction.atomic():
        exception = LongTermCareException.objects.create(
            person=person, series=series, reason=reason, recorded_by=by, **days
        )
        record(
            Action.CREATE,
            purpose=PURPOSE_LONG_TERM_CARE,
            object_type="long_term_care_exception",
            subjects=[person.pk],
            detail={"series": series, "illness_from": days["illness_from"].isoformat(),
                    "illness_until": days["illness_until"].isoformat()},
        )  # fmt: skip
    return exception


# Many persons ----------------------------------------------------------------------------------------


def city_rows(
    person_ids: tuple[int, int] | None = None, chunk: int = 20_000, born: tuple[date, date] | None = None
) -> Iterator[tuple]:
    """(person_id, birth_date, sex, history, extensions) for every person (or an id range, or those born
    from ``born[0]`` to before ``born[1]``), read with two queries ordered by person and merged here: no
    query per person."""
    extensions: dict[int, list[Extension]] = {}
    for e in LongTermCareException.objects.all():
        extensions.setdefault(e.person_id, []).append(Extension(e.series, e.illness_from, e.illness_until))
    persons = Person.objects.order_by("id")
    records = VaccinationRecord.objects.given().order_by("person_id", "vaccinated_on")
    if person_ids:
        persons = persons.filter(id__gte=person_ids[0], id__lt=person_ids[1])
        records = records.filter(person_id__gte=person_ids[0], person_id__lt=person_ids[1])
    if born:
        persons = persons.filter(birth_date__gte=born[0], birth_date__lt=born[1])
        records = records.filter(person__birth_date__gte=born[0], person__birth_date__lt=born[1])
    people = persons.values_list("id", "birth_date", "sex").iterator(chunk_size=chunk)
    doses = records.values_list("person_id", "vaccine_id", "vaccinated_on").iterator(chunk_size=chunk)
    pending = next(doses, None)
    for person_id, birth, sex in people:
        history = []
        while pending is not None and pending[0] <= person_id:
            if pending[0] == person_id:
                history.append((pending[1], pending[2]))
            pending = next(doses, None)
        yield (
            person_id,
            _as_date(birth),
            sex,
            [(v, _as_date(d)) for v, d in history],
            extensions.get(person_id, []),
        )


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def forecast_persons(
    as_of: date, person_ids: tuple[int, int] | None = None
) -> Iterator[tuple[int, Forecast]]:
    """Every person's forecast, in id order (no audit here: the batch that uses it logs its purpose)."""
    return forecast_many(city_rows(person_ids), as_of)


def forecast_city_summary(as_of: date, workers: int = 1) -> dict[str, int]:
    """Counts of (series, status) over every person: the benchmark's work, split over processes.

    Split by birth date (equal halves), not by id: the engine's answers for a birth date are worked out
    once a process and shared by everyone born that day, so each process meets only its own dates.
    """
    low, high = _id_range()
    if workers <= 1 or high - low < 10_000:
        return _summarize(as_of, (low, high + 1))
    import multiprocessing

    ranges = _birth_ranges(workers)
    connection.close()  # each process opens its own
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.starmap(_summarize_in_child, [(as_of, None, r) for r in ranges])
    total: dict[str, int] = {}
    for part in parts:
        for key, count in part.items():
            total[key] = total.get(key, 0) + count
    return total


def _birth_ranges(workers: int) -> list[tuple[date, date]]:
    """``workers`` birth-date ranges [from, before) holding about as many persons each."""
    dates = Person.objects.order_by("birth_date").values_list("birth_date", flat=True)
    total = Person.objects.count()
    cuts = [_as_date(dates[total * i // workers]) for i in range(1, workers)]
    bounds = [date.min, *cuts, date.max]
    return list(pairwise(bounds))


def _id_range() -> tuple[int, int]:
    from django.db.models import Max, Min

    bounds = Person.objects.aggregate(low=Min("id"), high=Max("id"))
    return bounds["low"] or 0, bounds["high"] or 0


def _summarize_in_child(
    as_of: date, ids: tuple[int, int] | None, born: tuple[date, date] | None = None
) -> dict[str, int]:
    connection.close()  # never share the parent's socket
    return _summarize(as_of, ids, born)


def _summarize(
    as_of: date, ids: tuple[int, int] | None, born: tuple[date, date] | None = None
) -> dict[str, int]:
    import gc

    counts: dict[str, int] = {"persons": 0}
    # The forecasts are short-lived acyclic objects: the cycle collector only costs time here (~1.5x).
    gc.disable()
    try:
        for _, fc in forecast_many(city_rows(ids, born=born), as_of):
            counts["persons"] += 1
            for r in fc.recommendations:
                key = f"{r.series}:{r.status}"
                counts[key] = counts.get(key, 0) + 1
    finally:
        gc.enable()
    return counts
