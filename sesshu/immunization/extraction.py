"""対象者抽出: who is due which series in a period, saved as a batch of notices (or reminders).

A batch is one set of parameters (purpose, period, series). Each run of it is kept with its as-of date
and the rules version, and adds only persons not yet in the batch, so rerunning the same parameters
never duplicates a notice. A run:

1. forecasts every resident as of its date and selects the targets (nothing written yet);
2. writes the new notices in chunks, each chunk in its own transaction with its ticket serials,
   beating a heartbeat so a killed run is seen as one;
3. marks itself done and writes the audit event naming every person, in one transaction.

Notices of a run that is not done are never printed, exported or shown as sent. A run that fails with
an error deletes what it wrote (rolled back, status ``failed``); a run killed outright is left
``running`` with a stale heartbeat and is resumed (it writes only what is missing) or rolled back.
"""

import calendar
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace

from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from sesshu.addressee.models import Person
from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.core.bulk import copy_or_insert
from sesshu.core.problems import Problem, ProblemList
from sesshu.core.text import nfkc
from sesshu.core.wareki import ERAS

from .models import (
    BatchPurpose,
    ExtractionBatch,
    ExtractionRun,
    MailTo,
    Notice,
    NoticeStatus,
    PeriodKind,
    RunStatus,
)
from .notices import engine
from .notices.tickets import allocate_serials, make_ticket_number

PURPOSE_EXTRACT = "予防接種 対象者抽出・通知 (immunization: target extraction and notices)"
PURPOSE_REMIND = "予防接種 勧奨通知 (immunization: reminders)"
CHUNK_SIZE = 2000
STALE_AFTER = timedelta(minutes=2)  # no heartbeat for this long: the run's process is gone
PROGRESS_EVERY = 5000  # persons forecast between two progress writes
OPEN_STATUSES = ("due", "not_yet")
FAR_PAST, FAR_FUTURE = date.min, date.max


# Periods ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    kind: str
    start: date
    end: date

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.FISCAL_YEAR:
            return f"{self.start.year}年度"
        return f"{self.start.year}年{self.start.month}月"

    @property
    def value(self) -> str:
        """What the form and the CLI take back: 2026 or 2026-11."""
        if self.kind == PeriodKind.FISCAL_YEAR:
            return str(self.start.year)
        return f"{self.start.year}-{self.start.month:02d}"


def fiscal_year(year: int) -> Period:
    """年度: April 1 to March 31 of the next year (2026年度 = 2026-04-01 .. 2027-03-31)."""
    return Period(PeriodKind.FISCAL_YEAR, date(year, 4, 1), date(year + 1, 3, 31))


def month(year: int, number: int) -> Period:
    return Period(
        PeriodKind.MONTH, date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
    )


