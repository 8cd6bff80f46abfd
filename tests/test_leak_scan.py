"""The leak scan: no stored My Number on any page, API answer, log line or audit event, for any role.

Every route of the product (personal-data routes with their calls, exempt routes by GET) is called as
every role, with the family's numbers in the vault. The one page that shows a number on purpose is the
reveal, for the number-use role after the second factor; it is checked to show it there and only there.
"""

import logging
import re

import pytest
from django.urls import reverse

from sesshu.audit.models import AuditEvent

from .conftest import ROLE_CODES, sample_mynumber, verify_second_factor
from .routes import EXEMPT, PERSONAL_ROUTES, call

pytestmark = pytest.mark.django_db
EXEMPT_GET = [name for name in EXEMPT if name not in {"accounts:logout"}]


def spellings(number: str) -> list[str]:
    """The ways a number could appear: plain, grouped with spaces or hyphens, full-width."""
    grouped = [number[:4], number[4:8], number[8:]]
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return [number, " ".join(grouped), "-".join(grouped), full_width]


def leaks(text: str, numbers) -> list[str]:
    return [s for n in numbers for s in spellings(n) if s in text]


@pytest.mark.parametrize("role", [*ROLE_CODES, "none", "anonymous"])
def test_no_route_shows_a_stored_number_to_anyone_but_the_reveal(role, client, staff, family, caplog):
    caplog.set_level(logging.DEBUG)
    # The stored numbers, and those entered at the counter during the walk (the pending one, a new one).
    numbers = [*family["numbers"].values(), sample_mynumber(99), "800000000554"]
    user = staff.get(role)
    if user is not None:
        client.force_login(user)
        if role == "number_use":
            verify_second_factor(client, user)
    shown_on = []
    for route in PERSONAL_ROUTES:
        response = call(client, route, family)
        body = response.content.decode("utf-8", errors="replace") + str(response.headers)
        if leaks(body, numbers):
            shown_on.append(route.name)
    for name in EXEMPT_GET:
        response = client.get(reverse(name))
        assert not leaks(response.content.decode(errors="replace"), numbers), name
    expected = ["addressee:reveal"] if role == "number_use" else []
    assert shown_on == expected
    assert not leaks(caplog.text, numbers)
    events = str(list(AuditEvent.objects.values_list("criteria", "detail", "purpose", "route")))
    assert not leaks(events, numbers)


def test_the_reveal_shows_the_number_grouped_and_is_not_cached(client, staff, family):
    user = staff["number_use"]
    client.force_login(user)
    verify_second_factor(client, user)
    response = client.post(
        reverse("addressee:reveal", args=[family["child"].pk]), {"purpose": "他市への照会"}
    )
    number = family["numbers"][family["child"].pk]
    assert " ".join([number[:4], number[4:8], number[8:]]) in response.content.decode()
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    event = AuditEvent.objects.filter(object_type="mynumber", action="view").last()
    assert event.detail == {"stated_purpose": "他市への照会"} and event.subjects == [family["child"].pk]


def test_a_reveal_without_a_purpose_is_refused(client, staff, family):
    user = staff["number_use"]
    client.force_login(user)
    verify_second_factor(client, user)
    response = client.post(
        reverse("addressee:reveal", args=[family["child"].pk]), {"purpose": " "}, follow=True
    )
    assert "理由" in response.content.decode()
    assert not leaks(response.content.decode(), family["numbers"].values())


def test_number_use_without_the_second_factor_sees_no_number_work(client, staff, family):
    client.force_login(staff["number_use"])
    page = client.get(reverse("immunization:person", args=[family["child"].pk])).content.decode()
    assert "mynumber-work" not in page
    response = client.post(reverse("addressee:reveal", args=[family["child"].pk]), {"purpose": "x"})
    assert response.status_code == 302 and "/accounts/otp/" in response["Location"]


@pytest.mark.parametrize("role", ["clerk", "supervisor", "register", "auditor", "sysadmin"])
def test_other_roles_pages_do_not_carry_the_field_at_all(role, client, staff, family):
    client.force_login(staff[role])
    for url in (
        reverse("immunization:person", args=[family["child"].pk]),
        reverse("api:get_person", args=[family["child"].pk]),
    ):
        body = client.get(url).content.decode()
        assert not re.search(r"mynumber|個人番号|My Number", body, re.I), (role, url)


def test_search_by_number_logs_the_search_but_not_the_number(client, staff, family):
    user = staff["number_use"]
    client.force_login(user)
    verify_second_factor(client, user)
    number = family["numbers"][family["child"].pk]
    response = client.post(reverse("addressee:search"), {"number": number, "purpose": "予防接種の本人確認"})
    assert response["Location"] == reverse("immunization:person", args=[family["child"].pk])
    event = AuditEvent.objects.filter(object_type="mynumber", action="search").last()
    assert event.criteria == {"mynumber": "[redacted]", "stated_purpose": "予防接種の本人確認"}
    assert event.subjects == [family["child"].pk]


def test_a_number_typed_into_the_purpose_is_refused_before_it_reaches_the_log(client, staff, family):
    user = staff["number_use"]
    client.force_login(user)
    verify_second_factor(client, user)
    number = family["numbers"][family["child"].pk]
    response = client.post(
        reverse("addressee:reveal", args=[family["child"].pk]),
        {"purpose": f"{number[:4]}-{number[4:8]}-{number[8:]} の確認"},
        follow=True,
    )
    assert "理由の欄に個人番号を書かないでください" in response.content.decode()
    assert not leaks(str(list(AuditEvent.objects.values_list("criteria", "detail", "purpose"))), [number])


def test_a_malformed_number_search_is_logged_without_the_number(client, staff, family):
    user = staff["number_use"]
    client.force_login(user)
    verify_second_factor(client, user)
    response = client.post(reverse("addressee:search"), {"number": "12345", "purpose": "確認"})
    assert response.status_code == 400
    event = AuditEvent.objects.filter(object_type="mynumber", action="search").last()
    assert (event.outcome, event.criteria["mynumber"], event.criteria["problem"]) == (
        "failed",
        "[redacted]",
        "mynumber_length",
    )


def test_an_issuer_number_that_differs_from_the_stored_one_is_flagged_not_stored(family):
    from sesshu.addressee.mynumber import register_issued_numbers

    assert register_issued_numbers([(family["child"].pk, sample_mynumber(55))]) == 0
    event = AuditEvent.objects.filter(object_type="mynumber", action="system").last()
    assert event.outcome == "failed" and event.subjects == [family["child"].pk]
