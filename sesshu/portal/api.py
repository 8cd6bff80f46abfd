"""The JSON API under /api/v1/: the same permissions and audit events as the screens."""

from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError

from sesshu.accounts.api_access import AccessDenied
from sesshu.accounts.api_auth import ApiTokenAuth, StaffSessionAuth
from sesshu.addressee.api import router as addressee_router
from sesshu.core.problems import Problem, ProblemList
from sesshu.immunization.api import router as persons_router
from sesshu.immunization.api_forecast import router as forecast_router
from sesshu.residents.api import router as register_router

api = NinjaAPI(
    title="sesshu API",
    version="1",
    description=(
        "Immunization administration for Japanese municipalities. Errors carry Japanese and English messages."
    ),
    auth=[ApiTokenAuth(), StaffSessionAuth()],
    docs_url=None,  # the interactive docs load scripts from a CDN, which city networks do not reach
    openapi_url="/openapi.json",
    urls_namespace="api",
)
api.add_router("/", persons_router)
api.add_router("/", register_router)
api.add_router("/", addressee_router)
api.add_router("/", forecast_router)


def _problems(request, problems: list[dict], status: int):
    return api.create_response(request, {"errors": problems}, status=status)


@api.exception_handler(ProblemList)
def on_problem_list(request, exc: ProblemList):
    return _problems(request, exc.as_dicts(), 400)


@api.exception_handler(AccessDenied)
def on_access_denied(request, exc: AccessDenied):
    return _problems(request, [exc.as_dict()], 403)


@api.exception_handler(Problem)
def on_problem(request, exc: Problem):
    return _problems(request, [exc.as_dict()], 404 if exc.code == "not_found" else 400)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    fields = sorted({".".join(str(p) for p in e.get("loc", [])[1:]) or "request" for e in exc.errors})
    return _problems(
        request,
        [
            {
                "code": "invalid_parameter",
                "field": ", ".join(fields),
                "message_ja": f"パラメータの形式が正しくありません: {', '.join(fields)}",
                "message_en": f"Invalid parameter: {', '.join(fields)}",
            }
        ],
        400,
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return _problems(
        request,
        [
            {
                "code": "unauthenticated",
                "field": None,
                "message_ja": "認証が必要です。ログインするか、有効なAPIトークンを指定してください。",
                "message_en": "Authentication required: log in or send a valid API token.",
            }
        ],
        401,
    )


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _problems(
        request,
        [{"code": "not_found", "field": None, "message_ja": "見つかりません。", "message_en": "Not found."}],
        404,
    )
