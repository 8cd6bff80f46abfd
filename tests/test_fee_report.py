"""The fee reconciliation per clinic per 請求年月: three clinics' claims of one month, with bad rows (an
invalid dose by the schedule engine, a duplicate, a dose outside the contract, a claim that differs from
the fee table, an error row), the review queue resolved, then the month's screen, CSV and PDF."""

import csv
import io
import shutil
import subprocess
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sesshu.audit.models import AuditEvent
from sesshu.immunization.models import (
    Clinic,
    ClinicFee,
    ImportRow,
    Lot,
    Maker,
    Product,
    RecordSource,
    SourceFile,
    VaccinationRecord,
)

from .factories import make_household, make_resident, make_staff

pytestmark = pytest.mark.django_db
MONTH = "2025-04"
HEADER = [
    "氏名カナ",
    "生年月日",
    "ワクチンコード",
    "接種回",
    "接種日",
    "Lot",
    "委託料",
    "予診のみ",
    "未接種理由",
]


@pytest.fixture
def clinics():
    maker = Maker.objects.create(code="BIKEN", name="阪大微生物病研究会")
    product = Product.objects.create(vaccine_id="JE", maker=maker, code="P-JE", name="ジェービックV")
    Lot.objects.create(product=product, lot_number="JE001", expires_on=date(2027, 3, 31))
    a = Clinic.objects.create(
        code="9900000001", name="桜ヶ丘こどもクリニック", contract_from=date(2000, 4, 1)
    )
    b = Clinic.objects.create(code="9900000002", name="若葉台医院", contract_from=date(2000, 4, 1))
    # Under contract from 15 March 2025 only; its table has a fee for the first dose only.
    c = Clinic.objects.create(code="9900000003", name="緑町内科", contract_from=date(2025, 3, 15))
    ClinicFee.objects.create(
        clinic=a, vaccine_id="JE", dose_number=0, fee_yen=8250, valid_from=date(2019, 4, 1)
    )
    ClinicFee.objects.create(
        clinic=b, vaccine_id="JE", dose_number=0, fee_yen=8000, valid_from=date(2019, 4, 1)
    )
    ClinicFee.objects.create(
        clinic=c, vaccine_id="JE", dose_number=1, fee_yen=8250, valid_from=date(2019, 4, 1)
    )
    return {"a": a, "b": b, "c": c}


@pytest.fixture
def people():
    home = make_household()
    _, shota = make_resident(home, given=("翔太", "ショウタ"), birth_date=date(2020, 4, 1))
    _, hana = make_resident(home, given=("花", "ハナ"), sex="F", birth_date=date(2019, 5, 5), is_head=False)
    _, baby = make_resident(home, given=("蓮", "レン"), birth_date=date(2025, 1, 10), is_head=False)
    _, taro = make_resident(make_household(), given=("太郎", "タロウ"), birth_date=date(2021, 6, 1))
    _, ken1 = make_resident(make_household(), given=("健", "ケン"), birth_date=date(2018, 7, 7))
    _, ken2 = make_resident(
        make_household(address="東和県桜ヶ丘市若葉台1丁目5番3号"),
        given=("研", "ケン"),
        birth_date=date(2018, 7, 7),
    )
    return {"shota": shota, "hana": hana, "baby": baby, "taro": taro, "ken1": ken1, "ken2": ken2}


@pytest.fixture
def clerk(client):
    user = make_staff("clerk")
    client.force_login(user)
    return user


