"""My Number work in the browser: the second factor set up from the page, a newborn's number entered
by one number-use clerk and confirmed by another, found by number and revealed with a purpose; an
immunization clerk sees none of it; the audit log has every step and never the number."""

import base64
import json
import re

import pytest
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from sesshu.addressee import mynumber
from sesshu.addressee.models import BusinessNumber, BusinessSystem
from sesshu.addressee.models_vault import MyNumberRecord, MyNumberRequest
from sesshu.audit.models import AuditEvent
from sesshu.residents.models import Resident
from sesshu.residents.moves import confirm_move, submit_move
from sesshu.residents.outbox import process_events

from ..conftest import sample_mynumber
from ..factories import PASSWORD, make_staff

pytestmark = pytest.mark.browser
NUMBER = sample_mynumber(77)
GROUPED = f"{NUMBER[:4]} {NUMBER[4:8]} {NUMBER[8:]}"
# The ways the number could leak (as tests/test_leak_scan.py): plain, grouped, hyphenated, full-width.
SPELLINGS = [
    NUMBER,
    GROUPED,
    GROUPED.replace(" ", "-"),
    NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９")),
]
SEARCH_PURPOSE = "転出先市町村からの予防接種履歴照会への回答"
REVEAL_PURPOSE = "情報提供ネットワークシステムによる接種記録の照会"


@pytest.fixture
def new_page(browser, live_server):
    """Further staff PCs: each call opens a browser context of its own (no shared cookies)."""
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(
            base_url=live_server.url, locale="ja-JP", viewport={"width": 1280, "height": 860}
        )
        context.set_default_timeout(5_000)
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def newborn(family):
    """A daughter born into the 田中 household today, through the register's own move services.

    The register's consumers that make the addressee person run now; the national issuer's number
    (the "mynumber" consumer) has not arrived yet, so the parents bring the number to the counter.
    """
    today = timezone.localdate().isoformat()
    move = submit_move(
        "birth",
        {"household_number": family["household"].household_number, "effective_on": today,
         "notified_on": today, "family_name": "田中", "given_name": "結衣", "family_name_kana": "タナカ",
         "given_name_kana": "ユイ", "birth_date": today, "sex": "F", "relationship": "子"},
        author=make_staff("register"),
    )  # fmt: skip
    confirm_move(move.pk, reviewer=make_staff("register"), run_consumers=False)
    process_events(["addressee", "immunization"])
    resident = Resident.objects.get(given_name="結衣")
    number = BusinessNumber.objects.get(system=BusinessSystem.RESIDENTS, number=resident.resident_number)
    assert not MyNumberRecord.objects.filter(person_id=number.person_id).exists()
    return number.person


