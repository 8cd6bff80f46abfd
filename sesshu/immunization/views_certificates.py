"""Screens for certificates: issue from the person page, the certificate, its PDF, revocation, the issuance
register, the public verification page and the published keys (docs/certificates.md).

The verification page needs no log-in: a SMART Health Card is meant to be checked by anyone it is shown
to, and the page shows only what the pasted card itself says. For an anonymous visitor nothing about the
card is logged or kept; for staff the check is an audit event naming the person, and the page links the
register entry.
"""

import logging

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sesshu.accounts.access import require_right
from sesshu.accounts.roles import has_right
from sesshu.core.paging import page_number
from sesshu.core.problems import Problem, ProblemList

from .certificates import keys, services, shc
from .certificates.keys import IssuerKeyError
from .certificates.pdf import PdfFontMissing
from .models import CertificateKind, VaccinationCertificate

logger = logging.getLogger(__name__)

VIEW_RIGHT = "immunization.view_vaccinationcertificate"
ISSUE_RIGHT = "immunization.issue_certificate"
REVOKE_RIGHT = "immunization.revoke_certificate"
KINDS = {CertificateKind.DOMESTIC.value, CertificateKind.OVERSEAS.value}


def _server_problem(exc: Exception) -> Problem:
    # The server is set up wrong, not the input: say so on screen, and tell the operators in the log.
    logger.error("Cannot issue a certificate: %s", exc)
    return Problem(
        "certificate_unavailable",
        "サーバーの設定（フォントまたは署名鍵）に問題があるため交付できません。システム管理者に連絡してください。",
        "The server lacks the font or the signing key the certificate needs: "
        "contact the system administrator.",
    )


def _pdf_response(certificate: VaccinationCertificate, pdf: bytes) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"{certificate.kind}-{certificate.certificate_id}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"  # personal data: no copy left in a shared browser's cache
    return response


def _no_store(response):
    response["Cache-Control"] = "no-store"
    return response


# The person's certificates ------------------------------------------------------------------------------


@require_right(VIEW_RIGHT, services.PURPOSE_VIEW)
@require_GET
def person_certificates(request, person_id: int):
    """The person's doses (each with its 予防接種済証) and certificates; a fragment for the person page."""
    try:
        data = services.person_certificates(person_id)
    except Problem as problem:
        raise Http404(problem.message) from None
    template = (
        "immunization/certificates/_person_list.html"
        if request.headers.get("HX-Request")
        else "immunization/certificates/person.html"
    )
    return _no_store(render(request, template, {"data": data, "person": data.person}))


def _form_values(post) -> dict:
    values = {name: str(post.get(name, ""))[:200] for name in services.PASSPORT_FIELDS}
    values["records"] = {str(r)[:20] for r in post.getlist("records")[:200]}
    return values


def _issue_form(request, person_id: int, kind: str, values: dict, problems: list, status: int = 200):
    try:
        data = services.person_certificates(person_id)
    except Problem as problem:
        raise Http404(problem.message) from None
    if values.get("records") is None:
        values["records"] = {str(r.pk) for r in data.records}
    context = {
        "data": data,
        "person": data.person,
        "kind": kind,
        "kind_label": CertificateKind(kind).label,
        "values": values,
        "problems": problems,
    }
    if problems and status == 200:
        status = 400
    return _no_store(render(request, "immunization/certificates/new.html", context, status=status))


@require_right(ISSUE_RIGHT, services.PURPOSE_ISSUE)
@require_http_methods(["GET", "POST"])
def new_certificate(request, person_id: int, kind: str):
    """GET: the form (doses to certify, passport data abroad); POST: issue, then show the certificate."""
    if kind not in KINDS:
        raise Http404("unknown kind")
    if request.method == "GET":
        return _issue_form(request, person_id, kind, {"records": None}, [])
    values = _form_values(request.POST)
    try:
        issued = services.issue_vaccination_certificate(
            person_id,
            kind,
            passport_data=values if kind == CertificateKind.OVERSEAS else {},
            record_ids=sorted(values["records"]),
            issued_by=request.user,
        )
    except ProblemList as exc:
        return _issue_form(request, person_id, kind, values, exc.problems)
    except Problem as problem:
        if problem.code == "not_found":
            raise Http404(problem.message) from None
        return _issue_form(request, person_id, kind, values, [problem])
    except (PdfFontMissing, IssuerKeyError) as exc:
        return _issue_form(request, person_id, kind, values, [_server_problem(exc)], status=503)
    return redirect(reverse("certificates:detail", args=[issued.certificate.certificate_id]) + "?issued=1")


