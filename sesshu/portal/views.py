from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils import timezone

from sesshu.accounts.roles import has_right
from sesshu.audit.models import AuditEvent

from . import services


@login_required
def home(request):
    """Today's work: figures for the user's roles (aggregates only, no person's data)."""
    today = timezone.localdate()
    context = {
        "today": today,
        "my_events_today": AuditEvent.objects.filter(actor=request.user, occurred_at__date=today).count(),
        "can_search": has_right(request.user, "addressee.search_person"),
        "figures": services.register_figures(today)
        if has_right(request.user, "addressee.view_person")
        else None,
        "audit": services.audit_figures(today) if has_right(request.user, "audit.view_auditevent") else None,
        "moves": services.register_work(request.user)
        if has_right(request.user, "residents.view_move")
        else None,
    }
    return render(request, "portal/home.html", context)


def _error(request, status: int, ja: str, en: str):
    return render(request, "portal/error.html", {"status": status, "ja": ja, "en": en}, status=status)


def bad_request(request, exception=None):
    return _error(request, 400, "リクエストの形式が正しくありません。", "The request is malformed.")


def permission_denied(request, exception=None):
    return _error(request, 403, "この操作は許可されていません。", "This operation is not permitted.")


def not_found(request, exception=None):
    return _error(request, 404, "ページまたは対象が見つかりません。", "The page or record was not found.")


def server_error(request):
    return _error(
        request,
        500,
        "システムエラーが発生しました。管理者に連絡してください。",
        "A system error occurred. Contact your administrator.",
    )
