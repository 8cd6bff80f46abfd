"""Log-in, log-out, refused attempts, lockout, idle log-out, password rules and API tokens."""

import os
import stat
import time

import pytest
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command

from sesshu.accounts.middleware import SESSION_KEY
from sesshu.accounts.models import ApiToken, Staff
from sesshu.accounts.roles import has_right
from sesshu.audit.models import AuditEvent
from sesshu.settings import base

from .factories import PASSWORD, make_staff

pytestmark = pytest.mark.django_db


def log_in(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def last_event():
    return AuditEvent.objects.order_by("-id").first()


def test_logging_in_and_out_are_events(client):
    user = make_staff("clerk")
    response = log_in(client, user.username, PASSWORD)
    assert response.status_code == 302
    login_event = last_event()
    assert (login_event.action, login_event.actor) == ("login", user)
    client.post("/accounts/logout/")
    logout_event = last_event()
    assert (logout_event.action, logout_event.actor, logout_event.detail) == (
        "logout",
        user,
        {"reason": "user"},
    )
    assert client.get("/").status_code == 302  # logged out


def test_a_wrong_password_is_refused_and_logged_without_the_password(client):
    user = make_staff("clerk")
    response = log_in(client, user.username, "Wrong-Password-99")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    event = last_event()
    assert (event.action, event.outcome, event.criteria) == (
        "login_failed",
        "failed",
        {"username": user.username},
    )
    assert "Wrong-Password-99" not in str(AuditEvent.objects.values_list("criteria", "detail"))


def test_repeated_failures_lock_the_account(client, settings):
    user = make_staff("clerk")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(client, user.username, "Wrong-Password-99")
    response = log_in(client, user.username, PASSWORD)  # even the right password, while locked
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="locked_out", criteria__username=user.username).exists()


def test_idle_sessions_are_logged_out(client, settings):
    user = make_staff("clerk")
    log_in(client, user.username, PASSWORD)
    assert client.get("/").status_code == 200
    session = client.session
    session[SESSION_KEY] = time.time() - settings.SESSHU_IDLE_TIMEOUT_SECONDS - 1
    session.save()
    response = client.get("/persons/?name=タナカ")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    event = last_event()
    assert (event.action, event.actor, event.detail) == ("logout", user, {"reason": "idle"})
    assert client.get("/").status_code == 302


def test_active_sessions_stay_logged_in(client, settings):
    user = make_staff("clerk")
    log_in(client, user.username, PASSWORD)
    session = client.session
    session[SESSION_KEY] = time.time() - settings.SESSHU_IDLE_TIMEOUT_SECONDS + 60
    session.save()
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("weak", ["short1A!", "abcdefghijklmn", "12345678901234", "password1234"])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(ValidationError):
        validate_password(weak)


def test_a_good_password_passes_the_rules():
    validate_password("Sakura-Gaoka-2026")


def test_deployments_hash_passwords_with_argon2(settings):
    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    settings.PASSWORD_HASHERS = base.PASSWORD_HASHERS
    assert make_password("Sakura-Gaoka-2026").startswith("argon2")


def test_a_superuser_flag_grants_no_personal_data(client):
    root = Staff.objects.create_superuser("root", password=PASSWORD)
    assert not has_right(root, "addressee.search_person")
    client.force_login(root)
    assert client.get("/persons/?name=タナカ").status_code == 403


def test_demo_accounts_get_random_passwords_in_a_private_file(tmp_path):
    path = tmp_path / "credentials.txt"
    call_command("demo_staff", file=str(path), stdout=open(os.devnull, "w"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    rows = [line.split("\t") for line in path.read_text().splitlines() if not line.startswith("#")]
    passwords = {user: password for user, password, _ in rows}
    assert len(set(passwords.values())) == len(passwords)  # no shared or fixed password
    clerk = Staff.objects.get(username="clerk1")
    assert clerk.check_password(passwords["clerk1"])
    assert not Staff.objects.filter(is_superuser=True).exists()
    # Rerunning keeps the accounts and their passwords.
    call_command("demo_staff", file=str(path), stdout=open(os.devnull, "w"))
    assert Staff.objects.filter(username="clerk1").count() == 1
    assert Staff.objects.get(username="clerk1").check_password(passwords["clerk1"])
    assert not has_right(Staff.objects.get(username="admin1"), "addressee.view_person")


def test_api_tokens_authenticate_systems_and_are_stored_hashed(client, family):
    user = make_staff("clerk")
    _, key = ApiToken.issue(user, "健診システム連携")
    assert key not in str(ApiToken.objects.values_list())
    response = client.get("/api/v1/persons", {"name": "タナカ"}, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200
    assert last_event().actor == user


def test_revoked_and_unknown_tokens_are_refused_and_logged(client, family):
    from django.utils import timezone

    user = make_staff("clerk")
    token, key = ApiToken.issue(user, "old system")
    token.revoked_at = timezone.now()
    token.save()
    for bearer in (key, "ssh_not-a-real-token"):
        response = client.get("/api/v1/persons", {"name": "タナカ"}, HTTP_AUTHORIZATION=f"Bearer {bearer}")
        assert response.status_code == 401
        event = last_event()
        assert (event.action, event.outcome) == ("login_failed", "failed")
        assert bearer not in str(event.detail)  # only a prefix is kept


def test_the_token_command_creates_a_working_key_and_revokes_it(client, family):
    import io

    user = make_staff("clerk")
    out = io.StringIO()
    call_command(
        "token", "create", "--user", user.username, "--name", "健診システム", stdout=out, stderr=io.StringIO()
    )
    key = out.getvalue().strip()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    assert client.get("/api/v1/persons", {"name": "タナカ"}, **auth).status_code == 200
    call_command("token", "revoke", key[:8], stdout=io.StringIO())
    assert client.get("/api/v1/persons", {"name": "タナカ"}, **auth).status_code == 401
    assert AuditEvent.objects.filter(object_type="api_token", action="change").exists()
