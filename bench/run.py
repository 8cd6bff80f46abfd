"""One database's benchmarks. Called by bench/__main__.py with DATABASE_URL unset; sets it itself."""

import argparse
import json
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench"
SIZES = {
    # name: (full, quick)
    "city": (100_000, 20_000),
    "moves": (10_000, 2_000),
    "asof_city": (1_000_000, 20_000),  # residents, each given 10 revisions
    "asof_queries": (300, 200),
    "vault": (1_000_000, 20_000),  # persons with a My Number
    "searches": (400, 200),
    "audit_requests": (1500, 600),
    "audit_log": (200_000, 30_000),
    "certificates": (500, 100),  # overseas vaccination certificates (PDF + SMART Health Card)
    "notices": (100_000, 20_000),  # extraction + print data (target: 100k in <= 30 s)
    "clinic_import": (100_000, 20_000),  # rows of one clinic file (upload + match + commit)
    "forecast_city": (1_000_000, 20_000),  # residents of the forecast's own city (sesshu.demo.forecast_city)
}

# The figures measured on the seeded city (the others make a database of their own).
CITY_FIGURES = (
    "seed_rate",
    "search",
    "audit_overhead_ratio",
    "audit_verify_rate",
    "moves_apply_rate",
    "certificate_rate",
)


def prepare_database(db: str, pg_url: str) -> None:
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        path = BENCH_VAR / "bench.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.environ["DATABASE_URL"] = f"sqlite:///{path}"
    else:
        import psycopg

        base, _, _ = pg_url.rpartition("/")
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS sesshu_bench")
            conn.execute("CREATE DATABASE sesshu_bench")
        os.environ["DATABASE_URL"] = f"{base}/sesshu_bench"


def emit(name: str, value: float, unit: str, n: int, db: str) -> None:
    print(json.dumps({"name": name, "value": round(value, 3), "unit": unit, "n": n, "db": db}), flush=True)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_seed(db: str, residents: int, emit_rate: bool = True) -> None:
    from sesshu.audit.context import acting_as
    from sesshu.demo.synthetic import build_city

    started = time.perf_counter()
    with acting_as(username="bench", route="bench:seed"):
        build_city(residents=residents, seed=1, as_of=date(2026, 4, 1))
    if emit_rate:
        emit("seed_rate", residents / (time.perf_counter() - started), "residents/s", residents, db)


def _clerk_client():
    from django.test import Client

    from sesshu.accounts.models import Staff
    from sesshu.accounts.roles import assign_role

    clerk, created = Staff.objects.get_or_create(username="bench_clerk")
    if created:
        assign_role(clerk, "clerk")
    client = Client()
    client.force_login(clerk)
    return client


