from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods

from sesshu.accounts.access import require_right
from sesshu.accounts.otp import number_use_allowed
from sesshu.addressee.mynumber import is_registered
from sesshu.addressee.services import parse_search
from sesshu.core.paging import page_number
from sesshu.core.problems import Problem, ProblemList, flash_problems

from . import forecast_service, services
from .forecast_view import forecast_context


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
    context |= forecast_context(record, timezone.localdate())
    if number_use_allowed(request):
        # Only number-use work sees that the field exists at all; other roles' pages never carry it.
        context["mynumber_registered"] = is_registered(record.person)
    return render(request, "immunization/person.html", context)


@require_http_methods(["POST"])
@require_right("immunization.add_longtermcareexception", forecast_service.PURPOSE_LONG_TERM_CARE)
def record_long_term_care(request, person_id: int):
    """長期療養特例: record it from the form on the person page (audited; no second person needed)."""
    try:
        person = services.access_person(person_id, forecast_service.PURPOSE_LONG_TERM_CARE)
    except Problem as problem:
        raise Http404(problem.message) from None
    try:
        forecast_service.record_long_term_care(person, request.POST, request.user)
    except ProblemList as exc:
        flash_problems(request, exc)
    else:
        messages.success(request, gettext("The long-term illness exception was recorded."))
    return redirect(reverse("immunization:person", args=[person_id]) + "#forecast")
