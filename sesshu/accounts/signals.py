"""Login, logout, failed logins and lockouts are audit events."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record

PURPOSE = "認証 (authentication)"


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record(Action.LOGIN, purpose=PURPOSE, actor=user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        reason = getattr(request, "sesshu_logout_reason", "user")
        record(Action.LOGOUT, purpose=PURPOSE, actor=user, detail={"reason": reason})


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    # The attempted user name is kept (it is how misuse is traced); the password never is.
    username = str(credentials.get("username", ""))[:150]
    record(Action.LOGIN_FAILED, purpose=PURPOSE, outcome=Outcome.FAILED, criteria={"username": username})


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    record(
        Action.LOCKED_OUT, purpose=PURPOSE, outcome=Outcome.DENIED, criteria={"username": str(username)[:150]}
    )
