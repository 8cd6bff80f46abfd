"""対象者抽出 and notices from the command line (docs/notices.md):

    sesshu notices extract --fiscal-year 2026 --series MR-2 --series Flu [--as-of DATE]
    sesshu notices remind  --fiscal-year 2026 --series MR-2            reminders (勧奨通知)
    sesshu notices list                                                batches, runs and counts
    sesshu notices resume RUN_ID | rollback RUN_ID                     an interrupted run
    sesshu notices csv BATCH_ID --encoding cp932|utf-8 -o FILE         the print-vendor file
    sesshu notices pdf BATCH_ID [--part N] -o FILE                     notices and 予診票
    sesshu notices reissue TICKET_NUMBER --reason TEXT [-o FILE]       void and reissue one notice

Runs show a progress bar on stderr (forecasting the residents, then writing the notices). Ctrl-C
stops a run where it is: nothing it wrote is printed or exported until it is resumed (or rolled
back). Every command runs as ``--operator`` in the audit log.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date
from tqdm import tqdm

from sesshu.audit.context import acting_as
from sesshu.core.problems import Problem, ProblemList
from sesshu.immunization import extraction
from sesshu.immunization.models import BatchPurpose, ExtractionBatch, ExtractionRun
from sesshu.immunization.notices import services
from sesshu.immunization.notices.tickets import format_ticket_number

PHASES = {"forecast": "対象者の判定 (forecast)", "write": "通知の作成 (notices)"}


class TqdmProgress(extraction.Progress):
    def __init__(self, disable: bool):
        self.bar = None
        self.disable = disable
        super().__init__(phase=self._phase, advance=self._advance)

    def _phase(self, name: str, total: int) -> None:
        self.close()
        self.bar = tqdm(
            total=total, desc=PHASES.get(name, name), unit="件", file=sys.stderr, disable=self.disable
        )

    def _advance(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = "Target extraction (対象者抽出), notices, reminders, print files and reissue."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="operation", required=True)
        commands = []
        for name, text in (("extract", "extract targets and make notices"), ("remind", "make reminders")):
            command = sub.add_parser(name, help=text)
            period = command.add_mutually_exclusive_group(required=True)
            period.add_argument("--fiscal-year", help="年度: 2026 or 令和8 (April to March)")
            period.add_argument("--month", help="a month: 2026-11")
            command.add_argument("--series", action="append", required=True, help="a series code (repeat)")
            command.add_argument("--as-of", help="the date the forecast is made as of (default: today)")
            commands.append(command)
        commands.append(sub.add_parser("list", help="batches, their runs and counts"))
        for name in ("resume", "rollback"):
            command = sub.add_parser(name, help=f"{name} an interrupted run")
            command.add_argument("run_id", type=int)
            commands.append(command)
        csv = sub.add_parser("csv", help="the print-vendor CSV of a batch")
        csv.add_argument("batch_id", type=int)
        csv.add_argument("--encoding", choices=["cp932", "utf-8"], default="cp932")
        csv.add_argument("-o", "--output", required=True)
        pdf = sub.add_parser("pdf", help="the notices and 予診票 of a batch as PDF")
        pdf.add_argument("batch_id", type=int)
        pdf.add_argument("--part", type=int, default=1, help=f"which file of {services.PART_NOTICES} notices")
        pdf.add_argument("-o", "--output", required=True)
        reissue = sub.add_parser("reissue", help="void a notice and issue a new ticket")
        reissue.add_argument("ticket_number")
        reissue.add_argument("--reason", required=True)
        reissue.add_argument("-o", "--output", help="write the new notice's PDF here")
        commands += [csv, pdf, reissue]
        for command in commands:
            command.add_argument("--operator", default="", help="who runs this (for the audit log)")
            command.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, operation: str, **options):
        with acting_as(username=options["operator"] or "notices-cli", route=f"cli:notices {operation}"):
            try:
                getattr(self, "_" + operation)(options)
            except (Problem, ProblemList) as exc:
                raise CommandError(str(exc)) from None

    # Runs -----------------------------------------------------------------------------------------------

    def _start(self, options, purpose: str) -> None:
        if options["fiscal_year"]:
            period = extraction.parse_period("fiscal_year", options["fiscal_year"])
        else:
            period = extraction.parse_period("month", options["month"])
        as_of = None
        if options["as_of"]:
            as_of = parse_date(options["as_of"])
            if as_of is None:
                raise CommandError(f"--as-of: not a date (YYYY-MM-DD): {options['as_of']}")
        run = extraction.start_batch(purpose, period, options["series"], as_of=as_of)
        self.stdout.write(
            f"batch {run.batch_id} run {run.number} ({run.pk}): {period.label} {run.batch.series}"
        )
        self._run(run.pk, options, resume=False)

    def _run(self, run_id: int, options, *, resume: bool) -> None:
        progress = TqdmProgress(options["no_progress"])
        try:
            run = extraction.run_batch(run_id, progress=progress, resume=resume)
        except KeyboardInterrupt:
            progress.close()
            raise CommandError(
                f"中断しました。再開: sesshu notices resume {run_id} / "
                f"取り消し: sesshu notices rollback {run_id} (interrupted: resume or roll back run {run_id})"
            ) from None
        finally:
            progress.close()
        counts = extraction.batch_counts(run.batch)
        self.stdout.write(f"done: {run.written} new notices; batch {run.batch_id} now {counts.total}")
        for series, n in counts.by_series.items():
            ages = ", ".join(f"{age}歳 {c}" for age, c in counts.by_age[series].items())
            self.stdout.write(f"  {series}: {n} ({ages})")

    def _extract(self, options) -> None:
        self._start(options, BatchPurpose.NOTICE)

    def _remind(self, options) -> None:
        self._start(options, BatchPurpose.REMINDER)

    def _resume(self, options) -> None:
        self._run(options["run_id"], options, resume=True)

    def _rollback(self, options) -> None:
        deleted = extraction.rollback_run(options["run_id"])
        self.stdout.write(f"rolled back run {options['run_id']}: {deleted} notices removed")

    def _list(self, options) -> None:
        for batch in ExtractionBatch.objects.order_by("id"):
            counts = extraction.batch_counts(batch)
            period = extraction.Period(batch.period_kind, batch.period_start, batch.period_end)
            self.stdout.write(
                f"batch {batch.pk} {batch.purpose} {period.label} {batch.series}: {counts.total}"
            )
            for run in ExtractionRun.objects.filter(batch=batch).order_by("number"):
                state = "interrupted" if extraction.is_interrupted(run) else run.status
                self.stdout.write(f"  run {run.number} ({run.pk}) as of {run.as_of} {state} {run.written}")

    # Files ----------------------------------------------------------------------------------------------

    def _csv(self, options) -> None:
        result = services.export_csv(services.get_batch(options["batch_id"]), options["encoding"])
        Path(options["output"]).write_bytes(result.content)
        self.stdout.write(f"{result.rows} rows ({result.encoding}) -> {options['output']}")
        if result.replaced_characters:
            self.stdout.write(f"  {result.replaced_characters} characters written as 〓 (not in CP932)")

    def _pdf(self, options) -> None:
        rendered = services.export_pdf(services.get_batch(options["batch_id"]), options["part"])
        Path(options["output"]).write_bytes(rendered.content)
        self.stdout.write(f"{rendered.pages} pages -> {options['output']}")

    def _reissue(self, options) -> None:
        notice = services.find_by_ticket(options["ticket_number"])
        result = services.reissue(notice.pk, options["reason"])
        self.stdout.write(
            f"voided {format_ticket_number(result.old.ticket_number)}; "
            f"new {format_ticket_number(result.new.ticket_number)}"
        )
        if options.get("output"):
            _, rendered = services.export_notice_pdf(result.new.pk)
            Path(options["output"]).write_bytes(rendered.content)
