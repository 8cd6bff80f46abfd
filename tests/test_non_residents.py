"""Non-residents (住登外者), the conversion service and their API: checks, duplicates, rights, audit."""

import json
from datetime import date, timedelta

import pytest
from django.urls import reverse

from sesshu.accounts.models import ApiToken
from sesshu.addressee.conversion import business_numbers_of, link_business_number, person_for_business_number
from sesshu.addressee.models import BusinessNumber, Person, PersonKind, PersonStatus
from sesshu.addressee.non_residents import register_non_resident, update_non_resident
from sesshu.addressee.services import parse_search, search_persons
from sesshu.audit.models import AuditEvent
from sesshu.audit.services import verify_chain
from sesshu.core.problems import Problem, ProblemList
from sesshu.residents.models import NumberCounter

pytestmark = [pytest.mark.django_db]


SUZUKI = {
    "family_name": "鈴木",
    "given_name": "健",
    "family_name_kana": "すずき",  # hiragana, as clerks type it
    "given_name_kana": "ｹﾝ",  # half-width, as old systems export it
    "latin_name": "",
    "birth_date": "令和2年1月15日",
    "sex": "M",
    "postal_code": "１００－０００１",
    "address": "東京都千代田区千代田1-1",
}
SOURCE = "予防接種済証の提出"
# The family's child (田中 翔太, 2020-04-01) as a clerk might type them again.
NAMESAKE = {
    "family_name": "田中",
    "given_name": "翔太",
    "family_name_kana": "たなか",
    "given_name_kana": "しょうた",
    "birth_date": "R2.4.1",
}


def register(**changes) -> Person:
    data = SUZUKI | changes
    return register_non_resident(data, source=data.pop("source", SOURCE), author=None)


def codes(exc_info) -> list[str]:
    exc = exc_info.value
    return [p.code for p in (exc.problems if isinstance(exc, ProblemList) else [exc])]


def events(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


# Registering ------------------------------------------------------------------------------------------


def test_a_non_resident_is_registered_with_readings_and_wareki_read(family):
    person = register()

    assert (person.kind, person.status, person.source) == (
        PersonKind.NON_RESIDENT,
        PersonStatus.NON_RESIDENT,
        SOURCE,
    )
    assert (person.family_name_kana, person.given_name_kana) == ("スズキ", "ケン")
    assert person.birth_date == date(2020, 1, 15)
    assert person.postal_code == "100-0001"
    assert (person.kana_key, person.kanji_key) == ("ススキケン", "鈴木健")
    # A 統合宛名番号 from the register's series: 15 digits, above every number already given.
    assert len(person.integrated_number) == 15
    others = Person.objects.exclude(pk=person.pk).values_list("integrated_number", flat=True)
    assert int(person.integrated_number) > max(int(n) for n in others)
    assert NumberCounter.objects.get(name="integrated_number").value == int(person.integrated_number)
    (event,) = events(action="create", object_type="person")
    assert event.subjects == [person.pk] and event.purpose
    assert event.detail == {"source": SOURCE, "author": ""}
    assert verify_chain().ok


def test_a_latin_name_is_kept_in_upper_case(family):
    person = register(family_name="SMITH", given_name="JOHN", family_name_kana="スミス",
                      given_name_kana="ジョン", latin_name="Smith John")  # fmt: skip
    assert person.latin_name == "SMITH JOHN" and person.latin_key == "SMITHJOHN"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"birth_date": "2021-02-30"}, ["impossible_date"]),
        ({"birth_date": "平成31年5月1日"}, ["date_outside_era"]),
        ({"birth_date": "きのう"}, ["invalid_date"]),
        ({"birth_date": (date.today() + timedelta(days=1)).isoformat()}, ["birth_date_in_future"]),
        ({"source": "  "}, ["source_required"]),
        ({"source": "あ" * 201}, ["too_long"]),
        ({"family_name_kana": "suzuki"}, ["not_kana"]),
        ({"given_name_kana": "健"}, ["not_kana"]),
        ({"latin_name": "鈴木"}, ["not_latin"]),
        ({"postal_code": "1000"}, ["invalid_postal_code"]),
        ({"sex": "X"}, ["invalid_choice"]),
        ({"family_name": "", "address": ""}, ["required", "required"]),
    ],
)
def test_problems_are_reported_and_nothing_is_saved(family, changes, expected):
    before = (Person.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ProblemList) as exc_info:
        register(**changes)
    assert codes(exc_info) == expected
    for problem in exc_info.value.problems:
        assert problem.ja and problem.en  # bilingual, for the screen and the API alike
    assert (Person.objects.count(), AuditEvent.objects.count()) == before


