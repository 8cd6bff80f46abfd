"""Benchmark of the clinic file import (called from bench/run.py; never from the product).

``bench(n, db)`` writes n children straight into the addressee table (each with an earlier dose in
the register, half of them with a notice and its ticket number), and a clinic file of n rows as a
city's compiled monthly export looks: every column of the layout (ticket number for about half the
rows, kana and kanji name, birth date, sex, address, vaccine, dose, date, lot, volume, clinic code of
one of 40 clinics, doctors, 法定区分, 公費, 委託料, a few 予診のみ rows and remarks). About 98% of the
rows match (by ticket number or by the 5情報), 1% have a kana typo and 1% two persons with the same
kana and birth date (in doubt), 0.2% are doses already in the register (duplicates).

It times upload (read, check, match, keep the rows) plus commit (the records written):
``clinic_import_rate`` in rows of the file per second. On PostgreSQL the same bytes are also COPYed
into an unindexed temporary table (one text column per file column) in the same run, five times, and
``clinic_import_copy_ratio`` is the import rate divided by the median COPY rate.

Each step (upload, commit) is also reported by its wall time and the CPU time spent in it by this
process and, on PostgreSQL, by the connection's backend; ``clinic_import_copy_ratio_ceiling`` is the
ratio that work would give at best on this machine (``_shortest``): what overlapping the work could
still gain, and what only less work can.
"""

import csv
import io
import os
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from django.db import connection
from django.utils import timezone

from sesshu.accounts.models import Staff
from sesshu.accounts.roles import assign_role
from sesshu.addressee.models import Person, PersonKind, PersonStatus
from sesshu.audit.context import acting_as

from ..models import (
    Clinic,
    ClinicFee,
    ExtractionBatch,
    ExtractionRun,
    Lot,
    Maker,
    Notice,
    Product,
    RecordSource,
    VaccinationRecord,
)
from ..notices.tickets import format_ticket_number, make_ticket_number
from . import bulk, services
from .layout import COLUMNS

KANA = "アイウエオカキクケコ"
KANJI = "〇一二三四五六七八九"
HEADER = [c.ja for c in COLUMNS]
# (vaccine, dose in the file, fee): the doses of a month of routine childhood vaccination.
DOSES = [("JE", 1, 8250), ("JE", 2, 8250), ("MR", 2, 11000), ("VAR", 2, 9400), ("DT", 1, 5800)]
CLINICS = 40
FAMILIES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤"]
STREETS = ["緑町", "桜台", "本町", "旭町", "栄町", "若葉", "青葉台", "東町"]


def _kana(i: int) -> tuple[str, str]:
    """(family kana, given kana): unique per child (the digits of i as kana)."""
    return "シケン", "".join(KANA[int(d)] for d in str(i))


def _kanji(i: int) -> tuple[str, str]:
    return FAMILIES[i % len(FAMILIES)], "".join(KANJI[int(d)] for d in str(i))


def _birth(i: int) -> date:
    return date(2016, 4, 2) + timedelta(days=i % 2500)


def _address(i: int) -> str:
    return f"東和県桜ヶ丘市{STREETS[i % len(STREETS)]}{1 + i % 9}丁目{1 + i % 30}番{1 + i % 20}号"


def _person(i: int, twin: bool = False) -> Person:
    family_kana, given_kana = _kana(i)
    family, given = _kanji(i)
    if twin:  # another child with the same kana and birth date (同姓同名・同生年月日)
        family, given = "別所", given + "郎"
    return Person(
        integrated_number=f"{8 if twin else 7}{i:014d}",
        kind=PersonKind.RESIDENT,
        status=PersonStatus.RESIDENT,
        family_name=family,
        given_name=given,
        family_name_kana=family_kana,
        given_name_kana=given_kana,
        birth_date=_birth(i),
        sex="MF"[i % 2],
        address=_address(i + twin),
        kana_key=family_kana + given_kana,
        given_kana_key=given_kana,
        kanji_key=family + given,
        given_kanji_key=given,
    )


def make_children(n: int) -> list[int]:
    """n children (and a namesake for 1 in 100); their ids in order."""
    batch = []
    for i in range(n):
        batch.append(_person(i))
        if i % 100 == 99:
            batch.append(_person(i, twin=True))
        if len(batch) >= 5000:
            Person.objects.bulk_create(batch)
            batch = []
    Person.objects.bulk_create(batch)
    ids = dict(
        Person.objects.filter(integrated_number__startswith="7").values_list("integrated_number", "pk")
    )
    return [ids[f"7{i:014d}"] for i in range(n)]


def _dose(i: int) -> tuple[str, int, int]:
    return DOSES[i % len(DOSES)]


def _day(i: int) -> date:
    return date(2025, 4, 1) + timedelta(days=i % 30)


