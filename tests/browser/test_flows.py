"""What a member of staff does in a real browser: log in, search, read a person's record, log out."""

import re

import pytest
from playwright.sync_api import Page, expect

from sesshu.audit.models import Action, AuditEvent, Outcome

from ..factories import PASSWORD, make_staff

pytestmark = pytest.mark.browser


def test_clerk_searches_by_kana_and_reads_a_record(page: Page, family, log_in, screenshot):
    clerk = make_staff("clerk")
    child = family["child"]

    log_in(page, clerk.username, PASSWORD)
    expect(page.get_by_role("heading", name="今日の業務")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator(".who")).to_contain_text(clerk.username)
    expect(page.locator(".who")).to_contain_text("一般職員")
    # The stylesheet and htmx come from the live server.
    expect(page.locator(".brand")).to_have_css("color", "rgb(11, 92, 173)")
    assert page.evaluate("typeof window.htmx") == "object"

    page.get_by_role("navigation").get_by_role("link", name="個人検索").click()
    expect(page.get_by_role("heading", name="個人検索")).to_be_visible()
    page.get_by_label("氏名（漢字・カナ・ローマ字）").fill("たなか")
    page.get_by_role("button", name="検索").click()

    # Hiragana is searched as katakana: the three 田中 in the household, not the moved-out 髙橋.
    expect(page.locator("#result-count")).to_have_text("該当者 3 人")
    rows = page.locator("table.results tbody tr")
    expect(rows).to_have_count(3)
    for name in ("田中 一郎", "田中 花子", "田中 翔太"):
        expect(rows.filter(has_text=name)).to_have_count(1)
    expect(page.locator("table.results")).not_to_contain_text("髙橋")
    expect(page.locator("table.results thead")).to_contain_text("カナ氏名")
    expect(rows.filter(has_text="田中 翔太")).to_contain_text("令和2年4月1日")
    expect(page).to_have_url(re.compile(r"/persons/\?name="))

    page.get_by_role("link", name="田中 翔太").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("田中 翔太")
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("統合宛名番号")
    expect(facts).to_contain_text(child.integrated_number)
    expect(facts).to_contain_text("タナカ ショウタ")
    expect(facts).to_contain_text("2020-04-01 (令和2年4月1日)")
    expect(facts).to_contain_text("男")
    expect(facts).to_contain_text("〒359-0001 東和県桜ヶ丘市緑町3丁目2番5号")

    expect(page.get_by_role("heading", name="世帯", exact=True)).to_be_visible()
    members = page.locator("table.household tbody tr")
    expect(members).to_have_count(3)
    expect(members.nth(0)).to_contain_text("世帯主")
    expect(members.nth(0)).to_contain_text("田中 一郎")
    expect(page.locator("table.household")).to_contain_text("妻")
    expect(page.locator("table.household")).to_contain_text("子")

    expect(page.get_by_role("heading", name="接種履歴")).to_be_visible()
    history = page.locator("#vaccination-history tbody tr")
    expect(history).to_have_count(2)
    expect(history.filter(has_text="MR")).to_contain_text("麻しん風しん混合")
    expect(history.filter(has_text="MR")).to_contain_text("2021-04-10")
    expect(history.filter(has_text="BCG")).to_contain_text("2020-10-01")
    expect(page.locator("#vaccination-history thead")).to_contain_text("ロット番号")
    screenshot(page, "flow1-clerk-person-record")

    page.get_by_role("button", name="ログアウト").click()
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)
    page.goto(f"/persons/{child.pk}/")
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()

    search = AuditEvent.objects.get(actor=clerk, action=Action.SEARCH)
    assert search.result_count == 3
    assert child.pk in search.subjects
    view = AuditEvent.objects.get(actor=clerk, action=Action.VIEW, object_type="person")
    # The page's other sections (forecast, notices, certificates) log reads of their own.
    assert child.pk in view.subjects
    assert view.outcome == Outcome.OK
    assert AuditEvent.objects.filter(actor=clerk, action=Action.LOGOUT).exists()
    assert page.failed_assets == []


def test_wrong_password_is_refused_in_japanese(page: Page, log_in, screenshot):
    clerk = make_staff("clerk")

    log_in(page, clerk.username, "Wrong-Horse-41")

    expect(page.get_by_role("alert")).to_have_text(
        "ユーザーIDまたはパスワードが正しくありません。続けて失敗すると、アカウントが一定時間ロックされます。"
    )
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    expect(page.get_by_role("navigation")).to_have_count(0)
    expect(page.get_by_label("ユーザーID")).to_have_value(clerk.username)
    expect(page.get_by_label("パスワード")).to_have_value("")
    assert "sessionid" not in {c["name"] for c in page.context.cookies()}
    screenshot(page, "flow2-wrong-password")

    page.goto("/persons/")
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED, criteria__username=clerk.username).exists()


def test_auditor_has_no_person_search(page: Page, log_in, screenshot):
    auditor = make_staff("auditor")

    log_in(page, auditor.username, PASSWORD)
    expect(page.get_by_role("heading", name="今日の業務")).to_be_visible()
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="ホーム")).to_be_visible()
    expect(nav.get_by_role("link", name="個人検索")).to_have_count(0)
    expect(page.get_by_label("氏名（漢字・カナ・ローマ字）")).to_have_count(0)
    expect(page.get_by_text("本日の監査ログ件数")).to_be_visible()

    response = page.goto("/persons/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="操作権限がありません")).to_be_visible()
    expect(page.get_by_role("alert")).to_have_text(
        "この業務を行う権限がありません。この操作は記録されています。"
    )
    screenshot(page, "flow2-auditor-not-permitted")

    page.get_by_role("link", name="ホームへ戻る").click()
    expect(page.get_by_role("heading", name="今日の業務")).to_be_visible()
    assert AuditEvent.objects.filter(actor=auditor, action=Action.DENIED, outcome=Outcome.DENIED).exists()
    assert not AuditEvent.objects.filter(actor=auditor, action=Action.SEARCH).exists()


def test_language_switch_turns_the_screens_english(page: Page, family, log_in, screenshot):
    clerk = make_staff("clerk")
    log_in(page, clerk.username, PASSWORD)
    nav = page.get_by_role("navigation")
    expect(nav.get_by_role("link", name="個人検索")).to_be_visible()
    assert page.failed_assets == []

    page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Today's work")).to_be_visible()
    expect(nav.get_by_role("link", name="Home")).to_be_visible()
    expect(nav.get_by_role("link", name="Person search")).to_be_visible()
    expect(nav).not_to_contain_text("個人検索")
    expect(page.get_by_role("button", name="Log out")).to_be_visible()

    # The language stays English on the next pages, plural forms included.
    nav.get_by_role("link", name="Person search").click()
    page.get_by_label("Name (kanji, kana or Latin)").fill("タナカ")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#result-count")).to_have_text("3 persons found")
    page.get_by_role("link", name="田中 翔太").click()
    expect(page.get_by_role("heading", name="Vaccination history")).to_be_visible()
    expect(page.locator("#vaccination-history")).to_contain_text("Measles-rubella")
    expect(page.locator("dl.facts")).to_contain_text("Integrated addressee number")
    screenshot(page, "flow3-english-person-record")

    page.get_by_role("button", name="日本語").click()
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", name="接種履歴")).to_be_visible()
    expect(nav.get_by_role("link", name="個人検索")).to_be_visible()
    assert page.failed_assets == []