def enrol_from_the_page(page: Page, user) -> None:
    """On the set-up page, type the key shown into "the app" (RFC 6238 here) and confirm its code."""
    expect(page).to_have_url(re.compile(r"/accounts/otp/enrol/\?next="))
    expect(page.get_by_role("heading", name="二要素認証の設定")).to_be_visible()
    expect(page.locator("#otp-qr svg")).to_be_visible()
    secret = page.locator("#otp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert key == device.bin_key  # the key shown is the device's; the otpauth URL is only in the QR
    assert "otpauth://" not in page.content()
    page.get_by_label("確認コード（6桁）").fill(f"{totp(key, device.step, device.t0, device.digits):06d}")
    page.get_by_role("button", name="確認", exact=True).click()
    expect(page.locator("ul.messages")).to_contain_text("認証アプリを設定しました")
    assert TOTPDevice.objects.get(user=user).confirmed


def test_a_newborns_number_entered_confirmed_found_and_revealed_and_hidden_from_clerks(
    page: Page, new_page, family, newborn, log_in, screenshot
):
    clerk_a = make_staff("number_use", "number_a")
    clerk_b = make_staff("number_use", "number_b")
    immunization_clerk = make_staff("clerk", "clerk_c")
    person_url = f"/persons/{newborn.pk}/"

    # Clerk A opens My Number work and is sent to set up the second factor first, then comes back.
    log_in(page, clerk_a.username, PASSWORD)
    page.get_by_role("link", name="個人番号検索").click()
    enrol_from_the_page(page, clerk_a)
    expect(page).to_have_url(re.compile(r"/mynumber/search/$"))
    expect(page.get_by_role("heading", name="個人番号検索")).to_be_visible()

    # The newborn has no number yet: A enters the one on the card the parents brought.
    page.goto(person_url)
    expect(page.locator("#mynumber-work")).to_contain_text("未登録")
    page.locator("#mynumber-work").get_by_role("link", name="個人番号の登録").click()
    expect(page.get_by_role("heading", name="個人番号の登録")).to_contain_text("田中 結衣")
    page.get_by_label("個人番号（12桁）").fill(NUMBER)
    page.get_by_label("本人確認の方法").select_option("mynumber_card")
    page.get_by_role("button", name="番号を入力").click()
    expect(page).to_have_url(re.compile(r"/mynumber/requests/$"))
    expect(page.locator("ul.messages")).to_contain_text("別の番号利用事務担当者の確認が必要です")
    request = MyNumberRequest.objects.get(person=newborn)
    assert (request.status, request.author, request.identity_check) == ("pending", clerk_a, "mynumber_card")
    assert not MyNumberRecord.objects.filter(person=newborn).exists()

    # The author cannot confirm their own entry: no button on the row, and a forged POST is refused.
    own_row = page.locator("table.moves tbody tr", has_text="結衣")
    expect(own_row).to_contain_text("別の職員の確認を待っています")
    expect(own_row.get_by_role("button")).to_have_count(0)
    expect(page.locator("table.moves")).not_to_contain_text(NUMBER)
    # (The other clerk's pending entry for 翔太 has a confirm form: A points it at A's own entry.)
    other_form = page.locator("table.moves tbody tr", has_text="翔太").locator("form").first
    own_confirm = f"/mynumber/requests/{request.pk}/confirm/"
    with page.expect_navigation():
        other_form.evaluate("(form, url) => { form.action = url; form.submit(); }", own_confirm)
    expect(page.locator("ul.messages")).to_contain_text("自分で入力した個人番号は確認できません")
    assert MyNumberRequest.objects.get(pk=request.pk).status == "pending"

    # Clerk B, on another PC, sets up the second factor too and confirms the entry.
    second = new_page()
    log_in(second, clerk_b.username, PASSWORD)
    second.get_by_role("link", name="個人番号の確認").click()
    enrol_from_the_page(second, clerk_b)
    expect(second.get_by_role("heading", name="確認待ちの個人番号登録")).to_be_visible()
    second.locator("table.moves tbody tr", has_text="結衣").get_by_role(
        "button", name="確認", exact=True
    ).click()
    expect(second.locator("ul.messages")).to_contain_text("確認しました")
    expect(second.locator("table.moves")).not_to_contain_text("結衣")
    stored = MyNumberRecord.objects.get(person=newborn)
    assert (stored.registered_by, stored.identity_checked_by) == (clerk_b, clerk_a)
    assert MyNumberRequest.objects.get(pk=request.pk).status == "confirmed"

    # A finds the newborn by the number (landing on the person page) and reveals it with a purpose.
    page.get_by_role("link", name="個人番号検索").click()
    page.get_by_label("個人番号（12桁）").fill(NUMBER)
    page.get_by_label("検索の理由（事務の目的）").fill(SEARCH_PURPOSE)
    page.get_by_role("button", name="検索", exact=True).click()
    expect(page).to_have_url(re.compile(rf"{person_url}$"))
    expect(page.locator("h1")).to_contain_text("田中 結衣")
    section = page.locator("#mynumber-work")
    expect(section).to_contain_text("登録済み")
    assert not [s for s in SPELLINGS if s in page.content()]
    screenshot(page, "mynumber-person")
    section.get_by_label("表示の理由（事務の目的）").fill(REVEAL_PURPOSE)
    section.get_by_role("button", name="番号を表示").click()
    expect(page.locator("#mynumber")).to_have_text(GROUPED)
    expect(page.locator("h1")).to_contain_text("田中 結衣")
    assert NUMBER not in page.url
    screenshot(page, "mynumber-reveal")

    # An immunization clerk sees the same person with no trace of My Number work, and is refused it.
    third = new_page()
    log_in(third, immunization_clerk.username, PASSWORD)
    expect(third.locator("nav")).to_contain_text("個人検索")
    for url in (person_url, "/persons/"):
        third.goto(url)
        expect(third.locator("main h1")).to_be_visible()
        expect(third.locator("body")).not_to_contain_text("個人番号")
        expect(third.locator("#mynumber-work")).to_have_count(0)
        assert not [s for s in SPELLINGS if s in third.content()]
    expect(third.locator("h1")).not_to_contain_text("個人番号")
    response = third.goto("/mynumber/search/")
    assert response.status == 403
    expect(third).to_have_url(re.compile(r"/mynumber/search/$"))  # refused, not sent to set up a factor
    expect(third.get_by_role("heading", name="操作権限がありません")).to_be_visible()
    assert not TOTPDevice.objects.filter(user=immunization_clerk).exists()

    # The audit log: every step with its actor, and the number nowhere.
    events = AuditEvent.objects.filter(object_type__in=["mynumber", "mynumber_request"])
    created = events.get(action="create", object_type="mynumber_request", subjects=[newborn.pk])
    assert (created.actor, created.detail["identity_check"]) == (clerk_a, "mynumber_card")
    refused = events.get(action="denied", subjects=[newborn.pk])
    assert (refused.actor, refused.detail["reason"]) == (clerk_a, "four_eyes")
    changed = events.get(action="change", object_type="mynumber", subjects=[newborn.pk])
    assert (changed.actor, changed.detail["author"]) == (clerk_b, clerk_a.username)
    search = events.get(action="search")
    assert (search.actor, search.subjects, search.result_count) == (clerk_a, [newborn.pk], 1)
    assert search.criteria == {"mynumber": "[redacted]", "stated_purpose": SEARCH_PURPOSE}
    revealed = events.get(action="view", purpose=mynumber.PURPOSE_REVEAL)
    assert (revealed.actor, revealed.subjects) == (clerk_a, [newborn.pk])
    assert revealed.detail == {"stated_purpose": REVEAL_PURPOSE}
    for staff in (clerk_a, clerk_b):
        assert AuditEvent.objects.filter(action="create", object_type="otp_device", actor=staff).exists()
    assert AuditEvent.objects.filter(
        action="denied", actor=immunization_clerk, detail__permission="addressee.use_mynumber"
    ).exists()
    secrets = [base64.b32encode(d.bin_key).decode().rstrip("=") for d in TOTPDevice.objects.all()]
    for event in AuditEvent.objects.values():
        text = json.dumps(event, default=str, ensure_ascii=False)
        for secret in (*SPELLINGS, *secrets):
            assert secret not in text, f"event {event['id']} ({event['action']}) carries a secret"
