"""`sesshu forecast --input FILE` (or stdin): the schedule forecast, JSON in and JSON out.

Input: {"birth_date", "sex", "as_of", "history": [{"vaccine", "date"}]}; output as POST /api/v1/forecast.
Bad input: the problems in Japanese and English on stderr, exit status 2. Nothing is stored or logged:
the input names nobody.
"""

import json
import sys

from django.core.management.base import BaseCommand

from sesshu.core.problems import ProblemList
from sesshu.immunization.schedule.io import forecast_json


class Command(BaseCommand):
    help = "Forecast the routine schedule for a birth date, sex and history given as JSON (stdin or --input)."

    def add_arguments(self, parser):
        parser.add_argument("--input", default="-", help="a JSON file (default: stdin)")

    def handle(self, *args, input: str, **options):
        try:
            raw = sys.stdin.buffer.read() if input == "-" else open(input, "rb").read()
        except OSError as exc:
            self._fail(
                [
                    f"入力ファイルを読めません: {input} ({exc.strerror})",
                    f"Cannot read the input file: {input} ({exc.strerror})",
                ]
            )
        try:
            fc = forecast_json(raw)
        except ProblemList as exc:
            lines = []
            for p in exc.problems:
                lines += [f"{p.field or '-'}: {p.ja}", f"{p.field or '-'}: {p.en}"]
            self._fail(lines)
        self.stdout.write(json.dumps(fc.as_json(), ensure_ascii=False, indent=2))

    def _fail(self, lines: list[str]):
        for line in lines:
            self.stderr.write(line)
        sys.exit(2)
