"""The register's screens: search, a resident's record (any date), a household, moves and their queue."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sesshu.accounts.access import require_right
from sesshu.accounts.roles import has_right
from sesshu.core.paging import page_number
from sesshu.core.problems import Problem, ProblemList, flash_problems
from sesshu.core.wareki import parse_date

from . import moves, services
from .models import MoveKind, MoveStatus
from .move_forms import KIND_FIELDS, KINDS_WITH_MEMBERS, MEMBER_ROWS, PERSON, RELATIONSHIP_CHOICES, nest
from .search import parse_register_search


def _as_of(request):
    """The ?as_of= date, or None for today; a bad date is a Problem shown on the page."""
    raw = request.GET.get("as_of", "").strip()
    return parse_date(raw[:40], field="as_of") if raw else None


@require_right("residents.view_register", services.PURPOSE_SEARCH)
def search(request):
    context = {"params": request.GET, "problems": [], "page": None}
    if any(request.GET.get(k) for k in ("name", "birth_date", "address", "sex")):
        try:
            criteria = parse_register_search(request.GET)
        except ProblemList as exc:
            context["problems"] = exc.problems
        else:
            context["page"] = services.find_residents(
                criteria, page_number(request.GET.get("page")), settings.SESSHU_PAGE_SIZE
            )
            query = request.GET.copy()
            query.pop("page", None)
            context["query"] = query.urlencode()
    return render(request, "residents/search.html", context, status=400 if context["problems"] else 200)


@require_right("residents.view_register", services.PURPOSE_VIEW)
def resident_detail(request, resident_number: str):
    try:
        record = services.resident_record(resident_number, _as_of(request))
    except Problem as problem:
        if problem.code == "not_found":
            raise Http404(problem.message) from None
        return render(
            request, "residents/resident.html", {"problems": [problem], "number": resident_number}, status=400
        )
    return render(request, "residents/resident.html", {"record": record, "kinds": MoveKind.choices})


@require_right("residents.view_register", services.PURPOSE_VIEW)
def household_detail(request, household_number: str):
    try:
        household, members, day = services.household_record(household_number, _as_of(request))
    except Problem as problem:
        if problem.code == "not_found":
            raise Http404(problem.message) from None
        return render(request, "residents/household.html", {"problems": [problem]}, status=400)
    return render(
        request, "residents/household.html", {"household": household, "members": members, "as_of": day}
    )


@require_right("residents.view_move", services.PURPOSE_QUEUE)
def move_queue(request):
    status = request.GET.get("status", MoveStatus.PENDING)
    if status not in MoveStatus.values:
        status = MoveStatus.PENDING
    context = {
        "moves": services.moves_queue(status),
        "status": status,
        "statuses": MoveStatus.choices,
        "kinds": MoveKind.choices,
    }
    return render(request, "residents/moves.html", context)


@require_right("residents.add_move", moves.PURPOSE_ENTRY)
def move_new(request, kind: str):
    if kind not in KIND_FIELDS:
        raise Http404("unknown kind")
    values, problems, status = request.GET.dict(), [], 200
    if request.method == "POST":
        values = request.POST.dict()
        try:
            move = moves.submit_move(kind, nest(request.POST), author=request.user)
        except ProblemList as exc:
            problems, status = exc.problems, 400
        except Problem as problem:
            problems, status = [problem], 400
        else:
            messages.success(request, _("The move was entered. Another staff member must confirm it."))
            return redirect("residents:move", move_id=move.pk)
    context = {
        "kind": kind,
        "kind_label": MoveKind(kind).label,
        "fields": KIND_FIELDS[kind],
        "member_rows": range(MEMBER_ROWS) if kind in KINDS_WITH_MEMBERS else [],
        "person_fields": PERSON,
        "values": values,
        "problems": problems,
        "problem_fields": {p.field for p in problems if p.field},
        "relationships": RELATIONSHIP_CHOICES,
    }
    return render(request, "residents/move_form.html", context, status=status)


@require_right("residents.view_move", services.PURPOSE_QUEUE)
def move_detail(request, move_id: int):
    try:
        move = services.move_detail(move_id)
    except Problem as problem:
        raise Http404(problem.message) from None
    can_review = (
        move.status == MoveStatus.PENDING
        and move.author_id != request.user.pk
        and has_right(request.user, "residents.confirm_move")
    )
    return render(request, "residents/move.html", {"move": move, "can_review": can_review})


@require_POST
@require_right("residents.confirm_move", moves.PURPOSE_CONFIRM)
def move_confirm(request, move_id: int):
    try:
        moves.confirm_move(move_id, reviewer=request.user)
    except (Problem, ProblemList) as exc:
        flash_problems(request, exc)
    else:
        messages.success(request, _("Confirmed: the register has been updated."))
    return redirect("residents:move", move_id=move_id)


@require_POST
@require_right("residents.confirm_move", moves.PURPOSE_CONFIRM)
def move_reject(request, move_id: int):
    try:
        moves.reject_move(move_id, reviewer=request.user, reason=request.POST.get("reason", "")[:500])
    except (Problem, ProblemList) as exc:
        flash_problems(request, exc)
    else:
        messages.success(request, _("Rejected and returned to the author."))
    return redirect("residents:move", move_id=move_id)
