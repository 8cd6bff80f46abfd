"""Benchmark of the clinic file import (called from bench/run.py; never from the product).

``bench(n, db)`` writes n children straight into the addressee table, a clinic file of n rows (one
JE dose each, matched by the 5情報), and times upload (read, check, match, keep the rows) plus commit
(the records written): ``clinic_import_rate`` in rows/s. On PostgreSQL the same bytes are also COPYed
into an unindexed temporary table in the same run, and ``clinic_import_copy_ratio`` is the import rate
divided by the COPY rate.
"""

import csv
import io
import time
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection

from sesshu.accounts.models import Staff
from sesshu.accounts.roles import assign_role
from sesshu.addressee.models import Person, PersonKind, PersonStatus
from sesshu.audit.context import acting_as

from ..models import Clinic, ClinicFee, Lot, Maker, Product, VaccinationRecord
from . import services

KANA = "アイウエオカキクケコ"
HEADER = [
    "氏名カナ",
    "氏名",
    "生年月日",
    "性別",
    "住所",
    "ワクチンコード",
    "接種回",
    "接種日",
    "Lot",
    "委託料",
]


def _kana(i: int) -> str:
    return "シケン" + "".join(KANA[int(d)] for d in str(i))


def make_children(n: int) -> list[tuple[str, date]]:
    people = []
    batch = []
    for i in range(n):
        birth = date(2016, 1, 1) + timedelta(days=i % 2000)
        kana = _kana(i)
        batch.append(
            Person(
                integrated_number=f"7{i:014d}",
                kind=PersonKind.RESIDENT,
                status=PersonStatus.RESIDENT,
                family_name="試験",
                given_name=f"{i}",
                family_name_kana="シケン",
                given_name_kana=kana[3:],
                birth_date=birth,
                sex="MF"[i % 2],
                address=f"東和県桜ヶ丘市緑町{1 + i % 9}丁目{1 + i % 30}番{1 + i % 20}号",
                kana_key=kana,
                given_kana_key=kana[3:],
                kanji_key=f"試験{i}",
                given_kanji_key=f"{i}",
            )
        )
        people.append((kana, birth))
        if len(batch) == 5000:
            Person.objects.bulk_create(batch)
            batch = []
    Person.objects.bulk_create(batch)
    return people


def clinic_file(people: list[tuple[str, date]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for i, (kana, birth) in enumerate(people):
        day = birth + timedelta(days=3 * 365 + i % 300)
        writer.writerow(
            [
                kana,
                f"試験 {i}",
                birth.isoformat(),
                "男女"[i % 2],
                "緑町",
                "JE",
                "1",
                day.isoformat(),
                "BENCH1",
                "8250",
            ]
        )
    return out.getvalue().encode("utf-8")


def bench(n: int, db: str) -> list[dict]:
    maker = Maker.objects.create(code="BENCH", name="ベンチ")
    product = Product.objects.create(
        vaccine_id="JE", maker=maker, code="P-BENCH", name="ベンチJE", standard_volume_ml=Decimal("0.5")
    )
    Lot.objects.create(product=product, lot_number="BENCH1", expires_on=date(2099, 12, 31))
    clinic = Clinic.objects.create(code="9999999999", name="ベンチ医院", contract_from=date(2000, 4, 1))
    ClinicFee.objects.create(
        clinic=clinic, vaccine_id="JE", dose_number=0, fee_yen=8250, valid_from=date(2000, 4, 1)
    )
    clerk, created = Staff.objects.get_or_create(username="bench_clinic_import")
    if created:
        assign_role(clerk, "clerk")
    data = clinic_file(make_children(n))

    started = time.perf_counter()
    with acting_as(clerk, route="bench:clinic_import"):
        source = services.upload(
            data, "bench.csv", clinic=clinic, billing_month=date(2025, 4, 1), actor=clerk
        )
        result = services.commit(source.pk, actor=clerk)
    elapsed = time.perf_counter() - started
    assert result.imported == n == VaccinationRecord.objects.filter(source_file=source).count(), result
    rate = n / elapsed
    out = [{"name": "clinic_import_rate", "value": round(rate, 3), "unit": "rows/s", "n": n, "db": db}]
    if connection.vendor == "postgresql":
        copy_rate = _copy_rate(data, n)
        out.append(
            {
                "name": "clinic_import_copy_rate",
                "value": round(copy_rate, 3),
                "unit": "rows/s",
                "n": n,
                "db": db,
            }
        )
        out.append(
            {
                "name": "clinic_import_copy_ratio",
                "value": round(rate / copy_rate, 4),
                "unit": "ratio",
                "n": n,
                "db": db,
            }
        )
    return out


def _copy_rate(data: bytes, n: int) -> float:
    """A plain COPY of the same CSV into an unindexed temporary table (the floor of any import)."""
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE clinic_copy_bench ({columns})")
        started = time.perf_counter()
        with cursor.cursor.copy("COPY clinic_copy_bench FROM STDIN (FORMAT csv, HEADER true)") as copy:
            copy.write(data)
        elapsed = time.perf_counter() - started
        cursor.execute("SELECT count(*) FROM clinic_copy_bench")
        assert cursor.fetchone()[0] == n
        cursor.execute("DROP TABLE clinic_copy_bench")
    return n / elapsed