def _lot(i: int) -> str:
    vaccine, _, _ = _dose(i)
    return f"{vaccine[:2]}{'AB'[i // 7 % 2]}{2501 + i % 3}"


def make_register(ids: list[int], clerk) -> None:
    """Notices with ticket numbers for half the children, and an earlier dose for every child
    (1 in 500: the very dose of the file, entered by hand before the file came: a duplicate)."""
    batch = ExtractionBatch.objects.create(
        purpose="notice",
        period_kind="fiscal_year",
        period_start=date(2025, 4, 1),
        period_end=date(2026, 3, 31),
        key="bench_clinic_import",
        series=["JE-1"],
    )
    run = ExtractionRun.objects.create(batch=batch, number=1, as_of=date(2025, 4, 1))
    now = timezone.now()
    notices = []
    for i, pk in enumerate(ids):
        if _has_ticket(i):
            notices.append(
                {
                    "batch_id": batch.pk,
                    "run_id": run.pk,
                    "person_id": pk,
                    "kind": "notice",
                    "series": "JE-1",
                    "dose_number": 1,
                    "ticket_number": make_ticket_number(1 + i),
                    "age": 5,
                    "mail_to": "resident",
                    "addressee_name": "".join(_kanji(i)),
                    "issued_at": now,
                }
            )
    bulk.insert(Notice, notices)
    records = []
    for i, pk in enumerate(ids):
        vaccine, dose, _ = _dose(i)
        same = i % 500 == 3
        records.append(
            {
                "person_id": pk,
                "vaccine_id": vaccine if same else "HepB",
                "dose_number": dose if same else 1,
                "vaccinated_on": _day(i) if same else _birth(i) + timedelta(days=60),
                "lot_number": _lot(i) if same else "",
                "source": RecordSource.MANUAL if same else RecordSource.MIGRATION,
                "registered_by_id": clerk.pk,
            }
        )
    bulk.insert(VaccinationRecord, records)


def _has_ticket(i: int) -> bool:
    return i % 100 < 55


