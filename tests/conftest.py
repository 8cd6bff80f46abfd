from datetime import date

import pytest
from django.test import Client

from sesshu.accounts.roles import ROLES

from .factories import PASSWORD, make_household, make_resident, make_staff, make_vaccination

ROLE_CODES = [role.code for role in ROLES]


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
    }  # fmt: skip


__all__ = ["PASSWORD"]
