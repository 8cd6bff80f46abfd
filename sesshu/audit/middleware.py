"""Puts who/where/which request into the audit context for everything the request does."""

import ipaddress

from django.conf import settings
from django.utils.module_loading import import_string

from .context import AuditContext, reset_context, set_context, update_context


def client_ip(request) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if forwarded and remote in settings.SESSHU_TRUSTED_PROXIES:
        candidate = forwarded.split(",")[-1].strip()
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            return remote
    return remote


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        resolver = getattr(settings, "SESSHU_TERMINAL_RESOLVER", "")
        self.resolve_terminal = import_string(resolver) if resolver else (lambda ip: "")

    def __call__(self, request):
        ip = client_ip(request)
        user = request.user if request.user.is_authenticated else None
        token = set_context(
            AuditContext(
                actor_id=getattr(user, "pk", None),
                actor_username=user.get_username() if user else "",
                ip_address=ip,
                terminal=self.resolve_terminal(ip),
            )
        )
        try:
            return self.get_response(request)
        finally:
            reset_context(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        update_context(route=(match.view_name if match else request.path_info)[:200])
