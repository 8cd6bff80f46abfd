"""Person search and the person page, on the screens and in the API."""

import re

import pytest

from sesshu.audit.models import AuditEvent

from .factories import make_household, make_resident

pytestmark = pytest.mark.django_db


def search(client, **params):
    return client.get("/persons/", params)


def test_it_finds_by_hiragana_katakana_and_half_width(login, staff, family):
    client = login(staff["clerk"])
    for typed in ["たなか", "タナカ", "ﾀﾅｶ", "たなか いちろう"]:
        html = search(client, name=typed).content.decode()
        assert "田中 一郎" in html, typed


def test_it_finds_by_given_name_alone(login, staff, family):
    html = search(login(staff["clerk"]), name="ショウタ").content.decode()
    assert "田中 翔太" in html
    assert "田中 花子" not in html


def test_it_finds_by_kanji_and_folds_variants(login, staff, family):
    client = login(staff["clerk"])
    html = search(client, name="高橋", include_inactive="1").content.decode()
    assert "髙橋 次郎" in html


def test_moved_out_persons_only_when_asked(login, staff, family):
    client = login(staff["clerk"])
    assert "髙橋" not in search(client, name="タカハシ").content.decode()
    assert "髙橋" in search(client, name="タカハシ", include_inactive="1").content.decode()


def test_it_finds_by_birth_date_in_wareki(login, staff, family):
    html = search(login(staff["clerk"]), birth_date="R2.4.1").content.decode()
    assert "田中 翔太" in html
    assert "田中 一郎" not in html


def test_it_finds_by_address_however_written(login, staff, family):
    html = search(login(staff["clerk"]), address="緑町３－２").content.decode()
    assert html.count("田中") >= 3


def test_results_are_paged(login, staff, settings):
    settings.SESSHU_PAGE_SIZE = 5
    household = make_household()
    for i in range(12):
        make_resident(household, given=(f"名{i:02d}", "ナナ"), is_head=i == 0)
    client = login(staff["clerk"])

    def rows(page):
        return re.findall(
            r'href="/persons/(\d+)/"', search(client, name="タナカ", page=page).content.decode()
        )

    pages = [rows(1), rows(2), rows(3)]
    assert [len(p) for p in pages] == [5, 5, 2]
    assert len({pid for page in pages for pid in page}) == 12
    assert rows(99) == pages[2]  # past the end: the last page


def test_bad_input_gets_a_clear_message_not_an_error(login, staff, family):
    client = login(staff["clerk"])
    response = search(client, birth_date="令和7年2月30日")
    assert response.status_code == 400
    assert "2025年2月30日という日付はありません" in response.content.decode()
    response = search(client, name="あ" * 101)
    assert response.status_code == 400
    assert "100文字以内" in response.content.decode()


def test_every_search_is_logged_with_its_criteria_and_count(login, staff, family):
    search(login(staff["clerk"]), name="たなか", birth_date="2020-04-01")
    event = AuditEvent.objects.filter(action="search").last()
    assert event.criteria["name"] == "たなか"
    assert event.criteria["birth_date"] == "2020-04-01"
    assert event.result_count == 1
    assert event.subjects == [family["child"].pk]
    assert event.actor == staff["clerk"]


def test_the_person_page_shows_5_information_household_and_history(login, staff, family):
    html = login(staff["clerk"]).get(f"/persons/{family['child'].pk}/").content.decode()
    for text in [
        "田中 翔太",
        "タナカ ショウタ",
        "2020-04-01",
        "令和2年4月1日",
        "359-0001",
        "緑町3丁目2番5号",
    ]:
        assert text in html
    for member in ["田中 一郎", "田中 花子"]:  # the household
        assert member in html
    assert "麻しん風しん混合" in html and "BCG" in html  # the history


def test_viewing_a_person_logs_the_person_and_the_household_members_shown(login, staff, family):
    login(staff["clerk"]).get(f"/persons/{family['child'].pk}/")
    event = AuditEvent.objects.filter(action="view").last()
    assert set(event.subjects) == {family["child"].pk, family["father"].pk, family["mother"].pk}


# The API ----------------------------------------------------------------------------------------------


def test_api_search_returns_pages_of_persons(login, staff, family):
    data = login(staff["clerk"]).get("/api/v1/persons", {"name": "たなか", "page_size": 2}).json()
    assert data["count"] == 3
    assert data["pages"] == 2
    assert len(data["results"]) == 2
    assert {"name", "name_kana", "birth_date", "address", "status"} <= set(data["results"][0])


def test_api_person_and_history(login, staff, family):
    client = login(staff["clerk"])
    person = client.get(f"/api/v1/persons/{family['child'].pk}").json()
    assert person["name"] == "田中 翔太"
    assert {m["relationship"] for m in person["household"]} == {"世帯主", "妻", "子"}
    history = client.get(f"/api/v1/persons/{family['child'].pk}/immunizations").json()
    assert [(h["vaccine"], h["date"]) for h in history] == [("BCG", "2020-10-01"), ("MR", "2021-04-10")]


def test_api_errors_are_bilingual(login, staff, family):
    client = login(staff["clerk"])
    response = client.get("/api/v1/persons", {"birth_date": "2025-02-30"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "impossible_date"
    assert "日付" in error["message_ja"] and "date" in error["message_en"]
    response = client.get("/api/v1/persons", {"name": "x", "page": "abc"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_parameter"
    assert client.get("/api/v1/persons").json()["errors"][0]["code"] == "no_criteria"


def test_api_page_size_is_capped(login, staff, family, settings):
    settings.SESSHU_API_MAX_PAGE_SIZE = 2
    data = login(staff["clerk"]).get("/api/v1/persons", {"name": "タナカ", "page_size": 500}).json()
    assert len(data["results"]) == 2


def test_openapi_document_lists_the_operations(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert {
        "/api/v1/persons",
        "/api/v1/persons/{person_id}",
        "/api/v1/persons/{person_id}/immunizations",
    } <= set(doc["paths"])