def test_every_problem_is_reported_at_once(family):
    with pytest.raises(ProblemList) as exc_info:
        register(family_name_kana="suzuki", birth_date="2021-02-30", sex="", source="")
    assert sorted(codes(exc_info)) == ["impossible_date", "not_kana", "required", "source_required"]
    fields = {p.field for p in exc_info.value.problems}
    assert fields == {"family_name_kana", "birth_date", "sex", "source"}


def test_a_resident_with_the_same_name_and_birth_date_is_a_possible_duplicate(family):
    child = family["child"]
    counter = NumberCounter.objects.filter(name="integrated_number").values_list("value", flat=True).first()
    with pytest.raises(ProblemList) as exc_info:
        register(**NAMESAKE)
    (problem,) = exc_info.value.problems
    assert problem.code == "possible_duplicate"
    assert child.integrated_number in problem.ja and child.integrated_number in problem.en
    assert problem.numbers == (child.integrated_number,)
    assert not Person.objects.filter(kind=PersonKind.NON_RESIDENT).exists()
    # The number was not used up, and the refusal (which named someone) is in the log.
    assert NumberCounter.objects.filter(name="integrated_number").values_list("value", flat=True).first() == (
        counter
    )
    (event,) = events(action="create", object_type="person")
    assert (event.outcome, event.subjects, event.detail) == (
        "failed",
        [child.pk],
        {"reason": "possible_duplicate"},
    )


def test_former_residents_and_variant_kanji_count_as_duplicates(family):
    moved = family["moved"]  # 髙橋 次郎, moved out
    with pytest.raises(ProblemList) as exc_info:
        register(family_name="高橋", given_name="次郎", family_name_kana="タカハシ", given_name_kana="ジロウ",
                 birth_date="2020-04-01")  # fmt: skip
    assert exc_info.value.problems[0].numbers == (moved.integrated_number,)


def test_a_second_registration_of_a_non_resident_is_refused(family):
    first = register()
    with pytest.raises(ProblemList) as exc_info:
        register(family_name_kana="スズキ", given_name_kana="ケン", source="他市からの通知")
    assert exc_info.value.problems[0].numbers == (first.integrated_number,)


def test_a_clerk_who_checked_may_register_a_different_person_of_the_same_name(family):
    child = family["child"]
    namesake = NAMESAKE
    person = register(**namesake, not_duplicate_of=child.integrated_number)
    assert person.kind == PersonKind.NON_RESIDENT
    event = events(action="create", object_type="person", outcome="ok")[-1]
    assert event.detail["distinct_from"] == [child.integrated_number]
    # Checking one namesake does not wave through another one registered since.
    with pytest.raises(ProblemList) as exc_info:
        register(**namesake, not_duplicate_of=child.integrated_number)
    assert exc_info.value.problems[0].numbers == (person.integrated_number,)


def test_a_non_resident_is_found_by_the_person_search(family):
    person = register()
    # Status non_resident counts as current: found with and without include_inactive.
    for params in ({"name": "すずき"}, {"name": "鈴木", "include_inactive": "1"}, {"birth_date": "R2.1.15"}):
        assert person in search_persons(parse_search(params)), params


