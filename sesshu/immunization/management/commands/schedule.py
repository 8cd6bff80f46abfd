"""`sesshu schedule check`: validate the schedule's rule files and the city's campaign files.

Prints every problem in Japanese and English and exits with status 2 when there is one; otherwise a
summary of what was read. `sesshu schedule list` prints the series and their rule versions.
`sesshu schedule compile` builds the compiled engine for the current sources (make setup runs it;
schedule/compiled.py), `sesshu schedule compiled` says whether this process runs it.
"""

import sys

from django.core.management.base import BaseCommand

from sesshu.core.problems import ProblemList
from sesshu.immunization.schedule.campaigns import campaign_dirs, load_campaigns
from sesshu.immunization.schedule.rules import DATA_DIR, load_series


class Command(BaseCommand):
    help = "Check (or list) the schedule's rule files and the campaign files."

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["check", "list", "compile", "compiled"])
        parser.add_argument(
            "--rules-dir", default=None, help="rule files to check (default: the shipped ones)"
        )
        parser.add_argument(
            "--campaigns-dir", action="append", default=None, help="campaign directories to check"
        )

    def handle(self, *args, operation: str, rules_dir, campaigns_dir, **options):
        from pathlib import Path

        if operation in ("compile", "compiled"):
            return self._compiled(operation)

        problems = []
        series, found = [], []
        try:
            series = load_series(Path(rules_dir) if rules_dir else DATA_DIR)
        except ProblemList as exc:
            problems += exc.problems
        dirs = [Path(d) for d in campaigns_dir] if campaigns_dir else campaign_dirs()
        try:
            found = load_campaigns(dirs)
        except ProblemList as exc:
            problems += exc.problems
        if problems:
            for p in problems:
                self.stderr.write(f"NG {p.ja}")
                self.stderr.write(f"   {p.en}")
            sys.exit(2)
        if operation == "list":
            for s in series:
                self.stdout.write(f"{s.code}\t{s.category}\t{s.name_ja} / {s.name_en}")
                for r in s.rules:
                    self.stdout.write(f"    {r.valid_from.isoformat()}  {r.source}")
            for c in found:
                self.stdout.write(f"{c.code}\t{c.kind}\t{c.starts}..{c.ends}\t{c.name_ja} ({c.file})")
        rules = sum(len(s.rules) for s in series)
        self.stdout.write(
            f"OK: {len(series)} series, {rules} rule versions, {len(found)} campaigns "
            f"({', '.join(str(d) for d in dirs)}) / 規則とキャンペーンの定義に問題はありません。"
        )

    def _compiled(self, operation: str) -> None:
        from sesshu.immunization.schedule import compiled

        if operation == "compile":
            try:
                target = compiled.build()
            except RuntimeError as exc:
                self.stderr.write(f"NG エンジンをコンパイルできません / the engine did not compile: {exc}")
                sys.exit(2)
            self.stdout.write(f"OK: {target} / 予定判定エンジンをコンパイルしました。")
        elif compiled.in_use():
            self.stdout.write(f"compiled: {compiled.build_dir()} / コンパイル済みのエンジンで動いています。")
        else:
            self.stdout.write(
                "python: Python 版のエンジンで動いています（現在のソースのコンパイル結果がないか、"
                "SESSHU_PURE_PYTHON）。 / the Python engine runs (no build for the current sources, "
                "or SESSHU_PURE_PYTHON is set)."
            )
