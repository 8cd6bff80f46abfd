"""A clerk's 対象者抽出 in a real browser: this fiscal year's MR 第2期 and 高齢者インフルエンザ in the
synthetic city, the print CSV and the PDF downloaded, then reminders to those who have not finished.

Selectors are ids and form names (the new screens' labels are translated later); the series' names
come from the schedule data and are Japanese already."""

import csv
import io
import shutil
import subprocess

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sesshu.audit.context import acting_as
from sesshu.audit.models import AuditEvent
from sesshu.demo.synthetic import build_city
from sesshu.immunization.extraction import fiscal_year, fiscal_year_of
from sesshu.immunization.models import ExtractionBatch, Notice

from ..factories import PASSWORD, make_staff

pytestmark = pytest.mark.browser


def start(page: Page, purpose: str, series: list[str]) -> None:
    page.goto("/notices/")
    form = page.locator("#start-extraction")
    form.locator('select[name="purpose"]').select_option(purpose)
    form.locator('select[name="period_kind"]').select_option("fiscal_year")
    expect(form.locator('input[name="period"]')).to_have_value(str(fiscal_year_of(timezone.localdate())))
    for code in series:
        form.locator(f'input[name="series"][value="{code}"]').check()
    form.locator('button[type="submit"]').click()


def test_a_clerk_extracts_prints_and_reminds(page: Page, log_in, screenshot, tmp_path):
    with acting_as(username="seed", route="cli:seed"):
        # The city as the fiscal year began: this year's doses are still to come.
        build_city(residents=600, seed=1, as_of=fiscal_year(fiscal_year_of(timezone.localdate())).start)
    clerk = make_staff("clerk", "clerk_notices")
    log_in(page, clerk.username, PASSWORD)
    page.locator('nav a[href="/notices/"]').click()
    expect(page.locator("#start-extraction")).to_contain_text("麻しん・風しん 第2期")

    start(page, "notice", ["MR-2", "Flu"])
    expect(page.locator('#run-status [data-state="done"]')).to_have_count(1)
    batch = ExtractionBatch.objects.get(purpose="notice")
    total = Notice.objects.filter(batch=batch).count()
    assert Notice.objects.filter(batch=batch, series="MR-2").exists()
    assert Notice.objects.filter(batch=batch, series="Flu").exists()
    expect(page.locator("#total")).to_have_text(str(total))
    expect(page.locator('#counts-by-age th[data-series="MR-2"]')).to_contain_text("麻しん・風しん 第2期")
    expect(page.locator('#counts-by-age th[data-series="Flu"]')).to_contain_text("高齢者インフルエンザ")
    screenshot(page, "notices-batch")

    with page.expect_download() as download:
        page.locator("#csv-cp932").click()
    rows = list(csv.reader(io.StringIO(download.value.path().read_bytes().decode("cp932"), newline="")))
    held = Notice.objects.filter(batch=batch, mail_to="held").count()
    assert rows[0][0] == "接種券番号" and len(rows) - 1 == total - held
    assert {row[15] for row in rows[1:]} == {"MR-2", "Flu"}

    with page.expect_download(timeout=120_000) as download:  # a few hundred pages are drawn first
        page.locator(".pdf-part").first.click(timeout=120_000)
    pdf = tmp_path / "notices.pdf"
    pdf.write_bytes(download.value.path().read_bytes())
    pdftotext = shutil.which("pdftotext") or "pdftotext"
    text = subprocess.run([pdftotext, str(pdf), "-"], capture_output=True, text=True, check=True).stdout  # noqa: S603
    assert "予防接種のお知らせ" in text and "予診票" in text
    exports = AuditEvent.objects.filter(action="export", actor=clerk, object_type="notice")
    assert exports.count() == 2

    # Reminders: the same series, for those who have not had them yet this year.
    start(page, "reminder", ["MR-2", "Flu"])
    expect(page.locator('#run-status [data-state="done"]')).to_have_count(1)
    reminders = Notice.objects.filter(batch__purpose="reminder")
    assert reminders.exists() and set(reminders.values_list("reason", flat=True)) <= {
        "incomplete",
        "not_started",
    }
    expect(page.locator("#total")).to_have_text(str(reminders.count()))
    first = reminders.order_by("series", "postal_code", "id").first()
    page.locator(f'a[href="/notices/notice/{first.pk}/"]').click()
    expect(page.locator("#ticket")).to_have_text(
        f"{first.ticket_number[:6]} {first.ticket_number[6:-1]} {first.ticket_number[-1]}"
    )
    page.goto(f"/persons/{first.person_id}/")
    expect(page.locator("#notices")).to_contain_text(first.ticket_number)
    screenshot(page, "notices-person")
