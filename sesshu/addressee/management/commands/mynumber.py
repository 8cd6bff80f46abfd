"""Check My Numbers without storing anything: `sesshu mynumber check < numbers.txt`.

One number per line on standard input; one line out per line in: ``ok``, or the Problem's code and
its message in Japanese and English (never the number). Exit code 0 when every line is ok, 1 otherwise.

It touches no database and writes no audit event: checking the form of a number reveals nothing about
anyone, and the command must be usable on a machine that has no connection to the database at all.
"""

import sys

from django.core.management.base import BaseCommand

from sesshu.core.numbers import validate_mynumber
from sesshu.core.problems import Problem


class Command(BaseCommand):
    help = "`mynumber check`: read numbers one per line on stdin; print ok or the reason for each line."
    requires_system_checks = []  # no database, no keys: the check looks at the digits only
    stealth_options = ("stdin",)

    def add_arguments(self, parser):
        parser.add_argument("operation", choices=["check"])

    def handle(self, *args, operation: str, **options):
        stdin = options.get("stdin") or sys.stdin
        failures = 0
        for line in stdin:
            try:
                validate_mynumber(line.rstrip("\r\n"))
            except Problem as problem:
                failures += 1
                self.stdout.write(f"{problem.code}: {problem.ja} ({problem.en})")
            else:
                self.stdout.write("ok")
        self.stdout.flush()
        if failures:
            # SystemExit rather than CommandError: the reasons are already printed line by line, and
            # a summary on stderr must not be mistaken for one more line's answer.
            self.stderr.write(f"{failures} 件の誤り ({failures} invalid)")
            sys.exit(1)
