"""The second factor (TOTP) for My Number work: enrolment, verification, lockout and enforcement.

Codes are computed the way an authenticator app does: HOTP of the time step with the device's key
(RFC 6238), taking the next step the device has not used yet, since a code is accepted only once.
"""

import time
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.db.models.signals import post_delete
from django.http import HttpResponse
from django.test import RequestFactory
from django_otp.middleware import OTPMiddleware
from django_otp.oath import hotp
from django_otp.plugins.otp_totp.models import TOTPDevice

from sesshu.accounts import otp
from sesshu.accounts.api_access import AccessDenied
from sesshu.accounts.api_auth import ApiTokenAuth
from sesshu.accounts.models import ApiToken
from sesshu.audit.models import AuditEvent

from .factories import PASSWORD, make_staff

pytestmark = pytest.mark.django_db

ENROL = "/accounts/otp/enrol/"
VERIFY = "/accounts/otp/verify/"
STATUS = "/accounts/otp/status/"


@otp.require_number_use("テスト用の番号利用事務 (test number work)")
def number_work(request):
    return HttpResponse("my number work done")


# --- helpers -----------------------------------------------------------------------------------------


def code_for(device: TOTPDevice) -> str:
    device.refresh_from_db()
    now_step = int((time.time() - device.t0) // device.step) + device.drift
    step = max(now_step, device.last_t + 1)
    return f"{hotp(device.bin_key, step, device.digits):0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    right = int(code_for(device))
    return f"{(right + 500_000) % 10**device.digits:0{device.digits}d}"


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="sesshu", confirmed=True)


def wait_out_backoff(device: TOTPDevice, seconds: int = 60) -> None:
    """Pretend the last failure was ``seconds`` ago (django-otp's back-off is 1, 2, 4 … seconds)."""
    device.refresh_from_db()
    if device.throttling_failure_timestamp is not None:
        TOTPDevice.objects.filter(pk=device.pk).update(
            throttling_failure_timestamp=device.throttling_failure_timestamp - timedelta(seconds=seconds)
        )


