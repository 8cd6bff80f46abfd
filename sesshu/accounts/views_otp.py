"""Screens of the second factor (TOTP): enrolment, the code form, and a status page.

Thin on purpose: who needs a second factor, what is logged and when a device locks is decided in
``otp.py``. Pages that show or accept a secret or a code are never cached.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from . import otp
from .access import require_right


@never_cache
@require_http_methods(["GET", "POST"])
@require_right(otp.PERMISSION, otp.PURPOSE)
def enrol(request):
    next_url = otp.safe_next(request)
    if otp.confirmed_device(request.user) is not None:
        # One device per person; replacing it (a lost phone) is the administrator's reset.
        return redirect(next_url if otp.is_verified(request) else otp.with_next("otp:verify", next_url))
    device = otp.pending_device(request)
    problem = None
    if request.method == "POST":
        check = otp.confirm_enrolment(request, device, request.POST.get("code", ""))
        if check.ok:
            messages.success(request, _("Your authenticator app is set up. You may now do My Number work."))
            return redirect(next_url)
        problem = check.problem
    context = {
        "qr_svg": otp.qr_svg(device),
        "secret": otp.secret_groups(device),
        "problem": problem,
        "next": next_url,
    }
    return render(request, "accounts/otp/enrol.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@require_right(otp.PERMISSION, otp.PURPOSE)
def verify(request):
    next_url = otp.safe_next(request)
    device = otp.confirmed_device(request.user)
    if device is None:
        return redirect(otp.with_next("otp:enrol", next_url))
    if otp.is_verified(request):
        return redirect(next_url)
    if request.method == "POST":
        check = otp.verify_code(request, request.POST.get("code", ""))
        if check.ok:
            return redirect(next_url)
        problem = check.problem
    else:
        until = otp.locked_until(device)
        problem = otp.locked_problem(until) if until else None
    context = {"problem": problem, "next": next_url}
    return render(request, "accounts/otp/verify.html", context)


@never_cache
@require_GET
@login_required
def status(request):
    """Whether this session may do My Number work (for staff, and for the browser tests)."""
    device = otp.confirmed_device(request.user)
    context = {
        "needs_second_factor": otp.needs_second_factor(request.user),
        "device": device,
        "verified": otp.is_verified(request),
    }
    return render(request, "accounts/otp/status.html", context)
