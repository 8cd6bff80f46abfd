"""A city for the forecast benchmark (``forecast_city_seconds`` at 1M residents), written in minutes.

``build_city`` (synthetic.py) makes a whole register, households, names, My Numbers, and runs at about
550 residents/s: half an hour for a million. The forecast reads only the addressee (birth date, sex)
and the vaccination ledger, so this module writes just those.

First a base of up to 100,000 residents is drawn in Python: ages and sexes from the same 2020 census
pyramid as the synthetic city, and for each the doses its schedule gives (``Schedule.history``: the
routine schedule by birth cohort, late doses, drop-outs, adult flu, 高齢者肺炎球菌, COVID-19), written
as its ledger writes them (home clinics, lots, every column of the record). The rest of the city is
made in SQL from that base, copy after copy: each copied person is born some days (0 to 60, drawn
per person and copy) before the original and has the original's doses moved by as many days. Ages,
sexes and the shape of histories stay those of the synthetic city; birth dates and dose days differ,
so no two copies meet the same answers in the engine (a dose moved before a programme's first day
is judged as such: a few per thousand).

Bench only: nothing in the product calls it. Rows go in with COPY on PostgreSQL and one prepared
INSERT on SQLite, then INSERT ... SELECT; ids are assigned here, so run it on a fresh database.
The same (n, seed, as_of) gives the same rows.
"""

import random
from collections.abc import Callable, Iterator
from datetime import date

from django.db import connection, transaction
from django.db.models import Max

from sesshu.addressee.models import Person, PersonKind, PersonStatus
from sesshu.core.bulk import copy_or_insert
from sesshu.immunization.models import VaccinationRecord

from .masters import ensure_masters
from .population import OLDEST, Population
from .schedule import Ledger, Schedule
from .synthetic import _RECORD_FIELDS, LedgerColumns, RecordedDose

CHUNK = 20_000  # persons generated, then written, at a time
BASE = 100_000  # persons drawn in Python; the others are copies of them made in SQL
MAX_SHIFT = 60  # days a copy is born earlier than its original, at most
INTEGRATED_NUMBER_BASE = 7 * 10**14  # 統合宛名番号 700000000000001, ...: apart from the synthetic city's

_FAMILY = [
    ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"), ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
]  # fmt: skip
_GIVEN = {
    "M": [("太郎", "タロウ"), ("健一", "ケンイチ"), ("翔", "ショウ"), ("大輔", "ダイスケ"), ("蓮", "レン")],
    "F": [("花子", "ハナコ"), ("陽子", "ヨウコ"), ("美咲", "ミサキ"), ("結衣", "ユイ"), ("葵", "アオイ")],
}