def _search_queries(count: int) -> list[dict]:
    """Realistic searches: family names in kana and kanji, full names, birth dates, address fragments."""
    import random

    from sesshu.addressee.models import Person

    rng = random.Random(7)
    sample = list(
        Person.objects.order_by("id").values_list(
            "family_name", "family_name_kana", "given_name_kana", "birth_date", "address"
        )[:: max(1, Person.objects.count() // 500)]
    )
    queries = []
    for i in range(count):
        family, family_kana, given_kana, birth, address = rng.choice(sample)
        kind = i % 4
        if kind == 0:
            queries.append({"name": family_kana})
        elif kind == 1:
            queries.append({"name": family, "birth_date": birth.isoformat()})
        elif kind == 2:
            queries.append({"name": f"{family_kana} {given_kana}"})
        else:
            queries.append({"address": address[-12:-4] or address})
    return queries


def bench_search(db: str, residents: int, count: int) -> None:
    client = _clerk_client()
    timings = []
    for params in _search_queries(count):
        started = time.perf_counter()
        response = client.get("/persons/", params)
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
    emit("search_p50_ms", statistics.median(timings), "ms", residents, db)
    emit("search_p95_ms", percentile(timings, 0.95), "ms", residents, db)


def bench_audit_overhead(db: str, count: int) -> None:
    """Person-page requests per second without the audit write, divided by with it."""
    from sesshu.addressee.models import Person

    client = _clerk_client()
    ids = list(Person.objects.order_by("id").values_list("id", flat=True)[:count])

    def throughput() -> float:
        started = time.perf_counter()
        for person_id in ids:
            assert client.get(f"/persons/{person_id}/").status_code == 200
        return len(ids) / (time.perf_counter() - started)

    throughput()  # warm caches
    with_audit = throughput()
    with mock.patch("sesshu.audit.services._append_event", lambda values: None):
        without_audit = throughput()
    emit("audit_overhead_ratio", without_audit / with_audit, "ratio", len(ids), db)


def bench_audit_verify(db: str, events: int) -> None:
    from sesshu.audit.context import acting_as
    from sesshu.audit.models import Action, AuditEvent
    from sesshu.audit.services import record, verify_chain

    missing = events - AuditEvent.objects.count()
    with acting_as(username="bench", route="bench:audit"):
        for i in range(max(0, missing)):
            record(Action.SEARCH, purpose="bench", subjects=[i], criteria={"name": "タナカ"}, result_count=i)
    total = AuditEvent.objects.count()
    started = time.perf_counter()
    result = verify_chain()
    elapsed = time.perf_counter() - started
    assert result.ok, str(result)
    emit("audit_verify_rate", total / elapsed, "events/s", total, db)


def bench_moves(db: str, count: int) -> None:
    """Confirm a batch of pending moves (転居 of whole households), events and consumers included."""
    from datetime import timedelta

    from django.utils import timezone

    from sesshu.accounts.models import Staff
    from sesshu.accounts.roles import assign_role
    from sesshu.audit.context import acting_as
    from sesshu.residents.models import Resident
    from sesshu.residents.moves import confirm_moves, submit_move
    from sesshu.residents.outbox import lag

    author, _ = Staff.objects.get_or_create(username="bench_author")
    reviewer, _ = Staff.objects.get_or_create(username="bench_reviewer")
    for staff in (author, reviewer):
        assign_role(staff, "register")
    day = timezone.localdate() - timedelta(days=1)
    run_tag = int(time.time()) % 100000  # a new address every run, so a rerun on the same data still moves
    singles = (
        Resident.objects.filter(status="resident", is_head=True)
        .exclude(household__members__is_head=False)
        .order_by("id")
        .values_list("resident_number", flat=True)[:count]
    )
    with acting_as(author, route="bench:moves"):
        pending = [
            submit_move(
                "move_within",
                {"resident_numbers": [number], "address": f"東和県桜ヶ丘市ベンチ町{i}番{run_tag}号",
                 "effective_on": day.isoformat(), "notified_on": day.isoformat()},
                author=author,
            ).pk
            for i, number in enumerate(singles)
        ]  # fmt: skip
    assert len(pending) == count, f"the city has only {len(pending)} single-person households"
    started = time.perf_counter()
    with acting_as(reviewer, route="bench:moves"):
        result = confirm_moves(pending, reviewer=reviewer)
    elapsed = time.perf_counter() - started
    assert not result.refused, list(result.refused.items())[:3]
    assert not any(lag().values()), lag()  # the consumers' work is in the figure: none left behind
    emit("moves_apply_rate", len(pending) / elapsed, "moves/s", len(pending), db)


def bench_asof(db: str, residents: int, queries: int) -> None:
    """As-of reads of one household at random past dates, with every resident given 10 revisions."""
    import random
    from datetime import timedelta

    from django.db import connection

    from sesshu.residents.history import household_as_of
    from sesshu.residents.models import Household, ResidentRevision

    # Nine more revisions per resident, each a year apart going back, written in SQL (no Python per row).
    table = ResidentRevision._meta.db_table
    columns = [f.column for f in ResidentRevision._meta.concrete_fields if f.column not in {"id"}]
    select = ", ".join(
        "seq + %s" if c == "seq" else (_date_shift(connection, c) if c == "valid_from" else c)
        for c in columns
    )
    with connection.cursor() as cursor:
        for k in range(1, 10):
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {table} WHERE seq = 1",  # noqa: S608
                [k * 10, -365 * k],
            )
    total = ResidentRevision.objects.count()
    rng = random.Random(3)
    ids = list(Household.objects.order_by("id").values_list("id", flat=True))
    timings = []
    from datetime import date as _date

    for _ in range(queries):
        household = Household(pk=rng.choice(ids))
        day = _date(2026, 4, 1) - timedelta(days=rng.randrange(0, 3650))
        started = time.perf_counter()
        household_as_of(household, day)
        timings.append((time.perf_counter() - started) * 1000)
    emit("asof_household_p95_ms", percentile(timings, 0.95), "ms", residents, db)
    emit("asof_revisions", total, "rows", residents, db)


def bench_certificates(db: str, count: int) -> None:
    """Overseas 接種証明書 issued one after another, as a batch reissue would: records read, the card
    signed (ES256), the PDF drawn with its QR code, the register row and the audit event written."""
    from sesshu.accounts.models import Staff
    from sesshu.accounts.roles import assign_role
    from sesshu.audit.context import acting_as
    from sesshu.immunization.certificates.services import issue_vaccination_certificate
    from sesshu.immunization.models import VaccinationRecord

    clerk, created = Staff.objects.get_or_create(username="bench_certificates")
    if created:
        assign_role(clerk, "clerk")
    persons: dict[int, list[int]] = {}
    for person_id, record_id in (
        VaccinationRecord.objects.order_by("person_id", "id").values_list("person_id", "id").iterator()
    ):
        if len(persons) >= count and person_id not in persons:
            break
        doses = persons.setdefault(person_id, [])
        if len(doses) < 6:  # a typical certificate: up to six doses (one QR code holds about twenty)
            doses.append(record_id)
    passport = {"family_name_latin": "BENCH", "given_name_latin": "TARO", "nationality": "JPN",
                "passport_number": "TZ1234567"}  # fmt: skip
    started = time.perf_counter()
    with acting_as(clerk, route="bench:certificates"):
        for person_id, record_ids in persons.items():
            issue_vaccination_certificate(
                person_id, "overseas", passport_data=passport, record_ids=record_ids, issued_by=clerk
            )
    rate = len(persons) / (time.perf_counter() - started)
    emit("certificate_rate", rate, "certificates/s", len(persons), db)


def bench_forecast(db: str, persons: int) -> None:
    """Forecast every resident of a city of ``persons`` (sesshu.demo.forecast_city: the synthetic city's
    ages and vaccination histories, without the rest of the register), reads included, over both cores
    (split by birth date); n = persons."""
    from sesshu.demo.forecast_city import make_forecast_city
    from sesshu.immunization.forecast_service import forecast_city_summary

    make_forecast_city(persons, seed=1, as_of=date(2026, 4, 1))
    started = time.perf_counter()
    counts = forecast_city_summary(date(2026, 4, 1), workers=2)
    elapsed = time.perf_counter() - started
    emit("forecast_city_seconds", elapsed, "s", counts["persons"], db)
    emit("forecast_rate", counts["persons"] / elapsed, "persons/s", counts["persons"], db)


def bench_extraction(db: str, notices: int):
    """extraction_100k_seconds: a fiscal year's 高齢者インフルエンザ extraction (forecast of every
    resident, notices with ticket numbers, the run's audit event) plus the print-vendor CSV (CP932)."""
    from sesshu.audit.context import acting_as
    from sesshu.immunization.extraction import fiscal_year, run_batch, start_batch
    from sesshu.immunization.notices.bench import make_elders
    from sesshu.immunization.notices.services import export_csv

    make_elders(notices)
    with acting_as(username="bench", route="bench:extraction"):
        started = time.perf_counter()
        run = run_batch(start_batch("notice", fiscal_year(2026), ["Flu"], as_of=date(2026, 4, 1)).pk)
        printed = export_csv(run.batch, "cp932")
        elapsed = time.perf_counter() - started
    assert run.written == printed.rows == notices, (run.written, printed.rows)
    emit("extraction_100k_seconds", elapsed, "s", notices, db)
    return run.batch


def bench_notice_pdf(db: str, batch) -> None:
    """notice_pdf_pages_per_s: one PDF file of the batch (500 notices, 1,000 A4 pages with QR codes)."""
    from sesshu.audit.context import acting_as
    from sesshu.immunization.notices.services import export_pdf

    with acting_as(username="bench", route="bench:notice_pdf"):
        started = time.perf_counter()
        rendered = export_pdf(batch, 1)
        elapsed = time.perf_counter() - started
    emit("notice_pdf_pages_per_s", rendered.pages / elapsed, "pages/s", rendered.pages, db)


def bench_clinic_import(db: str, rows: int) -> None:
    """clinic_import_rate (rows/s) of a realistic clinic file (every column of the layout, matched by
    ticket number or the 5情報, a few rows in doubt), validation and matching included, and on
    PostgreSQL clinic_import_copy_ratio: that rate over a plain COPY of the same bytes in the same run."""
    from sesshu.immunization.clinic_import.bench import bench

    for row in bench(rows, db):
        print(json.dumps(row), flush=True)


def _date_shift(connection, column: str) -> str:
    if connection.vendor == "postgresql":
        return f"{column} + (%s * INTERVAL '1 day')"
    return f"date({column}, %s || ' days')"


def fresh_database(args) -> None:
    import django.db
    from django.core.management import call_command

    # Connections closed first: PostgreSQL will not drop a database in use. The name stays the same.
    django.db.connections.close_all()
    prepare_database(args.db, args.pg_url)
    call_command("migrate", verbosity=0)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append")
    # The figures measured in a database of their own (the vault, as-of, forecast, clinic import,
    # extraction) do not need the city: --no-city skips its seed (minutes at full size).
    parser.add_argument("--no-city", action="store_true", help="skip the city seed (only with --only)")
    args = parser.parse_args()
    if args.no_city and (
        not args.only or any(n.startswith(c) or c.startswith(n) for n in args.only for c in CITY_FIGURES)
    ):
        parser.error(f"--no-city: name with --only figures other than {', '.join(CITY_FIGURES)}")
    size = {name: sizes[1 if args.quick else 0] for name, sizes in SIZES.items()}

    prepare_database(args.db, args.pg_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the in-process test client

    call_command("migrate", verbosity=0)
    wanted = set(
        args.only
        or [
            "seed_rate",
            "search",
            "audit_overhead_ratio",
            "audit_verify_rate",
            "moves_apply_rate",
            "mynumber_lookup_p95_ms",
            "key_rotation_rate",
            "asof_household_p95_ms",
            "forecast_city_seconds",
            "certificate_rate",
            "extraction_100k_seconds",
            "notice_pdf_pages_per_s",
            "clinic_import_rate",
        ]
    )

    def want(name: str) -> bool:
        return any(name.startswith(w) or w.startswith(name) for w in wanted)

    if not args.no_city:
        bench_seed(args.db, size["city"])  # every other figure needs the city
    if want("search"):
        bench_search(args.db, size["city"], size["searches"])
    if want("audit_overhead_ratio"):
        bench_audit_overhead(args.db, size["audit_requests"])
    if want("audit_verify_rate"):
        bench_audit_verify(args.db, size["audit_log"])
    if want("moves_apply_rate"):
        bench_moves(args.db, size["moves"])
    if want("certificate_rate"):
        bench_certificates(args.db, size["certificates"])
    if want("mynumber_lookup_p95_ms") or want("key_rotation_rate"):
        from sesshu.addressee.vault_bench import bench as vault_bench

        # A database of its own: the vault benchmark makes its persons and their numbers itself.
        fresh_database(args)
        for row in vault_bench(size["vault"], args.db):
            print(json.dumps(row), flush=True)
    if want("asof_household_p95_ms"):
        # A city of its own: the as-of figure is asked for at 1M residents with 10 revisions each.
        fresh_database(args)
        bench_seed(args.db, size["asof_city"], emit_rate=False)
        bench_asof(args.db, size["asof_city"], size["asof_queries"])
    if want("forecast_city_seconds") or want("forecast_rate"):
        # A city of its own: the figure is asked for at 1M residents (n says how many).
        fresh_database(args)
        bench_forecast(args.db, size["forecast_city"])
    if want("clinic_import_rate") or want("clinic_import_copy_ratio"):
        # A database of its own: n children, each with one row of the file.
        fresh_database(args)
        bench_clinic_import(args.db, size["clinic_import"])
    if want("extraction_100k_seconds") or want("notice_pdf_pages_per_s"):
        # A database of its own: n residents aged 65-90, one 高齢者インフルエンザ notice each.
        fresh_database(args)
        batch = bench_extraction(args.db, size["notices"])
        if want("notice_pdf_pages_per_s"):
            bench_notice_pdf(args.db, batch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
