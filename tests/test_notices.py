"""Notices: the ticket number and its check digit, the print-vendor CSV in both encodings, the PDFs
(rendered to PNG and read back), reissue, and the person's notice history."""

import csv
import io
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from sesshu.addressee.models import Person
from sesshu.audit.models import AuditEvent
from sesshu.core.problems import Problem
from sesshu.immunization.extraction import fiscal_year, run_batch, start_batch
from sesshu.immunization.models import Notice, NoticeStatus
from sesshu.immunization.notices import print_csv, services, tickets

from .factories import make_household, make_resident, make_staff, make_vaccination

AS_OF = date(2026, 11, 23)
PNG_DIR = Path(settings.VAR_DIR) / "test-notices"


# Ticket numbers --------------------------------------------------------------------------------------


def test_a_ticket_number_is_the_city_code_a_serial_and_a_damm_check_digit():
    number = tickets.make_ticket_number(1234, "992011")
    assert number[:15] == "992011000001234" and len(number) == 16
    assert tickets.is_valid(number)
    assert tickets.format_ticket_number(number) == f"992011 000001234 {number[-1]}"
    # The Damm algorithm's published example: 572 has the check digit 4.
    assert tickets.damm_check_digit("572") == 4


serials = st.integers(min_value=1, max_value=10**9 - 1)


@given(serials, st.integers(min_value=0, max_value=15), st.integers(min_value=1, max_value=9))
def test_every_single_digit_error_is_caught(serial, position, shift):
    number = tickets.make_ticket_number(serial, "992011")
    wrong = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    assert not tickets.is_valid(wrong)


@given(serials, st.integers(min_value=0, max_value=14))
def test_every_swap_of_two_neighbouring_digits_is_caught(serial, position):
    number = tickets.make_ticket_number(serial, "992011")
    a, b = number[position], number[position + 1]
    if a == b:
        return  # swapping equal digits changes nothing
    swapped = number[:position] + b + a + number[position + 2 :]
    assert not tickets.is_valid(swapped)


def test_ticket_numbers_are_read_as_typed_or_scanned():
    number = tickets.make_ticket_number(42, "992011")
    spaced = tickets.format_ticket_number(number)
    full_width = spaced.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert tickets.parse_ticket_number(spaced) == tickets.parse_ticket_number(full_width) == number
    assert tickets.parse_ticket_number(number.replace("992011", "992011-")) == number
    with pytest.raises(Problem) as wrong_digit:
        tickets.parse_ticket_number(number[:-1] + str((int(number[-1]) + 1) % 10))
    assert wrong_digit.value.code == "ticket_check_digit" and "検査数字" in wrong_digit.value.ja
    for bad in ("", "12345", "99201100000004A2", "<script>", "9" * 400):
        with pytest.raises(Problem) as excinfo:
            tickets.parse_ticket_number(bad)
        assert excinfo.value.code == "invalid_ticket_number"


# A batch to print ------------------------------------------------------------------------------------


@pytest.fixture
def batch(db):
    """2026年度 MR 第2期 and 高齢者インフルエンザ for a small town, one of them protected."""
    household = make_household(address="東和県桜ヶ丘市緑町3丁目2番5号", postal_code="359-0001")
    _, child = make_resident(household, given=("翔太", "ショウタ"), birth_date=date(2020, 6, 1))
    make_vaccination(child, "MR", 1, date(2021, 6, 10))
    _, grandma = make_resident(
        household,
        given=("𠮷子", "ヨシコ"),
        birth_date=date(1950, 1, 1),
        sex="F",
        relationship="母",
        is_head=False,
    )
    hidden = make_household(address="東和県桜ヶ丘市秘町9丁目9番9号", postal_code="359-0009")
    _, protected = make_resident(
        hidden, family=("山本", "ヤマモト"), given=("静", "シズカ"), birth_date=date(1948, 3, 3)
    )
    Person.objects.filter(pk=protected.pk).update(
        protected=True,
        alternative_postal_code="359-0099",
        alternative_address="東和県桜ヶ丘市本町1-1 私書箱12",
    )
    run = run_batch(start_batch("notice", fiscal_year(2026), ["MR-2", "Flu"], as_of=AS_OF).pk)
    return {"batch": run.batch, "child": child, "grandma": grandma, "protected": protected}