def clinic_file(n: int, clinics: list[Clinic]) -> tuple[bytes, int]:
    """The file's bytes (UTF-8 with BOM, as a spreadsheet saves it) and how many rows will be imported."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    imported = 0
    for i in range(n):
        family_kana, given_kana = _kana(i)
        family, given = _kanji(i)
        vaccine, dose, fee = _dose(i)
        clinic = clinics[i % len(clinics)]
        screening = i % 250 == 7
        kind = i % 100
        if kind == 98:  # a typo in the kana: nobody has it
            given_kana = given_kana[:-1] + "ン"
        ticket = ""
        if _has_ticket(i):
            number = make_ticket_number(1 + i)
            ticket = format_ticket_number(number) if i % 3 else number
        imported += kind < 98 and i % 500 != 3
        writer.writerow(
            [
                ticket,
                f"{family_kana}\u3000{given_kana}",
                f"{family} {given}",
                f"{_birth(i):%Y/%m/%d}",
                "男女"[i % 2],
                _address(i),
                vaccine,
                str(dose),
                f"{_day(i):%Y/%m/%d}",
                "" if screening else _lot(i),
                "" if screening else "0.5",
                clinic.code,
                "" if screening else f"医師{i % len(clinics)} 一郎",
                f"医師{i % len(clinics)} 一郎",
                "定期",
                "公費",
                "3000" if screening else str(fee),
                "○" if screening else "",
                "37.5℃の発熱" if screening else "",
                "接種後30分観察、異常なし" if i % 20 == 0 else "",
            ]
        )
    return out.getvalue().encode("utf-8"), imported


def make_masters() -> list[Clinic]:
    maker = Maker.objects.create(code="BENCH", name="ベンチ製薬")
    for vaccine in sorted({v for v, _, _ in DOSES}):
        product = Product.objects.create(
            vaccine_id=vaccine,
            maker=maker,
            code=f"P-BENCH-{vaccine}",
            name=f"ベンチ{vaccine}",
            standard_volume_ml=Decimal("0.5"),
        )
        for letter in "AB":
            for serial in range(2501, 2504):
                Lot.objects.create(
                    product=product, lot_number=f"{vaccine[:2]}{letter}{serial}", expires_on=date(2027, 3, 31)
                )
    clinics = [
        Clinic.objects.create(code=f"31{k:08d}", name=f"ベンチ医院{k}", contract_from=date(2000, 4, 1))
        for k in range(CLINICS)
    ]
    ClinicFee.objects.bulk_create(
        ClinicFee(clinic=clinic, vaccine_id=vaccine, dose_number=0, fee_yen=fee, valid_from=date(2000, 4, 1))
        for clinic in clinics
        for vaccine, fee in sorted({(v, f) for v, _, f in DOSES})
    )
    return clinics


def bench(n: int, db: str) -> list[dict]:
    clerk, created = Staff.objects.get_or_create(username="bench_clinic_import")
    if created:
        assign_role(clerk, "clerk")
    clinics = make_masters()
    make_register(make_children(n), clerk)
    if connection.vendor == "postgresql":
        # As autovacuum leaves a city's database in service (statistics, visibility map): otherwise the
        # import is timed against tables PostgreSQL has never seen, as for the forecast.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE)")
    data, expected = clinic_file(n, clinics)

    server = _ServerCpu()
    clock = [(time.perf_counter(), time.process_time(), server.seconds())]
    with acting_as(clerk, route="bench:clinic_import"):
        source = services.upload(data, "bench.csv", clinic=None, billing_month=date(2025, 4, 1), actor=clerk)
        clock.append((time.perf_counter(), time.process_time(), server.seconds()))
        result = services.commit(source.pk, actor=clerk)
    clock.append((time.perf_counter(), time.process_time(), server.seconds()))
    imported = VaccinationRecord.objects.filter(source_file=source).count()
    assert result.imported == expected == imported, (result, expected, imported)
    rate = n / (clock[-1][0] - clock[0][0])

    def figure(name: str, value: float, unit: str) -> dict:
        return {"name": name, "value": round(value, 4), "unit": unit, "n": n, "db": db}

    out = [figure("clinic_import_rate", rate, "rows/s")]
    # Each step's wall time and the CPU time spent in it by this process and by its PostgreSQL backend.
    steps = []
    for step, before, after in (("upload", clock[0], clock[1]), ("commit", clock[1], clock[2])):
        out.append(figure(f"clinic_import_{step}_seconds", after[0] - before[0], "s"))
        out.append(figure(f"clinic_import_{step}_python_cpu_seconds", after[1] - before[1], "s"))
        if after[2] is not None and before[2] is not None:
            steps.append((after[1] - before[1], after[2] - before[2]))
            out.append(figure(f"clinic_import_{step}_postgresql_cpu_seconds", steps[-1][1], "s"))
    if connection.vendor == "postgresql":
        copy_rate = _copy_rate(data, n)
        out.append(figure("clinic_import_copy_rate", copy_rate, "rows/s"))
        out.append(figure("clinic_import_copy_ratio", rate / copy_rate, "ratio"))
        if len(steps) == 2:
            out.append(figure("clinic_import_copy_ratio_ceiling", n / _shortest(steps) / copy_rate, "ratio"))
    return out


def _shortest(steps: list[tuple[float, float]]) -> float:
    """The least wall time the steps' work could take on this machine: each step's CPU seconds (this
    process's, its backend's) spread perfectly over every core, but never less than the backend's
    own (one backend runs one transaction's statements one after another); the steps one after the
    other (the commit is the clerk's next request). No overlapping of the work can beat it, only
    doing less work."""
    cores = os.cpu_count() or 1
    return sum(max(backend, (python + backend) / cores) for python, backend in steps)


class _ServerCpu:
    """CPU seconds spent so far by this connection's PostgreSQL backend, read from the
    backend's /proc entry (the server is on this machine, on loopback); None where it cannot be read
    (SQLite, a server elsewhere, another system)."""

    def __init__(self):
        self.pid = None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                self.pid = cursor.fetchone()[0]

    def _read(self) -> float | None:
        if self.pid is None:
            return None
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        # utime and stime, fields 14 and 15 of proc(5): the 12th and 13th after the name's ")".
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def seconds(self) -> float | None:
        if self.pid is None:
            return None
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            if cursor.fetchone()[0] != self.pid:  # reconnected: another backend did part of the work
                return None
        return self._read()


def _copy_rate(data: bytes, n: int, times: int = 5) -> float:
    """A plain COPY of the same bytes into an unindexed temporary table (the floor of any import): the
    median rate of ``times`` COPYs. One COPY of 100,000 rows lasts a fifth of a second, and on this
    machine a single one ranged from 260,000 to 565,000 rows/s from run to run."""
    columns = ", ".join(f"c{i} text" for i in range(len(HEADER)))
    rates = []
    with connection.cursor() as cursor:
        for _ in range(times):
            cursor.execute(f"CREATE TEMPORARY TABLE clinic_copy_bench ({columns})")
            started = time.perf_counter()
            # The BOM is the first bytes of the header line, which COPY skips (HEADER true).
            with cursor.cursor.copy("COPY clinic_copy_bench FROM STDIN (FORMAT csv, HEADER true)") as copy:
                copy.write(data)
            rates.append(n / (time.perf_counter() - started))
            cursor.execute("SELECT count(*) FROM clinic_copy_bench")
            assert cursor.fetchone()[0] == n
            cursor.execute("DROP TABLE clinic_copy_bench")
    return statistics.median(rates)
