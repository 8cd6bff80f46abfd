"""Forecasts of stored persons: history from the register, 長期療養特例 from its records, reads audited.

``forecast_for_person`` is the one-person read (the person page, the API); ``city_rows`` and
``forecast_city`` read many persons with two ordered queries and no query per person (extraction,
the benchmark). The engine itself is pure: ``sesshu.immunization.schedule``.
"""

from collections.abc import Iterator
from datetime import date
from itertools import pairwise

from django.db import connection, transaction

from sesshu.addressee.models import Person, PersonStatus
from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.core.bulk import no_cycle_collection
from sesshu.core.problems import Problem, ProblemList

from .models import LongTermCareException, RecordStatus, VaccinationRecord
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
    person_ids: tuple[int, int] | None = None,
    chunk: int = 20_000,
    born: tuple[date, date] | None = None,
    residents_only: bool = False,
) -> Iterator[tuple]:
    """(person_id, birth_date, sex, history, extensions) for every person (or an id range [from, to), or
    those born from ``born[0]`` to before ``born[1]``, or residents only), in id order.

    One query: each person's given doses come aggregated into one string by the database (SQLite's
    group_concat, PostgreSQL's string_agg over the partial index of active, given doses, which covers
    them), so Python splits one string a person instead of building a row a dose. Dates are parsed once
    per distinct day: a city's 3 million doses fall on a few thousand days.
    """
    person = Person._meta.db_table
    record = VaccinationRecord._meta.db_table
    postgres = connection.vendor == "postgresql"
    joined = (
        "string_agg(r.vaccine_id || ' ' || r.vaccinated_on::text, ',')"
        if postgres
        else "group_concat(r.vaccine_id || ' ' || r.vaccinated_on, ',')"
    )
    where, params = ["1 = 1"], []
    if person_ids:
        where.append("p.id >= %s AND p.id < %s")
        params += list(person_ids)
    if born:
        where.append("p.birth_date >= %s AND p.birth_date < %s")
        params += [connection.ops.adapt_datefield_value(d) for d in born]
    if residents_only:
        where.append("p.status = %s")
        params.append(PersonStatus.RESIDENT.value)
        exceptions = LongTermCareException.objects.filter(person__status=PersonStatus.RESIDENT)
    else:
        exceptions = LongTermCareException.objects.all()
    extensions: dict[int, list[Extension]] = {}
    for e in exceptions.order_by("person_id", "illness_from", "id"):
        extensions.setdefault(e.person_id, []).append(Extension(e.series, e.illness_from, e.illness_until))
    # given(): active and not 予診のみ (the condition of the partial unique index vaccination_dose_identity)
    sql = (
        f"SELECT p.id, p.birth_date, p.sex, (SELECT {joined} FROM {record} r "  # noqa: S608
        f"WHERE r.person_id = p.id AND r.status = %s AND NOT r.screening_only) "
        f"FROM {person} p WHERE {' AND '.join(where)} ORDER BY p.id"
    )
    days = _Days()
    doses = _Doses(days)
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, [RecordStatus.ACTIVE.value, *params])
        while rows := cursor.fetchmany(chunk):
            for person_id, birth, sex, given in rows:
                history = list(map(doses.__getitem__, given.split(","))) if given else []
                yield person_id, days[birth], sex, history, extensions.get(person_id, [])


class _Days(dict):
    """A date for each date string (or date) read, parsed once: a city's doses fall on few days."""

    def __missing__(self, value) -> date:
        day = self[value] = value if isinstance(value, date) else date.fromisoformat(value)
        return day


class _Doses(dict):
    """(vaccine, date) for each "vaccine date" string of the aggregated history, made once each: the
    same dose day recurs across a city (one tuple shared; the engine never changes it)."""

    def __init__(self, days: _Days):
        super().__init__()
        self.days = days

    def __missing__(self, text: str) -> tuple[str, date]:
        vaccine, _, day = text.partition(" ")
        dose = self[text] = (vaccine, self.days[day])
        return dose


def forecast_persons(
    as_of: date, person_ids: tuple[int, int] | None = None
) -> Iterator[tuple[int, Forecast]]:
    """Every person's forecast, in id order (no audit here: the batch that uses it logs its purpose)."""
    return forecast_many(city_rows(person_ids), as_of)


PARTS_PER_WORKER = 12


def forecast_city_summary(as_of: date, workers: int = 1) -> dict[str, int]:
    """Counts of (series, status) over every person: the benchmark's work, split over processes.

    Split by birth date, not by id: the engine's answers for a birth date are worked out once a process
    and shared by everyone born that day, so each process meets only its own dates. The birth dates are
    cut into many ranges of as many persons each, handed out youngest first to whichever process is
    free: a child's history costs the engine several times an adult's, so equal halves would leave one
    process working long after the other.
    """
    low, high = _id_range()
    if workers <= 1 or high - low < 10_000:
        return _summarize(as_of, (low, high + 1))
    import multiprocessing

    ranges = _birth_ranges(workers * PARTS_PER_WORKER)[::-1]
    connection.close()  # each process opens its own
    total: dict[str, int] = {}
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for part in pool.imap_unordered(_summarize_born, [(as_of, r) for r in ranges]):
            for key, count in part.items():
                total[key] = total.get(key, 0) + count
    return total


def _birth_ranges(parts: int) -> list[tuple[date, date]]:
    """Up to ``parts`` birth-date ranges [from, before), oldest first, holding about as many persons each."""
    dates = Person.objects.order_by("birth_date").values_list("birth_date", flat=True)
    total = Person.objects.count()
    cuts = sorted({dates[total * i // parts] for i in range(1, parts)})
    bounds = [date.min, *cuts, date.max]
    return list(pairwise(bounds))


def _id_range() -> tuple[int, int]:
    from django.db.models import Max, Min

    bounds = Person.objects.aggregate(low=Min("id"), high=Max("id"))
    return bounds["low"] or 0, bounds["high"] or 0


def _summarize_born(task: tuple[date, tuple[date, date]]) -> dict[str, int]:
    as_of, born = task
    return _summarize(as_of, None, born)


def _summarize(
    as_of: date, ids: tuple[int, int] | None, born: tuple[date, date] | None = None
) -> dict[str, int]:
    counts: dict[str, int] = {"persons": 0}
    with no_cycle_collection():  # the forecasts are short-lived and acyclic
        for _, fc in forecast_many(city_rows(ids, born=born), as_of):
            counts["persons"] += 1
            for r in fc.recommendations:
                key = f"{r.series}:{r.status}"
                counts[key] = counts.get(key, 0) + 1
    return counts