def test_the_person_page_and_search_screen_show_a_non_resident(login, staff, family):
    person = register()
    client = login(staff["clerk"])
    html = client.get(reverse("immunization:search"), {"name": "スズキ"}).content.decode()
    assert "鈴木 健" in html
    page = client.get(reverse("immunization:person", args=[person.pk]))
    assert page.status_code == 200
    assert person.integrated_number in page.content.decode()


# Correcting -------------------------------------------------------------------------------------------


def test_a_correction_logs_the_names_of_the_changed_items_only(family):
    person = register()
    form = {**SUZUKI, "given_name_kana": "たける", "address": "東京都港区芝公園4-2-8", "source": SOURCE}

    updated, changed = update_non_resident(person.pk, form, author=None)

    assert changed == ["given_name_kana", "address"]
    assert (updated.given_name_kana, updated.given_kana_key) == ("タケル", "タケル")
    assert updated in search_persons(parse_search({"name": "たける"}))
    assert updated in search_persons(parse_search({"address": "芝公園4丁目2番8号"}))
    (event,) = events(action="change", object_type="person")
    assert event.detail == {"changed": ["given_name_kana", "address"], "author": ""}
    assert "芝公園" not in json.dumps(event.detail, ensure_ascii=False)


def test_a_correction_that_changes_nothing_writes_nothing(family):
    person = register()
    before = AuditEvent.objects.count()
    _, changed = update_non_resident(person.pk, {**SUZUKI, "source": SOURCE}, author=None)
    assert changed == [] and AuditEvent.objects.count() == before


def test_a_correction_with_problems_is_refused_and_logged(family):
    person = register()
    with pytest.raises(ProblemList) as exc_info:
        update_non_resident(person.pk, {**SUZUKI, "birth_date": "2021-02-30"}, author=None)
    assert codes(exc_info) == ["impossible_date"]
    event = events(action="change")[-1]
    assert (event.outcome, event.subjects, event.detail) == (
        "failed",
        [person.pk],
        {"problems": ["impossible_date"]},
    )
    person.refresh_from_db()
    assert person.birth_date == date(2020, 1, 15)


def test_a_correction_into_someone_else_is_a_possible_duplicate(family):
    person = register()
    child = family["child"]
    with pytest.raises(ProblemList) as exc_info:
        update_non_resident(
            person.pk,
            {**SUZUKI, "family_name": "田中", "given_name": "翔太", "birth_date": "2020-04-01"},
            author=None,
        )
    assert exc_info.value.problems[0].numbers == (child.integrated_number,)


def test_residents_are_corrected_in_the_register_not_here(family):
    with pytest.raises(Problem) as exc_info:
        update_non_resident(family["child"].pk, SUZUKI, author=None)
    assert exc_info.value.code == "not_non_resident"


def test_an_unknown_person_is_not_found_and_the_attempt_logged(family):
    with pytest.raises(Problem) as exc_info:
        update_non_resident(987654, SUZUKI, author=None)
    assert exc_info.value.code == "not_found"
    event = events(action="change")[-1]
    assert (event.outcome, event.criteria) == ("failed", {"person_id": 987654})


# Conversion -------------------------------------------------------------------------------------------


def test_conversion_both_ways_for_a_resident(family):
    child, number = family["child"], family["child_resident"].resident_number

    assert person_for_business_number("residents", number) == child
    assert business_numbers_of(child.pk) == {"residents": number}

    search, view = events(object_type="business_number")
    assert (search.action, search.subjects, search.criteria, search.result_count) == (
        "search",
        [child.pk],
        {"system": "residents", "number": number},
        1,
    )
    assert (view.action, view.subjects, view.result_count) == ("view", [child.pk], 1)


def test_conversion_of_an_unknown_number_finds_nobody_and_is_logged(family):
    assert person_for_business_number("immunization", "424242") is None
    (event,) = events(object_type="business_number")
    assert (event.subjects, event.result_count) == ([], 0)


