import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect
from django.utils.translation import gettext as _

SESSION_KEY = "sesshu_last_activity"


class IdleLogoutMiddleware:
    """Log staff out after SESSHU_IDLE_TIMEOUT_SECONDS without a request (the seeds' 自動ログオフ)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            now = time.time()
            last = request.session.get(SESSION_KEY)
            if last is not None and now - last > settings.SESSHU_IDLE_TIMEOUT_SECONDS:
                request.sesshu_logout_reason = "idle"
                logout(request)
                messages.info(request, _("You were logged out after a period without activity."))
                response = redirect(settings.LOGIN_URL)
                if request.headers.get("HX-Request"):
                    response["HX-Redirect"] = response["Location"]
                return response
            request.session[SESSION_KEY] = now
        return self.get_response(request)