def make_forecast_city(
    persons: int,
    seed: int = 1,
    as_of: date = date(2026, 4, 1),
    progress: Callable[[int], object] | None = None,
    base: int = BASE,
) -> dict[str, int]:
    """Write ``persons`` residents with their vaccination ledger; returns the row counts."""
    base = min(base, persons)
    masters = ensure_masters(as_of)
    ledger_columns = LedgerColumns(masters)
    first_id = (Person.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    person_columns, person_row = _person_writer()
    record_columns = [VaccinationRecord._meta.get_field(f).column for f in _RECORD_FIELDS]
    counts = {"persons": 0, "vaccination_records": 0}
    with transaction.atomic():
        for people, records in _chunks(base, seed, as_of, first_id, person_row, ledger_columns):
            copy_or_insert(connection, Person._meta.db_table, person_columns, people)
            copy_or_insert(connection, VaccinationRecord._meta.db_table, record_columns, records)
            counts["persons"] += len(people)
            counts["vaccination_records"] += len(records)
            if progress is not None:
                progress(len(people))
        for copy in range(1, -(-persons // base)):
            size = min(base, persons - copy * base)
            counts["vaccination_records"] += _copy(copy, size, base, first_id, record_columns)
            counts["persons"] += size
            if progress is not None:
                progress(size)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # the ids were given here: move the sequence past them
                for sql in connection.ops.sequence_reset_sql(no_style(), [Person]):
                    cursor.execute(sql)
    if connection.vendor == "postgresql":
        # As a database in service has them (autovacuum): planner statistics, and the visibility map that
        # lets the histories be read from the index alone. Timing a table loaded a second ago measures
        # the load, not the forecast.
        with connection.cursor() as cursor:
            for model in (Person, VaccinationRecord):
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    return counts


def _copy(copy: int, size: int, base: int, first_id: int, record_columns: list[str]) -> int:
    """Copy ``size`` persons of the base (and their doses) as persons ``copy * base`` ids on, born some
    days earlier; returns the number of doses written."""
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    offset = copy * base

    def shift(column: str, person_id: str) -> str:
        # Days earlier, 0 to MAX_SHIFT, from the original's id and the copy number: no random state.
        days = f"(({person_id} * 7919 + {copy * 104729}) % {MAX_SHIFT + 1})"
        # PostgreSQL subtracts an integer from a date, not a bigint (the ids are bigint there).
        return f"{column} - {days}::integer" if postgres else f"date({column}, '-' || {days} || ' days')"

    def number(column: str) -> str:
        if postgres:
            return f"({column}::bigint + {offset})::text"
        return f"CAST(CAST({column} AS INTEGER) + {offset} AS TEXT)"

    person_fields = [f.column for f in Person._meta.concrete_fields]
    person_select = []
    for column in person_fields:
        if column == "id":
            person_select.append(f"id + {offset}")
        elif column == "integrated_number":
            person_select.append(number(column))
        elif column == "birth_date":
            person_select.append(shift(column, "id"))
        else:
            person_select.append(quote(column))
    last = first_id + size
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(Person._meta.db_table)} ({', '.join(map(quote, person_fields))}) "  # noqa: S608
            f"SELECT {', '.join(person_select)} FROM {quote(Person._meta.db_table)} "
            f"WHERE id >= {first_id} AND id < {last} ORDER BY id"
        )
        record_select = []
        for column in record_columns:
            if column == "person_id":
                record_select.append(f"person_id + {offset}")
            elif column == "vaccinated_on":
                record_select.append(shift(column, "person_id"))
            else:
                record_select.append(quote(column))
        records = quote(VaccinationRecord._meta.db_table)
        cursor.execute(
            f"INSERT INTO {records} ({', '.join(map(quote, record_columns))}) "  # noqa: S608
            f"SELECT {', '.join(record_select)} FROM {records} "
            f"WHERE person_id >= {first_id} AND person_id < {last} ORDER BY id"
        )
        return cursor.rowcount


def no_style():
    from django.core.management.color import no_style as style

    return style()


def _chunks(
    persons: int, seed: int, as_of: date, first_id: int, person_row, ledger_columns: LedgerColumns
) -> Iterator[tuple[list[tuple], list[tuple]]]:
    population = Population(seed, as_of)
    rng = population.rng
    schedule, ledger = Schedule(rng, as_of), Ledger(rng)
    people: list[tuple] = []
    records: list[tuple] = []
    for i in range(persons):
        person_id = first_id + i
        age = population.sample_age(0, OLDEST)
        birth = population.birth_for_age(age)
        sex = population.sex_at(age)
        people.append(person_row(person_id, i, birth, sex, rng))
        home = ledger.clinics_of()
        seen: set[tuple[str, date]] = set()
        for dose in schedule.history(birth, sex):
            # As the synthetic city's ledger: none before birth or after today, one dose of a vaccine a day.
            if not birth < dose.on <= as_of or (dose.vaccine, dose.on) in seen:
                continue
            seen.add((dose.vaccine, dose.on))
            clinic = ledger.clinic(dose, birth, home, elsewhere=False)
            given = RecordedDose(dose, clinic, ledger.lot(dose.vaccine, clinic, dose.on), False)
            records.append(ledger_columns.row(person_id, given))
        if len(people) == CHUNK:
            yield people, records
            people, records = [], []
    if people:
        yield people, records


def _person_writer():
    """The Person table's columns (id first) and a function making one row in the database's terms."""
    fields = [f for f in Person._meta.concrete_fields if f.name != "id"]
    columns = ["id", *(f.column for f in fields)]
    adapt_date = connection.ops.adapt_datefield_value
    defaults = {f.name: f.get_db_prep_save(f.get_default(), connection) for f in fields}

    def row(person_id: int, i: int, birth: date, sex: str, rng: random.Random) -> tuple:
        family, family_kana = _FAMILY[rng.randrange(len(_FAMILY))]
        given, given_kana = _GIVEN["F" if sex == "F" else "M"][rng.randrange(5)]
        chome, banchi, go = 1 + i % 6, 1 + i // 6 % 40, 1 + i // 240 % 30
        address = f"東和県桜ヶ丘市緑町{chome}丁目{banchi}番{go}号"
        values = dict(defaults)
        values.update(
            integrated_number=str(INTEGRATED_NUMBER_BASE + i + 1),
            kind=PersonKind.RESIDENT.value,
            status=PersonStatus.RESIDENT.value,
            family_name=family,
            given_name=given,
            family_name_kana=family_kana,
            given_name_kana=given_kana,
            birth_date=adapt_date(birth),
            sex=sex,
            postal_code=f"359-{1000 + chome:04d}",
            address=address,
            kana_key=f"{family_kana}{given_kana}",
            given_kana_key=given_kana,
            kanji_key=f"{family}{given}",
            given_kanji_key=given,
            address_key=address,
        )
        return (person_id, *(values[f.name] for f in fields))

    return columns, row
