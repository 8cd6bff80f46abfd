"""Permission checks for API operations, with the same refusal event as the screens."""

from functools import wraps

from sesshu.audit.context import update_context
from sesshu.core.problems import Problem

from .access import record_refusal
from .roles import has_right


class AccessDenied(Problem):
    pass


def ensure_right(request, permission: str, purpose: str) -> None:
    if not has_right(request.user, permission):
        record_refusal(permission, purpose)
        raise AccessDenied(
            "forbidden",
            "この業務を行う権限がありません。試行は記録されました。",
            "Your role does not permit this work. The attempt has been recorded.",
        )


def api_right(permission: str, purpose: str):
    """Guard an API operation: name it in the audit context, then check the right (refusals logged).

    Several operations can share one URL pattern (GET and POST on /register/moves), so the audit
    log names the operation itself rather than the pattern.
    """

    def decorator(operation):
        @wraps(operation)
        def guarded(request, *args, **kwargs):
            update_context(route=f"api:{operation.__name__}")
            ensure_right(request, permission, purpose)
            return operation(request, *args, **kwargs)

        return guarded

    return decorator
