from django.conf import settings
from django.http import Http404
from django.shortcuts import render

from sesshu.accounts.access import require_right
from sesshu.accounts.otp import number_use_allowed
from sesshu.addressee.mynumber import is_registered
from sesshu.addressee.services import parse_search
from sesshu.core.paging import page_number
from sesshu.core.problems import Problem, ProblemList

from . import services


@require_right("addressee.search_person", services.PURPOSE_SEARCH)
def search(request):
    context = {"params": request.GET, "problems": [], "page": None}
    if any(request.GET.get(k) for k in ("name", "birth_date", "address")):
        try:
            criteria = parse_search(request.GET)
        except ProblemList as exc:
            context["problems"] = exc.problems
        else:
            context["page"] = services.find_persons(
                criteria,
                page_number(request.GET.get("page")),
                settings.SESSHU_PAGE_SIZE,
                viewer=request.user,
            )
            query = request.GET.copy()
            query.pop("page", None)
            context["query"] = query.urlencode()
    template = (
        "immunization/_results.html" if request.headers.get("HX-Request") else "immunization/search.html"
    )
    status = 400 if context["problems"] else 200
    return render(request, template, context, status=status)


@require_right("addressee.view_person", services.PURPOSE_VIEW)
def person_detail(request, person_id: int):
    try:
        record = services.person_record(person_id, viewer=request.user)
    except Problem as problem:
        raise Http404(problem.message) from None
    context = {"record": record, "person": record.person}
    if number_use_allowed(request):
        # Only number-use work sees that the field exists at all; other roles' pages never carry it.
        context["mynumber_registered"] = is_registered(record.person)
    return render(request, "immunization/person.html", context)
