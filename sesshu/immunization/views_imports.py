"""Screens for the clinics' monthly files: upload, preview, commit, the review queue, the fee report.

Thin: the work is in ``clinic_import.services``; every step there is audited with the persons concerned.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sesshu.accounts.access import require_right
from sesshu.core.problems import Problem, ProblemList
from sesshu.core.wareki import parse_date

from .clinic_import import services
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
