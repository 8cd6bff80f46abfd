"""Build the synthetic city 桜ヶ丘市: `sesshu seed --residents 20000 --seed 1 [--as-of 2025-04-01]`.

Rerunning with the same parameters does nothing. Other parameters while a city exists are refused
unless --replace is given, which deletes the city (not the audit log) and builds the new one. All of
it happens in one transaction: a failure leaves the database as it was.
"""

import argparse
import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from sesshu.audit.context import acting_as
from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.demo.masters import ensure_masters
from sesshu.demo.models import SeedRun
from sesshu.demo.synthetic import CITY, MAX_RESIDENTS, PREFECTURE, build_city, current_run, delete_city

PURPOSE_CREATE = "合成データ作成 (synthetic city)"
PURPOSE_DELETE = "合成データ削除 (synthetic city replaced)"


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"YYYY-MM-DD で指定してください / use YYYY-MM-DD: {text!r}") from exc


class Command(BaseCommand):
    help = (
        "Build the synthetic city (fictional residents, households and vaccination records) for demos and "
        "tests. The same --residents, --seed and --as-of always build the same city."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--residents", type=int, default=20000, help="number of residents (default 20000)"
        )
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        parser.add_argument(
            "--as-of",
            type=iso_date,
            default=None,
            help="the city's 'today', YYYY-MM-DD (default: today; an existing city built with the same "
            "residents and seed counts as the same city)",
        )
        parser.add_argument("--replace", action="store_true", help="delete an existing synthetic city first")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(
        self,
        *args,
        residents: int,
        seed: int,
        as_of: date | None,
        replace: bool,
        no_progress: bool,
        **options,
    ):
        if not 1 <= residents <= MAX_RESIDENTS:
            raise CommandError(
                f"--residents は 1〜{MAX_RESIDENTS} / --residents must be 1 to {MAX_RESIDENTS}"
            )
        if seed < 0:
            raise CommandError("--seed は 0 以上 / --seed must be 0 or more")
        started = time.monotonic()
        with acting_as(username="seed", route="cli:seed"), transaction.atomic():
            existing = current_run()
            if existing is not None and not replace:
                if _same_city(existing, residents, seed, as_of):
                    ensure_masters(existing.as_of)  # a city seeded before the masters existed gets them
                    self.stdout.write(f"already seeded: {existing.residents} residents, seed {existing.seed}")
                    return
                raise CommandError(_refusal(existing, residents, seed, as_of))
            if existing is not None:
                deleted = delete_city()
                record(
                    Action.DELETE,
                    purpose=PURPOSE_DELETE,
                    object_type="synthetic_city",
                    result_count=deleted.get("persons", 0),
                    detail={"counts": deleted, **_params(existing)},
                )
            as_of = as_of or timezone.localdate()
            with tqdm(total=residents, file=sys.stderr, disable=no_progress, unit="人", desc=CITY) as bar:
                counts = build_city(residents, seed, as_of, progress=bar.update)
            # One event for the whole build, not one per person: the people are invented, and a
            # 20,000-event burst would bury the log's real access events. The counts say what was made.
            record(
                Action.CREATE,
                purpose=PURPOSE_CREATE,
                object_type="synthetic_city",
                result_count=counts["persons"],
                detail={"counts": counts, "residents": residents, "seed": seed, "as_of": as_of.isoformat()},
            )
        self.stdout.write(
            f"{PREFECTURE}{CITY}: {counts['residents']} residents in {counts['households']} households, "
            f"{counts['vaccination_records']} vaccination records (seed {seed}, as of {as_of}) "
            f"in {time.monotonic() - started:.1f} s"
        )


def _same_city(run: SeedRun, residents: int, seed: int, as_of: date | None) -> bool:
    """Same parameters; without --as-of, the existing city's own date is taken (so a rerun another day
    — `make demo` tomorrow — is still a no-op rather than a refusal)."""
    return run.residents == residents and run.seed == seed and (as_of is None or run.as_of == as_of)


def _params(run: SeedRun) -> dict:
    return {"residents": run.residents, "seed": run.seed, "as_of": run.as_of.isoformat()}


def _refusal(run: SeedRun, residents: int, seed: int, as_of: date | None) -> str:
    wanted = f"--residents {residents} --seed {seed}" + (f" --as-of {as_of}" if as_of else "")
    return (
        f"合成データの街が既にあります（住民 {run.residents} 人、seed {run.seed}、基準日 {run.as_of}）。"
        f"{wanted} で作り直すには --replace を付けてください"
        "（合成データは削除されます。監査ログは残ります）。\n"
        f"A synthetic city already exists ({run.residents} residents, seed {run.seed}, as of {run.as_of}). "
        f"To rebuild it with {wanted}, add --replace (its data is deleted; the audit log is kept)."
    )
