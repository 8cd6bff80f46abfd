"""Screens for the clinics' monthly files: upload, preview, commit, the review queue, the fee report.

Thin: the work is in ``clinic_import.services``; every step there is audited with the persons concerned.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sesshu.accounts.access import require_right
from sesshu.core.problems import Problem, ProblemList, flash_problems
from sesshu.core.wareki import parse_date

from .clinic_import import fees as fee_reports
from .clinic_import import services
from .clinic_import.evaluation import evaluate_rows
from .clinic_import.fees import fee_report_csv
from .clinic_import.reading import MAX_BYTES, too_large
from .models import Clinic, SourceFile

RIGHT = "immunization.add_vaccinationrecord"


def _files():
    return (
        SourceFile.objects.filter(kind__in=services.IMPORT_KINDS)
        .select_related("clinic")
        .order_by("-pk")[:50]
    )


@require_right(RIGHT, services.PURPOSE)
def index(request, problems=None, status=200):
    """The upload form and the files received (clinic, month, counts: no resident data)."""
    context = {
        "clinics": Clinic.objects.all(),
        "files": _files(),
        "problems": problems or [],
        "params": request.POST,
    }
    return render(request, "immunization/imports/index.html", context, status=status)


def _billing_month(raw: str):
    raw = (raw or "").strip()
    if not raw:
        return None
    if len(raw) <= 7 and raw.count("-") == 1:  # 2025-04
        raw += "-01"
    return parse_date(raw, "billing_month").replace(day=1)


@require_POST
@require_right(RIGHT, services.PURPOSE)
def upload(request):
    # Refuse an oversized body before Django reads it into a temporary file.
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > MAX_BYTES + 64 * 1024:
        return index(request, [too_large(length)], status=413)
    problems: list[Problem] = []
    upload = request.FILES.get("file")
    if upload is None:
        problems.append(Problem("required", "ファイルを選んでください。", "Choose a file.", "file"))
    elif upload.size > MAX_BYTES:
        problems.append(too_large(upload.size))
    clinic = None
    code = request.POST.get("clinic", "").strip()
    if code:
        clinic = Clinic.objects.filter(code=code).first()
        if clinic is None:
            problems.append(
                Problem("unknown_master", "医療機関が登録されていません。", "Unknown clinic.", "clinic")
            )
    try:
        month = _billing_month(request.POST.get("billing_month", ""))
    except Problem as problem:
        problems.append(problem)
    if problems:
        return index(request, problems, status=400)
    try:
        source = services.upload(
            upload.read(), upload.name, clinic=clinic, billing_month=month, actor=request.user
        )
    except ProblemList as exc:
        earlier = next((p for p in exc.problems if isinstance(p, services.AlreadyUploaded)), None)
        if earlier is not None:
            messages.warning(request, earlier.message)
            return redirect("imports:preview", earlier.source_file.pk)
        return index(request, exc.problems, status=400)
    return redirect("imports:preview", source.pk)


@require_right(RIGHT, services.PURPOSE)
def preview(request, file_id: int):
    try:
        context = {"preview": services.preview(file_id, actor=request.user)}
    except SourceFile.DoesNotExist:
        raise Http404(_("No such file.")) from None
    # The schedule engine's verdict on the doses shown (間違い接種 and why); the preview's event names
    # these persons already.
    matched = context["preview"].matched
    evaluations = evaluate_rows(matched)
    for row in matched:
        row.evaluation = evaluations.get(row.pk)
    context["mistakes"] = sum(1 for e in evaluations.values() if not e.valid)
    return render(request, "immunization/imports/preview.html", context)


@require_POST
@require_right(RIGHT, services.PURPOSE)
def commit(request, file_id: int):
    try:
        result = services.commit(file_id, actor=request.user)
    except ProblemList as exc:
        for problem in exc.problems:
            messages.error(request, problem.message)
    else:
        messages.success(
            request,
            _("Imported %(imported)d records; %(duplicates)d already recorded; %(doubt)d rows to review.")
            % {"imported": result.imported, "duplicates": result.duplicates, "doubt": result.in_doubt},
        )
    return redirect("imports:preview", file_id)


@require_POST
@require_right(RIGHT, services.PURPOSE)
def withdraw(request, file_id: int):
    try:
        services.withdraw(file_id, reason=request.POST.get("reason", ""), actor=request.user)
    except ProblemList as exc:
        flash_problems(request, exc)
    else:
        messages.success(
            request, _("The file was withdrawn: it is out of the review queue and the fee report.")
        )
    return redirect("imports:preview", file_id)


@require_right(RIGHT, services.PURPOSE_REVIEW)
def review(request):
    rows, persons = services.review_queue(actor=request.user)
    return render(request, "immunization/imports/review.html", {"rows": rows, "persons": persons})


@require_POST
@require_right(RIGHT, services.PURPOSE_REVIEW)
def resolve(request, row_id: int):
    raw = request.POST.get("person", "").strip()
    try:
        if not raw.isdigit():
            raise ProblemList([Problem("required", "人を選んでください。", "Choose the person.", "person")])
        services.resolve(row_id, int(raw), actor=request.user)
    except ProblemList as exc:
        for problem in exc.problems:
            messages.error(request, problem.message)
    except Problem as problem:
        messages.error(request, problem.message)
    else:
        messages.success(request, _("The row is linked to the person you chose."))
    return redirect("imports:review")


@require_POST
@require_right(RIGHT, services.PURPOSE_REVIEW)
def reject(request, row_id: int):
    try:
        services.reject(row_id, reason=request.POST.get("reason", ""), actor=request.user)
    except ProblemList as exc:
        for problem in exc.problems:
            messages.error(request, problem.message)
    else:
        messages.success(request, _("The row will not be imported."))
    return redirect("imports:review")


@require_right(RIGHT, services.PURPOSE_FEES)
def fees(request, file_id: int):
    source = SourceFile.objects.filter(pk=file_id, kind__in=services.IMPORT_KINDS).first()
    if source is None:
        raise Http404(_("No such file."))
    body = fee_report_csv(source, actor=request.user)
    response = HttpResponse(("\ufeff" + body).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="fees-{source.pk}.csv"'
    return response


def _latest_month():
    latest = (
        SourceFile.objects.filter(kind__in=services.IMPORT_KINDS, billing_month__isnull=False)
        .order_by("-billing_month")
        .values_list("billing_month", flat=True)
        .first()
    )
    return latest or timezone.localdate().replace(day=1)


@require_right(RIGHT, services.PURPOSE_FEES)
def fees_month(request):
    """Per clinic, for one 請求年月: claimed, payable, counts by verdict, links to the CSV and the PDF."""
    raw = request.GET.get("month", "").strip()
    try:
        month = _billing_month(raw) or _latest_month()
    except Problem:
        problem = Problem(
            "invalid_month",
            f"請求年月「{raw[:20]}」を読み取れません。2025-04 の形で入力してください。",
            f"Cannot read the billing month “{raw[:20]}”. Use the form 2025-04.",
            "month",
        )
        context = {"problems": [problem], "month_text": raw}
        return render(request, "immunization/imports/fees_month.html", context, status=400)
    report = fee_reports.view_month(month, actor=request.user)
    verdicts = report.verdicts
    rows = [(c, [c.counts.get(v, 0) for v in verdicts]) for c in report.clinics]
    context = {"report": report, "verdicts": verdicts, "rows": rows, "month_text": f"{month:%Y-%m}"}
    return render(request, "immunization/imports/fees_month.html", context)


def _clinic_month(month_text: str, code: str):
    """(month, clinic) of a per-clinic export's URL; 404 for a month or a clinic that is not there."""
    try:
        month = _billing_month(month_text)
    except Problem:
        month = None
    clinic = Clinic.objects.filter(code=code).first()
    if month is None or clinic is None:
        raise Http404(_("No such clinic or month."))
    return month, clinic


@require_right(RIGHT, services.PURPOSE_FEES)
def fees_clinic_csv(request, month: str, code: str):
    month_day, clinic = _clinic_month(month, code)
    encoding = (
        "cp932" if request.GET.get("encoding", "").lower() in ("cp932", "sjis", "shift_jis") else "utf-8"
    )
    data = fee_reports.clinic_month_csv(month_day, clinic, actor=request.user, encoding=encoding)
    charset = "shift_jis" if encoding == "cp932" else "utf-8"
    response = HttpResponse(data, content_type=f"text/csv; charset={charset}")
    response["Content-Disposition"] = f'attachment; filename="fees-{month_day:%Y-%m}-{clinic.code}.csv"'
    return response


@require_right(RIGHT, services.PURPOSE_FEES)
def fees_clinic_pdf(request, month: str, code: str):
    month_day, clinic = _clinic_month(month, code)
    data = fee_reports.clinic_month_pdf(month_day, clinic, actor=request.user)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="fees-{month_day:%Y-%m}-{clinic.code}.pdf"'
    return response
