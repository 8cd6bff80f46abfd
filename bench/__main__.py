"""Run every benchmark on each database in its own process (a fresh database each), print JSON lines."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a few minutes)")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432/sesshu")
    parser.add_argument("--db", choices=["sqlite", "postgresql"], action="append", help="default: both")
    parser.add_argument("--only", action="append", help="run only these benchmark names")
    args = parser.parse_args()

    failures = 0
    for db in args.db or ["sqlite", "postgresql"]:
        command = [sys.executable, "-m", "bench.run", "--db", db, "--pg-url", args.pg_url]
        command += ["--quick"] if args.quick else []
        for name in args.only or []:
            command += ["--only", name]
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sesshu.settings.demo"}
        failures += subprocess.call(command, cwd=ROOT, env=env) != 0  # noqa: S603
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
