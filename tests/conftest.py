from datetime import date

import pytest
from django.test import Client

from sesshu.accounts.roles import ROLES

from .factories import PASSWORD, make_household, make_resident, make_staff, make_vaccination

ROLE_CODES = [role.code for role in ROLES]


def sample_mynumber(n: int) -> str:
    """A 12-digit number valid under the check-digit rule, made for tests (8 then the serial)."""
    from sesshu.core.numbers import mynumber_check_digit

    body = f"8{n:010d}"
    return body + str(mynumber_check_digit(body))


def verify_second_factor(client, user) -> None:
    """Give a number-use clerk's test session a confirmed TOTP device, verified (as after the code)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()


@pytest.fixture
def staff(db):
    """One account per role, plus one with no role at all (the stranger)."""
    accounts = {code: make_staff(code) for code in ROLE_CODES}
    accounts["none"] = make_staff(None)
    return accounts


@pytest.fixture
def login(client):
    def as_user(user) -> Client:
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def family(db):
    """A household of three with vaccinations, and one moved-out person elsewhere."""
    household = make_household()
    _, father = make_resident(household, given=("一郎", "イチロウ"), birth_date=date(1985, 6, 1))
    _, mother = make_resident(
        household,
        family=("田中", "タナカ"),
        given=("花子", "ハナコ"),
        sex="F",
        relationship="妻",
        is_head=False,
        birth_date=date(1987, 2, 14),
    )
    _, child = make_resident(
        household,
        family=("田中", "タナカ"),
        given=("翔太", "ショウタ"),
        relationship="子",
        is_head=False,
        birth_date=date(2020, 4, 1),
    )
    make_vaccination(child, "MR", 1, date(2021, 4, 10))
    make_vaccination(child, "BCG", 1, date(2020, 10, 1))
    other = make_household(address="東和県桜ヶ丘市若葉台1丁目5番3号", postal_code="359-0002")
    _, moved = make_resident(other, family=("髙橋", "タカハシ"), given=("次郎", "ジロウ"), status="moved_out")
    # A move entered by another register clerk, waiting for confirmation (the four-eyes routes).
    from django.utils import timezone

    from sesshu.residents.models import Resident
    from sesshu.residents.moves import submit_move

    today = timezone.localdate().isoformat()
    # My Numbers for the family (test numbers made by the check-digit rule, nobody's real number), and a
    # number entered at the counter by another number-use clerk, waiting for confirmation.
    from sesshu.addressee.mynumber import register_issued_numbers, submit_registration

    numbers = {p.pk: sample_mynumber(i) for i, p in enumerate([father, mother, child, moved], start=1)}
    register_issued_numbers(list(numbers.items()))
    pending_number = submit_registration(
        child.pk, sample_mynumber(99), "mynumber_card", author=make_staff("number_use")
    )
    child_resident = Resident.objects.get(given_name="翔太")
    pending = submit_move(
        "move_within",
        {"resident_numbers": [child_resident.resident_number], "address": "東和県桜ヶ丘市本町1-1",
         "new_head": child_resident.resident_number, "effective_on": today, "notified_on": today},
        author=make_staff("register"),
    )  # fmt: skip
    return {
        "father": father, "mother": mother, "child": child, "moved": moved, "household": household,
        "child_resident": child_resident, "pending_move": pending, "today": today,
        "numbers": numbers, "pending_number": pending_number,
    }  # fmt: skip


__all__ = ["PASSWORD"]
