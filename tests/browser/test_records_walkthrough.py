"""Issue 7's walk-through in one browser session: the 医師会's monthly file of three clinics arrives with
bad rows and is refused whole, the corrected file is imported, the row in doubt is resolved in the
review queue, the fee report for the month is printed, an overseas certificate is issued and its QR
verifies on the public page, and the person's FHIR Bundle is exported."""

import csv
import io
import json
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sesshu.audit.models import Action, AuditEvent
from sesshu.immunization.models import (
    Clinic,
    ClinicFee,
    ImportRow,
    ImportRowStatus,
    Lot,
    Maker,
    Product,
    VaccinationRecord,
)

from ..factories import PASSWORD, make_household, make_resident, make_staff

pytestmark = pytest.mark.browser
HEADER = [
    "医療機関コード",
    "氏名カナ",
    "氏名",
    "生年月日",
    "性別",
    "ワクチンコード",
    "接種回",
    "接種日",
    "Lot",
    "委託料",
]
CLINICS = {
    "9900000001": "桜ヶ丘こどもクリニック",
    "9900000002": "緑町小児科医院",
    "9900000003": "若葉台ファミリークリニック",
}


def run_tool(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """A poppler or zbar command line tool, with fixed arguments."""
    return subprocess.run([shutil.which(args[0]) or args[0], *args[1:]], **kwargs)  # noqa: S603


@pytest.fixture
def month_of_doses():
    """Three clinics under contract with their JE fee, a JE lot, and five children of the city."""
    maker = Maker.objects.create(code="BIKEN", name="阪大微生物病研究会")
    product = Product.objects.create(
        vaccine_id="JE", maker=maker, code="P-JE", name="ジェービックV", standard_volume_ml=Decimal("0.5")
    )
    Lot.objects.create(
        product=product, lot_number="JE001", expires_on=timezone.localdate() + timedelta(days=365)
    )
    for code, name in CLINICS.items():
        clinic = Clinic.objects.create(code=code, name=name, contract_from=date(2000, 4, 1))
        ClinicFee.objects.create(
            clinic=clinic, vaccine_id="JE", dose_number=0, fee_yen=8250, valid_from=date(2019, 4, 1)
        )
    children = {}
    for kanji, kana, born, sex in [
        ("翔太", "ショウタ", date(2019, 4, 10), "M"),
        ("花", "ハナ", date(2019, 5, 5), "F"),
        ("健", "ケン", date(2019, 6, 6), "M"),
        ("蓮", "レン", date(2019, 7, 7), "M"),
        ("陽菜", "ヒナ", date(2019, 8, 8), "F"),
    ]:
        _, children[kana] = make_resident(make_household(), given=(kanji, kana), birth_date=born, sex=sex)
    return children


def clinic_file(rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


GOOD_ROWS = [
    [
        "9900000001",
        "タナカ ショウタ",
        "田中 翔太",
        "2019-04-10",
        "男",
        "JE",
        "1",
        "2025-04-07",
        "JE001",
        "8250",
    ],
    ["9900000001", "ﾀﾅｶ ﾊﾅ", "田中 花", "R1.5.5", "女", "JE", "1", "2025-04-08", "je001", "8250"],
    ["9900000002", "タナカ ケン", "田中 健", "2019-06-06", "男", "JE", "1", "2025-04-14", "JE001", "8800"],
    ["9900000003", "たなか れん", "田中 蓮", "2019-07-07", "男", "JE", "1", "2025-04-21", "JE001", "8250"],
    # A typo in the kana: the clinic wrote ヒカ for ヒナ. Never linked silently.
    ["9900000003", "タナカ ヒカ", "田中 陽菜", "2019-08-08", "女", "JE", "1", "2025-04-22", "JE001", "8250"],
]
BAD_ROWS = [
    [
        "9900000002",
        "タナカ ケン",
        "田中 健",
        "2019-06-06",
        "男",
        "JE",
        "2",
        "令和7年2月30日",
        "JE001",
        "8250",
    ],
    ["9900000002", "タナカ レン", "田中 蓮", "2019-07-07", "男", "JE", "2", "2025-04-28", "XX999", "8250"],
]


def upload(page, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_bytes(text.encode("cp932"))  # a spreadsheet saved as CSV on a Japanese PC
    page.goto("/imports/")
    page.locator("#upload-form input[type=file]").set_input_files(str(path))
    page.locator("#upload-form input[name=billing_month]").fill("2025-04")
    page.locator("#upload-form button[type=submit]").click()


def test_a_month_of_clinic_files_to_fees_certificate_and_fhir(
    page, log_in, month_of_doses, screenshot, tmp_path
):
    children = month_of_doses
    clerk = make_staff("clerk", "walkthrough_clerk")
    log_in(page, clerk.username, PASSWORD)

    # 1. The file with two bad rows: each error in Japanese, and nothing can be imported.
    upload(page, tmp_path, "ishikai-2025-04.csv", clinic_file(GOOD_ROWS + BAD_ROWS))
    expect(page.locator("#count-error")).to_have_text("2")
    expect(page.locator("#errors")).to_contain_text("2月30日")
    expect(page.locator("#errors")).to_contain_text("XX999")
    expect(page.locator("#commit")).to_have_count(0)
    screenshot(page, "walkthrough-file-with-errors")
    assert not VaccinationRecord.objects.exists()
    # The clerk returns the rows to the clinic and withdraws the file (out of the queue and the fees).
    page.locator("#withdraw-form input[name=reason]").fill("エラー2行を返却、訂正版を依頼")
    page.locator("#withdraw").click()
    expect(page.locator(".messages")).to_contain_text("取り消")
    expect(page.locator("#withdraw")).to_have_count(0)

    # 2. The corrected file (the two rows returned to the clinic): matched rows in, one row in doubt.
    upload(page, tmp_path, "ishikai-2025-04-corrected.csv", clinic_file(GOOD_ROWS))
    expect(page.locator("#count-matched")).to_have_text("4")
    expect(page.locator("#count-doubt")).to_have_text("1")
    page.locator("#commit").click()
    expect(page.locator("#count-imported")).to_have_text("4")
    assert VaccinationRecord.objects.filter(vaccine_id="JE").count() == 4

    # 3. The review queue: the clerk compares the row with the candidate and links it.
    page.goto("/imports/review/")
    # Only the corrected file's row waits: the withdrawn file's rows are out of the queue.
    doubt = ImportRow.objects.get(status=ImportRowStatus.DOUBT, source_file__status="committed")
    expect(page.locator("section.card")).to_have_count(1)
    section = page.locator(f"#row-{doubt.pk}")
    expect(section).to_contain_text("タナカ ヒカ")
    section.locator(f"input[name=person][value='{children['ヒナ'].pk}']").check()
    section.get_by_role("button", name="この人に結び付ける").click()
    expect(page.locator(f"#row-{doubt.pk}")).to_have_count(0)
    hina = VaccinationRecord.objects.get(person=children["ヒナ"], vaccine_id="JE")
    assert hina.vaccinated_on == date(2025, 4, 22)
    decision = AuditEvent.objects.filter(object_type="import_row", action=Action.CHANGE).latest("pk")
    assert decision.subjects == [children["ヒナ"].pk] and decision.actor_id == clerk.pk

    # 4. The fee report of April 2025: three clinics, the claim that differs from the table shown.
    page.goto("/imports/fees/?month=2025-04")
    clinics = page.locator("#fee-clinics tbody tr")
    expect(clinics).to_have_count(3)
    payable = {code: page.locator(f"tr[data-clinic='{code}'] .payable") for code in CLINICS}
    expect(payable["9900000001"]).to_have_text("16,500")
    expect(payable["9900000002"]).to_have_text("8,250")  # claimed 8,800: the table's fee is paid
    expect(payable["9900000003"]).to_have_text("16,500")  # the resolved row included
    screenshot(page, "walkthrough-fee-report")
    link = page.locator("tr[data-clinic='9900000002'] a", has_text="PDF")
    report = page.request.get(link.get_attribute("href"))
    assert report.status == 200 and report.headers["content-type"] == "application/pdf"
    (tmp_path / "fees.pdf").write_bytes(report.body())
    text = run_tool(["pdftotext", "-layout", str(tmp_path / "fees.pdf"), "-"], capture_output=True, text=True)
    assert "緑町小児科医院" in text.stdout and "請求額相違" in text.stdout

    # 5. An overseas certificate for 翔太, verified by anyone on the public page.
    shota = children["ショウタ"]
    page.goto(f"/persons/{shota.pk}/")
    page.locator("#issue-overseas").click()
    page.locator("#family_name_latin").fill("tanaka")
    page.locator("#given_name_latin").fill("shota")
    page.locator("#nationality").fill("JPN")
    page.locator("#passport_number").fill("TZ7654321")
    page.locator("#issue").click()
    expect(page.locator("#issued-message")).to_be_visible()
    with page.expect_download() as download_info:
        page.locator("#download-pdf").click()
    pdf = tmp_path / "certificate.pdf"
    download_info.value.save_as(pdf)
    run_tool(["pdftoppm", "-png", "-r", "150", "-singlefile", str(pdf), str(tmp_path / "cert")], check=True)
    scanned = run_tool(
        ["zbarimg", "--raw", "-q", str(tmp_path / "cert.png")], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert scanned == page.locator("#shc-text").input_value()

    # 6. The person's history as a FHIR Bundle (JP Core), the imported dose with its clinic's code.
    response = page.request.get(f"/fhir/Patient/{shota.pk}/$everything")
    assert response.status == 200
    bundle = json.loads(response.text())
    immunizations = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Immunization"
    ]
    assert [i["occurrenceDateTime"][:10] for i in immunizations] == ["2025-04-07"]
    assert immunizations[0]["lotNumber"] == "JE001"

    verifier = page.context.new_page()
    verifier.goto("/certificates/verify/")
    verifier.locator("#shc").fill(scanned)
    verifier.locator("#verify").click()
    expect(verifier.locator("#verification-result")).to_have_attribute("data-status", "genuine")
    expect(verifier.locator("#card-doses")).to_contain_text("2025-04-07")
    screenshot(verifier, "walkthrough-certificate-verified")