def test_conversion_input_is_checked(family):
    with pytest.raises(ProblemList) as exc_info:
        person_for_business_number("tax", "12 34")
    assert codes(exc_info) == ["unknown_system", "invalid_number"]
    with pytest.raises(ProblemList) as exc_info:
        person_for_business_number("", "")
    assert codes(exc_info) == ["required", "required"]


def test_a_business_number_is_linked_and_converts_both_ways(staff, family):
    person = register()
    link = link_business_number(person.pk, "immunization", "Ｖ-000123", author=staff["clerk"])
    assert (link.system, link.number) == ("immunization", "V-000123")
    assert person_for_business_number("immunization", "V-000123") == person
    assert business_numbers_of(person.pk) == {"immunization": "V-000123"}
    (created,) = events(action="create", object_type="business_number")
    assert created.subjects == [person.pk]
    assert created.detail == {
        "system": "immunization",
        "number": "V-000123",
        "author": staff["clerk"].username,
    }
    # The same link again is no conflict and changes nothing.
    assert link_business_number(person.pk, "immunization", "V-000123", author=None) == link
    assert BusinessNumber.objects.filter(person=person).count() == 1


def test_link_conflicts_are_problems_and_logged(family):
    person = register()
    link_business_number(person.pk, "immunization", "500", author=None)

    with pytest.raises(ProblemList) as exc_info:
        link_business_number(family["child"].pk, "immunization", "500", author=None)
    assert codes(exc_info) == ["number_in_use"]
    assert person.integrated_number not in exc_info.value.problems[0].ja  # the holder is not named

    with pytest.raises(ProblemList) as exc_info:
        link_business_number(person.pk, "immunization", "501", author=None)
    assert codes(exc_info) == ["already_linked"]

    with pytest.raises(ProblemList) as exc_info:
        link_business_number(person.pk, "residents", "1000000999", author=None)
    assert codes(exc_info) == ["managed_by_register"]

    failed = events(action="create", object_type="business_number", outcome="failed")
    assert [e.detail["reason"] for e in failed] == ["number_in_use", "already_linked"]
    assert failed[0].subjects == [family["child"].pk]
    assert BusinessNumber.objects.filter(system="immunization").count() == 1


def test_an_unknown_person_has_no_business_numbers(family):
    with pytest.raises(Problem) as exc_info:
        business_numbers_of(987654)
    assert exc_info.value.code == "not_found"
    assert events(action="view")[-1].outcome == "failed"


# Screens ----------------------------------------------------------------------------------------------


def form(**changes) -> dict:
    return SUZUKI | {"source": SOURCE} | changes


def test_a_clerk_registers_a_non_resident_on_screen(login, staff, family):
    client = login(staff["clerk"])
    assert client.get(reverse("non_residents:new")).status_code == 200

    response = client.post(reverse("non_residents:new"), form())

    person = Person.objects.get(kind=PersonKind.NON_RESIDENT)
    assert response.status_code == 302
    assert response["Location"] == reverse("immunization:person", args=[person.pk])
    page = client.get(response["Location"]).content.decode()
    assert "鈴木 健" in page and person.integrated_number in page
    event = events(action="create", object_type="person")[-1]
    assert (event.actor_id, event.route) == (staff["clerk"].pk, "non_residents:new")


def test_bad_input_on_screen_comes_back_with_the_problems(login, staff, family):
    client = login(staff["clerk"])
    response = client.post(reverse("non_residents:new"), form(birth_date="2021-02-30", source=""))
    html = response.content.decode()
    assert response.status_code == 400
    assert "2021年2月30日という日付はありません。" in html
    assert "登録の根拠" in html
    assert 'value="鈴木"' in html  # what was typed is kept
    assert not Person.objects.filter(kind=PersonKind.NON_RESIDENT).exists()


