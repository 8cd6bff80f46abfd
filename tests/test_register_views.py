"""The register's screens and API as a citizens-division clerk uses them."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from sesshu.audit.models import AuditEvent
from sesshu.residents.models import Move, Resident

from .factories import make_staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def clerks(db):
    return make_staff("register"), make_staff("register")


def test_a_register_search_needs_two_items_besides_sex(login, clerks, family):
    client = login(clerks[0])
    response = client.get("/register/", {"name": "タナカ", "sex": "M"})
    assert response.status_code == 400
    assert "性別以外の2項目以上" in response.content.decode()
    response = client.get("/register/", {"name": "たなか", "birth_date": "2020-04-01"})
    assert response.status_code == 200
    assert "田中 翔太" in response.content.decode()
    event = AuditEvent.objects.filter(action="search", object_type="resident").last()
    assert event.criteria["name"] == "たなか" and event.result_count == 1


def test_entering_a_move_on_screen_and_confirming_it_as_someone_else(login, clerks, family, client):
    son = family["child_resident"]
    client.force_login(clerks[0])
    response = client.post(
        "/register/moves/new/death/",
        {
            "resident_number": son.resident_number,
            "effective_on": TODAY.isoformat(),
            "notified_on": TODAY.isoformat(),
        },
    )
    assert response.status_code == 302
    move = Move.objects.filter(kind="death").get()
    page = client.get(response["Location"]).content.decode()
    assert "別の職員の確認を待っています" in page or "Waiting for another staff member" in page
    # The author cannot confirm: refused with the reason, and nothing changes.
    response = client.post(f"/register/moves/{move.pk}/confirm/", follow=True)
    assert "自分で入力した異動は確認できません" in response.content.decode()
    assert Resident.objects.get(pk=son.pk).status == "resident"
    client.force_login(clerks[1])
    response = client.post(f"/register/moves/{move.pk}/confirm/", follow=True)
    assert Resident.objects.get(pk=son.pk).status == "deceased"
    assert response.status_code == 200


def test_a_bad_move_form_shows_every_problem_in_japanese(login, clerks, family):
    response = login(clerks[0]).post(
        "/register/moves/new/birth/",
        {
            "household_number": family["household"].household_number,
            "effective_on": "令和7年2月30日",
            "notified_on": "2025-01-01",
            "family_name": "",
            "sex": "X",
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    for message in ["2025年2月30日という日付はありません", "氏を入力してください", "性別「X」は選べません"]:
        assert message in html
    assert not Move.objects.exists() or not Move.objects.filter(kind="birth").exists()


def test_a_move_in_on_screen_with_two_people(login, clerks):
    day = (TODAY - timedelta(days=1)).isoformat()
    response = login(clerks[0]).post(
        "/register/moves/new/move_in/",
        {
            "effective_on": day, "notified_on": day,
            "address": "東和県桜ヶ丘市若葉台2-1-1", "postal_code": "359-0003",
            "previous_address": "北陽県北陽市本町1-1", "certificate_issuer": "北陽市",
            "members.0.is_head": "1", "members.0.family_name": "山田", "members.0.given_name": "太郎",
            "members.0.family_name_kana": "やまだ", "members.0.given_name_kana": "たろう",
            "members.0.birth_date": "S60.5.5",
            "members.0.sex": "M", "members.0.relationship": "世帯主",
            "members.1.family_name": "山田", "members.1.given_name": "花",
            "members.1.family_name_kana": "ヤマダ",
            "members.1.given_name_kana": "ハナ", "members.1.birth_date": "1987-02-02", "members.1.sex": "F",
            "members.1.relationship": "妻",
            "members.2.family_name": "", "members.3.family_name": "",
        },
    )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    move = Move.objects.get(kind="move_in")
    assert len(move.data["members"]) == 2
    assert move.data["members"][0]["birth_date"] == "S60.5.5"  # kept as typed; read when confirmed


def test_the_resident_page_shows_any_earlier_date(login, clerks, family, django_capture_on_commit_callbacks):
    from sesshu.residents.moves import confirm_move, submit_move

    son = family["child_resident"]
    day = TODAY - timedelta(days=2)
    move = submit_move(
        "move_within",
        {"resident_numbers": [m.resident_number for m in Resident.objects.filter(household=son.household)],
         "address": "東和県桜ヶ丘市本町7-7", "effective_on": day.isoformat(), "notified_on": day.isoformat()},
        author=clerks[0],
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        confirm_move(move.pk, reviewer=clerks[1])
    client = login(clerks[0])
    now = client.get(f"/register/residents/{son.resident_number}/").content.decode()
    before = client.get(
        f"/register/residents/{son.resident_number}/", {"as_of": (day - timedelta(days=1)).isoformat()}
    ).content.decode()
    assert "本町7-7" in now and "緑町3丁目2番5号" in before
    assert "本町7-7" in before  # the history table lists every state
    assert AuditEvent.objects.filter(
        object_type="resident", action="view", criteria__as_of=(day - timedelta(days=1)).isoformat()
    ).exists()
    bad = client.get(f"/register/residents/{son.resident_number}/", {"as_of": "2025-02-30"})
    assert bad.status_code == 400


def test_the_api_runs_the_same_four_eyes(client, clerks, family):
    son = family["child_resident"]
    client.force_login(clerks[0])
    body = {
        "kind": "death",
        "data": {
            "resident_number": son.resident_number,
            "effective_on": TODAY.isoformat(),
            "notified_on": TODAY.isoformat(),
        },
    }
    created = client.post("/api/v1/register/moves", json.dumps(body), content_type="application/json")
    assert created.status_code == 201
    move_id = created.json()["id"]
    refused = client.post(f"/api/v1/register/moves/{move_id}/confirm")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["code"] == "four_eyes"
    client.force_login(clerks[1])
    confirmed = client.post(f"/api/v1/register/moves/{move_id}/confirm")
    assert confirmed.json()["status"] == "confirmed"
    record = client.get(f"/api/v1/register/residents/{son.resident_number}").json()
    assert record["record"]["status"] == "deceased"
    earlier = client.get(
        f"/api/v1/register/residents/{son.resident_number}",
        {"as_of": (TODAY - timedelta(days=1)).isoformat()},
    ).json()
    assert earlier["record"]["status"] == "resident"


def test_an_invalid_move_through_the_api_gets_bilingual_problems(client, clerks, family):
    client.force_login(clerks[0])
    body = {
        "kind": "death",
        "data": {
            "resident_number": family["child_resident"].resident_number,
            "effective_on": "2010-01-01",
            "notified_on": "2010-01-01",
        },
    }
    response = client.post("/api/v1/register/moves", json.dumps(body), content_type="application/json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "death_before_birth"
    assert error["message_ja"] and error["message_en"]


def test_asking_for_a_date_before_someone_arrived_is_logged_too(login, clerks, family):
    son = family["child_resident"]
    response = login(clerks[0]).get(f"/register/residents/{son.resident_number}/", {"as_of": "2000-01-01"})
    assert response.status_code == 400
    assert "まだ住民ではありません" in response.content.decode()
    event = AuditEvent.objects.filter(object_type="resident", outcome="failed").last()
    assert event.subjects == [son.pk] and event.criteria["as_of"] == "2000-01-01"
