"""The second factor (TOTP) for My Number work: enrolment, verification, lockout and enforcement.

Staff whose role grants ``addressee.use_mynumber`` must have verified a one-time code from their own
authenticator app in the current session before any My Number work; everyone else is untouched.
django-otp keeps the devices and marks the session (``OTPMiddleware`` gives ``user.is_verified()``);
this module decides who needs it, what is logged and when a device is locked.

The secret never leaves the enrolment page: it is not logged, not put in messages, and the page is
not cached. A bearer token is never a verified session, so the API refuses My Number work to it.
"""

import base64
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from sesshu.audit.context import update_context
from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.problems import Problem

from .access import forbidden_response, record_refusal
from .api_access import AccessDenied, ensure_right
from .roles import has_right

PERMISSION = "addressee.use_mynumber"
PURPOSE = "二要素認証 (second factor)"
OBJECT_TYPE = "otp_device"
FACTOR = {"factor": "totp"}
DEVICE_NAME = "sesshu"
# The unconfirmed device shown on this session's enrolment page: a reload (or the language switch)
# shows the same QR code again instead of invalidating what the app has just scanned.
PENDING_SESSION_KEY = "sesshu_otp_pending_device"
# signals.py connects record_device_removed under this uid (tests connect it too, without doubling).
DEVICE_REMOVED_UID = "sesshu_otp_device_removed"


# --- state -------------------------------------------------------------------------------------------


def needs_second_factor(user) -> bool:
    return has_right(user, PERMISSION)


def confirmed_device(user) -> TOTPDevice | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).order_by("pk").first()


