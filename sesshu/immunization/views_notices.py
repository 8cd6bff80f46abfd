"""Screens for 対象者抽出 and notices: start an extraction or reminders, follow a run, download the
print CSV and the PDFs, look a notice up by its ticket number, reissue it. Thin: the work is in
extraction.py and notices/services.py, which write the audit events for the data they show."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sesshu.accounts.access import require_right
from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.core.paging import page_number, page_of
from sesshu.core.pdf import PdfFontMissing, UnprintableCharacters
from sesshu.core.problems import Problem, ProblemList, problems_of

from . import extraction
from .models import BatchPurpose, ExtractionBatch, ExtractionRun, Notice, PeriodKind, RunStatus
from .notices import engine, services
from .notices.tasks import enqueue_run
from .notices.tickets import format_ticket_number

PURPOSE = extraction.PURPOSE_EXTRACT
NOTICES_PER_PAGE = 50


def _series_choices() -> list[tuple[str, str]]:
    language = get_language() or "ja"
    return [(code, engine.series_label(code, language)) for code in engine.series_codes()]


def _period(batch: ExtractionBatch) -> extraction.Period:
    return extraction.Period(batch.period_kind, batch.period_start, batch.period_end)


def _run_state(run: ExtractionRun) -> str:
    return "interrupted" if extraction.is_interrupted(run) else run.status


@require_right("immunization.view_extractionbatch", PURPOSE)
def batches(request, problems=None, form=None, status=200):
    """The batches (counts only, no person) and the form that starts one."""
    rows = []
    for batch in ExtractionBatch.objects.order_by("-id")[:100]:
        last = batch.runs.order_by("-number").first()
        rows.append(
            {
                "batch": batch,
                "period": _period(batch),
                "counts": extraction.batch_counts(batch),
                "last": last,
                "state": _run_state(last) if last else "",
            }
        )
    today = timezone.localdate()
    context = {
        "rows": rows,
        "series_choices": _series_choices(),
        "problems": problems or [],
        "form": form
        or {"period_kind": PeriodKind.FISCAL_YEAR, "period": str(extraction.fiscal_year_of(today))},
        "chosen": set(form.getlist("series")) if form is not None else set(),
    }
    return render(request, "immunization/notices/batches.html", context, status=status)


@require_POST
@require_right("immunization.add_extractionbatch", PURPOSE)
def start(request):
    purpose = request.POST.get("purpose", BatchPurpose.NOTICE)
    try:
        period = extraction.parse_period(request.POST.get("period_kind", ""), request.POST.get("period", ""))
        run = extraction.start_batch(purpose, period, request.POST.getlist("series"), user=request.user)
    except (Problem, ProblemList) as exc:
        return batches(request, problems=problems_of(exc), form=request.POST, status=400)
    record(
        Action.CREATE,
        purpose=extraction.PURPOSE_REMIND if purpose == BatchPurpose.REMINDER else PURPOSE,
        object_type="extraction_run",
        criteria={"batch": run.batch_id, "run": run.number, "purpose": purpose, "period": period.value,
                  "series": run.batch.series, "as_of": run.as_of.isoformat()},
    )  # fmt: skip
    enqueue_run(run, request.user)
    return redirect("notices:batch", run.batch_id)


def _batch_or_404(batch_id: int) -> ExtractionBatch:
    try:
        return services.get_batch(batch_id)
    except Problem as problem:
        raise Http404(problem.message) from None


@require_right("immunization.view_extractionbatch", PURPOSE)
def batch(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    notices = (
        extraction.released(batch.notices.all())
        .select_related("person", "reissue_of")
        .order_by("series", "postal_code", "id")
    )
    page = page_of(notices, page_number(request.GET.get("page")), NOTICES_PER_PAGE)
    record(
        Action.VIEW,
        purpose=PURPOSE,
        object_type="notice",
        subjects=[n.person_id for n in page.object_list],
        criteria={"batch": batch.pk, "page": page.number},
        result_count=page.paginator.count,
    )
    counts = extraction.batch_counts(batch)
    ages = sorted({age for by_age in counts.by_age.values() for age in by_age})
    context = {
        "batch": batch,
        "period": _period(batch),
        "counts": counts,
        "ages": ages,
        "series_columns": [
            (code, engine.series_label(code, get_language() or "ja")) for code in counts.by_age
        ],
        "age_rows": [(age, [counts.by_age[code].get(age, 0) for code in counts.by_age]) for age in ages],
        "parts": range(1, services.pdf_parts(batch) + 1),
        "page": page,
        **_status_context(batch),
    }
    return render(request, "immunization/notices/batch.html", context)


def _status_context(batch: ExtractionBatch) -> dict:
    runs = list(batch.runs.order_by("-number"))
    states = [(run, _run_state(run)) for run in runs]
    active = any(state in (RunStatus.QUEUED, RunStatus.RUNNING) for _, state in states)
    return {"batch": batch, "runs": states, "active": active, "db_worker": _uses_worker()}


def _uses_worker() -> bool:
    backend = settings.TASKS.get("default", {}).get("BACKEND", "") if hasattr(settings, "TASKS") else ""
    return "Immediate" not in backend


@require_right("immunization.view_extractionbatch", PURPOSE)
def status(request):
    """The live status of a batch's runs (polled by htmx while one is active): counts, no person."""
    raw = str(request.GET.get("batch", ""))
    if not raw.isdigit() or len(raw) > 18:
        raise Http404("no batch")
    batch = _batch_or_404(int(raw))
    context = _status_context(batch)
    response = render(request, "immunization/notices/_status.html", context)
    if request.headers.get("HX-Request") and request.GET.get("was_active") and not context["active"]:
        # The run has finished: reload the page once so the counts and downloads appear.
        response["HX-Refresh"] = "true"
    return response