def fiscal_year_of(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def _bad_period(raw: str) -> Problem:
    return Problem(
        "invalid_period",
        f"対象期間「{raw[:20]}」を読み取れません。"
        "年度は 2026 または 令和8、月は 2026-11 の形で入力してください。",
        f"Cannot read the period “{raw[:20]}”. A fiscal year is 2026 or 令和8; a month is 2026-11.",
        "period",
    )


def parse_period(kind: str, raw: str) -> Period:
    """A fiscal year (``2026``, ``令和8``, ``R8``) or a month (``2026-11``, ``令和8年11月``)."""
    text = nfkc(str(raw or "")).strip().replace("年度", "")[:30]
    if kind not in PeriodKind.values:
        raise Problem(
            "invalid_period_kind",
            "対象期間の種類を選んでください。",
            "Choose the kind of period.",
            "period_kind",
        )
    era = re.fullmatch(r"(令和|平成|[RrHh])(元|\d{1,2})(?:年)?(?:(\d{1,2})月?)?", text)
    western = re.fullmatch(r"(\d{4})(?:年)?(?:[-/.](\d{1,2})|(\d{1,2})月)?", text)
    if era:
        name = {"r": "令和", "h": "平成"}.get(era.group(1).lower(), era.group(1))
        start = next(e.start for e in ERAS if e.name == name)
        year, month_number = start.year + (1 if era.group(2) == "元" else int(era.group(2))) - 1, era.group(3)
    elif western:
        year, month_number = int(western.group(1)), western.group(2) or western.group(3)
    else:
        raise _bad_period(str(raw))
    if not 2000 <= year <= 2100:
        raise _bad_period(str(raw))
    if kind == PeriodKind.FISCAL_YEAR:
        if month_number:
            raise _bad_period(str(raw))
        return fiscal_year(year)
    if not month_number or not 1 <= int(month_number) <= 12:
        raise _bad_period(str(raw))
    return month(year, int(month_number))


# Who is selected ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    person_id: int
    series: str
    dose_number: int
    earliest: date | None
    recommended_from: date | None
    recommended_until: date | None
    deadline: date | None
    reason: str = ""


def _window(rec) -> tuple[date, date]:
    """The standard period (標準的な接種期間) where the schedule gives one, else the legal window."""
    start = rec.recommended_from or rec.earliest or FAR_PAST
    end = rec.recommended_until or rec.deadline or FAR_FUTURE
    return start, end


def notice_reason(rec, period: Period) -> str | None:
    """Why a notice goes out for this recommendation in the period ("due"), or None.

    Due or not yet due, and its standard period (or, for a series without one, its legal window)
    meets the period: a child who reaches the standard age in June is a target of June's extraction
    although not yet due on the run date. Those past their standard period are reminders' targets.
    """
    if rec.status not in OPEN_STATUSES or not rec.dose_number:
        return None
    start, end = _window(rec)
    if rec.deadline is not None:
        end = min(end, rec.deadline)
    return "due" if start <= period.end and end >= period.start else None


def reminder_reason(rec, period: Period, as_of: date) -> str | None:
    """勧奨: the series was started and is not finished (the next dose is due now), or it is due and
    was never started although its standard period ends by the period's end. Only while the law
    still allows the dose (deadline not passed)."""
    if rec.status != "due" or not rec.dose_number:
        return None
    if rec.deadline is not None and rec.deadline < as_of:
        return None
    if rec.dose_number >= 2:
        return "incomplete"
    if rec.recommended_until is not None and rec.recommended_until <= period.end:
        return "not_started"
    return None


def select_targets(
    forecasts: Iterable[tuple[int, object]],
    series: Iterable[str],
    period: Period,
    purpose: str,
    as_of: date,
    progress: Callable[[int], object] | None = None,
) -> list[Target]:
    wanted = set(series)
    targets: list[Target] = []
    seen = 0
    for person_id, fc in forecasts:
        for rec in fc.recommendations:
            if rec.series not in wanted:
                continue
            if purpose == BatchPurpose.REMINDER:
                reason = reminder_reason(rec, period, as_of)
            else:
                reason = notice_reason(rec, period)
            if reason:
                targets.append(
                    Target(
                        person_id,
                        rec.series,
                        rec.dose_number,
                        rec.earliest,
                        rec.recommended_from,
                        rec.recommended_until,
                        rec.deadline,
                        reason,
                    )
                )
        seen += 1
        if progress is not None and seen % PROGRESS_EVERY == 0:
            progress(PROGRESS_EVERY)
    if progress is not None and seen % PROGRESS_EVERY:
        progress(seen % PROGRESS_EVERY)
    return targets


def age_on(birth: date, day: date) -> int:
    """Completed years on ``day`` (年齢計算ニ関スル法律: the age is reached at the end of the day before
    the birthday, so on the birthday itself the person is a year older)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def mailing(person) -> tuple[str, str, str]:
    """(mail_to, postal code, address): a protected person (支援措置) is mailed only at the alternative
    address, and held (nothing printed) when there is none; the home address is never used for them."""
    if not person.protected:
        return MailTo.HOME, person.postal_code, person.address
    if person.alternative_address:
        return MailTo.ALTERNATIVE, person.alternative_postal_code, person.alternative_address
    return MailTo.HELD, "", ""


# Batches and runs ---------------------------------------------------------------------------------------


def batch_key(purpose: str, period: Period, series: Iterable[str]) -> str:
    return f"{purpose}|{period.start.isoformat()}|{period.end.isoformat()}|{','.join(sorted(set(series)))}"


def check_series(series: Iterable[str]) -> list[str]:
    chosen = sorted({nfkc(str(s)).strip() for s in series if str(s).strip()})
    known = set(engine.series_codes())
    unknown = [s for s in chosen if s not in known]
    if not chosen:
        raise Problem(
            "no_series", "シリーズを1つ以上選んでください。", "Choose at least one series.", "series"
        )
    if unknown:
        raise Problem(
            "unknown_series",
            f"次のシリーズはありません: {', '.join(unknown)[:80]}",
            f"No such series: {', '.join(unknown)[:80]}",
            "series",
        )
    return chosen


def is_stale(run: ExtractionRun, now=None) -> bool:
    beat = run.heartbeat_at or run.started_at or run.created_at
    return (
        run.status == RunStatus.RUNNING and beat is not None and (now or timezone.now()) - beat > STALE_AFTER
    )


def is_interrupted(run: ExtractionRun) -> bool:
    """Stopped half-way (by the operator, or its process killed): resume it or roll it back."""
    return run.status == RunStatus.INTERRUPTED or is_stale(run)


def active_run(batch: ExtractionBatch) -> ExtractionRun | None:
    """A run of the batch that is queued or running (killed runs included: they must be resumed or
    rolled back before the batch is run again)."""
    open_statuses = [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.INTERRUPTED]
    return batch.runs.filter(status__in=open_statuses).order_by("-number").first()


def start_batch(
    purpose: str, period: Period, series: Iterable[str], *, as_of: date | None = None, user=None
) -> ExtractionRun:
    """Find or make the batch for these parameters and queue a new run of it (nothing selected yet)."""
    if purpose not in BatchPurpose.values:
        raise Problem("invalid_purpose", "抽出の種類が正しくありません。", "Unknown kind of extraction.")
    chosen = check_series(series)
    as_of = as_of or timezone.localdate()
    with transaction.atomic():
        batch, _ = ExtractionBatch.objects.get_or_create(
            key=batch_key(purpose, period, chosen),
            defaults={
                "purpose": purpose,
                "period_kind": period.kind,
                "period_start": period.start,
                "period_end": period.end,
                "series": chosen,
                "created_by": user,
            },
        )
        batch = ExtractionBatch.objects.select_for_update().get(pk=batch.pk)
        if (running := active_run(batch)) is not None:
            raise Problem(
                "batch_running",
                f"この抽出は実行中です（第{running.number}回）。終わるのを待つか、中断した回を再開または取り消してください。",
                f"This extraction is running (run {running.number}). Wait for it, or resume or roll back "
                "the interrupted run.",
            )
        number = (batch.runs.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        return ExtractionRun.objects.create(
            batch=batch, number=number, as_of=as_of, rules_version=engine.rules_version(), started_by=user
        )


def _beat(run: ExtractionRun, **fields) -> None:
    fields["heartbeat_at"] = timezone.now()
    ExtractionRun.objects.filter(pk=run.pk).update(**fields)
    for name, value in fields.items():
        setattr(run, name, value)


def _claim(run_id: int, *, resume: bool) -> ExtractionRun:
    """Compare-and-set the run to running: a queued run, or (resume) a killed one; never a live one."""
    run = ExtractionRun.objects.select_related("batch").get(pk=run_id)
    now = timezone.now()
    allowed = Q(status=RunStatus.QUEUED)
    if resume:
        allowed |= Q(status=RunStatus.INTERRUPTED)
        allowed |= Q(status=RunStatus.RUNNING, heartbeat_at__lt=now - STALE_AFTER)
        allowed |= Q(status=RunStatus.RUNNING, heartbeat_at__isnull=True)
    claimed = ExtractionRun.objects.filter(allowed, pk=run_id).update(
        status=RunStatus.RUNNING, heartbeat_at=now, started_at=run.started_at or now, error=""
    )
    if not claimed:
        raise Problem(
            "run_not_runnable",
            "この回は実行できません（実行中、完了済み、または取り消し済みです）。",
            "This run cannot be run: it is running, done or rolled back.",
        )
    run.refresh_from_db()
    return run


@dataclass
class Progress:
    """Callbacks for a progress display: ``phase(name, total)`` then ``advance(n)`` (a tqdm bar's)."""

    phase: Callable[[str, int], object] = lambda name, total: None
    advance: Callable[[int], object] = lambda n: None


def run_batch(
    run_id: int, *, progress: Progress | None = None, chunk_size: int = CHUNK_SIZE, resume: bool = False
) -> ExtractionRun:
    """Select and write the run's notices; see the module's docstring for what a failure leaves."""
    progress = progress or Progress()
    run = _claim(run_id, resume=resume)
    batch = run.batch
    try:
        period = Period(batch.period_kind, batch.period_start, batch.period_end)
        total = engine.count_residents()
        _beat(run, persons_total=total, persons_checked=0)
        progress.phase("forecast", total)
        checked = 0

        def forecast_progress(n: int) -> None:
            nonlocal checked
            checked += n
            progress.advance(n)
            _beat(run, persons_checked=checked)

        targets = select_targets(
            engine.forecasts(run.as_of), batch.series, period, batch.purpose, run.as_of, forecast_progress
        )
        already = set(Notice.objects.filter(batch=batch).values_list("person_id", "series"))
        new = [t for t in targets if (t.person_id, t.series) not in already]
        written_before = Notice.objects.filter(run=run).count()  # a resumed run's earlier chunks
        _beat(run, candidates=len(new) + written_before, written=written_before)
        progress.phase("write", len(new))
        for start in range(0, len(new), chunk_size):
            _write_chunk(run, batch, period, new[start : start + chunk_size])
            progress.advance(len(new[start : start + chunk_size]))
        _finish(run)
    except (KeyboardInterrupt, SystemExit):
        # Stopped by the operator: what is written stays, unreleased, to be resumed or rolled back.
        ExtractionRun.objects.filter(pk=run.pk, status=RunStatus.RUNNING).update(status=RunStatus.INTERRUPTED)
        raise
    except Exception as exc:
        rollback_run(run.pk, status=RunStatus.FAILED, error=_error_text(exc))
        raise
    return run


def _error_text(exc: BaseException) -> str:
    # The kind of error only: messages of database errors can quote the values of a row.
    if isinstance(exc, Problem | ProblemList):
        return str(exc)[:500]
    return f"{type(exc).__name__}"


# The columns a run fills, in this order; every other column of Notice keeps its model default.
_NOTICE_FIELDS = (
    "batch", "run", "person", "kind", "series", "dose_number", "ticket_number", "status", "reason", "age",
    "earliest", "recommended_from", "recommended_until", "deadline", "mail_to", "addressee_name",
    "addressee_kana", "postal_code", "address", "issued_at", "reissue_reason",
)  # fmt: skip
_PERSON_FIELDS = (
    "id", "birth_date", "family_name", "given_name", "family_name_kana", "given_name_kana", "postal_code",
    "address", "protected", "alternative_postal_code", "alternative_address",
)  # fmt: skip


def _insert_notices(rows: list[tuple]) -> None:
    """One prepared INSERT over the chunk (SQLite) or COPY (PostgreSQL) instead of bulk_create, which
    spends most of its time compiling each value into SQL (as the synthetic city's ledger does)."""
    columns = [Notice._meta.get_field(f).column for f in _NOTICE_FIELDS]
    copy_or_insert(connection, Notice._meta.db_table, columns, rows)


def _write_chunk(run: ExtractionRun, batch: ExtractionBatch, period: Period, chunk: list[Target]) -> None:
    people = Person.objects.filter(id__in=[t.person_id for t in chunk]).values(*_PERSON_FIELDS)
    persons = {p["id"]: SimpleNamespace(**p) for p in people}
    now = timezone.now()
    ops = connection.ops
    issued_at, day = ops.adapt_datetimefield_value(now), ops.adapt_datefield_value
    with transaction.atomic():
        serials = allocate_serials(len(chunk))
        rows = []
        for target, serial in zip(chunk, serials, strict=True):
            person = persons[target.person_id]
            mail_to, postal_code, address = mailing(person)
            rows.append(
                (
                    batch.pk,
                    run.pk,
                    person.id,
                    batch.purpose,
                    target.series,
                    target.dose_number,
                    make_ticket_number(serial),
                    NoticeStatus.ISSUED.value,
                    target.reason,
                    age_on(person.birth_date, period.end),
                    day(target.earliest),
                    day(target.recommended_from),
                    day(target.recommended_until),
                    day(target.deadline),
                    str(mail_to),
                    f"{person.family_name} {person.given_name}".strip(),
                    f"{person.family_name_kana} {person.given_name_kana}".strip(),
                    postal_code,
                    address,
                    issued_at,
                    "",
                )
            )
        _insert_notices(rows)
        ExtractionRun.objects.filter(pk=run.pk).update(written=run.written + len(rows), heartbeat_at=now)
    run.written += len(rows)
    run.heartbeat_at = now


def _finish(run: ExtractionRun) -> None:
    batch = run.batch
    with transaction.atomic():
        subjects = list(Notice.objects.filter(run=run).values_list("person_id", flat=True).distinct())
        by_series = dict(
            Notice.objects.filter(run=run).values_list("series").annotate(n=Count("id")).order_by("series")
        )
        now = timezone.now()
        ExtractionRun.objects.filter(pk=run.pk).update(
            status=RunStatus.DONE, finished_at=now, heartbeat_at=now, written=run.written
        )
        run.status, run.finished_at = RunStatus.DONE, now
        record(
            Action.CREATE,
            purpose=PURPOSE_REMIND if batch.purpose == BatchPurpose.REMINDER else PURPOSE_EXTRACT,
            object_type="notice",
            subjects=subjects,
            result_count=run.written,
            criteria={
                "batch": batch.pk,
                "run": run.number,
                "purpose": batch.purpose,
                "period": [batch.period_start.isoformat(), batch.period_end.isoformat()],
                "series": batch.series,
                "as_of": run.as_of.isoformat(),
            },
            detail={"rules_version": run.rules_version, "notices_by_series": by_series},
        )


def rollback_run(run_id: int, *, status: str = RunStatus.ROLLED_BACK, error: str = "", user=None) -> int:
    """Delete what a run that is not done wrote, in one transaction; returns how many notices."""
    with transaction.atomic():
        run = ExtractionRun.objects.select_for_update().get(pk=run_id)
        if run.status == RunStatus.DONE:
            raise Problem("run_done", "完了した回は取り消せません。", "A finished run cannot be rolled back.")
        if run.status in (RunStatus.FAILED, RunStatus.ROLLED_BACK):
            raise Problem(
                "run_closed", "この回はすでに取り消されています。", "This run was already rolled back."
            )
        if run.status == RunStatus.RUNNING and not is_stale(run) and status == RunStatus.ROLLED_BACK:
            raise Problem(
                "run_live",
                "この回は実行中です。中断したことを確かめてから取り消してください。",
                "This run is still running; roll it back only once it has stopped.",
            )
        deleted, _ = Notice.objects.filter(run=run).delete()
        ExtractionRun.objects.filter(pk=run.pk).update(
            status=status, error=error, written=0, finished_at=timezone.now()
        )
        record(
            Action.DELETE,
            purpose=PURPOSE_EXTRACT,
            object_type="extraction_run",
            criteria={"batch": run.batch_id, "run": run.number},
            result_count=deleted,
            detail={"status": status, "error": error},
        )
    return deleted


def resume_run(run_id: int, *, progress: Progress | None = None) -> ExtractionRun:
    return run_batch(run_id, progress=progress, resume=True)


# What the screens show ----------------------------------------------------------------------------------


def released(queryset):
    """Only notices of finished runs: a run in progress or rolled back has sent nothing."""
    return queryset.filter(run__status=RunStatus.DONE)


@dataclass
class BatchCounts:
    by_series: dict[str, int]
    by_age: dict[str, dict[int, int]]  # series -> age -> count
    held: int
    reissued: int
    total: int


def batch_counts(batch: ExtractionBatch) -> BatchCounts:
    notices = released(batch.notices.filter(reissue_of__isnull=True))
    by_age: dict[str, dict[int, int]] = defaultdict(dict)
    by_series: Counter[str] = Counter()
    for series, age, n in (
        notices.values_list("series", "age").annotate(n=Count("id")).order_by("series", "age")
    ):
        by_age[series][age] = n
        by_series[series] += n
    return BatchCounts(
        by_series=dict(by_series),
        by_age=dict(by_age),
        held=notices.filter(mail_to=MailTo.HELD).count(),
        reissued=released(batch.notices.filter(reissue_of__isnull=False)).count(),
        total=sum(by_series.values()),
    )