def rows_of(content: bytes, encoding: str) -> list[dict]:
    text = content.decode("utf-8-sig" if encoding == "utf-8" else "cp932")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("encoding", ["cp932", "utf-8"])
def test_the_print_csv_has_the_documented_columns_in_both_encodings(batch, encoding):
    result = services.export_csv(batch["batch"], encoding)
    assert result.rows == 3 and result.encoding == encoding
    if encoding == "utf-8":
        assert result.content.startswith("\ufeff".encode())
    else:
        with pytest.raises(UnicodeDecodeError):
            result.content.decode("utf-8")
    rows = rows_of(result.content, encoding)
    assert list(rows[0]) == print_csv.HEADER
    documented = Path(settings.BASE_DIR).parent.joinpath("docs", "notices.md").read_text(encoding="utf-8")
    for name in print_csv.HEADER:
        assert f"| `{name}` |" in documented
    child = next(r for r in rows if r["対象者氏名"] == "田中 翔太")
    notice = Notice.objects.get(person=batch["child"])
    assert child["接種券番号"] == child["QRデータ"] == notice.ticket_number
    assert tickets.is_valid(child["接種券番号"])
    assert (child["シリーズ"], child["接種回"], child["年齢"], child["宛名敬称"]) == (
        "MR-2",
        "1",
        "6",
        "保護者様",
    )
    assert (child["生年月日"], child["生年月日和暦"]) == ("2020-06-01", "令和2年6月1日")
    assert (child["接種期限"], child["接種期限和暦"]) == ("2027-03-31", "令和9年3月31日")
    assert (child["郵便番号"], child["送付先住所"]) == ("359-0001", "東和県桜ヶ丘市緑町3丁目2番5号")
    protected = next(r for r in rows if r["対象者氏名"] == "山本 静")
    assert (protected["送付先区分"], protected["送付先住所"], protected["宛名敬称"]) == (
        "送付先",
        "東和県桜ヶ丘市本町1-1 私書箱12",
        "様",
    )
    assert "秘町" not in result.content.decode("utf-8-sig" if encoding == "utf-8" else "cp932")
    grandma = next(r for r in rows if r["対象者氏名"].startswith("田中"))  # 𠮷 is not in CP932
    if encoding == "cp932":
        assert result.replaced_characters == 2  # in 宛名 and in 対象者氏名
        assert any(r["対象者氏名"] == "田中 〓子" for r in rows)
    else:
        assert result.replaced_characters == 0
        assert any(r["対象者氏名"] == "田中 𠮷子" for r in rows)
    assert grandma


def test_every_export_is_an_audit_event_naming_the_persons(batch):
    services.export_csv(batch["batch"], "utf-8")
    event = AuditEvent.objects.filter(action="export").last()
    assert set(event.subjects) == {batch["child"].pk, batch["grandma"].pk, batch["protected"].pk}
    assert event.criteria == {"batch": batch["batch"].pk, "format": "csv", "encoding": "utf-8"}
    with pytest.raises(Problem):
        services.export_csv(batch["batch"], "latin-1")


