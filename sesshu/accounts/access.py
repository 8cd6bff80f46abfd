"""Permission checks for views: one decorator, one refusal page, one audit event per refusal.

The same answer is given for "not allowed" whatever is asked for, and every refusal is logged
(the seeds ask for refused attempts to be recorded too).
"""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import render

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record

from .roles import has_right


def record_refusal(permission: str, purpose: str) -> None:
    record(Action.DENIED, purpose=purpose, outcome=Outcome.DENIED, detail={"permission": permission})


def forbidden_response(request):
    return render(request, "accounts/forbidden.html", status=403)


def require_right(permission: str, purpose: str):
    """Let the view run only for staff whose role grants ``permission``; log and refuse the rest."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_right(request.user, permission):
                record_refusal(permission, purpose)
                return forbidden_response(request)
            return view(request, *args, **kwargs)

        wrapped.sesshu_permission = permission
        return wrapped

    return decorator
