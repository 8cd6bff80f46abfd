"""Permission checks for API operations, with the same refusal event as the screens."""

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
