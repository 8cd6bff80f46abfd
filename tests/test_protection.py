"""支援措置: a protected person's address is withheld from staff without the right, everywhere."""

import pytest
from django.utils import timezone

from sesshu.addressee.models import Person

from .factories import make_staff

pytestmark = pytest.mark.django_db
ADDRESS = "緑町3丁目2番5号"


@pytest.fixture
def protected(family, django_capture_on_commit_callbacks):
    """The mother comes under 支援措置 through the register (a confirmed correction)."""
    from sesshu.residents.models import Resident
    from sesshu.residents.moves import confirm_move, submit_move

    mother = Resident.objects.get(given_name="花子")
    today = timezone.localdate().isoformat()
    move = submit_move(
        "ex_officio_correction",
        {"resident_number": mother.resident_number, "reason": "支援措置の申出",
         "changes": {"support_measure": "1"}, "effective_on": today, "notified_on": today},
        author=make_staff("register"),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        confirm_move(move.pk, reviewer=make_staff("register"))
    person = Person.objects.get(pk=family["mother"].pk)
    assert person.protected
    return person


def test_the_register_event_carries_the_protection_to_the_addressee(protected):
    assert protected.address.endswith(ADDRESS)  # stored as it is; withheld when shown


def test_a_clerk_sees_the_withheld_text_on_the_page_and_in_the_api(login, staff, protected):
    client = login(staff["clerk"])
    page = client.get(f"/persons/{protected.pk}/").content.decode()
    assert "支援措置対象のため表示しません" in page and ADDRESS not in page.split("<h2>")[1]
    data = client.get(f"/api/v1/persons/{protected.pk}").json()
    assert ADDRESS not in data["address"] and data["postal_code"] == ""
    results = client.get("/api/v1/persons", {"name": "タナカハナコ"}).json()["results"]
    assert [ADDRESS in r["address"] for r in results] == [False]


def test_an_address_search_does_not_find_a_protected_person(login, staff, protected):
    html = login(staff["clerk"]).get("/persons/", {"address": ADDRESS}).content.decode()
    assert "田中 一郎" in html and "田中 花子" not in html


def test_staff_with_the_right_see_the_address(login, protected):
    from django.contrib.auth.models import Group, Permission

    from sesshu.accounts.roles import ROLES_BY_CODE, group_name

    user = make_staff("clerk")
    group = Group.objects.get(name=group_name(ROLES_BY_CODE["register"]))
    assert group.permissions.filter(codename="view_protected_address").exists()
    # A clerk given the right (through a role) sees it.
    user.groups.add(group)
    html = login(user).get(f"/persons/{protected.pk}/").content.decode()
    assert ADDRESS in html
    assert Permission.objects.filter(codename="view_protected_address").exists()


def test_a_mailing_address_is_kept_for_a_protected_person_by_staff_with_the_right(client, staff, protected):
    client.force_login(staff["register"])
    response = client.post(
        f"/mynumber/persons/{protected.pk}/mailing-address/",
        {"alternative_postal_code": "359-0099", "alternative_address": "東和県桜ヶ丘市本町1-1 私書箱"},
    )
    assert response.status_code == 302
    protected.refresh_from_db()
    assert (protected.alternative_postal_code, protected.alternative_address) == (
        "359-0099",
        "東和県桜ヶ丘市本町1-1 私書箱",
    )
    client.force_login(staff["clerk"])
    refused = client.post(f"/mynumber/persons/{protected.pk}/mailing-address/", {"alternative_address": "x"})
    assert refused.status_code == 403
    bad = make_staff("register")
    client.force_login(bad)
    client.post(
        f"/mynumber/persons/{protected.pk}/mailing-address/", {"alternative_postal_code": "12"}, follow=True
    )
    protected.refresh_from_db()
    assert protected.alternative_postal_code == "359-0099"  # a bad postal code changed nothing
