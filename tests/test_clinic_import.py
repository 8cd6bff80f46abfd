"""The clinics' monthly file: upload → preview → commit, matching by ticket and by the 5情報, the review
queue, the same file and the same dose twice, bad files refused whole, and the fee reconciliation."""

import csv
import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from sesshu.audit.models import AuditEvent
from sesshu.immunization.clinic_import.fees import fee_report_csv
from sesshu.immunization.models import (
    Clinic,
    ClinicFee,
    ImportRow,
    Lot,
    Maker,
    Product,
    RecordSource,
    SourceFile,
    SourceFileStatus,
    VaccinationRecord,
)

from .factories import make_household, make_resident, make_staff, make_vaccination

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
HEADER = [
    "接種券番号",
    "氏名カナ",
    "氏名",
    "生年月日",
    "性別",
    "住所",
    "ワクチンコード",
    "接種回",
    "接種日",
    "Lot",
    "接種量",
    "委託料",
]


@pytest.fixture
def masters():
    biken = Maker.objects.create(code="BIKEN", name="阪大微生物病研究会")
    je = Product.objects.create(
        vaccine_id="JE", maker=biken, code="P-JE", name="ジェービックV", standard_volume_ml=Decimal("0.5")
    )
    Lot.objects.create(product=je, lot_number="JE001", expires_on=TODAY + timedelta(days=365))
    Lot.objects.create(product=je, lot_number="JE000", expires_on=date(2023, 1, 31))
    clinic = Clinic.objects.create(
        code="9900000001", name="桜ヶ丘こどもクリニック", contract_from=date(2000, 4, 1)
    )
    ClinicFee.objects.create(
        clinic=clinic, vaccine_id="JE", dose_number=0, fee_yen=8250, valid_from=date(2019, 4, 1)
    )
    return clinic


@pytest.fixture
def people():
    home = make_household()
    _, shota = make_resident(home, given=("翔太", "ショウタ"), birth_date=date(2020, 4, 1))
    _, hana = make_resident(home, given=("花", "ハナ"), sex="F", birth_date=date(2019, 5, 5), is_head=False)
    # Two children with the same kana name and birth date (twins do not, but namesakes across town do).
    _, ken1 = make_resident(make_household(), given=("健", "ケン"), birth_date=date(2018, 7, 7))
    _, ken2 = make_resident(
        make_household(address="東和県桜ヶ丘市若葉台1丁目5番3号"),
        given=("研", "ケン"),
        birth_date=date(2018, 7, 7),
    )
    return {"shota": shota, "hana": hana, "ken1": ken1, "ken2": ken2}


@pytest.fixture
def clerk(client):
    user = make_staff("clerk")
    client.force_login(user)
    return user


