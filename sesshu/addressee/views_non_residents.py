"""Non-residents (住登外者) on screen: register one, correct one. The services check and log."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache

from sesshu.accounts.access import require_right
from sesshu.core.problems import Problem, ProblemList, problems_of

from . import non_residents
from .models import Person
from .non_residents import PossibleDuplicate

# (field, label, kind): the form shows them in this order; the services read the same names.
FIELDS = [
    ("family_name", gettext_lazy("Family name"), "text"),
    ("given_name", gettext_lazy("Given name"), "text"),
    ("family_name_kana", gettext_lazy("Family name (kana)"), "text"),
    ("given_name_kana", gettext_lazy("Given name (kana)"), "text"),
    ("latin_name", gettext_lazy("Name in Latin letters (if any)"), "text"),
    ("birth_date", gettext_lazy("Date of birth"), "date"),
    ("sex", gettext_lazy("Sex"), "sex"),
    ("postal_code", gettext_lazy("Postal code"), "text"),
    ("address", gettext_lazy("Address"), "text"),
    ("source", gettext_lazy("Basis for registration"), "text"),
]


def _context(values, problems, **extra) -> dict:
    duplicates = [n for p in problems if isinstance(p, PossibleDuplicate) for n in p.numbers]
    return {
        "fields": FIELDS,
        "values": values,
        "problems": problems,
        "problem_fields": {p.field for p in problems if p.field},
        # After a possible_duplicate refusal the clerk may state that these are other people.
        "duplicates": ",".join(duplicates),
        **extra,
    }


def _posted(request) -> dict[str, str]:
    # Echoed back into the form after a problem; a browser sends one value per field.
    return {name: request.POST.get(name, "") for name, _label, _kind in FIELDS}


def _form(request, values, problems, person, status):
    context = _context(values, problems, person=person)
    return render(request, "addressee/non_residents/form.html", context, status=status)


def _refusal(request, problems: list[Problem], person_id: int):
    """Not a form problem: an unknown id (404), or a resident, whose 5情報 the register keeps."""
    codes = {p.code for p in problems}
    if "not_found" in codes:
        raise Http404(problems[0].message)
    if "not_non_resident" in codes:
        messages.error(request, problems[0].message)
        return redirect("immunization:person", person_id=person_id)
    return None


@never_cache
@require_right("addressee.register_non_resident", non_residents.PURPOSE_REGISTER)
def new(request):
    if request.method != "POST":
        return _form(request, {}, [], None, 200)
    try:
        person = non_residents.register_non_resident(
            request.POST, source=request.POST.get("source", ""), author=request.user
        )
    except (Problem, ProblemList) as exc:
        return _form(request, _posted(request), problems_of(exc), None, 400)
    messages.success(
        request,
        _("Registered as a non-resident with integrated addressee number %(number)s.")
        % {"number": person.integrated_number},
    )
    return redirect("immunization:person", person_id=person.pk)


@never_cache
@require_right("addressee.register_non_resident", non_residents.PURPOSE_CHANGE)
def edit(request, person_id: int):
    if request.method != "POST":
        try:
            person = non_residents.non_resident_for_edit(person_id)
        except Problem as problem:
            return _refusal(request, [problem], person_id)
        return _form(request, non_residents.form_values(person), [], person, 200)
    try:
        person, changed = non_residents.update_non_resident(person_id, request.POST, author=request.user)
    except (Problem, ProblemList) as exc:
        problems = problems_of(exc)
        if (refused := _refusal(request, problems, person_id)) is not None:
            return refused
        # The service logged the failed attempt against this person.
        return _form(request, _posted(request), problems, Person.objects.get(pk=person_id), 400)
    messages.success(request, _("The changes were saved.") if changed else _("Nothing was changed."))
    return redirect("immunization:person", person_id=person.pk)
