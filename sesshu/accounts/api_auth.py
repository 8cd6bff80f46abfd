"""API authentication: a bearer token for systems, the browser session (with CSRF) for the UI."""

from datetime import timedelta

from django.utils import timezone
from ninja.security import HttpBearer, SessionAuth

from sesshu.audit.context import update_context
from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record

from .models import ApiToken


def _act_as(request, user):
    request.user = user
    update_context(actor_id=user.pk, actor_username=user.get_username())


class ApiTokenAuth(HttpBearer):
    def authenticate(self, request, token):
        token_row = ApiToken.objects.select_related("staff").filter(key_hash=ApiToken.hash_key(token)).first()
        if token_row is None or not token_row.is_usable() or not token_row.staff.is_active:
            record(
                Action.LOGIN_FAILED,
                purpose="API認証 (API authentication)",
                outcome=Outcome.FAILED,
                detail={"token_prefix": token[:8]},
            )
            return None
        now = timezone.now()
        if token_row.last_used_at is None or now - token_row.last_used_at > timedelta(minutes=5):
            ApiToken.objects.filter(pk=token_row.pk).update(last_used_at=now)
        _act_as(request, token_row.staff)
        return token_row.staff


class StaffSessionAuth(SessionAuth):
    """The logged-in browser session; CSRF is checked on unsafe methods."""

    def authenticate(self, request, key):
        user = super().authenticate(request, key)
        if user is not None:
            _act_as(request, user)
        return user