def csv_bytes(rows, header=HEADER, encoding="utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(h, "") for h in header])
    return out.getvalue().encode(encoding)


def row(**kw):
    base = {
        "氏名カナ": "タナカ ショウタ",
        "生年月日": "2020-04-01",
        "ワクチンコード": "JE",
        "接種回": "1",
        "接種日": "R5.6.1",
        "Lot": "JE001",
    }
    return base | kw


def post_file(client, data: bytes, name="clinic.csv", clinic="9900000001", month="2023-06"):
    return client.post(
        reverse("imports:upload"),
        {
            "file": SimpleUploadedFile(name, data, content_type="text/csv"),
            "clinic": clinic,
            "billing_month": month,
        },
    )


def uploaded(client, data, **kw) -> SourceFile:
    response = post_file(client, data, **kw)
    assert response.status_code == 302, response.content.decode()[:2000]
    return SourceFile.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def test_upload_preview_commit_imports_the_matched_rows(client, clerk, masters, people):
    data = csv_bytes(
        [
            row(),
            # Half-width kana, hiragana and 和暦 with full-width digits are the same person and date.
            row(
                **{"氏名カナ": "ﾀﾅｶ ﾊﾅ", "生年月日": "令和元年５月５日", "性別": "女", "接種日": "2024/06/01"}
            ),
            row(**{"氏名カナ": "たなか けん", "生年月日": "2018-07-07", "接種日": "2023-07-01"}),
        ]
    )
    source = uploaded(client, data)
    page = client.get(reverse("imports:preview", args=[source.pk])).content.decode()
    assert 'id="count-matched">2<' in page and 'id="count-doubt">1<' in page
    assert "氏名カナ・生年月日が一致する人が2人います。" in page
    assert (
        VaccinationRecord.objects.filter(source=RecordSource.CLINIC_FILE).count() == 0
    )  # preview saves no record

    response = client.post(reverse("imports:commit", args=[source.pk]))
    assert response.status_code == 302
    imported = VaccinationRecord.objects.filter(source_file=source).order_by("source_row")
    assert [(r.person_id, r.vaccinated_on) for r in imported] == [
        (people["shota"].pk, date(2023, 6, 1)),
        (people["hana"].pk, date(2024, 6, 1)),
    ]
    first = imported[0]
    assert (first.product.code, first.volume_ml, first.fee_yen, first.clinic_id, first.billing_month) == (
        "P-JE",
        Decimal("0.50"),
        8250,
        masters.pk,
        date(2023, 6, 1),
    )
    source.refresh_from_db()
    assert source.status == SourceFileStatus.COMMITTED
    commit_event = AuditEvent.objects.filter(action="create", object_type="vaccination_record").last()
    assert set(commit_event.subjects) == {people["shota"].pk, people["hana"].pk}
    # The file's matched rows now show as imported (取込済); the row in doubt still waits.
    page = client.get(reverse("imports:preview", args=[source.pk])).content.decode()
    assert 'id="count-imported">2<' in page and 'id="count-matched">0<' in page
    assert 'id="count-doubt">1<' in page and page.count("取込済") >= 3  # the file and its two rows
    rows = ImportRow.objects.filter(source_file=source).order_by("row_number")
    assert [r.get_status_display() for r in rows] == ["取込済", "取込済", "要確認"]
    # Committing twice adds nothing.
    client.post(reverse("imports:commit", args=[source.pk]))
    assert VaccinationRecord.objects.filter(source_file=source).count() == 2


def test_hostile_text_is_kept_as_sent_and_rows_share_their_dose_part(client, clerk, masters, people):
    """Backslashes, tabs, quotes, line breaks and a NUL-free mix of scripts in the cells travel into the
    kept rows and the records unchanged (the rows are written as COPY text on PostgreSQL); rows with
    the same dose cells point to one stored dose part."""
    hostile = 'C:\\temp\tcol "quoted" \\N end'
    remarks = "一行目\n二行目\r\n\\N\t<script>alert(1)</script>"
    header = [*HEADER, "特記事項"]
    data = csv_bytes(
        [
            row(**{"氏名": hostile, "住所": hostile, "特記事項": remarks}),
            row(**{"氏名カナ": "タナカ ハナ", "生年月日": "2019-05-05", "性別": "女", "特記事項": remarks}),
        ],
        header=header,
    )
    source = uploaded(client, data)
    first, second = ImportRow.objects.filter(source_file=source).order_by("row_number")
    assert first.who["name"] == hostile.strip() and first.who["address"] == hostile.strip()
    assert first.values["remarks"] == remarks.strip() and first.values["vaccine"] == "JE"
    assert first.dose_id == second.dose_id  # the same dose cells: one dose part
    client.post(reverse("imports:commit", args=[source.pk]))
    records = VaccinationRecord.objects.filter(source_file=source)
    assert sorted(r.remarks for r in records) == [remarks.strip()] * 2


def test_the_same_file_again_adds_nothing_and_says_so(client, clerk, masters, people):
    data = csv_bytes([row()])
    source = uploaded(client, data)
    client.post(reverse("imports:commit", args=[source.pk]))
    response = post_file(client, data, name="again.csv")
    assert response.status_code == 302
    assert SourceFile.objects.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "同じファイルは" in page and "何も追加していません" in page
    assert VaccinationRecord.objects.filter(person=people["shota"], vaccine="JE").count() == 1


def test_a_dose_entered_by_hand_is_recognised_and_another_lot_goes_to_review(client, clerk, masters, people):
    make_vaccination(people["shota"], "JE", 1, date(2023, 6, 1))  # lot AB123C by hand
    VaccinationRecord.objects.filter(person=people["shota"]).update(lot_number="JE001")
    make_vaccination(people["hana"], "JE", 1, date(2023, 6, 2))  # lot AB123C: another lot than the file's
    data = csv_bytes(
        [row(), row(**{"氏名カナ": "タナカハナ", "生年月日": "2019-05-05", "接種日": "2023-06-02"})]
    )
    source = uploaded(client, data)
    statuses = list(ImportRow.objects.filter(source_file=source).values_list("status", flat=True))
    assert statuses == ["duplicate", "doubt"]
    client.post(reverse("imports:commit", args=[source.pk]))
    assert VaccinationRecord.objects.filter(vaccine="JE").count() == 2
    page = client.get(reverse("imports:review")).content.decode()
    assert "Lotが異なります" in page


def test_ticket_number_matches_and_a_wrong_person_for_the_ticket_is_in_doubt(client, clerk, masters, people):
    from sesshu.immunization.models import ExtractionBatch, ExtractionRun, Notice
    from sesshu.immunization.notices.tickets import make_ticket_number

    batch = ExtractionBatch.objects.create(
        purpose="notice", period_kind="fiscal_year", period_start=date(2023, 4, 1),
        period_end=date(2024, 3, 31), key="test", series=["JE-1"],
    )  # fmt: skip
    run = ExtractionRun.objects.create(batch=batch, number=1, as_of=date(2023, 4, 1))
    number = make_ticket_number(1234)
    Notice.objects.create(
        batch=batch, run=run, person=people["shota"], kind="notice", series="JE-1", dose_number=1,
        ticket_number=number, age=3, mail_to="resident", addressee_name="田中 翔太", issued_at=timezone.now(),
    )  # fmt: skip
    data = csv_bytes(
        [
            row(**{"接種券番号": number, "氏名カナ": ""}),
            row(**{"接種券番号": number, "氏名カナ": "タナカハナ", "生年月日": "2019-05-05"}),
        ]
    )
    source = uploaded(client, data)
    rows = list(ImportRow.objects.filter(source_file=source))
    assert (rows[0].status, rows[0].person_id) == ("matched", people["shota"].pk)
    assert rows[1].status == "doubt" and rows[1].problems[0]["code"] == "ticket_mismatch"


def test_review_queue_links_only_on_a_clerks_decision_and_is_audited(client, clerk, masters, people):
    data = csv_bytes(
        [
            row(**{"氏名カナ": "タナカケン", "生年月日": "2018-07-07", "接種日": "2023-07-01"}),
            row(**{"氏名カナ": "スズキ", "生年月日": "2018-07-07"}),
        ]
    )
    source = uploaded(client, data)
    client.post(reverse("imports:commit", args=[source.pk]))
    assert not VaccinationRecord.objects.filter(source_file=source).exists()
    ken_row, nobody_row = ImportRow.objects.filter(source_file=source).order_by("row_number")
    assert set(ken_row.candidates) == {people["ken1"].pk, people["ken2"].pk}
    page = client.get(reverse("imports:review")).content.decode()
    assert "健" in page and "研" in page

    client.post(reverse("imports:resolve", args=[ken_row.pk]), {"person": people["ken2"].pk})
    record = VaccinationRecord.objects.get(source_file=source)
    assert (record.person_id, record.fee_yen) == (people["ken2"].pk, 8250)
    event = AuditEvent.objects.filter(object_type="import_row", action="change").last()
    assert event.subjects == [people["ken2"].pk] and event.actor_id == clerk.pk

    client.post(reverse("imports:reject", args=[nobody_row.pk]), {"reason": "市外の人"})
    nobody_row.refresh_from_db()
    assert nobody_row.status == "rejected"
    assert "スズキ" not in client.get(reverse("imports:review")).content.decode()


def test_cp932_is_read(client, clerk, masters, people):
    source = uploaded(
        client, csv_bytes([row(**{"氏名": "田中翔太", "住所": "緑町３－２－５"})], encoding="cp932")
    )
    assert source.encoding == "cp932"
    assert ImportRow.objects.get(source_file=source).person_id == people["shota"].pk


@pytest.mark.parametrize(
    "bad, code",
    [
        ({"接種日": "令和7年2月30日"}, "impossible_date"),
        ({"ワクチンコード": "XYZ"}, "unknown_vaccine"),
        ({"Lot": "NOPE1"}, "unknown_lot"),
        ({"Lot": "JE000", "接種日": "2023-06-01"}, "expired_lot"),
        ({"接種量": "-0.5"}, "volume_not_positive"),
        ({"接種日": "2019-01-01"}, "before_birth"),
        ({"接種回": "x"}, "invalid_number"),
        ({"接種日": (TODAY + timedelta(days=3)).isoformat()}, "future_date"),
    ],
)
def test_a_bad_row_is_reported_and_the_file_is_not_imported(client, clerk, masters, people, bad, code):
    source = uploaded(
        client, csv_bytes([row(**{"氏名カナ": "タナカハナ", "生年月日": "2019-05-05"}), row(**bad)])
    )
    error = ImportRow.objects.get(source_file=source, row_number=3)
    assert error.status == "error"
    codes = [p["code"] for p in error.problems]
    assert code in codes, codes
    assert all(p["message_ja"] and p["message_en"] for p in error.problems)
    page = client.get(reverse("imports:preview", args=[source.pk])).content.decode()
    assert error.problems[0]["message_ja"] in page
    response = client.post(reverse("imports:commit", args=[source.pk]), follow=True)
    assert "エラーの行が1行あるため取り込めません" in response.content.decode()
    assert not VaccinationRecord.objects.filter(source_file=source).exists()  # not even the good row


def test_a_dose_after_death_is_refused(client, clerk, masters, people):
    people["shota"].status, people["shota"].status_date = "deceased", date(2023, 1, 1)
    people["shota"].save()
    source = uploaded(client, csv_bytes([row()]))
    assert ImportRow.objects.get(source_file=source).problems[0]["code"] == "after_death"


@pytest.mark.parametrize(
    "data, message",
    [
        ("氏名カナ,生年月日\r\nタナカ,2020-04-01\r\n".encode("utf-16"), "文字コードを読み取れません"),
        (
            "氏名カナ,生年月日\r\nタナカ,2020-04-01\r\n".encode(),
            "必須の列がありません: ワクチンコード、接種回、接種日",
        ),
        (b"", "Choose a file"),
        (",".join(HEADER).encode() + b"\r\n", "データ行がありません"),
    ],
)
def test_a_bad_file_is_refused_whole_with_a_message(client, clerk, masters, people, data, message):
    response = post_file(client, data) if data else client.post(reverse("imports:upload"), {"clinic": ""})
    assert response.status_code == 400
    assert (
        message in response.content.decode()
        or message.replace("Choose a file", "ファイルを選んでください") in response.content.decode()
    )
    assert SourceFile.objects.count() == 0


def test_an_oversized_file_is_refused(client, clerk, masters, people, settings):
    from sesshu.immunization.clinic_import import reading

    big = csv_bytes([row()]) + b"\r\n" * (reading.MAX_BYTES + 10)
    response = post_file(client, big)
    assert response.status_code in (400, 413)
    assert "ファイルが大きすぎます" in response.content.decode()
    assert SourceFile.objects.count() == 0


def test_fee_report_lists_claims_against_the_table(client, clerk, masters, people):
    late = Clinic.objects.create(code="9900000002", name="若葉台医院", contract_from=date(2024, 4, 1))
    data = csv_bytes(
        [
            row(**{"委託料": "8250"}),
            row(**{"氏名カナ": "タナカハナ", "生年月日": "2019-05-05", "委託料": "9000"}),
            row(**{"委託料": "8250"}),  # the same dose twice in the file
            row(**{"氏名カナ": "タナカケン", "生年月日": "2018-07-07", "医療機関コード": "9900000002"}),
        ],
        header=[*HEADER, "医療機関コード"],
    )
    source = uploaded(client, data)
    client.post(reverse("imports:commit", args=[source.pk]))
    response = client.get(reverse("imports:fees", args=[source.pk]))
    assert response.status_code == 200
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    verdicts = {int(line[0]): line[9] for line in lines[1:] if line[0].isdigit()}
    assert verdicts == {2: "支払対象", 3: "請求額相違", 4: "重複請求", 5: "照合待ち"}
    total = next(line for line in lines if line[0] == "合計" and line[1] == "9900000001")
    assert (total[6], total[8]) == ("25500", "16500")
    late_total = next(line for line in lines if line[0] == "合計" and line[1] == late.code)
    assert late_total[8] == "0"  # the row in doubt is not paid until a clerk links it
    assert AuditEvent.objects.filter(action="export", object_type="clinic_file").exists()


def test_out_of_contract_dose_is_not_payable(client, clerk, masters, people):
    Clinic.objects.create(code="9900000002", name="若葉台医院", contract_from=date(2024, 4, 1))
    data = csv_bytes([row(**{"医療機関コード": "9900000002"})], header=[*HEADER, "医療機関コード"])
    source = uploaded(client, data)
    report = fee_report_csv(source, actor=clerk)
    assert "契約期間外" in report


def test_a_refused_file_is_withdrawn_with_a_reason_and_leaves_the_queue_and_the_fees(
    client, clerk, masters, people
):
    data = csv_bytes(
        [row(), row(**{"氏名カナ": "タナカ ケン", "生年月日": "2018-07-07"}), row(接種日="R5.2.30")]
    )
    source = uploaded(client, data)
    assert ImportRow.objects.filter(source_file=source, status="doubt").count() == 1

    refused = client.post(reverse("imports:withdraw", args=[source.pk]), {"reason": ""})
    assert refused.status_code == 302
    source.refresh_from_db()
    assert source.status == SourceFileStatus.PREVIEW  # no reason, nothing withdrawn

    client.post(reverse("imports:withdraw", args=[source.pk]), {"reason": "訂正版を依頼"})
    source.refresh_from_db()
    assert source.status == SourceFileStatus.REJECTED
    assert "タナカ ケン" not in client.get(reverse("imports:review")).content.decode()
    event = AuditEvent.objects.filter(object_type="clinic_file").latest("pk")
    assert event.detail["step"] == "withdraw" and event.detail["reason"] == "訂正版を依頼"
    assert set(event.subjects) == {people["shota"].pk, people["ken1"].pk, people["ken2"].pk}
    # Withdrawn is final: it cannot be imported or withdrawn again.
    client.post(reverse("imports:commit", args=[source.pk]))
    assert not VaccinationRecord.objects.filter(source_file=source).exists()
    again = client.post(reverse("imports:withdraw", args=[source.pk]), {"reason": "x"}, follow=True)
    assert "取込済みまたは取消済みのファイルは取り消せません。" in again.content.decode()
