"""Screens for vaccination records: manual entry from a 予診票, a record and its history, four-eyes
corrections and deletions, the queue of changes to confirm, and the masters (read only)."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from sesshu.accounts.access import require_right
from sesshu.addressee.services import parse_search
from sesshu.audit.models import Action
from sesshu.audit.services import record as audit
from sesshu.core.paging import page_number
from sesshu.core.problems import Problem, ProblemList, flash_problems

from . import records, services
from .entry import form_data, parse_entry
from .models import (
    ChangeKind,
    Clinic,
    Delivery,
    Doctor,
    DoctorDecision,
    LegalCategory,
    Notice,
    Payment,
    Product,
    VaccinationRecord,
    Vaccine,
)
from .notices.tickets import parse_ticket_number

PURPOSE_TICKET = "予防接種台帳 接種券番号による検索 (immunization register: ticket number lookup)"


def _choices() -> dict:
    """The entry form's lists; masters are small (tens of rows), read per request."""
    return {
        "vaccines": Vaccine.objects.all(),
        "products": Product.objects.filter(active=True).select_related("vaccine"),
        "clinics": Clinic.objects.all(),
        "doctors": Doctor.objects.filter(active=True).select_related("clinic"),
        "legal_categories": LegalCategory.choices,
        "deliveries": Delivery.choices,
        "payments": Payment.choices,
        "decisions": DoctorDecision.choices,
    }


def _person_or_404(person_id: int, purpose: str):
    try:
        return services.access_person(person_id, purpose)
    except Problem as problem:
        raise Http404(problem.message) from None


# Finding the person ------------------------------------------------------------------------------


@require_right("immunization.add_vaccinationrecord", records.PURPOSE_ENTRY)
def start(request):
    """The first screen: scan or type the ticket number, or search the person by name and birth date."""
    context = {"params": request.GET, "problems": [], "page": None}
    raw_ticket = request.GET.get("ticket", "").strip()
    if raw_ticket:
        try:
            ticket = parse_ticket_number(raw_ticket)
            notice = Notice.objects.filter(ticket_number=ticket).first()
            audit(
                Action.SEARCH,
                purpose=PURPOSE_TICKET,
                object_type="person",
                subjects=[notice.person_id] if notice else [],
                result_count=1 if notice else 0,
                criteria={"ticket_number": ticket},
            )
            if notice is None:
                raise Problem(
                    "unknown_ticket",
                    "この接種券番号の通知は発行されていません。",
                    "No notice was issued with this ticket number.",
                    "ticket",
                )
            if notice.voided_at is not None:
                raise Problem(
                    "voided_ticket",
                    "この接種券は無効にされています（再発行済み等）。",
                    "This ticket was voided (reissued or withdrawn).",
                    "ticket",
                )
        except Problem as problem:
            context["problems"] = [problem]
        else:
            url = reverse("records:enter", args=[notice.person_id])
            return redirect(f"{url}?ticket={ticket}")
    elif any(request.GET.get(k) for k in ("name", "birth_date")):
        try:
            criteria = parse_search(request.GET)
        except ProblemList as exc:
            context["problems"] = exc.problems
        else:
            context["page"] = services.find_persons(
                criteria, page_number(request.GET.get("page")), 20, viewer=request.user
            )
    status = 400 if context["problems"] else 200
    return render(request, "immunization/records/start.html", context, status=status)


def _notice_defaults(ticket: str) -> dict:
    """What the ticket's notice tells about the dose: the series' vaccine and the dose number."""
    notice = Notice.objects.filter(ticket_number=ticket).first()
    if notice is None:
        return {"ticket_number": ticket}
    codes = sorted(Vaccine.objects.values_list("code", flat=True), key=len, reverse=True)
    vaccine = next((c for c in codes if notice.series == c or notice.series.startswith(f"{c}-")), "")
    return {"ticket_number": ticket, "vaccine": vaccine, "dose_number": str(notice.dose_number)}


# Entry -------------------------------------------------------------------------------------------


