"""FHIR endpoints: ``GET /fhir/Patient/{id}/$everything`` and ``GET /fhir/Immunization?patient={id}``.

Authentication as for the API: a bearer token (systems) or the staff session (a clerk's browser).
A browser without a session is sent to the login page like every screen; a system gets 401 with an
OperationOutcome. The right is ``immunization.view_vaccinationrecord``; refusals are logged.
"""

import json
import re

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.views.decorators.http import require_GET

from sesshu.accounts.access import record_refusal
from sesshu.accounts.api_auth import ApiTokenAuth
from sesshu.accounts.roles import has_right
from sesshu.core.problems import Problem

from . import fhir

RIGHT = "immunization.view_vaccinationrecord"
_PATIENT_PARAM = re.compile(r"^(?:Patient/)?(\d{1,12})$")


def _response(body: dict, status: int = 200) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type=f"{fhir.FHIR_JSON}; charset=utf-8"
    )


def _outcome(status: int, code: str, ja: str, en: str) -> HttpResponse:
    return _response(fhir.operation_outcome(code, ja, en), status)


def _authenticate(request):
    """None when the caller may go on; otherwise the response to send."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        if ApiTokenAuth().authenticate(request, header[7:].strip()) is None:
            return _outcome(401, "login", "認証できません。", "Not authenticated.")
    elif not request.user.is_authenticated:
        if "json" in request.headers.get("Accept", ""):
            return _outcome(401, "login", "認証が必要です。", "Authentication required.")
        return redirect_to_login(request.get_full_path())
    if not has_right(request.user, RIGHT):
        record_refusal(RIGHT, fhir.PURPOSE_EXPORT)
        return _outcome(
            403,
            "forbidden",
            "この業務を行う権限がありません。試行は記録されました。",
            "Your role does not permit this work. The attempt has been recorded.",
        )
    return None


def _base(request) -> str:
    return request.build_absolute_uri("/fhir/")


def _export(request, person_id: int, everything: bool) -> HttpResponse:
    try:
        bundle = fhir.export(
            person_id,
            viewer=request.user,
            base=_base(request),
            self_url=request.build_absolute_uri(),
            everything=everything,
        )
    except Problem as problem:
        return _outcome(404, "not-found", problem.ja, problem.en)
    return _response(bundle)


@require_GET
def patient_everything(request, person_id: int):
    refusal = _authenticate(request)
    return refusal or _export(request, person_id, everything=True)


@require_GET
def immunization_search(request):
    refusal = _authenticate(request)
    if refusal:
        return refusal
    match = _PATIENT_PARAM.match(request.GET.get("patient", "").strip())
    if match is None:
        return _outcome(
            400,
            "required",
            "検索条件 patient（Patient の id）を指定してください。",
            "Give the search parameter patient (a Patient id).",
        )
    return _export(request, int(match.group(1)), everything=False)
