"""The register's batch work: the daily feed in and out, and the outbox's consumers.

    sesshu register import-feed FILE --source NAME [--operator NAME]
    sesshu register export-feed (--since-event N | --since-date YYYY-MM-DD) [--encoding cp932]
                                [--output FILE] [--operator NAME]
    sesshu register process-events [--operator NAME]

Each runs as the named operator (for the audit log). Errors are printed in Japanese and English and
end the command with a non-zero exit code.
"""

import argparse
import os
import sys
import unicodedata
from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from sesshu.audit.context import acting_as
from sesshu.residents import outbox
from sesshu.residents.feed import ENCODINGS, MAX_FEED_BYTES, FeedReport, export_feed, import_feed


def _since_date(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        # argparse turns this into a usage error (exit code 2), or a CommandError under call_command.
        raise argparse.ArgumentTypeError(
            f"YYYY-MM-DD の日付を指定してください（{raw[:20]}）。 (Give a date as YYYY-MM-DD.)"
        ) from None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def error_table(report: FeedReport) -> list[str]:
    """The report's errors as aligned lines: row, column, code, then the message in both languages."""
    head = ("行 row", "列 column", "コード code")
    cells = [(str(e.row or "-"), e.column or "-", e.code) for e in report.errors]
    widths = [max(_width(c[i]) for c in [head, *cells]) for i in range(3)]
    lines = ["  ".join(_pad(h, w) for h, w in zip(head, widths, strict=True)) + "  内容 message"]
    for error, row in zip(report.errors, cells, strict=True):
        lead = "  ".join(_pad(c, w) for c, w in zip(row, widths, strict=True))
        lines.append(f"{lead}  {error.message_ja}")
        lines.append(f"{' ' * _width(lead)}  {error.message_en}")
    if report.error_count > len(report.errors):
        rest = report.error_count - len(report.errors)
        lines.append(f"… ほかに {rest} 件の誤りがあります。 (… and {rest} more errors.)")
    return lines


def _write_private_file(path: Path, data: bytes) -> None:
    """Write the file readable by its owner only (it is personal data), complete or not at all: the
    receiving system may pick up whatever appears under the name, so write beside it and rename."""
    partial = path.with_name(f".{path.name}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
    os.replace(partial, path)


class Command(BaseCommand):
    help = "The daily register feed (import-feed, export-feed) and the outbox consumers (process-events)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="operation", required=True)
        imp = sub.add_parser("import-feed", help="import a register feed file (all rows or none)")
        imp.add_argument("file", help="the CSV file (UTF-8 or CP932)")
        imp.add_argument("--source", required=True, help="the sending system's name, e.g. kikan-a")
        exp = sub.add_parser("export-feed", help="write the register's events as a feed file")
        since = exp.add_mutually_exclusive_group(required=True)
        since.add_argument("--since-event", type=int, metavar="N", help="events with an id above N")
        since.add_argument("--since-date", type=_since_date, metavar="YYYY-MM-DD", help="recorded from then")
        exp.add_argument("--encoding", choices=ENCODINGS, default="utf-8")
        exp.add_argument("--output", type=Path, help="the file to write (default: standard output)")
        sub.add_parser("process-events", help="run the outbox consumers")
        purge = sub.add_parser(
            "purge-expired", help="delete records past retention (dry run unless --execute)"
        )
        purge.add_argument("--execute", action="store_true", help="really delete (default: only count)")
        for command in (imp, exp, sub.choices["process-events"], purge):
            command.add_argument("--operator", default="", help="who runs this (for the audit log)")

    def handle(self, *args, operation: str, operator: str, **options):
        with acting_as(username=operator or "register-cli", route=f"cli:register {operation}"):
            if operation == "import-feed":
                self._import(Path(options["file"]), options["source"])
            elif operation == "export-feed":
                self._export(options)
            elif operation == "purge-expired":
                self._purge(options["execute"])
            else:
                self._process_events()

    def _purge(self, execute: bool) -> None:
        from sesshu.residents.retention import purge_expired

        report = purge_expired(dry_run=not execute)
        verb = "deleted" if execute else "would delete (dry run; --execute to delete)"
        counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
        self.stdout.write(f"left the register before {report.cutoff.isoformat()}: {verb}: {counts}")

    def _import(self, path: Path, source: str) -> None:
        try:
            with path.open("rb") as feed:
                # A file over the limit is refused by import_feed (and logged); reading one byte more
                # than the limit is enough to know, so an oversized file is never read whole.
                raw = feed.read(MAX_FEED_BYTES + 1)
        except OSError as exc:
            raise CommandError(
                f"ファイル {path} を読めません: {exc.strerror}。 (Cannot read {path}: {exc.strerror}.)"
            ) from None
        report = import_feed(raw, source=source, filename=path.name)
        if not report.ok:
            for line in error_table(report):
                self.stdout.write(line)
            raise CommandError(
                f"{path.name}: {report.error_count} 件の誤りがあるため、何も取り込んでいません。"
                f" (Nothing was imported: {report.error_count} error(s).)"
            )
        self.stdout.write(
            f"{path.name} ({report.encoding}): {report.rows} 行、取込 {report.imported} 件、"
            f"取込済みのため省略 {report.skipped} 件。"
            f" ({report.rows} rows: {report.imported} imported, {report.skipped} already imported.)"
        )
        if report.replaced_characters:
            self.stdout.write(
                f"外字 {report.replaced_characters} 文字を〓として取り込みました。"
                f" ({report.replaced_characters} private-use characters were read as 〓.)"
            )
        behind = {name: n for name, n in outbox.lag().items() if n}
        if behind:
            self.stderr.write(
                f"連携先の処理が残っています {behind}。`sesshu register process-events` を実行してください。"
                f" (Consumers are behind {behind}: run `sesshu register process-events`.)"
            )

    def _export(self, options: dict) -> None:
        feed = export_feed(
            since_event_id=options["since_event"],
            since_date=options["since_date"],
            encoding=options["encoding"],
        )
        output: Path | None = options["output"]
        if output is None:
            sys.stdout.buffer.write(feed)
            sys.stdout.buffer.flush()
        else:
            try:
                _write_private_file(output, feed)
            except OSError as exc:
                raise CommandError(
                    f"ファイル {output} に書き込めません: {exc.strerror}。"
                    f" (Cannot write {output}: {exc.strerror}.)"
                ) from None
        summary = f"{feed.events} 件を出力しました ({feed.encoding})。 (Exported {feed.events} events.)"
        if feed.replaced_characters:
            summary += (
                f" {feed.encoding} で表せない {feed.replaced_characters} 文字を〓にしました。"
                f" ({feed.replaced_characters} characters not in {feed.encoding} were written as 〓.)"
            )
        # The summary goes to standard error so that standard output carries only the file.
        self.stderr.write(summary)

    def _process_events(self) -> None:
        done = outbox.process_events()
        for name, count in done.items():
            self.stdout.write(f"{name}: {count}")