@require_right("immunization.add_vaccinationrecord", records.PURPOSE_ENTRY)
def enter(request, person_id: int):
    """Enter a dose. A flagged dose comes back with the flag and is saved only with a note."""
    person = _person_or_404(person_id, records.PURPOSE_ENTRY)
    if request.method != "POST":
        data = _notice_defaults(request.GET["ticket"]) if request.GET.get("ticket") else {}
        audit(
            Action.VIEW,
            purpose=records.PURPOSE_ENTRY,
            object_type="person",
            subjects=[person.pk],
            detail={"step": "form"},
        )
        return _entry_form(request, person, data, [])
    step = request.POST.get("step", "enter")
    if step == "edit":
        audit(Action.VIEW, purpose=records.PURPOSE_ENTRY, object_type="person", subjects=[person.pk])
        return _entry_form(request, person, request.POST, [])
    try:
        values = parse_entry(request.POST)
        confirmed = step == "confirm"
        note = request.POST.get("flag_note", "")
        if not confirmed:
            flag = records.preview_entry(person, values, actor=request.user)
            if flag is not None:
                return _confirm_form(request, person, flag, [])
        saved = records.enter_record(
            person, values, actor=request.user, flag_confirmed=confirmed, flag_note=note
        )
    except records.FlagNotConfirmed as exc:
        return _confirm_form(request, person, exc.flag, [exc], status=400)
    except ProblemList as exc:
        _refusal_event(person, exc.problems)
        return _entry_form(request, person, request.POST, exc.problems, status=400)
    except Problem as problem:
        _refusal_event(person, [problem])
        return _entry_form(request, person, request.POST, [problem], status=400)
    messages.success(
        request,
        _("Saved: %(vaccine)s dose %(dose)s on %(date)s.")
        % {
            "vaccine": saved.vaccine.name_ja,
            "dose": saved.dose_number,
            "date": saved.vaccinated_on.isoformat(),
        },
    )
    if request.POST.get("next") == "person":
        return redirect("records:person", person.pk)
    return redirect("records:start")


def _refusal_event(person, problems) -> None:
    audit(
        Action.VIEW,
        purpose=records.PURPOSE_ENTRY,
        object_type="person",
        subjects=[person.pk],
        detail={"step": "refused", "problems": [p.code for p in problems]},
    )


def _entry_form(
    request, person, data, problems, status=200, template="immunization/records/entry.html", **extra
):
    services.mask_protected([person], request.user)
    by_field: dict[str, list[Problem]] = {}
    for p in problems:
        by_field.setdefault(p.field or "", []).append(p)
    context = {
        "person": person,
        "data": data,
        "problems": problems,
        "field_problems": by_field,
        **_choices(),
        **extra,
    }
    return render(request, template, context, status=status)


def _confirm_form(request, person, flag, problems, status=200):
    services.mask_protected([person], request.user)
    context = {"person": person, "data": request.POST, "flag": flag, "problems": problems}
    return render(request, "immunization/records/confirm.html", context, status=status)


# Reading -----------------------------------------------------------------------------------------


@require_right("immunization.view_vaccinationrecord", services.PURPOSE_HISTORY)
def person_records(request, person_id: int):
    person = _person_or_404(person_id, services.PURPOSE_HISTORY)
    rows = list(
        VaccinationRecord.objects.filter(person=person)
        .select_related("vaccine", "clinic")
        .order_by("vaccinated_on", "vaccine__sort_order", "pk")
    )
    audit(
        Action.VIEW,
        purpose=services.PURPOSE_HISTORY,
        object_type="vaccination_record",
        subjects=[person.pk],
        result_count=len(rows),
    )
    services.mask_protected([person], request.user)
    return render(request, "immunization/records/person.html", {"person": person, "rows": rows})


@require_right("immunization.view_vaccinationrecord", records.PURPOSE_RECORD_VIEW)
def detail(request, record_id: int):
    try:
        history = records.record_history(record_id, viewer=request.user)
    except Problem as problem:
        raise Http404(problem.message) from None
    services.mask_protected([history.record.person], request.user)
    return render(request, "immunization/records/detail.html", {"history": history, "record": history.record})


# Corrections and deletions (four-eyes) ------------------------------------------------------------


def _record_or_404(record_id: int) -> VaccinationRecord:
    found = (
        VaccinationRecord.objects.select_related("person", "vaccine", "product", "clinic")
        .filter(pk=record_id)
        .first()
    )
    if found is None:
        raise Http404(_("No such vaccination record."))
    return found