def is_verified(request) -> bool:
    """True only for a browser session that passed TOTP with one of this user's confirmed devices.

    OTPMiddleware sets ``otp_device`` on the session's user. The API's token authentication puts a
    plain Staff object on the request instead, which has no ``otp_device``: tokens are never verified,
    even when the same browser also holds a verified session cookie. Without the middleware nothing
    is verified either (fail closed).
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    device = getattr(user, "otp_device", None)
    return device is not None and device.user_id == user.pk and device.confirmed


def number_use_allowed(request) -> bool:
    """May this request do My Number work now? (the right, and a verified session)"""
    user = getattr(request, "user", None)
    return user is not None and needs_second_factor(user) and is_verified(request)


def number_use_context(request) -> dict:
    """Context processor: ``{% if number_use_allowed %}`` (evaluated only where a template asks)."""
    return {"number_use_allowed": lambda: number_use_allowed(request)}


# --- lockout -----------------------------------------------------------------------------------------


def locked_until(device: TOTPDevice) -> datetime | None:
    """When the device accepts codes again, or None if it does now.

    Two rules, both on django-otp's own failure counter (reset by a correct code): its exponential
    back-off (1, 2, 4, 8 … seconds, OTP_TOTP_THROTTLE_FACTOR) against scripted guessing, and like the
    password lockout a fixed lock after SESSHU_OTP_FAILURE_LIMIT wrong codes in a row, which the back-off
    alone reaches only after many more tries. Each further wrong code after the lock locks it again.
    """
    allowed, info = device.verify_is_allowed()
    until = None if allowed else (info or {}).get("locked_until")
    last_failure = device.throttling_failure_timestamp
    if device.throttling_failure_count >= settings.SESSHU_OTP_FAILURE_LIMIT and last_failure:
        lock_end = last_failure + timedelta(minutes=settings.SESSHU_OTP_LOCKOUT_MINUTES)
        until = max(until, lock_end) if until else lock_end
    if until is not None and until <= timezone.now():
        return None
    return until


def locked_problem(until: datetime) -> Problem:
    local = timezone.localtime(until)
    # django-otp's back-off keeps doubling, so after many failures the lock can outlast the day.
    at = local.strftime("%H:%M:%S" if local.date() == timezone.localdate() else "%Y-%m-%d %H:%M")
    return Problem(
        "otp_locked",
        f"確認コードの誤りが続いたため、{at} まで確認できません。"
        "急ぐ場合はシステム管理者に連絡してください。",
        f"Too many wrong codes: try again after {at}, or ask the system administrator.",
        "code",
    )


WRONG_CODE = Problem(
    "otp_wrong_code",
    "確認コードが正しくありません。認証アプリに表示されている現在の6桁の数字を入力してください。",
    "The code is not correct. Enter the 6 digits your authenticator app shows now.",
    "code",
)
BAD_FORMAT = Problem(
    "otp_format",
    "確認コードは6桁の数字で入力してください。",
    "Enter the code as 6 digits.",
    "code",
)


# --- checking a code ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    ok: bool
    problem: Problem | None = None


def normalize_code(raw: str) -> str:
    """Accept what people type: full-width digits (IME), spaces and hyphens ("123 456", "１２３４５６")."""
    text = unicodedata.normalize("NFKC", raw or "")
    return "".join(ch for ch in text if ch not in " -\t")


def _check(request, device_pk: int, raw_code: str) -> tuple[CodeCheck, TOTPDevice | None]:
    """Check a code against one device, under a row lock so parallel guesses count one by one."""
    code = normalize_code(raw_code)
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(pk=device_pk, user=request.user).first()
        if device is None:
            return CodeCheck(False, WRONG_CODE), None
        if len(code) != device.digits or not (code.isascii() and code.isdigit()):
            # A typing slip, not a guess: no attempt is counted, nothing is checked.
            return CodeCheck(False, BAD_FORMAT), device
        until = locked_until(device)
        if until is not None:
            # While locked, even the right code is not tried (it would tell a guesser it was right).
            record(Action.LOCKED_OUT, purpose=PURPOSE, outcome=Outcome.DENIED, detail=FACTOR)
            return CodeCheck(False, locked_problem(until)), device
        if device.verify_token(code):
            return CodeCheck(True), device
        record(Action.LOGIN_FAILED, purpose=PURPOSE, outcome=Outcome.FAILED, detail=FACTOR)
        if device.throttling_failure_count == settings.SESSHU_OTP_FAILURE_LIMIT:
            record(
                Action.LOCKED_OUT,
                purpose=PURPOSE,
                outcome=Outcome.DENIED,
                detail={**FACTOR, "failures": device.throttling_failure_count},
            )
        until = locked_until(device)
        if device.throttling_failure_count >= settings.SESSHU_OTP_FAILURE_LIMIT and until is not None:
            return CodeCheck(False, locked_problem(until)), device
        return CodeCheck(False, WRONG_CODE), device


def _mark_verified(request, device: TOTPDevice) -> None:
    # A new session key when the session gains the right to My Number work (no session fixation),
    # then django-otp's mark on the session: OTPMiddleware reads it on every later request.
    request.session.cycle_key()
    otp_login(request, device)
    record(Action.LOGIN, purpose=PURPOSE, detail=FACTOR)


def verify_code(request, raw_code: str) -> CodeCheck:
    """The verification form: check a code against the user's confirmed device."""
    device = confirmed_device(request.user)
    if device is None:
        return CodeCheck(False, WRONG_CODE)
    check, device = _check(request, device.pk, raw_code)
    if check.ok:
        _mark_verified(request, device)
    return check


# --- enrolment ---------------------------------------------------------------------------------------


def pending_device(request) -> TOTPDevice:
    """The unconfirmed device this session is enrolling; a fresh secret for each new session."""
    pk = request.session.get(PENDING_SESSION_KEY)
    device = TOTPDevice.objects.filter(pk=pk, user=request.user, confirmed=False).first() if pk else None
    if device is None:
        # Secrets shown in an earlier session (another terminal, yesterday) are dropped, never reused.
        TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=request.user, name=DEVICE_NAME, confirmed=False)
        request.session[PENDING_SESSION_KEY] = device.pk
    return device