def run(view, client=None, path="/numbers/work/?page=2"):
    """Call a view through the session, auth and OTP middleware, with the test client's session."""
    request = RequestFactory().get(path)
    if client is not None and settings.SESSION_COOKIE_NAME in client.cookies:
        request.COOKIES[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return SessionMiddleware(AuthenticationMiddleware(OTPMiddleware(view)))(request)


def events_since(before: int):
    return list(AuditEvent.objects.filter(id__gt=before).order_by("id"))


def last_id() -> int:
    event = AuditEvent.objects.order_by("-id").first()
    return event.id if event else 0


def verify(client, device, code=None, next_url=STATUS):
    return client.post(f"{VERIFY}?next={next_url}", {"code": code or code_for(device), "next": next_url})


def session_is_verified(client) -> bool:
    html = client.get(STATUS).content.decode()
    return 'data-verified="true"' in html


# --- enrolment ---------------------------------------------------------------------------------------


def test_enrolment_shows_a_qr_code_and_the_secret_once(client):
    user = make_staff("number_use")
    client.force_login(user)
    response = client.get(ENROL)
    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    device = TOTPDevice.objects.get(user=user)
    assert not device.confirmed
    assert '<figure class="qr" id="otp-qr"><svg' in html
    assert "otpauth://" not in html  # the URL reaches the page only as the QR code's modules
    grouped = otp.secret_groups(device)
    assert html.count(grouped) == 1
    assert len(grouped.replace(" ", "")) == 32  # 20 random bytes in base32
    assert grouped.replace(" ", "") not in html
    # A reload in the same session (or the language switch) shows the same secret: the app has it.
    assert grouped in client.get(ENROL).content.decode()
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_new_session_gets_a_new_secret(client):
    user = make_staff("number_use")
    client.force_login(user)
    client.get(ENROL)
    first = TOTPDevice.objects.get(user=user)
    client.logout()
    client.force_login(user)
    client.get(ENROL)
    second = TOTPDevice.objects.get(user=user)  # the old unconfirmed device is gone
    assert first.pk != second.pk and first.key != second.key


def test_scanning_and_typing_a_code_confirms_the_device_and_verifies_the_session(client):
    user = make_staff("number_use")
    client.force_login(user)
    client.get(f"{ENROL}?next=/persons/")
    device = TOTPDevice.objects.get(user=user)
    before = last_id()
    response = client.post(f"{ENROL}?next=/persons/", {"code": code_for(device), "next": "/persons/"})
    assert response.status_code == 302
    assert response["Location"] == "/persons/"
    device.refresh_from_db()
    assert device.confirmed
    assert session_is_verified(client)
    created, logged_in = events_since(before)
    assert (created.action, created.object_type, created.actor) == ("create", "otp_device", user)
    assert created.detail == {"factor": "totp", "device": device.persistent_id}
    assert (logged_in.action, logged_in.outcome, logged_in.detail) == ("login", "ok", {"factor": "totp"})
    # Enrolled: the enrolment page now sends the member on instead of showing a new secret.
    assert client.get(ENROL).status_code == 302
    assert TOTPDevice.objects.filter(user=user).count() == 1


def test_a_wrong_code_at_enrolment_confirms_nothing(client):
    user = make_staff("number_use")
    client.force_login(user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    response = client.post(ENROL, {"code": wrong_code_for(device)})
    assert response.status_code == 200
    assert "確認コードが正しくありません" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert not session_is_verified(client)
    assert AuditEvent.objects.filter(action="login_failed", detail={"factor": "totp"}, actor=user).exists()


# --- verification ------------------------------------------------------------------------------------


def test_a_right_code_verifies_the_session_and_is_logged(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    assert not session_is_verified(client)
    before = last_id()
    response = verify(client, device)
    assert response.status_code == 302
    assert response["Location"] == STATUS
    assert session_is_verified(client)
    event = events_since(before)[0]
    assert (event.action, event.outcome, event.actor, event.detail) == (
        "login",
        "ok",
        user,
        {"factor": "totp"},
    )
    assert event.route == "otp:verify"


def test_codes_are_accepted_as_people_type_them(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    code = code_for(device)
    full_width = code[:3].translate(str.maketrans("0123456789", "０１２３４５６７８９")) + " " + code[3:]
    assert verify(client, device, code=full_width).status_code == 302


def test_a_wrong_code_fails_and_is_logged(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    before = last_id()
    response = verify(client, device, code=wrong_code_for(device))
    assert response.status_code == 200
    assert "確認コードが正しくありません" in response.content.decode()
    assert not session_is_verified(client)
    [event] = events_since(before)
    assert (event.action, event.outcome, event.actor, event.detail) == (
        "login_failed",
        "failed",
        user,
        {"factor": "totp"},
    )


def test_a_code_that_is_not_six_digits_is_not_counted_as_a_guess(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    response = verify(client, device, code="12ab")
    assert "6桁の数字" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_django_otp_back_off_refuses_an_immediate_retry(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    verify(client, device, code=wrong_code_for(device))
    # Within the back-off even the right code is not tried (a guesser learns nothing).
    response = verify(client, device)
    assert response.status_code == 200
    assert "まで確認できません" in response.content.decode()
    assert AuditEvent.objects.filter(action="locked_out", detail={"factor": "totp"}).exists()
    wait_out_backoff(device)
    assert verify(client, device).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 0  # a right code resets the count


def test_repeated_wrong_codes_lock_the_device_for_a_while(client, settings):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    for _ in range(settings.SESSHU_OTP_FAILURE_LIMIT):
        wait_out_backoff(device)  # a patient guesser: the short back-off alone would let them go on
        response = verify(client, device, code=wrong_code_for(device))
    assert "まで確認できません" in response.content.decode()
    lock = AuditEvent.objects.get(action="locked_out", detail__failures=settings.SESSHU_OTP_FAILURE_LIMIT)
    assert (lock.outcome, lock.actor, lock.detail["factor"]) == ("denied", user, "totp")

    wait_out_backoff(device)  # past the back-off, still inside the lock
    response = verify(client, device)
    assert response.status_code == 200
    assert not session_is_verified(client)
    client.post("/i18n/setlang/", {"language": "en", "next": VERIFY})
    assert "Too many wrong codes" in client.get(VERIFY).content.decode()

    wait_out_backoff(device, seconds=(settings.SESSHU_OTP_LOCKOUT_MINUTES + 1) * 60)
    assert verify(client, device).status_code == 302
    assert session_is_verified(client)


# --- enforcement -------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in():
    response = run(number_work)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_staff_without_the_right_are_refused_and_not_asked_for_a_code(client):
    user = make_staff("clerk")
    client.force_login(user)
    before = last_id()
    response = run(number_work, client)
    assert response.status_code == 403
    assert "my number work done" not in response.content.decode()
    [event] = events_since(before)
    assert (event.action, event.outcome, event.detail) == (
        "denied",
        "denied",
        {"permission": "addressee.use_mynumber"},
    )
    assert not TOTPDevice.objects.filter(user=user).exists()
    # The second factor's own pages refuse them too; the status page says they need none.
    assert client.get(VERIFY).status_code == 403
    assert client.get(ENROL).status_code == 403
    assert 'data-needed="false"' in client.get(STATUS).content.decode()


def test_a_number_use_clerk_without_a_device_is_sent_to_enrolment(client):
    client.force_login(make_staff("number_use"))
    response = run(number_work, client)
    assert response.status_code == 302
    assert response["Location"] == f"{ENROL}?next=%2Fnumbers%2Fwork%2F%3Fpage%3D2"


def test_a_number_use_clerk_cannot_do_number_work_before_verifying(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    response = run(number_work, client)
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2Fnumbers%2Fwork%2F%3Fpage%3D2"

    verify(client, device)
    response = run(number_work, client)
    assert response.status_code == 200
    assert response.content == b"my number work done"


def test_htmx_requests_are_told_to_navigate(client):
    user = make_staff("number_use")
    confirmed_device(user)
    client.force_login(user)
    request = RequestFactory().get("/numbers/work/", HTTP_HX_REQUEST="true")
    request.COOKIES[settings.SESSION_COOKIE_NAME] = client.cookies[settings.SESSION_COOKIE_NAME].value
    response = SessionMiddleware(AuthenticationMiddleware(OTPMiddleware(number_work)))(request)
    assert response["HX-Redirect"].startswith(VERIFY)


def test_verification_lasts_for_the_session_and_ends_with_logout(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    verify(client, device)
    for _ in range(3):
        assert session_is_verified(client)
        assert run(number_work, client).status_code == 200
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert not session_is_verified(client)
    assert run(number_work, client)["Location"].startswith(VERIFY)


def test_verifying_changes_the_session_key(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    old_key = client.session.session_key
    verify(client, device)
    assert client.session.session_key != old_key


def test_a_verified_session_cannot_be_used_by_another_account(client):
    """django-otp binds the verified device to its owner: a session of someone else is not verified."""
    owner, other = make_staff("number_use"), make_staff("number_use")
    device = confirmed_device(owner)
    client.force_login(other)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    assert run(number_work, client)["Location"].startswith(f"{ENROL}?")


def test_next_may_only_point_into_the_site(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    response = verify(client, device, next_url="https://evil.example/")
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_status_page_needs_a_login(client):
    response = client.get(STATUS)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_number_use_allowed_needs_the_right_and_a_verified_session(client):
    clerk = make_staff("clerk")
    number_user = make_staff("number_use")
    device = confirmed_device(number_user)
    seen = {}

    def probe(request):
        seen["allowed"] = otp.number_use_allowed(request)
        return HttpResponse()

    client.force_login(clerk)
    run(probe, client)
    assert seen["allowed"] is False
    client.force_login(number_user)
    run(probe, client)
    assert seen["allowed"] is False
    verify(client, device)
    run(probe, client)
    assert seen["allowed"] is True


# --- the API -----------------------------------------------------------------------------------------


def test_the_api_check_refuses_bearer_tokens_even_beside_a_verified_session(client):
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    verify(client, device)
    _, key = ApiToken.issue(user, "健診システム連携")
    results = {}

    def api_call(request):
        for label in ("session", "token"):
            if label == "token":
                ApiTokenAuth().authenticate(request, key)  # what the API does for "Authorization: Bearer"
            before = last_id()
            try:
                otp.ensure_number_use(request, "テスト (test)")
                results[label] = "allowed"
            except AccessDenied as problem:
                results[label] = (problem.code, [(e.action, e.detail) for e in events_since(before)])
        return HttpResponse()

    run(api_call, client)
    assert results["session"] == "allowed"
    assert results["token"] == (
        "forbidden",
        [("denied", {"permission": "addressee.use_mynumber", "factor": "totp"})],
    )


def test_the_api_check_refuses_staff_without_the_right_like_ensure_right(client):
    client.force_login(make_staff("clerk"))
    outcome = {}

    def api_call(request):
        with pytest.raises(AccessDenied) as refused:
            otp.ensure_number_use(request, "テスト (test)")
        outcome["problem"] = refused.value
        return HttpResponse()

    before = last_id()
    run(api_call, client)
    assert outcome["problem"].code == "forbidden"
    assert [(e.action, e.detail) for e in events_since(before)] == [
        ("denied", {"permission": "addressee.use_mynumber"})
    ]


# --- the administrator's reset, and the secret ---------------------------------------------------------


def test_deleting_the_device_is_logged_and_sends_the_member_back_to_enrolment(client):
    # sesshu/accounts/signals.py connects the same receiver under the same uid (no double events).
    post_delete.connect(otp.record_device_removed, sender=TOTPDevice, dispatch_uid=otp.DEVICE_REMOVED_UID)
    user = make_staff("number_use")
    device = confirmed_device(user)
    client.force_login(user)
    verify(client, device)
    persistent_id = device.persistent_id
    device.delete()
    event = AuditEvent.objects.get(action="delete", object_type="otp_device")
    assert event.detail == {"factor": "totp", "device": persistent_id, "staff_id": user.pk}
    assert not session_is_verified(client)
    assert run(number_work, client)["Location"].startswith(ENROL)


def test_the_secret_never_reaches_the_audit_log(client, settings):
    user = make_staff("number_use")
    client.force_login(user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=user)
    client.post(ENROL, {"code": wrong_code_for(device)})
    wait_out_backoff(device)
    client.post(ENROL, {"code": code_for(device)})
    client.post("/accounts/logout/")
    client.force_login(user)
    for _ in range(settings.SESSHU_OTP_FAILURE_LIMIT + 1):
        wait_out_backoff(device)
        verify(client, device, code=wrong_code_for(device))
    device.refresh_from_db()
    secret_b32 = otp.secret_groups(device).replace(" ", "")
    logged = str(
        list(AuditEvent.objects.values_list("criteria", "detail", "purpose", "route", "object_type"))
    )
    assert AuditEvent.objects.filter(object_type="otp_device").exists()
    for secret in (device.key, device.key.upper(), secret_b32, secret_b32.lower()):
        assert secret not in logged
