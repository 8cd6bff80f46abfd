"""Screens for certified copies of the resident record: the issue form and the issuance register.

The form shows a household's current members (a read of personal data, so it is logged); posting it
issues the copy and answers with the PDF as a download. Nothing here keeps the PDF: a copy lost at the
counter is issued again, with a new number.

The names are plain ("juminhyo_new", ...) because this urlconf is included inside the residents
urlconf, whatever its namespace; links are reversed in the namespace the request came through.
"""

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from sesshu.accounts.access import require_right
from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.paging import page_number
from sesshu.core.problems import Problem, ProblemList
from sesshu.core.text import nfkc

from . import certificates
from .history import household_now
from .input import Reader
from .models import Household, JuminhyoIssue, Resident
from .pdf import PdfFontMissing

logger = logging.getLogger(__name__)

PURPOSE_REGISTER = "住民票の写し 交付簿の閲覧 (certified copies: issuance register)"
OPTION_FIELDS = ("include_domicile", "include_relationship", "include_juminhyo_code")
SCOPE_HOUSEHOLD = "household"  # 世帯全員
SCOPE_CHOSEN = "chosen"  # 世帯一部


def _url(request, name: str) -> str:
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    return reverse(f"{namespace}:{name}" if namespace else name)


def _household_number(raw) -> str:
    return nfkc(str(raw or "")).strip()[:12]


def _unknown_household() -> Problem:
    return Problem(
        "unknown_household",
        "指定の世帯番号の住民のいる世帯はありません。",
        "There is no household with residents under that number.",
        "household_number",
    )


def _initial_values(request) -> dict:
    return {
        "household_number": _household_number(request.GET.get("household")),
        "scope": SCOPE_HOUSEHOLD,
        "resident_numbers": set(),
        "include_domicile": False,
        "include_relationship": True,
        "include_juminhyo_code": False,
        "as_of": timezone.localdate().isoformat(),
        "requester_kind": JuminhyoIssue.Requester.SELF,
        "requester_name": "",
        "purpose": "",
    }


def _posted_values(post) -> dict:
    return {
        "household_number": _household_number(post.get("household_number")),
        "scope": SCOPE_CHOSEN if post.get("scope") == SCOPE_CHOSEN else SCOPE_HOUSEHOLD,
        "resident_numbers": {nfkc(n).strip()[:12] for n in post.getlist("resident_numbers")[:50]},
        **{name: post.get(name) in {"1", "on", "true"} for name in (*OPTION_FIELDS, "include_mynumber")},
        "as_of": str(post.get("as_of", ""))[:40],
        "requester_kind": str(post.get("requester_kind", ""))[:20],
        "requester_name": str(post.get("requester_name", ""))[:200],
        "purpose": str(post.get("purpose", ""))[:400],
    }


def _current_members(household_number: str) -> list[Resident] | None:
    """The members shown as checkboxes (None: no such household with residents); the read is logged."""
    if not household_number:
        return None
    household = Household.objects.filter(household_number=household_number).first()
    members = household_now(household) if household else []
    if not members:
        record(
            Action.VIEW,
            purpose=certificates.PURPOSE,
            outcome=Outcome.FAILED,
            object_type="resident",
            criteria={"household_number": household_number},
        )
        return None
    record(
        Action.VIEW,
        purpose=certificates.PURPOSE,
        object_type="resident",
        subjects=[m.pk for m in members],
        criteria={"household_number": household_number},
        result_count=len(members),
    )
    return members


def _form(request, values: dict, problems: list[Problem], status: int = 200):
    members = _current_members(values["household_number"])
    if (
        values["household_number"]
        and members is None
        and not any(p.field == "household_number" for p in problems)
    ):
        problems = [*problems, _unknown_household()]
    if problems and status == 200:
        status = 400
    context = {
        "values": values,
        "members": members or [],
        "problems": problems,
        "requester_choices": JuminhyoIssue.Requester.choices,
        "register_url": _url(request, "juminhyo_register"),
        "scope_household": SCOPE_HOUSEHOLD,
        "scope_chosen": SCOPE_CHOSEN,
    }
    return render(request, "residents/certificates/juminhyo_form.html", context, status=status)


@require_right("residents.issue_juminhyo", certificates.PURPOSE)
@require_http_methods(["GET", "POST"])
def juminhyo_new(request):
    """GET: the form (with ?household= the members to choose from); POST: issue and download the PDF."""
    if request.method == "GET":
        return _form(request, _initial_values(request), [])
    values = _posted_values(request.POST)
    reader = Reader({"as_of": values["as_of"]})
    as_of = reader.date("as_of", "基準日", "as-of date")
    if reader.problems:
        return _form(request, values, reader.problems)
    chosen = values["scope"] == SCOPE_CHOSEN
    try:
        issue, pdf = certificates.issue_juminhyo(
            values["household_number"],
            resident_numbers=sorted(values["resident_numbers"]) if chosen else None,
            include_domicile=values["include_domicile"],
            include_relationship=values["include_relationship"],
            include_juminhyo_code=values["include_juminhyo_code"],
            include_mynumber=values["include_mynumber"],
            as_of=as_of,
            requester_kind=values["requester_kind"],
            requester_name=values["requester_name"],
            purpose=values["purpose"],
            issued_by=request.user,
        )
    except ProblemList as exc:
        return _form(request, values, exc.problems)
    except Problem as problem:
        return _form(request, values, [problem])
    except PdfFontMissing as exc:
        # The server is set up wrong, not the input: say so on screen, and tell the operators how to fix it.
        logger.error("Cannot issue a certified copy: %s", exc)
        unavailable = Problem(
            "pdf_font_missing",
            "証明書PDFに必要なフォントがサーバーにないため、交付できません。システム管理者に連絡してください。",
            "The server lacks the font the certificate PDF needs, so no copy can be issued: "
            "contact the system administrator.",
        )
        return _form(request, values, [unavailable], status=503)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="juminhyo-{issue.certificate_number}.pdf"'
    response["Cache-Control"] = "no-store"  # personal data: no copy left in a shared browser's cache
    return response


@require_right("residents.view_register", PURPOSE_REGISTER)
@require_GET
def juminhyo_register(request):
    """The issuance register (交付簿): who was given a copy of whose record, newest first."""
    household_number = _household_number(request.GET.get("household"))
    issues = JuminhyoIssue.objects.select_related("household", "issued_by").order_by("-issued_at", "-id")
    if household_number:
        issues = issues.filter(household__household_number=household_number)
    paginator = Paginator(issues, settings.SESSHU_PAGE_SIZE)
    page = paginator.get_page(page_number(request.GET.get("page")))
    numbers = {n for issue in page.object_list for n in issue.resident_numbers}
    residents = dict(
        Resident.objects.filter(resident_number__in=numbers).values_list("resident_number", "pk")
    )
    # The register is personal data too (it shows whose record went to whom): its reading is logged.
    record(
        Action.VIEW,
        purpose=PURPOSE_REGISTER,
        object_type="juminhyo_issue",
        subjects=residents.values(),
        criteria={"household_number": household_number, "page": page.number},
        result_count=paginator.count,
        detail={"issues": [issue.certificate_number for issue in page.object_list]},
    )
    query = urlencode({"household": household_number}) + "&" if household_number else ""
    context = {
        "page": page,
        "household_number": household_number,
        "query": query,
        "new_url": _url(request, "juminhyo_new"),
    }
    return render(request, "residents/certificates/juminhyo_register.html", context)