def _run_or_404(request) -> ExtractionRun:
    raw = str(request.POST.get("run", ""))
    run = ExtractionRun.objects.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 19 else None
    if run is None:
        raise Http404("no run")
    return run


@require_POST
@require_right("immunization.add_extractionbatch", PURPOSE)
def resume(request):
    run = _run_or_404(request)
    if not extraction.is_interrupted(run):
        messages.error(request, _("This run is not interrupted."))
        return redirect("notices:batch", run.batch_id)
    record(
        Action.CHANGE,
        purpose=PURPOSE,
        object_type="extraction_run",
        criteria={"batch": run.batch_id, "run": run.number, "operation": "resume"},
    )
    enqueue_run(run, request.user)
    return redirect("notices:batch", run.batch_id)


@require_POST
@require_right("immunization.add_extractionbatch", PURPOSE)
def rollback(request):
    run = _run_or_404(request)
    try:
        deleted = extraction.rollback_run(run.pk, user=request.user)
    except Problem as problem:
        messages.error(request, problem.message)
    else:
        messages.success(
            request, _("The run was rolled back: %(count)d notices removed.") % {"count": deleted}
        )
    return redirect("notices:batch", run.batch_id)


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@require_right("immunization.export_notices", services.PURPOSE_EXPORT)
def csv(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    encoding = request.GET.get("encoding", "cp932")
    try:
        result = services.export_csv(batch, encoding)
    except Problem as problem:
        messages.error(request, problem.message)
        return redirect("notices:batch", batch.pk)
    response = _attachment(
        result.content,
        f"text/csv; charset={'Shift_JIS' if encoding == 'cp932' else 'utf-8'}",
        f"notices-{batch.pk}-{encoding}.csv",
    )
    response["X-Replaced-Characters"] = str(result.replaced_characters)
    return response


def _pdf_problem(request, exc, batch_id: int):
    if isinstance(exc, UnprintableCharacters):
        text = " ".join(f"U+{ord(c):04X}" for c in exc.characters)
        messages.error(
            request, _("Some names have characters the font cannot print: %(chars)s") % {"chars": text}
        )
    elif isinstance(exc, PdfFontMissing):
        messages.error(request, _("No Japanese font is installed for PDFs; ask the system administrator."))
    else:
        messages.error(request, exc.message)
    return redirect("notices:batch", batch_id)


@require_right("immunization.export_notices", services.PURPOSE_EXPORT)
def pdf(request, batch_id: int):
    batch = _batch_or_404(batch_id)
    part = page_number(request.GET.get("part"))
    try:
        rendered = services.export_pdf(batch, part)
    except (Problem, UnprintableCharacters, PdfFontMissing) as exc:
        return _pdf_problem(request, exc, batch.pk)
    return _attachment(rendered.content, "application/pdf", f"notices-{batch.pk}-{part}.pdf")


def _notice_or_404(notice_id: int) -> Notice:
    notice = (
        extraction.released(Notice.objects.filter(pk=notice_id))
        .select_related("person", "batch", "reissue_of", "voided_by")
        .first()
    )
    if notice is None:
        record(Action.VIEW, purpose=PURPOSE, outcome="failed", criteria={"notice_id": notice_id})
        raise Http404("no notice")
    return notice


@require_right("immunization.view_notice", PURPOSE)
def notice(request, notice_id: int, problems=None, status=200):
    notice = _notice_or_404(notice_id)
    record(Action.VIEW, purpose=PURPOSE, object_type="notice", subjects=[notice.person_id], result_count=1)
    context = {
        "notice": notice,
        "ticket": format_ticket_number(notice.ticket_number),
        "series_label": engine.series_label(notice.series, get_language() or "ja"),
        "reissued_as": Notice.objects.filter(reissue_of=notice).first(),
        "problems": problems or [],
    }
    return render(request, "immunization/notices/notice.html", context, status=status)


@require_POST
@require_right("immunization.change_notice", services.PURPOSE_REISSUE)
def reissue(request, notice_id: int):
    try:
        result = services.reissue(notice_id, request.POST.get("reason", ""), user=request.user)
    except (Problem, ProblemList) as exc:
        if getattr(exc, "code", "") == "not_found":
            raise Http404("no notice") from None
        return notice(request, notice_id, problems=problems_of(exc), status=400)
    messages.success(
        request,
        _("Reissued: the old ticket %(old)s is void; the new ticket is %(new)s.")
        % {
            "old": format_ticket_number(result.old.ticket_number),
            "new": format_ticket_number(result.new.ticket_number),
        },
    )
    return redirect("notices:notice", result.new.pk)


@require_right("immunization.export_notices", services.PURPOSE_EXPORT)
def notice_pdf(request, notice_id: int):
    try:
        notice, rendered = services.export_notice_pdf(notice_id)
    except Problem:
        raise Http404("no notice") from None
    except (UnprintableCharacters, PdfFontMissing) as exc:
        return _pdf_problem(request, exc, Notice.objects.get(pk=notice_id).batch_id)
    return _attachment(rendered.content, "application/pdf", f"notice-{notice.ticket_number}.pdf")


@require_right("immunization.view_notice", PURPOSE)
def find(request):
    """A notice by its ticket number (typed, or read from the QR code by a scanner)."""
    try:
        found = services.find_by_ticket(request.GET.get("ticket_number", ""))
    except Problem as problem:
        record(
            Action.SEARCH,
            purpose=PURPOSE,
            object_type="notice",
            outcome="failed",
            result_count=0,
            criteria={"ticket_number": problem.code},  # never the digits typed: they may be anything
        )
        messages.error(request, problem.message)
        return redirect(reverse("notices:batches"))
    return redirect("notices:notice", found.pk)