def confirm_enrolment(request, device: TOTPDevice, raw_code: str) -> CodeCheck:
    """Confirm the scanned device with a current code; the session is verified at the same time."""
    check, device = _check(request, device.pk, raw_code)
    if not check.ok or device is None:
        return check
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    request.session.pop(PENDING_SESSION_KEY, None)
    # The event names the device, never its key.
    record(
        Action.CREATE,
        purpose=PURPOSE,
        object_type=OBJECT_TYPE,
        detail={**FACTOR, "device": device.persistent_id},
    )
    _mark_verified(request, device)
    return check


def secret_groups(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app that cannot scan."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """The otpauth:// URL as an inline SVG QR code. The URL itself is not written into the page."""
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(
        scale=5, border=4, dark="#000", light="#fff", title=_("QR code for your authenticator app")
    )
    # segno writes only path data and the escaped title: nothing from the request reaches the markup.
    return mark_safe(svg)  # noqa: S308


def record_device_removed(sender, instance: TOTPDevice, **kwargs) -> None:
    """post_delete receiver: a confirmed device removed (the admin's reset after a lost phone)."""
    if instance.confirmed:
        record(
            Action.DELETE,
            purpose=PURPOSE,
            object_type=OBJECT_TYPE,
            detail={**FACTOR, "device": instance.persistent_id, "staff_id": instance.user_id},
        )


# --- redirects ---------------------------------------------------------------------------------------


def safe_next(request, default: str | None = None) -> str:
    """The ?next= (or posted next) if it points into this site, else the home page."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


def with_next(viewname: str, next_url: str) -> str:
    return f"{reverse(viewname)}?{urlencode({'next': next_url})}"


def _redirect(request, url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    if request.headers.get("HX-Request"):
        # htmx would swap the verify page into a fragment; make it navigate instead.
        response["HX-Redirect"] = url
    return response


# --- enforcement -------------------------------------------------------------------------------------


def require_number_use(purpose: str):
    """Guard a view doing My Number work: the right (as ``require_right``), then a verified session.

    Not logged in: to the login page. No right: the refusal page and a ``denied`` event, and no TOTP
    prompt (there is nothing to verify for). No confirmed device: to enrolment. Not verified in this
    session: to the code form, coming back to this page afterwards.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_right(request.user, PERMISSION):
                record_refusal(PERMISSION, purpose)
                return forbidden_response(request)
            if not is_verified(request):
                here = request.get_full_path()
                step = "otp:verify" if confirmed_device(request.user) else "otp:enrol"
                return _redirect(request, with_next(step, here))
            return view(request, *args, **kwargs)

        wrapped.sesshu_permission = PERMISSION
        wrapped.sesshu_second_factor = True
        return wrapped

    return decorator


def ensure_number_use(request, purpose: str) -> None:
    """The API's check: the right (refused and logged by ``ensure_right``), then a verified session.

    A system calling with a bearer token is refused here whatever its staff account may do on screen:
    a token proves no second factor. The answer is the same as for a missing right; the audit event
    says which it was.
    """
    ensure_right(request, PERMISSION, purpose)
    if not is_verified(request):
        record(
            Action.DENIED,
            purpose=purpose,
            outcome=Outcome.DENIED,
            detail={"permission": PERMISSION, **FACTOR},
        )
        raise AccessDenied(
            "forbidden",
            "この業務を行う権限がありません。試行は記録されました。",
            "Your role does not permit this work. The attempt has been recorded.",
        )


def api_number_use(purpose: str):
    """``api_right`` for My Number operations: names the operation in the audit context, then checks."""

    def decorator(operation):
        @wraps(operation)
        def guarded(request, *args, **kwargs):
            update_context(route=f"api:{operation.__name__}")
            ensure_number_use(request, purpose)
            return operation(request, *args, **kwargs)

        guarded.sesshu_permission = PERMISSION
        guarded.sesshu_second_factor = True
        return guarded

    return decorator
