"""Benchmark helpers for extraction and notice PDFs (called from bench/run.py; never from the product).

``make_elders(n)`` writes n residents aged 65 to 90 straight into the addressee table (the register is
not needed: extraction reads the addressee), most with influenza doses of earlier seasons and some
with 高齢者肺炎球菌, as a city's older residents have, so that a 2026年度 extraction of
高齢者インフルエンザ (as of 2026-04-01, before the season) yields exactly one notice each."""

import random
from datetime import date

from django.db.models import Max

from sesshu.addressee.models import Person, PersonKind, PersonStatus
from sesshu.immunization.models import RecordSource, VaccinationRecord

CHUNK = 5000


def make_elders(n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        birth = date(1936 + rng.randrange(25), 1 + rng.randrange(12), 1 + rng.randrange(28))
        rows.append(
            Person(
                integrated_number=f"8{i:014d}",
                kind=PersonKind.RESIDENT,
                status=PersonStatus.RESIDENT,
                family_name="試験",
                given_name=f"{i}",
                family_name_kana="シケン",
                given_name_kana="タロウ",
                birth_date=birth,
                sex="MF"[i % 2],
                postal_code=f"359-{i % 10000:04d}",
                address=f"東和県桜ヶ丘市緑町{1 + i % 9}丁目{1 + i % 30}番{1 + i % 20}号",
                kana_key="シケンタロウ",
                given_kana_key="タロウ",
                kanji_key=f"試験{i}",
                given_kanji_key=f"{i}",
            )
        )
        if len(rows) == CHUNK:
            _write(rows, rng)
            rows = []
    _write(rows, rng)


def _write(persons: list[Person], rng: random.Random) -> None:
    first = (Person.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    Person.objects.bulk_create(persons)
    ids = range(first, first + len(persons))  # bulk_create on SQLite does not return ids
    records = []
    for person_id in ids:
        seasons = [year for year in range(2019, 2026) if rng.random() < 0.6]
        for dose, year in enumerate(seasons, start=1):
            day = date(year, 10 + rng.randrange(3), 1 + rng.randrange(28))
            records.append(_record(person_id, "Flu", dose, day))
        if rng.random() < 0.3:
            records.append(_record(person_id, "PPSV23", 1, date(2020 + rng.randrange(5), 6, 1)))
    VaccinationRecord.objects.bulk_create(records, batch_size=CHUNK)


def _record(person_id: int, vaccine: str, dose: int, day: date) -> VaccinationRecord:
    return VaccinationRecord(
        person_id=person_id,
        vaccine_id=vaccine,
        dose_number=dose,
        vaccinated_on=day,
        source=RecordSource.SYNTHETIC,
    )
