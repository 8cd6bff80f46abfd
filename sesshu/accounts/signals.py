"""Login, logout, failed logins and lockouts are audit events."""

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record

from .otp import DEVICE_REMOVED_UID, record_device_removed

PURPOSE = "認証 (authentication)"
post_delete.connect(record_device_removed, sender=TOTPDevice, dispatch_uid=DEVICE_REMOVED_UID)


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
