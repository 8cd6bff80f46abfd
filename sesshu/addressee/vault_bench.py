"""Benchmarks of the My Number vault (not tests): look-up by number, and data-key rotation.

    bench(n, db_label) -> [{"name", "value", "unit", "n", "db"}, ...]

- ``mynumber_store_rate`` (numbers/s): encrypting and inserting numbers in batches (the set-up; it tells
  how long loading a city's numbers takes).
- ``mynumber_lookup_p50_ms`` / ``mynumber_lookup_p95_ms``: ``find_person_by_number`` among n persons with
  a number (normalize, HMAC, one indexed query).
- ``key_rotation_rate`` (numbers/s): ``rotate_data_key`` over all n records, 1000 per transaction.

Runs against the configured database, which should be a scratch one: it adds persons when fewer than n
exist (non-residents named ベンチ, integrated numbers ``VB…``) and gives a number to each of the first
n persons that has none. The numbers are made from the person id and are valid in form only. When the
vault has no keys configured, keys are made under ``VAR_DIR/bench/keys`` for the run.

Standalone: ``DATABASE_URL=... DJANGO_SETTINGS_MODULE=sesshu.settings.demo \
python -m sesshu.addressee.vault_bench --n 100000 --db sqlite`` (migrates, then prints JSON lines).
"""

import argparse
import json
import random
import statistics
import time
from contextlib import ExitStack
from datetime import date

from django.conf import settings
from django.db import transaction
from django.test import override_settings

from sesshu.core.numbers import mynumber_check_digit

_MULTIPLIER = 7919  # prime, so coprime to 10**11: person id -> 11-digit body is one-to-one


def _number(person_id: int) -> str:
    body = f"{(person_id * _MULTIPLIER + 10_000_000_000) % 10**11:011d}"
    return body + str(mynumber_check_digit(body))


def _ensure_persons(n: int) -> None:
    from .models import Person, PersonKind, PersonStatus

    missing = n - Person.objects.count()
    if missing <= 0:
        return
    start = Person.objects.filter(integrated_number__startswith="VB").count()
    batch = []
    for i in range(start, start + missing):
        batch.append(
            Person(
                integrated_number=f"VB{i:013d}",
                kind=PersonKind.NON_RESIDENT,
                status=PersonStatus.NON_RESIDENT,
                family_name="ベンチ",
                given_name=f"{i}",
                family_name_kana="ベンチ",
                given_name_kana="テスト",
                birth_date=date(1980, 1, 1),
                sex="F",
                kana_key="ベンチテスト",
                given_kana_key="テスト",
                kanji_key="ベンチ",
                given_kanji_key=f"{i}",
            )
        )
        if len(batch) == 5000:
            with transaction.atomic():
                Person.objects.bulk_create(batch)
            batch = []
    if batch:
        with transaction.atomic():
            Person.objects.bulk_create(batch)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _keys_for_the_run(stack: ExitStack) -> None:
    from .keys import clear_caches, configured_master_ids, ensure_demo_keys

    if configured_master_ids() and getattr(settings, "SESSHU_BLIND_INDEX_KEY_FILE", ""):
        return
    made = ensure_demo_keys(settings.VAR_DIR / "bench")
    stack.enter_context(
        override_settings(
            SESSHU_MASTER_KEYS=made.master_keys,
            SESSHU_ACTIVE_MASTER_KEY=made.active_master_key,
            SESSHU_BLIND_INDEX_KEY_FILE=made.blind_index_key_file,
        )
    )
    stack.callback(clear_caches)


def bench(n: int, db_label: str, *, lookups: int = 1000, batch_size: int = 1000) -> list[dict]:
    from . import vault
    from .models import Person
    from .models_vault import MyNumberRecord

    def result(name: str, value: float, unit: str) -> dict:
        return {"name": name, "value": round(value, 3), "unit": unit, "n": n, "db": db_label}

    results = []
    with ExitStack() as stack:
        _keys_for_the_run(stack)
        _ensure_persons(n)
        ids = list(Person.objects.order_by("pk").values_list("pk", flat=True)[:n])
        have = set(MyNumberRecord.objects.filter(person_id__in=ids).values_list("person_id", flat=True))
        todo = [(pk, _number(pk)) for pk in ids if pk not in have]
        if todo:
            started = time.perf_counter()
            vault.store_numbers(todo, batch_size=batch_size)
            results.append(
                result("mynumber_store_rate", len(todo) / (time.perf_counter() - started), "numbers/s")
            )

        rng = random.Random(11)
        sample = [rng.choice(ids) for _ in range(lookups)]
        timings = []
        for pk in sample:
            started = time.perf_counter()
            found = vault.find_person_by_number(_number(pk))
            timings.append((time.perf_counter() - started) * 1000)
            if found is None or found.pk != pk:
                raise AssertionError(f"look-up of person #{pk}'s number found {found and found.pk}")
        results.append(result("mynumber_lookup_p50_ms", statistics.median(timings), "ms"))
        results.append(result("mynumber_lookup_p95_ms", _percentile(timings, 0.95), "ms"))

        total = MyNumberRecord.objects.count()
        started = time.perf_counter()
        rotation = vault.rotate_data_key(batch_size=batch_size)
        elapsed = time.perf_counter() - started
        if rotation.reencrypted != total or rotation.remaining:
            raise AssertionError(f"rotation re-encrypted {rotation.reencrypted} of {total}")
        results.append(result("key_rotation_rate", rotation.reencrypted / elapsed, "numbers/s"))
        for record in MyNumberRecord.objects.filter(person_id__in=sample[:100]).select_related("data_key"):
            if vault.decrypt_number(record) != _number(record.person_id):
                raise AssertionError(f"person #{record.person_id}'s number changed in the rotation")
        vault.retire_unused_keys()
    return results


def main() -> int:
    import django

    parser = argparse.ArgumentParser(prog="python -m sesshu.addressee.vault_bench")
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--db", required=True, help="label for the results, e.g. sqlite or postgresql")
    args = parser.parse_args()
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    for row in bench(args.n, args.db):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