@pytest.mark.parametrize(
    "value", ["\x00", "<script>alert(1)</script>", "' OR 1=1 --", "𠮷" * 500, "%", "ｱ" * 300]
)
def test_hostile_input_on_screen_never_fails(login, staff, family, value):
    client = login(staff["clerk"])
    for field in ("family_name", "given_name_kana", "birth_date", "postal_code", "source"):
        response = client.post(reverse("non_residents:new"), form(**{field: value}))
        assert response.status_code in (302, 400), (field, value)
        assert "<script>alert(1)</script>" not in response.content.decode()
        Person.objects.filter(kind=PersonKind.NON_RESIDENT).delete()  # so the next is no duplicate
    assert verify_chain().ok


def test_a_possible_duplicate_on_screen_offers_the_check(login, staff, family):
    child = family["child"]
    client = login(staff["clerk"])
    namesake = form(**NAMESAKE)
    response = client.post(reverse("non_residents:new"), namesake)
    html = response.content.decode()
    assert response.status_code == 400
    assert child.integrated_number in html
    assert f'name="not_duplicate_of" value="{child.integrated_number}"' in html

    response = client.post(
        reverse("non_residents:new"), namesake | {"not_duplicate_of": child.integrated_number}
    )
    assert response.status_code == 302


def test_a_clerk_corrects_a_non_resident_on_screen(login, staff, family):
    person = register()
    client = login(staff["clerk"])
    url = reverse("non_residents:edit", args=[person.pk])

    html = client.get(url).content.decode()
    assert 'value="2020-01-15"' in html and 'value="スズキ"' in html
    assert events(action="view", object_type="person")[-1].subjects == [person.pk]

    response = client.post(url, form(address="東京都港区芝公園4-2-8"))
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.address == "東京都港区芝公園4-2-8"
    assert events(action="change")[-1].detail["changed"] == ["address"]

    response = client.post(url, form(address="東京都港区芝公園4-2-8", postal_code="abc"))
    assert response.status_code == 400
    assert "郵便番号は7桁の数字" in response.content.decode()


def test_a_residents_edit_page_sends_the_clerk_back(login, staff, family):
    client = login(staff["clerk"])
    child = family["child"]
    for response in (
        client.get(reverse("non_residents:edit", args=[child.pk])),
        client.post(reverse("non_residents:edit", args=[child.pk]), form()),
    ):
        assert response.status_code == 302
        assert response["Location"] == reverse("immunization:person", args=[child.pk])
    assert client.get(reverse("non_residents:edit", args=[987654])).status_code == 404
    child.refresh_from_db()
    assert child.family_name == "田中"


@pytest.mark.parametrize("role", ["auditor", "register", "sysadmin", "none"])
def test_roles_without_the_right_are_refused_and_logged(login, staff, family, role):
    client = login(staff[role])
    person = register()
    for response in (
        client.get(reverse("non_residents:new")),
        client.post(reverse("non_residents:new"), form(family_name="山田")),
        client.post(reverse("non_residents:edit", args=[person.pk]), form(address="x")),
    ):
        assert response.status_code == 403
        assert "鈴木" not in response.content.decode()
    assert Person.objects.filter(kind=PersonKind.NON_RESIDENT).count() == 1
    refusals = [e for e in events(actor=staff[role]) if e.action != "login"]
    assert [e.action for e in refusals] == ["denied"] * 3
    assert refusals[0].detail == {"permission": "addressee.register_non_resident"}


def test_clerk_may_and_auditor_may_not(login, staff, family):
    clerk = login(staff["clerk"])
    assert clerk.post(reverse("non_residents:new"), form()).status_code == 302
    auditor = login(staff["auditor"])
    assert auditor.post(reverse("non_residents:new"), form(family_name="山田")).status_code == 403
    assert auditor.get(reverse("api:get_business_numbers", args=[family["child"].pk])).status_code == 403


# API --------------------------------------------------------------------------------------------------