def pdf_text(content: bytes, name: str) -> str:
    """Render every page to PNG (kept under var/test-notices/ to look at) and read the text back."""
    PNG_DIR.mkdir(parents=True, exist_ok=True)
    path = PNG_DIR / f"{name}.pdf"
    path.write_bytes(content)
    pdftoppm = shutil.which("pdftoppm") or "pdftoppm"
    subprocess.run([pdftoppm, "-png", "-r", "50", str(path), str(PNG_DIR / name)], check=True)  # noqa: S603
    pngs = sorted(PNG_DIR.glob(f"{name}-*.png"))
    assert pngs and all(p.stat().st_size > 5000 for p in pngs)  # a blank A4 page is far smaller
    pdftotext = shutil.which("pdftotext") or "pdftotext"
    read = subprocess.run(  # noqa: S603  (fixed arguments)
        [pdftotext, "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return read.stdout


def test_the_pdf_has_a_letter_and_a_questionnaire_per_person_in_japanese(batch):
    from sesshu.core.pdf import UnprintableCharacters

    # 𠮷 has no glyph in the font: the batch's PDF is refused with the character named.
    with pytest.raises(UnprintableCharacters) as excinfo:
        services.export_pdf(batch["batch"])
    assert excinfo.value.characters == ["\U00020bb7"]
    Person.objects.filter(pk=batch["grandma"].pk).update(given_name="吉子")
    Notice.objects.filter(person=batch["grandma"]).update(addressee_name="田中 吉子")
    rendered = services.export_pdf(batch["batch"])
    assert rendered.pages == 6
    text = pdf_text(rendered.content, "batch")
    child = Notice.objects.get(person=batch["child"])
    assert text.count(tickets.format_ticket_number(child.ticket_number)) >= 3  # letter, 予診票, footer
    expected = [
        "予防接種のお知らせ", "田中 翔太", "保護者様", "麻しん・風しん 第2期", "令和9年3月31日",
        "（2027-03-31）", "予防接種予診票", "高齢者インフルエンザ",
        "今日、体に具合の悪いところがありますか。", "無料（公費負担）", "自己負担金", "私書箱12",
    ]  # fmt: skip
    assert [e for e in expected if e not in text] == []
    assert "秘町" not in text  # the protected person's home is on no page


def test_a_reissue_voids_the_old_ticket_and_records_the_new_one(batch):
    clerk = make_staff("clerk")
    old = Notice.objects.get(person=batch["child"])
    with pytest.raises(Problem) as excinfo:
        services.reissue(old.pk, "  ", user=clerk)
    assert excinfo.value.code == "reason_required"
    result = services.reissue(old.pk, "紛失のため", user=clerk)
    old.refresh_from_db()
    assert old.status == NoticeStatus.VOIDED and old.voided_by == clerk
    new = result.new
    assert new.ticket_number != old.ticket_number and tickets.is_valid(new.ticket_number)
    assert (new.reissue_of, new.reissue_reason, new.series, new.batch) == (
        old,
        "紛失のため",
        "MR-2",
        old.batch,
    )
    with pytest.raises(Problem) as twice:
        services.reissue(old.pk, "もう一度", user=clerk)
    assert twice.value.code == "already_voided"
    # The void ticket is in no print file any more; the new one is.
    text = services.export_csv(batch["batch"], "utf-8").content.decode("utf-8-sig")
    assert new.ticket_number in text and old.ticket_number not in text
    event = AuditEvent.objects.filter(action="change", object_type="notice").last()
    assert event.subjects == [batch["child"].pk]
    assert event.detail == {"voided": old.ticket_number, "issued": new.ticket_number, "reason": "紛失のため"}
    assert [n.pk for n in services.notices_of_person(batch["child"].pk)] == [new.pk, old.pk]
    _, rendered = services.export_notice_pdf(new.pk)
    assert "再発行" in pdf_text(rendered.content, "reissue")


def test_a_reissue_follows_where_the_person_is_mailed_today(batch):
    old = Notice.objects.get(person=batch["child"])
    Person.objects.filter(pk=batch["child"].pk).update(
        protected=True, alternative_postal_code="359-0098", alternative_address="東和県桜ヶ丘市本町2-2"
    )
    new = services.reissue(old.pk, "支援措置の開始").new
    assert (new.mail_to, new.address) == ("alternative", "東和県桜ヶ丘市本町2-2")


def test_a_notice_is_found_by_its_ticket_number(batch):
    notice = Notice.objects.get(person=batch["protected"])
    assert services.find_by_ticket(tickets.format_ticket_number(notice.ticket_number)) == notice
    missing = tickets.make_ticket_number(999_999_999)
    with pytest.raises(Problem) as excinfo:
        services.find_by_ticket(missing)
    assert excinfo.value.code == "not_found"
