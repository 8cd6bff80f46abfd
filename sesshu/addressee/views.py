"""My Number work on screen: register (four-eyes), reveal with a purpose, search by number.

Every view here needs the number-use right AND a verified second factor (``require_number_use``);
the services write the audit events. The number is shown on exactly one page (the reveal), which is
never cached.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from sesshu.accounts.access import require_right
from sesshu.accounts.otp import require_number_use
from sesshu.core.problems import Problem, ProblemList, flash_problems, problems_of

from . import mynumber
from .models import Person
from .models_vault import IdentityCheck
from .services import set_alternative_address


@never_cache
@require_number_use(mynumber.PURPOSE_SEARCH)
def search(request):
    problems, status = [], 200
    if request.method == "POST":
        try:
            person = mynumber.find_by_number(
                request.POST.get("number", ""), purpose=request.POST.get("purpose", "")
            )
        except (Problem, ProblemList) as exc:
            problems, status = problems_of(exc), 400
        else:
            if person is not None:
                return redirect("immunization:person", person_id=person.pk)
            problems, status = (
                [Problem("not_found", "該当する人がいません。", "Nobody has this number.")],
                404,
            )
    # The number typed is never echoed back into the form.
    return render(request, "addressee/search.html", {"problems": problems}, status=status)


@never_cache
@require_number_use(mynumber.PURPOSE_REGISTER)
def register(request, person_id: int):
    try:
        person, registered = mynumber.registration_form(person_id)
    except Problem as problem:
        raise Http404(problem.message) from None
    problems, status = [], 200
    if request.method == "POST":
        try:
            mynumber.submit_registration(
                person.pk,
                request.POST.get("number", ""),
                request.POST.get("identity_check", ""),
                author=request.user,
            )
        except (Problem, ProblemList) as exc:
            problems, status = problems_of(exc), 400
        else:
            messages.success(request, _("The number was entered. Another number-use clerk must confirm it."))
            return redirect("addressee:requests")
    checks = [c for c in IdentityCheck.choices if c[0] != IdentityCheck.JUKI_NET]
    context = {"person": person, "problems": problems, "checks": checks, "registered": registered}
    return render(request, "addressee/register.html", context, status=status)


@never_cache
@require_number_use(mynumber.PURPOSE_REGISTER)
def requests(request):
    return render(request, "addressee/requests.html", {"requests": mynumber.pending_requests()})


@require_POST
@require_number_use(mynumber.PURPOSE_REGISTER)
def confirm(request, request_id: int):
    try:
        mynumber.confirm_registration(request_id, reviewer=request.user)
    except (Problem, ProblemList) as exc:
        flash_problems(request, exc)
    else:
        messages.success(request, _("Confirmed: the number is stored in the vault."))
    return redirect("addressee:requests")


@require_POST
@require_number_use(mynumber.PURPOSE_REGISTER)
def reject(request, request_id: int):
    try:
        mynumber.reject_registration(request_id, reviewer=request.user, reason=request.POST.get("reason", ""))
    except (Problem, ProblemList) as exc:
        flash_problems(request, exc)
    else:
        messages.success(request, _("Rejected and returned to the author."))
    return redirect("addressee:requests")


@never_cache
@require_POST
@require_number_use(mynumber.PURPOSE_REVEAL)
def reveal(request, person_id: int):
    try:
        number = mynumber.reveal(person_id, purpose=request.POST.get("purpose", ""))
    except (Problem, ProblemList) as exc:
        flash_problems(request, exc)
        return redirect("immunization:person", person_id=person_id)
    person = Person.objects.get(pk=person_id)
    grouped = f"{number[:4]} {number[4:8]} {number[8:]}"
    return render(request, "addressee/reveal.html", {"person": person, "number": grouped})


@require_POST
@require_right(
    "addressee.view_protected_address", "支援措置 送付先の登録 (mailing address of a protected person)"
)
def alternative_address(request, person_id: int):
    try:
        set_alternative_address(
            person_id,
            request.POST.get("alternative_postal_code", ""),
            request.POST.get("alternative_address", ""),
        )
    except (Problem, ProblemList) as exc:
        flash_problems(request, exc)
    else:
        messages.success(request, _("The mailing address was saved."))
    return redirect("immunization:person", person_id=person_id)