def api_post(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def test_api_convert_and_back(login, staff, family):
    client = login(staff["clerk"])
    child, number = family["child"], family["child_resident"].resident_number

    response = client.get(reverse("api:convert_business_number"), {"system": "residents", "number": number})
    assert response.status_code == 200
    assert response.json() == {"integrated_number": child.integrated_number, "person_id": child.pk}

    response = client.get(reverse("api:get_business_numbers", args=[child.pk]))
    assert response.json() == {
        "person_id": child.pk,
        "integrated_number": child.integrated_number,
        "numbers": {"residents": number},
    }
    routes = [e.route for e in events(object_type="business_number")]
    assert routes == ["api:convert_business_number", "api:get_business_numbers"]


def test_api_convert_errors_are_bilingual(login, staff, family):
    client = login(staff["clerk"])
    url = reverse("api:convert_business_number")

    response = client.get(url, {"system": "immunization", "number": "999"})
    assert response.status_code == 404
    (error,) = response.json()["errors"]
    assert error["code"] == "not_found" and error["message_ja"] and error["message_en"]

    response = client.get(url, {"system": "tax", "number": "<script>"})
    assert response.status_code == 400
    assert [e["code"] for e in response.json()["errors"]] == ["unknown_system", "invalid_number"]

    response = client.get(reverse("api:get_business_numbers", args=[987654]))
    assert response.status_code == 404


def test_api_registers_a_non_resident(login, staff, family):
    client = login(staff["clerk"])
    body = form()

    response = api_post(client, reverse("api:create_non_resident"), body)

    assert response.status_code == 201, response.content
    data = response.json()
    person = Person.objects.get(pk=data["id"])
    assert data | {"id": 0} == {
        "id": 0,
        "integrated_number": person.integrated_number,
        "kind": "non_resident",
        "status": "non_resident",
        "name": "鈴木 健",
        "name_kana": "スズキ ケン",
        "latin_name": "",
        "birth_date": "2020-01-15",
        "sex": "M",
        "postal_code": "100-0001",
        "address": "東京都千代田区千代田1-1",
        "source": SOURCE,
    }
    event = events(action="create", object_type="person")[-1]
    assert (event.route, event.subjects) == ("api:create_non_resident", [person.pk])

    response = api_post(client, reverse("api:create_non_resident"), body)
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == "possible_duplicate" and person.integrated_number in error["message_en"]


def test_api_reports_every_problem(login, staff, family):
    client = login(staff["clerk"])
    response = api_post(client, reverse("api:create_non_resident"), {"family_name": "鈴木", "sex": "X"})
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert {e["field"] for e in errors} >= {"given_name", "birth_date", "sex", "address", "source"}
    assert all(e["message_ja"] and e["message_en"] for e in errors)
    response = api_post(client, reverse("api:create_non_resident"), {"family_name": 12})
    assert response.status_code == 400


def test_systems_convert_with_a_bearer_token(client, staff, family):
    _, key = ApiToken.issue(staff["clerk"], "予防接種システム")
    number = family["child_resident"].resident_number
    url = reverse("api:convert_business_number")

    response = client.get(url, {"system": "residents", "number": number}, HTTP_AUTHORIZATION=f"Bearer {key}")

    assert response.status_code == 200
    assert response.json()["person_id"] == family["child"].pk
    event = events(object_type="business_number")[-1]
    assert (event.actor_id, event.route, event.action) == (
        staff["clerk"].pk,
        "api:convert_business_number",
        "search",
    )

    _, auditor_key = ApiToken.issue(staff["auditor"], "監査")
    response = client.get(
        url, {"system": "residents", "number": number}, HTTP_AUTHORIZATION=f"Bearer {auditor_key}"
    )
    assert response.status_code == 403
    assert events(actor=staff["auditor"])[-1].action == "denied"
    response = client.get(
        url, {"system": "residents", "number": number}, HTTP_AUTHORIZATION="Bearer nonsense"
    )
    assert response.status_code == 401
    assert verify_chain().ok
