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
    "searches": (400, 200),
    "audit_requests": (1500, 600),
    "audit_log": (200_000, 30_000),
}


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


def bench_seed(db: str, residents: int) -> None:
    from sesshu.audit.context import acting_as
    from sesshu.demo.synthetic import build_city

    started = time.perf_counter()
    with acting_as(username="bench", route="bench:seed"):
        build_city(residents=residents, seed=1, as_of=date(2026, 4, 1))
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


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    size = {name: sizes[1 if args.quick else 0] for name, sizes in SIZES.items()}

    prepare_database(args.db, args.pg_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the in-process test client

    call_command("migrate", verbosity=0)
    wanted = set(args.only or ["seed_rate", "search", "audit_overhead_ratio", "audit_verify_rate"])

    def want(name: str) -> bool:
        return any(name.startswith(w) or w.startswith(name) for w in wanted)

    bench_seed(args.db, size["city"])  # every other figure needs the city
    if want("search"):
        bench_search(args.db, size["city"], size["searches"])
    if want("audit_overhead_ratio"):
        bench_audit_overhead(args.db, size["audit_requests"])
    if want("audit_verify_rate"):
        bench_audit_verify(args.db, size["audit_log"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