def csv_bytes(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue().encode("utf-8-sig")


def dose(kana, birth, day, fee, n="1", **kw):
    return {
        "氏名カナ": kana,
        "生年月日": birth,
        "ワクチンコード": "JE",
        "接種回": n,
        "接種日": day,
        "Lot": "JE001",
    } | {
        "委託料": fee,
        **kw,
    }


def upload(client, data: bytes, name: str, clinic: str = "", month: str = MONTH) -> SourceFile:
    response = client.post(
        reverse("imports:upload"),
        {"file": SimpleUploadedFile(name, data, "text/csv"), "clinic": clinic, "billing_month": month},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return SourceFile.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


@pytest.fixture
def month(client, clerk, clinics, people):
    """The month's three files: clinic A's own, the 医師会's (clinics B and C on each row), and a second
    file of clinic B with an error row (it cannot be imported until corrected)."""
    a = upload(
        client,
        csv_bytes(
            [
                dose("タナカ ショウタ", "2020-04-01", "2025-03-03", "8250"),  # 支払対象
                dose("タナカ ハナ", "2019-05-05", "2025-03-03", "9000"),  # 請求額相違
                dose("タナカ ショウタ", "2020-04-01", "2025-03-03", "8250"),  # 重複請求 (twice in the file)
                dose("タナカ レン", "2025-01-10", "2025-03-05", "8250"),  # 間違い接種: 7 weeks old
                dose("タナカ ケン", "2018-07-07", "2025-03-07", "8250"),  # two namesakes: in doubt
            ]
        ),
        "a.csv",
        clinic=clinics["a"].code,
    )
    header = [*HEADER, "医療機関コード"]
    bundle = upload(
        client,
        csv_bytes(
            [
                dose("タナカ ハナ", "2019-05-05", "2025-03-20", "8000", "2", 医療機関コード="9900000002"),
                # Three days after the first dose: the law asks for six.
                dose("タナカ ショウタ", "2020-04-01", "2025-03-06", "8000", "2", 医療機関コード="9900000002"),
                dose(
                    "タナカ ハナ",
                    "2019-05-05",
                    "2025-03-25",
                    "",
                    "3",
                    予診のみ="1",
                    未接種理由="発熱",
                    医療機関コード="9900000002",
                ),
                dose(
                    "タナカ タロウ", "2021-06-01", "2025-03-10", "8250", 医療機関コード="9900000003"
                ),  # 契約期間外
                dose(
                    "タナカ タロウ", "2021-06-01", "2025-03-20", "8250", "2", 医療機関コード="9900000003"
                ),  # 単価なし
            ],
            header,
        ),
        "ishikai.csv",
    )
    b2 = upload(
        client,
        csv_bytes(
            [
                dose(
                    "タナカ タロウ", "2021-06-01", "2025-03-27", "8000", "3", Lot="XX999"
                ),  # unknown lot: 無効
                dose("タナカ ハナ", "2019-05-05", "2025-03-28", "8000", "3"),  # 未取込
            ]
        ),
        "b-2.csv",
        clinic=clinics["b"].code,
    )
    for source in (a, bundle):
        client.post(reverse("imports:commit", args=[source.pk]))
        source.refresh_from_db()
        assert source.status == "committed"
    client.post(reverse("imports:commit", args=[b2.pk]))  # refused: an error row
    # The review queue: the clerk says which ケン it was.
    doubt = ImportRow.objects.get(source_file=a, row_number=6)
    response = client.post(reverse("imports:resolve", args=[doubt.pk]), {"person": people["ken2"].pk})
    assert response.status_code == 302
    doubt.refresh_from_db()
    assert doubt.status == "imported"
    return {"a": a, "bundle": bundle, "b2": b2}


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def clinic_csv(client, code, **params) -> list[list[str]]:
    response = client.get(reverse("imports:fees_clinic_csv", args=[MONTH, code]), params)
    assert response.status_code == 200
    return read_csv(response)


def by_row(lines) -> dict[tuple[str, str], list[str]]:
    """{(file name, line): the CSV line} for the detail lines (not 小計 / 合計)."""
    return {(line[4], line[5]): line for line in lines[1:] if line[0] == MONTH}


def test_the_month_screen_shows_each_clinics_claimed_and_payable_totals(client, clerk, month, people):
    before = AuditEvent.objects.count()
    response = client.get(reverse("imports:fees_month"), {"month": MONTH})
    assert response.status_code == 200
    page = response.content.decode()
    # A: 8250 + 9000 + 8250 + 8250 + 8250 claimed; 8250 + 8250 (table, not the claim) + 8250 (ケン) payable.
    assert '<tr data-clinic="9900000001">' in page
    rows = {
        code: page.split(f'data-clinic="{code}"')[1].split("</tr>")[0]
        for code in ("9900000001", "9900000002", "9900000003")
    }
    assert '<td class="claimed" style="text-align:right">42,000</td>' in rows["9900000001"]
    assert '<td class="payable" style="text-align:right">24,750</td>' in rows["9900000001"]
    # B: 8000 + 8000 + 0 (予診のみ) from the 医師会 file, 8000 + 8000 from its own file; 8000 payable.
    assert '<td class="claimed" style="text-align:right">32,000</td>' in rows["9900000002"]
    assert '<td class="payable" style="text-align:right">8,000</td>' in rows["9900000002"]
    # C: out of contract on 10 March, no fee for a second dose: nothing payable.
    assert '<td class="claimed" style="text-align:right">16,500</td>' in rows["9900000003"]
    assert '<td class="payable" style="text-align:right">0</td>' in rows["9900000003"]
    assert 'id="total-claimed" style="text-align:right">90,500<' in page
    assert 'id="total-payable" style="text-align:right">32,750<' in page
    assert reverse("imports:fees_clinic_pdf", args=[MONTH, "9900000002"]) in page
    # Only totals and counts: no names on the screen.
    assert "翔太" not in page and "ショウタ" not in page
    event = AuditEvent.objects.filter(id__gt=before, action="view", object_type="fee_report").get()
    assert event.purpose.startswith("予防接種台帳 委託料の照合")
    assert set(event.subjects) == {p.pk for k, p in people.items() if k != "ken1"}
    assert event.criteria == {"month": MONTH}


def test_each_rows_verdict_and_reason_per_clinic_in_the_csv(client, clerk, month):
    a = by_row(clinic_csv(client, "9900000001"))
    verdicts = {key[1]: (line[11], line[13], line[14]) for key, line in a.items()}
    assert verdicts == {
        "2": ("8250", "8250", "支払対象"),
        "3": ("9000", "8250", "請求額相違"),
        "4": ("8250", "0", "重複請求"),
        "5": ("8250", "0", "間違い接種"),
        "6": ("8250", "8250", "支払対象"),  # resolved from the review queue
    }
    assert "対象年齢" in a[("a.csv", "5")][15] and "2025-07-09 から接種できます" in a[("a.csv", "5")][15]
    assert a[("a.csv", "5")][9:11] == ["2025-03-05", "令和7年3月5日"]

    b = by_row(clinic_csv(client, "9900000002"))
    assert {key: line[14] for key, line in b.items()} == {
        ("ishikai.csv", "2"): "支払対象",
        ("ishikai.csv", "3"): "間違い接種",
        ("ishikai.csv", "4"): "予診のみ",
        ("b-2.csv", "2"): "無効",
        ("b-2.csv", "3"): "未取込",
    }
    assert "6日以上の間隔を置いていません" in b[("ishikai.csv", "3")][15]
    assert "Lot「XX999」" in b[("b-2.csv", "2")][15]
    assert "取込後の判定" in b[("b-2.csv", "3")][15]

    lines = clinic_csv(client, "9900000003")
    c = by_row(lines)
    assert {key[1]: line[14] for key, line in c.items()} == {"5": "契約期間外", "6": "単価なし"}
    total = next(line for line in lines if line[0] == "合計")
    assert (total[1], total[2], total[5], total[11], total[13]) == (
        "9900000003",
        "緑町内科",
        "2",
        "16500",
        "0",
    )
    subtotals = {line[14]: (line[5], line[11], line[13]) for line in lines if line[0] == "小計"}
    assert subtotals == {"契約期間外": ("1", "8250", "0"), "単価なし": ("1", "8250", "0")}


def test_the_csv_in_shift_jis_for_finance_systems(client, clerk, month):
    response = client.get(
        reverse("imports:fees_clinic_csv", args=[MONTH, "9900000001"]), {"encoding": "cp932"}
    )
    assert response["Content-Type"] == "text/csv; charset=shift_jis"
    text = response.content.decode("cp932")
    assert text.startswith("請求年月,医療機関コード") and "桜ヶ丘こどもクリニック" in text


def test_exports_are_audited_with_the_persons_of_that_clinic_only(client, clerk, month, people):
    before = AuditEvent.objects.count()
    clinic_csv(client, "9900000003")
    client.get(reverse("imports:fees_clinic_pdf", args=[MONTH, "9900000003"]))
    events = list(AuditEvent.objects.filter(id__gt=before, object_type="fee_report").order_by("id"))
    assert [(e.action, e.detail["format"]) for e in events] == [("export", "csv"), ("export", "pdf")]
    for event in events:
        assert event.subjects == [people["taro"].pk]
        assert event.criteria == {"month": MONTH, "clinic": "9900000003"}
        assert (event.detail["claimed"], event.detail["payable"]) == (16500, 0)


def pdf_text(data: bytes, tmp_path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    pdftotext = shutil.which("pdftotext") or "pdftotext"
    return subprocess.run(  # noqa: S603
        [pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def test_the_pdf_has_the_clinic_the_month_each_row_and_the_totals(client, clerk, month, tmp_path):
    response = client.get(reverse("imports:fees_clinic_pdf", args=[MONTH, "9900000001"]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content, tmp_path)
    pages = text.split("\f")
    assert "9900000001" in pages[0] and "桜ヶ丘こどもクリニック" in pages[0]
    assert "請求年月 令和7年4月（2025-04）" in pages[0]
    assert "1/2" in pages[0].replace(" ", "") and "2/2" in pages[1].replace(" ", "")
    assert "42,000 円" in pages[0] and "24,750 円" in pages[0] and "17,250 円" in pages[0]
    assert "確認欄" in pages[0] and "支払決定額" in pages[0]
    for verdict in ("支払対象", "請求額相違", "重複請求", "間違い接種"):
        assert verdict in pages[0] and verdict in pages[1]
    assert "a.csv" in pages[0]
    assert "令和7年3月5日" in pages[1] and "2025-03-05" in pages[1]
    assert "対象年齢" in pages[1]
    assert "ショウタ" not in text and "翔太" not in text  # no names on the report


def test_the_preview_flags_a_dose_the_schedule_does_not_count(client, clerk, clinics, people):
    source = upload(
        client,
        csv_bytes(
            [
                dose("タナカ ショウタ", "2020-04-01", "2025-03-03", "8250"),
                dose("タナカ レン", "2025-01-10", "2025-03-05", "8250"),
            ]
        ),
        "preview.csv",
        clinic=clinics["a"].code,
    )
    page = client.get(reverse("imports:preview", args=[source.pk])).content.decode()
    matched = page.split('id="matched"')[1]
    baby_row = next(tr for tr in matched.split("<tr") if "タナカ レン" in tr)
    shota_row = next(tr for tr in matched.split("<tr") if "タナカ ショウタ" in tr)
    assert 'class="mistake"' in baby_row and "badge warn" in baby_row
    assert "対象年齢（生後6月から生後90月に至るまで）より前です" in baby_row
    assert "badge warn" not in shota_row
    assert 'id="mistakes"' in page


def test_a_file_without_a_billing_month_counts_in_the_month_of_each_dose(client, clerk, clinics, people):
    upload(
        client,
        csv_bytes(
            [
                dose("タナカ ショウタ", "2020-04-01", "2025-03-03", "8250"),
                dose("タナカ ハナ", "2019-05-05", "2025-04-02", "8250"),
            ]
        ),
        "no-month.csv",
        clinic=clinics["a"].code,
        month="",
    )
    response = client.get(reverse("imports:fees_clinic_csv", args=["2025-03", "9900000001"]))
    lines = read_csv(response)
    march = [line for line in lines[1:] if line[0] == "2025-03"]
    assert [(line[5], line[9]) for line in march] == [("2", "2025-03-03")]
    assert march[0][14] == "未取込"  # previewed, not imported: nothing paid yet


def test_a_bad_month_is_a_message_and_an_unknown_clinic_is_not_found(client, clerk, clinics):
    response = client.get(reverse("imports:fees_month"), {"month": "2025-13"})
    assert response.status_code == 400
    assert "請求年月「2025-13」を読み取れません" in response.content.decode()
    assert client.get(reverse("imports:fees_clinic_pdf", args=[MONTH, "0000000000"])).status_code == 404
    assert client.get(reverse("imports:fees_clinic_csv", args=["2025-13", "9900000001"])).status_code == 404


def test_a_month_without_claims_prints_an_empty_report(client, clerk, clinics, tmp_path):
    response = client.get(reverse("imports:fees_month"), {"month": "2024-01"})
    assert response.status_code == 200 and "9900000001" not in response.content.decode()
    response = client.get(reverse("imports:fees_clinic_pdf", args=["2024-01", "9900000001"]))
    assert response.status_code == 200
    assert "この月の請求はありません" in pdf_text(response.content, tmp_path)


def test_the_per_file_csv_flags_the_invalid_dose_too(client, clerk, month):
    response = client.get(reverse("imports:fees", args=[month["a"].pk]))
    lines = read_csv(response)
    verdicts = {line[0]: line[9] for line in lines[1:] if line[0].isdigit()}
    assert verdicts == {
        "2": "支払対象",
        "3": "請求額相違",
        "4": "重複請求",
        "5": "間違い接種",
        "6": "支払対象",
    }


def test_a_dose_entered_by_hand_is_paid_to_the_first_clinic_that_claims_it(client, clerk, clinics, people):
    # Entered from the 予診票 without a lot; then two clinics' files both claim it.
    VaccinationRecord.objects.create(
        person=people["hana"],
        vaccine_id="JE",
        dose_number=1,
        vaccinated_on=date(2025, 3, 3),
        source=RecordSource.MANUAL,
    )
    first = upload(
        client,
        csv_bytes([dose("タナカ ハナ", "2019-05-05", "2025-03-03", "8250")]),
        "a.csv",
        clinic="9900000001",
    )
    second = upload(
        client,
        csv_bytes([dose("タナカ ハナ", "2019-05-05", "2025-03-03", "8000")]),
        "b.csv",
        clinic="9900000002",
    )
    for source in (first, second):
        client.post(reverse("imports:commit", args=[source.pk]))
    assert by_row(clinic_csv(client, "9900000001"))[("a.csv", "2")][13:15] == ["8250", "支払対象"]
    line = by_row(clinic_csv(client, "9900000002"))[("b.csv", "2")]
    assert line[13:15] == ["0", "重複請求"]
    assert f"a.csv（ファイル番号 {first.pk}）の2行目" in line[15]


def test_the_month_screen_reads_the_same_few_queries_whatever_the_rows(client, clerk, month, clinics):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("imports:fees_month"), {"month": MONTH}).status_code == 200
        return len(captured)

    before = queries()
    more = [dose("タナカ ショウタ", "2020-04-01", f"2025-03-{day:02d}", "8250", "3") for day in range(11, 29)]
    upload(client, csv_bytes(more), "more.csv", clinic="9900000003")
    assert queries() == before
