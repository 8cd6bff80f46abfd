"""The bulk reads behind extraction and the city forecast (forecast_service.city_rows): one query with
each person's doses aggregated by the database, on SQLite and PostgreSQL alike."""

from datetime import date, timedelta

import pytest

from sesshu.addressee.models import Person
from sesshu.demo.forecast_city import MAX_SHIFT, make_forecast_city
from sesshu.immunization.forecast_service import (
    _birth_ranges,
    city_rows,
    forecast_city_summary,
    forecast_for_person,
)
from sesshu.immunization.models import RecordStatus, VaccinationRecord
from sesshu.immunization.schedule import forecast_many

from .factories import make_household, make_resident, make_vaccination

AS_OF = date(2026, 4, 1)


@pytest.fixture
def family():
    household = make_household()
    _, child = make_resident(household, birth_date=date(2020, 4, 1))
    _, grandmother = make_resident(
        household, given=("花子", "ハナコ"), sex="F", birth_date=date(1950, 5, 5), is_head=False,
        relationship="母",
    )  # fmt: skip
    _, moved = make_resident(
        household, given=("次郎", "ジロウ"), birth_date=date(1990, 1, 1), status="moved_out", is_head=False
    )
    make_vaccination(child, "MR", 1, date(2021, 4, 10))
    make_vaccination(child, "BCG", 1, date(2020, 10, 1))
    make_vaccination(child, "DPT-IPV-Hib", 1, date(2020, 6, 1))
    # Neither a deleted record nor a 予診のみ visit is a dose the engine may count.
    deleted = make_vaccination(child, "VAR", 1, date(2021, 5, 1))
    VaccinationRecord.objects.filter(pk=deleted.pk).update(status=RecordStatus.DELETED)
    screening = make_vaccination(child, "DPT-IPV-Hib", 2, date(2020, 7, 1))
    VaccinationRecord.objects.filter(pk=screening.pk).update(screening_only=True)
    make_vaccination(grandmother, "Flu", 1, date(2025, 10, 20))
    return child, grandmother, moved


@pytest.mark.django_db
def test_it_reads_each_persons_given_doses_and_nothing_else(family):
    child, grandmother, moved = family
    rows = {row[0]: row for row in city_rows()}
    assert set(rows) == {child.pk, grandmother.pk, moved.pk}
    _, birth, sex, history, extensions = rows[child.pk]
    assert (birth, sex, extensions) == (date(2020, 4, 1), "M", [])
    assert sorted(history) == [
        ("BCG", date(2020, 10, 1)),
        ("DPT-IPV-Hib", date(2020, 6, 1)),
        ("MR", date(2021, 4, 10)),
    ]
    assert rows[grandmother.pk][3] == [("Flu", date(2025, 10, 20))]
    assert rows[moved.pk][3] == []
    assert [row[0] for row in city_rows()] == sorted(rows)  # in id order (extraction numbers by it)


@pytest.mark.django_db
def test_it_reads_residents_only_or_a_birth_range(family):
    child, grandmother, _ = family
    assert {row[0] for row in city_rows(residents_only=True)} == {child.pk, grandmother.pk}
    assert [row[0] for row in city_rows(born=(date(1950, 5, 5), date(1990, 1, 1)))] == [grandmother.pk]
    assert [row[0] for row in city_rows(person_ids=(child.pk, child.pk + 1))] == [child.pk]


@pytest.mark.django_db
def test_the_bulk_forecast_equals_the_person_pages(family):
    child, grandmother, _ = family
    bulk = dict(forecast_many(city_rows(), AS_OF))
    for person in (child, grandmother):
        assert bulk[person.pk].as_json() == forecast_for_person(person, AS_OF, audit=False).as_json()


# Outside a transaction: the builder settles the tables with VACUUM on PostgreSQL. The vaccine master
# of the migrations is restored first (the browser suite, also transactional, empties the tables).
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_benchmark_city_is_built_and_forecast_whole():
    counts = make_forecast_city(250, seed=3, as_of=AS_OF, base=100)
    assert counts["persons"] == Person.objects.count() == 250
    assert counts["vaccination_records"] == VaccinationRecord.objects.count() > 250
    persons = {p.pk: p for p in Person.objects.all()}
    first = min(persons)
    for copy_id in range(first + 100, first + 250):
        original, copy = persons[first + (copy_id - first) % 100], persons[copy_id]
        assert timedelta(0) <= original.birth_date - copy.birth_date <= timedelta(days=MAX_SHIFT)
        assert copy.sex == original.sex
    # Every person lands in exactly one of the ranges the processes are handed.
    ranges = _birth_ranges(24)
    in_ranges = sum(Person.objects.filter(birth_date__gte=a, birth_date__lt=b).count() for a, b in ranges)
    assert in_ranges == 250
    summary = forecast_city_summary(AS_OF)
    assert summary["persons"] == 250
    assert sum(n for key, n in summary.items() if key.startswith("MR-1:")) == 250
