"""The citizens division's day in the browser: moves entered by one clerk and confirmed by another,
a certified copy printed, and a resident seen as of an earlier date."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sesshu.audit.models import AuditEvent
from sesshu.residents.models import Move, Resident

from ..factories import PASSWORD, make_staff

pytestmark = pytest.mark.browser
TODAY = timezone.localdate()


@pytest.fixture
def clerks(family):
    return make_staff("register", "register_a"), make_staff("register", "register_b")


@pytest.fixture
def second_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="ja-JP", viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    yield page
    context.close()


def fill_form(page: Page, values: dict) -> None:
    for name, value in values.items():
        field = page.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.check() if value else field.uncheck()
        else:
            field.fill(value)


def enter_and_confirm(author: Page, reviewer: Page, kind: str, values: dict, query: str = "") -> Move:
    """The author enters a move; it waits; the reviewer confirms it on the move's page."""
    author.goto(f"/register/moves/new/{kind}/{query}")
    fill_form(author, {"effective_on": TODAY.isoformat(), "notified_on": TODAY.isoformat(), **values})
    author.get_by_role("button", name="異動を入力").click()
    expect(author.locator("#waiting")).to_contain_text("別の職員の確認を待っています")
    move = Move.objects.order_by("-pk").first()
    assert (move.kind, move.status) == (kind, "pending")
    reviewer.goto(f"/register/moves/{move.pk}/")
    reviewer.get_by_role("button", name="確認", exact=True).click()
    expect(reviewer.locator("#move-status")).to_have_text("確認済")
    return move


def test_moves_confirmed_by_a_second_clerk_a_copy_printed_and_an_earlier_date(
    page: Page, second_page: Page, family, clerks, log_in, screenshot
):
    log_in(page, clerks[0].username, PASSWORD)
    log_in(second_page, clerks[1].username, PASSWORD)
    household = family["household"].household_number
    yesterday = (TODAY - timedelta(days=1)).isoformat()

    # 出生: a daughter born into the 田中 household.
    enter_and_confirm(page, second_page, "birth", {
        "family_name": "田中", "given_name": "陽菜", "family_name_kana": "たなか", "given_name_kana": "ひな",
        "birth_date": TODAY.isoformat(), "sex": "F", "relationship": "子",
    }, f"?household_number={household}")  # fmt: skip
    assert Resident.objects.get(given_name="陽菜").household.household_number == household

    # 転入: a new household arrives from another city.
    enter_and_confirm(page, second_page, "move_in", {
        "address": "東和県桜ヶ丘市若葉台2丁目1番1号", "postal_code": "359-0003",
        "previous_address": "北陽県北陽市本町1-1", "certificate_issuer": "北陽市",
        "members.0.family_name": "山田", "members.0.given_name": "太郎",
        "members.0.family_name_kana": "ヤマダ", "members.0.given_name_kana": "タロウ",
        "members.0.birth_date": "S60.5.5", "members.0.sex": "M", "members.0.relationship": "世帯主",
    })  # fmt: skip
    taro = Resident.objects.get(family_name="山田", given_name="太郎")

    # 転居: the new resident moves within the city.
    enter_and_confirm(page, second_page, "move_within", {
        "resident_numbers": taro.resident_number, "address": "東和県桜ヶ丘市本町5丁目5番5号",
    })  # fmt: skip
    assert Resident.objects.get(pk=taro.pk).address == "東和県桜ヶ丘市本町5丁目5番5号"

    # 死亡: the mother of the 田中 household.
    mother = Resident.objects.get(given_name="花子")
    enter_and_confirm(page, second_page, "death", {"resident_number": mother.resident_number})
    assert Resident.objects.get(pk=mother.pk).status == "deceased"

    # 世帯分離: the son forms a household of his own at the same address.
    son = Resident.objects.get(given_name="翔太")
    enter_and_confirm(page, second_page, "household_split", {
        "resident_numbers": son.resident_number, "new_head": son.resident_number,
    })  # fmt: skip
    son.refresh_from_db()
    assert son.is_head and son.household.household_number != household

    # The author cannot confirm their own entry: the second page shows it waiting, the first can't confirm.
    page.goto("/register/moves/")
    expect(page.locator("table.moves")).to_contain_text("転居")  # the fixture's move, entered by someone else

    # 住民票の写し of the 田中 household, as a real PDF download.
    page.goto(f"/register/juminhyo/new/?household={household}")
    fill_form(page, {"requester_kind": "self", "requester_name": "田中 一郎", "purpose": "勤務先への提出"})
    with page.expect_download() as download_info:
        page.get_by_role("button", name="写しを交付（PDF）").click()
    path = download_info.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert os.path.getsize(path) > 10_000
    assert AuditEvent.objects.filter(action="export", object_type="resident", actor=clerks[0]).exists()

    # The mother as of yesterday (still a resident) and today (deceased).
    page.goto(f"/register/residents/{mother.resident_number}/?as_of={yesterday}")
    expect(page.locator("h1")).to_contain_text("住民")
    expect(page.locator("#as-of")).to_contain_text(yesterday)
    page.goto(f"/register/residents/{mother.resident_number}/")
    expect(page.locator("h1")).to_contain_text("死亡")
    expect(page.locator("table.history")).to_contain_text("死亡")
    screenshot(page, "flow4-register-history")

    # The immunization side saw every change through the events.
    from sesshu.addressee.models import Person

    assert Person.objects.get(business_numbers__number=mother.resident_number).status == "deceased"
    assert Person.objects.filter(
        family_name="山田", given_name="太郎", address__contains="本町5丁目"
    ).exists()
