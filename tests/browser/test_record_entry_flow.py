"""A clerk enters a dose from a paper 予診票 by keyboard only: scans the ticket, types the date in 和暦
and the lot, sees the 間違い接種 flag before anything is saved, saves with a note. Then a correction
proposed by one clerk is confirmed by another, and the previous version stays in the history."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sesshu.immunization.models import (
    ExtractionBatch,
    ExtractionRun,
    Lot,
    Maker,
    Notice,
    Product,
    RecordChange,
    VaccinationRecord,
)
from sesshu.immunization.notices.tickets import make_ticket_number

from ..factories import PASSWORD, make_household, make_resident, make_staff, make_vaccination

pytestmark = pytest.mark.browser


@pytest.fixture
def second_page(browser, live_server):
    context = browser.new_context(
        base_url=live_server.url, locale="ja-JP", viewport={"width": 1280, "height": 860}
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def paper_form():
    """A child with MR dose 1, the MR 2nd-dose notice mailed to them, and the MR lot the clinic used."""
    _, child = make_resident(make_household(), given=("翔太", "ショウタ"), birth_date=date(2020, 4, 1))
    make_vaccination(child, "MR", 1, date(2021, 4, 10))
    maker = Maker.objects.create(code="BIKEN", name="阪大微生物病研究会")
    product = Product.objects.create(
        vaccine_id="MR",
        maker=maker,
        code="P-MR",
        name="麻しん風しん混合ワクチン",
        standard_volume_ml=Decimal("0.5"),
    )
    Lot.objects.create(
        product=product, lot_number="MR001", expires_on=timezone.localdate() + timedelta(days=90)
    )
    batch = ExtractionBatch.objects.create(
        purpose="notice", period_kind="fiscal_year", period_start=date(2021, 4, 1),
        period_end=date(2022, 3, 31), key="flow", series=["MR-2"],
    )  # fmt: skip
    run = ExtractionRun.objects.create(batch=batch, number=1, as_of=date(2021, 4, 1))
    ticket = make_ticket_number(4321)
    Notice.objects.create(
        batch=batch, run=run, person=child, kind="notice", series="MR-2", dose_number=2, ticket_number=ticket,
        age=1, mail_to="resident", addressee_name="田中 翔太", issued_at=timezone.now(),
    )  # fmt: skip
    return child, ticket


def test_a_dose_entered_by_keyboard_is_flagged_before_saving_and_a_correction_is_confirmed(
    page, second_page, log_in, paper_form, screenshot
):
    child, ticket = paper_form
    make_staff("clerk", "clerk_a")
    make_staff("clerk", "clerk_b")
    log_in(page, "clerk_a", PASSWORD)
    page.goto("/records/new/")

    # The scanner types the ticket number into the focused field and ends with Enter.
    expect(page.locator("#ticket")).to_be_focused()
    page.keyboard.type(ticket)
    page.keyboard.press("Enter")
    expect(page.locator("#person-summary")).to_contain_text("田中 翔太")
    expect(page.locator("#f-vaccine")).to_have_value("MR")
    expect(page.locator("#f-dose")).to_have_value("2")
    # The date has the focus: 和暦 as on the paper form, Tab to the lot, Enter to save.
    expect(page.locator("#f-date")).to_be_focused()
    page.keyboard.type("R3.5.1")
    page.keyboard.press("Tab")
    expect(page.locator("#f-lot")).to_be_focused()
    page.keyboard.type("mr001")
    page.keyboard.press("Enter")

    # The schedule engine's verdict, before anything is saved.
    expect(page.locator("#flag")).to_contain_text("間違い接種")
    expect(page.locator("#flag")).to_contain_text("対象年齢")
    assert VaccinationRecord.objects.filter(person=child).count() == 1
    screenshot(page, "record-entry-flag")
    expect(page.locator("#flag-note")).to_be_focused()
    page.keyboard.type("保護者・医療機関に確認済み")
    page.keyboard.press("Enter")
    expect(page.locator(".messages")).to_contain_text("2021-05-01")  # untranslated until the lead fills ja
    saved = VaccinationRecord.objects.get(person=child, dose_number=2)
    assert (saved.flagged, saved.lot_number, saved.product_name, saved.vaccinated_on) == (
        True, "MR001", "麻しん風しん混合ワクチン", date(2021, 5, 1),
    )  # fmt: skip
    assert saved.ticket_number == ticket and saved.registered_by.username == "clerk_a"

    # clerk_a proposes a correction of dose 1's date; clerk_b confirms it.
    first = VaccinationRecord.objects.get(person=child, dose_number=1)
    page.goto(f"/records/{first.pk}/correct/")
    expect(page.locator("#f-reason")).to_be_focused()
    page.keyboard.type("接種日の転記誤り")
    page.locator("#f-date").fill("令和3年4月12日")
    page.locator("#f-date").press("Enter")
    expect(page.locator("#changes")).to_contain_text("接種日の転記誤り")
    change = RecordChange.objects.get(record=first)
    page.goto("/records/changes/")
    expect(page.locator(f"#change-{change.pk}")).to_contain_text("接種日の転記誤り")
    expect(page.locator(f"#confirm-{change.pk}")).to_have_count(0)

    log_in(second_page, "clerk_b", PASSWORD)
    second_page.goto("/records/changes/")
    expect(second_page.locator(f"#change-{change.pk}")).to_contain_text("接種日の転記誤り")
    second_page.locator(f"#confirm-{change.pk}").click()
    expect(second_page.locator("#record-items")).to_contain_text("2021-04-12")
    expect(second_page.locator("#versions")).to_contain_text("v1")
    second_page.locator("#versions summary").first.click()
    expect(second_page.locator("#versions")).to_contain_text("vaccinated_on: 2021-04-10")
    screenshot(second_page, "record-correction-history")
    first.refresh_from_db()
    assert (first.vaccinated_on, first.version) == (date(2021, 4, 12), 2)