@require_right("immunization.change_vaccinationrecord", records.PURPOSE_CHANGE)
def correct(request, record_id: int):
    """Propose a correction: the entry form, prefilled, with the reason."""
    record = _record_or_404(record_id)
    person = record.person
    if request.method != "POST":
        audit(
            Action.VIEW,
            purpose=records.PURPOSE_CHANGE,
            object_type="vaccination_record",
            subjects=[person.pk],
            detail={"record": record.pk, "step": "form"},
        )
        return _correction_form(request, record, form_data(record), [])
    try:
        values = parse_entry(request.POST)
        records.propose_change(
            record.pk,
            kind=ChangeKind.CORRECT,
            reason=request.POST.get("reason", ""),
            actor=request.user,
            values=values,
            flag_note=request.POST.get("flag_note", ""),
        )
    except records.FlagNotConfirmed as exc:
        _refusal_event(person, [exc])
        return _correction_form(request, record, request.POST, [exc], status=400, flag=exc.flag)
    except ProblemList as exc:
        _refusal_event(person, exc.problems)
        return _correction_form(request, record, request.POST, exc.problems, status=400)
    except Problem as problem:
        _refusal_event(person, [problem])
        return _correction_form(request, record, request.POST, [problem], status=400)
    messages.success(request, _("The correction was proposed. Another staff member must confirm it."))
    return redirect("records:detail", record.pk)


def _correction_form(request, record, data, problems, status=200, flag=None):
    return _entry_form(
        request,
        record.person,
        data,
        problems,
        status=status,
        template="immunization/records/correct.html",
        record=record,
        flag=flag,
    )


@require_right("immunization.change_vaccinationrecord", records.PURPOSE_CHANGE)
def delete(request, record_id: int):
    """Propose a deletion, with the reason."""
    record = _record_or_404(record_id)
    problems: list[Problem] = []
    if request.method == "POST":
        try:
            records.propose_change(
                record.pk, kind=ChangeKind.DELETE, reason=request.POST.get("reason", ""), actor=request.user
            )
        except ProblemList as exc:
            problems = exc.problems
        except Problem as problem:
            problems = [problem]
        else:
            messages.success(request, _("The deletion was proposed. Another staff member must confirm it."))
            return redirect("records:detail", record.pk)
    audit(
        Action.VIEW,
        purpose=records.PURPOSE_CHANGE,
        object_type="vaccination_record",
        subjects=[record.person_id],
        detail={"record": record.pk, "step": "delete_form" if not problems else "refused"},
    )
    services.mask_protected([record.person], request.user)
    context = {"record": record, "person": record.person, "problems": problems}
    return render(request, "immunization/records/delete.html", context, status=400 if problems else 200)


@require_right("immunization.confirm_recordchange", records.PURPOSE_QUEUE)
def changes(request):
    pending = records.pending_changes(viewer=request.user)
    return render(request, "immunization/records/changes.html", {"changes": pending})


@require_POST
@require_right("immunization.confirm_recordchange", records.PURPOSE_CONFIRM)
def confirm(request, change_id: int):
    try:
        saved = records.confirm_change(change_id, reviewer=request.user)
    except (Problem, ProblemList) as exc:
        flash_problems(request, exc)
    else:
        messages.success(request, _("Confirmed. The previous version is kept in the record's history."))
        return redirect("records:detail", saved.pk)
    return redirect("records:changes")


@require_POST
@require_right("immunization.confirm_recordchange", records.PURPOSE_CONFIRM)
def reject(request, change_id: int):
    try:
        records.reject_change(change_id, reviewer=request.user, reason=request.POST.get("reason", ""))
    except (Problem, ProblemList) as exc:
        flash_problems(request, exc)
    else:
        messages.success(request, _("Rejected. The record is unchanged."))
    return redirect("records:changes")


# Masters -----------------------------------------------------------------------------------------


@require_right(
    "immunization.view_vaccinationrecord", "予防接種台帳 マスタ照会 (immunization register: masters)"
)
def masters(request):
    context = {
        "clinics": Clinic.objects.prefetch_related("fees__vaccine", "doctors"),
        "products": Product.objects.select_related("vaccine", "maker").prefetch_related("lots"),
    }
    return render(request, "immunization/records/masters.html", context)