@require_right(ISSUE_RIGHT, services.PURPOSE_ISSUE)
@require_POST
def completion(request, person_id: int, record_id: int):
    """Issue a 予防接種済証 for one dose and answer with the PDF."""
    try:
        issued = services.issue_completion(person_id, record_id, issued_by=request.user)
    except Problem as problem:
        raise Http404(problem.message) from None
    except ProblemList as exc:
        return _no_store(
            render(request, "immunization/certificates/error.html", {"problems": exc.problems}, status=400)
        )
    except PdfFontMissing as exc:
        problems = [_server_problem(exc)]
        return render(request, "immunization/certificates/error.html", {"problems": problems}, status=503)
    return _pdf_response(issued.certificate, issued.pdf)


# One certificate ----------------------------------------------------------------------------------------


@require_right(VIEW_RIGHT, services.PURPOSE_VIEW)
@require_GET
def detail(request, certificate_id: str):
    try:
        certificate, passport = services.certificate_detail(certificate_id)
    except Problem as problem:
        raise Http404(problem.message) from None
    shc_text = shc.to_numeric(certificate.jws) if certificate.jws else ""
    context = {
        "certificate": certificate,
        "passport": passport,
        "shc": shc_text,
        "qr_svg": shc.qr_code(shc_text).svg_inline(scale=3) if shc_text else "",
        "just_issued": request.GET.get("issued") == "1",
    }
    return _no_store(render(request, "immunization/certificates/detail.html", context))


@require_right(VIEW_RIGHT, services.PURPOSE_ISSUE)
@require_GET
def certificate_pdf(request, certificate_id: str):
    try:
        certificate, pdf = services.certificate_pdf(certificate_id)
    except Problem as problem:
        raise Http404(problem.message) from None
    except PdfFontMissing as exc:
        problems = [_server_problem(exc)]
        return render(request, "immunization/certificates/error.html", {"problems": problems}, status=503)
    return _pdf_response(certificate, pdf)


@require_right(REVOKE_RIGHT, services.PURPOSE_REVOKE)
@require_POST
def revoke(request, certificate_id: str):
    try:
        services.revoke(certificate_id, request.POST.get("reason", ""), revoked_by=request.user)
    except Problem as problem:
        raise Http404(problem.message) from None
    except ProblemList as exc:
        return _no_store(
            render(request, "immunization/certificates/error.html", {"problems": exc.problems}, status=400)
        )
    return redirect("certificates:detail", certificate_id)


@require_right(VIEW_RIGHT, services.PURPOSE_REGISTER)
@require_GET
def register(request):
    """The issuance register (交付簿): every certificate, newest first."""
    certificates = VaccinationCertificate.objects.select_related("person", "issued_by").order_by(
        "-issued_at", "-id"
    )
    page = Paginator(certificates, settings.SESSHU_PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    services.register_page(page)
    return _no_store(render(request, "immunization/certificates/register.html", {"page": page}))


# Verification and the published keys (public) -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
def verify(request):
    """Paste (or scan into the field) a shc:/ text; the answer says genuine, revoked or invalid, and why."""
    context: dict = {"result": None, "staff_view": False}
    status = 200
    if request.method == "POST":
        text = str(request.POST.get("shc", ""))[: shc.MAX_INPUT]
        viewer = request.user if request.user.is_authenticated else None
        result = services.verify(text, viewer=viewer)
        context["result"] = result
        context["staff_view"] = viewer is not None and has_right(viewer, VIEW_RIGHT)
        status = 200 if result.genuine else 422
    return _no_store(render(request, "immunization/certificates/verify.html", context, status=status))


def _public_json(data) -> JsonResponse:
    response = JsonResponse(data)
    response["Access-Control-Allow-Origin"] = "*"  # the specification asks for CORS on the key set
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def jwks(request):
    """The issuer's public keys (every key that ever signed), with each key's revocation list version."""
    published = []
    for key in keys.published_keys():
        version = services.crl_version(key["kid"])
        published.append(key | {"crlVersion": version} if version else key)
    return _public_json({"keys": published})


@require_GET
def crl(request, kid: str):
    data = services.revocation_list(kid)
    if data is None:
        raise Http404("unknown key")
    return _public_json(data)
