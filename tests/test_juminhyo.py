"""住民票の写し: the PDF and what it prints, copies as of a past date, numbering, the issuance register,
the audit event, the refusals, and the screens."""

import hashlib
import shutil
import subprocess
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from sesshu.audit.models import AuditEvent
from sesshu.audit.services import verify_chain
from sesshu.core.problems import ProblemList
from sesshu.residents import pdf as juminhyo_pdf
from sesshu.residents.certificates import fiscal_year_prefix, issue_juminhyo
from sesshu.residents.models import JuminhyoIssue
from sesshu.residents.moves import confirm_move, submit_move

from .factories import make_household, make_resident, make_staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
DOMICILE = "東和県桜ヶ丘市緑町三丁目2番地"
HEAD_CODE = "12345678903"
REQUEST = {"requester_kind": "self", "requester_name": "田中 一郎", "purpose": "勤務先への提出"}


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler reads it, without any whitespace (the title is letter-spaced)."""
    result = subprocess.run(  # noqa: S603  (fixed arguments)
        [shutil.which("pdftotext") or "pdftotext", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return "".join(result.stdout.decode("utf-8").split())


def codes(excinfo) -> list[str]:
    return [p.code for p in excinfo.value.problems]


@pytest.fixture
def clerk(db):
    return make_staff("register")


@pytest.fixture
def home(db):
    """A household of three at 緑町3丁目2番5号 since 2015, with a 本籍 and 住民票コード each."""
    household = make_household()
    extra = {"registered_domicile": DOMICILE, "domicile_head": "田中 一郎"}
    head, _ = make_resident(
        household, given=("一郎", "イチロウ"), birth_date=date(1980, 1, 5), juminhyo_code=HEAD_CODE, **extra
    )
    wife, _ = make_resident(
        household,
        given=("花子", "ハナコ"),
        sex="F",
        relationship="妻",
        is_head=False,
        birth_date=date(1982, 3, 3),
        **extra,
    )
    son, _ = make_resident(
        household,
        given=("翔太", "ショウタ"),
        relationship="子",
        is_head=False,
        birth_date=date(2015, 6, 1),
        **extra,
    )
    for r in (head, wife, son):  # their history starts in 2015, not at birth (the factory's default)
        r.revisions.update(valid_from=date(2015, 6, 1))
    return {"household": household, "head": head, "wife": wife, "son": son}


def issue(home, clerk, **kwargs):
    return issue_juminhyo(home["household"].household_number, issued_by=clerk, **(REQUEST | kwargs))


# The PDF ------------------------------------------------------------------------------------------------


def test_the_copy_is_a_real_pdf_with_the_household_in_wareki(home, clerk, tmp_path):
    issued, pdf = issue(home, clerk)
    assert pdf.startswith(b"%PDF-")
    (tmp_path / "copy.pdf").write_bytes(pdf)
    subprocess.run(  # noqa: S603  (fixed arguments)
        [shutil.which("pdftoppm") or "pdftoppm", "-png", "-r", "40", tmp_path / "copy.pdf", tmp_path / "p"],
        check=True,
    )
    assert (tmp_path / "p-1.png").stat().st_size > 1000
    fonts = subprocess.run(  # noqa: S603  (fixed arguments)
        [shutil.which("pdffonts") or "pdffonts", tmp_path / "copy.pdf"], capture_output=True, check=True
    ).stdout.decode()
    font_rows = fonts.splitlines()[2:]
    assert font_rows
    assert all(" yes " in row for row in font_rows), "every font must be embedded"

    text = pdf_text(pdf)
    for expected in (
        "住民票（写）",
        "東和県桜ヶ丘市",
        "田中一郎",
        "田中花子",
        "田中翔太",
        "たなかいちろう",
        "昭和55年1月5日",
        "昭和57年3月3日",
        "平成27年6月1日",
        "緑町3丁目2番5号",
        "妻",
        issued.certificate_number,
        "この写しは、住民票の原本と相違ないことを証明する。",
        "桜ヶ丘市長",
        "1/1",
    ):
        assert expected in text, expected
    # Not asked for: 本籍 and the 住民票コード are 「省略」, the My Number always is.
    assert DOMICILE not in text
    assert HEAD_CODE not in text
    assert "本籍省略" in text
    assert "住民票コード省略" in text
    assert "個人番号省略" in text
    assert "現在の記載事項" not in text  # a copy as of today carries no as-of line


def test_domicile_and_code_are_printed_only_when_asked_for(home, clerk):
    _, pdf = issue(home, clerk, include_domicile=True, include_juminhyo_code=True, include_relationship=False)
    text = pdf_text(pdf)
    assert DOMICILE in text
    assert HEAD_CODE in text
    assert "本籍省略" not in text
    assert "続柄省略" in text
    assert "妻" not in text


def test_a_large_household_runs_over_several_numbered_pages(clerk):
    household = make_household()
    make_resident(household, given=("一郎", "イチロウ"), birth_date=date(1950, 1, 1))
    for i in range(7):
        make_resident(household, given=(f"子{i}", "コ"), relationship="子", is_head=False)
    issued, pdf = issue_juminhyo(household.household_number, issued_by=clerk, **REQUEST)
    text = pdf_text(pdf)
    assert issued.pages == 3
    assert "1/3" in text
    assert "3/3" in text
    assert "次頁に続く" in text
    assert text.count(issued.certificate_number) >= 6  # in the header and footer of every page


def test_a_foreign_resident_has_the_residence_items(clerk):
    household = make_household()
    make_resident(
        household,
        family=("グエン", "グエン"),
        given=("アン", "アン"),
        latin_name="NGUYEN VAN AN",
        birth_date=date(1995, 8, 20),
        nationality="ベトナム",
        residence_status="技能実習",
        residence_period="1年",
        residence_expiry=date(2030, 3, 31),
        alias="山田 安",
    )
    _, pdf = issue_juminhyo(household.household_number, issued_by=clerk, **REQUEST)
    text = pdf_text(pdf)
    for expected in ("NGUYENVANAN", "国籍・地域ベトナム", "技能実習", "令和12年3月31日", "通称山田安"):
        assert expected in text, expected
    assert "本籍" not in text  # foreign residents have no 本籍


def test_a_household_as_of_an_earlier_date(home, clerk, django_capture_on_commit_callbacks):
    """A 転居 ten days ago and the son's death three days ago: each date shows the household as it was."""
    reviewer = make_staff("register")

    def run(kind, effective_on, **data):
        data |= {"effective_on": effective_on.isoformat(), "notified_on": effective_on.isoformat()}
        move = submit_move(kind, data, author=clerk)
        with django_capture_on_commit_callbacks(execute=True):
            confirm_move(move.pk, reviewer=reviewer)

    moved_on, died_on = TODAY - timedelta(days=10), TODAY - timedelta(days=3)
    everyone = [home[k].resident_number for k in ("head", "wife", "son")]
    run("move_within", moved_on, resident_numbers=everyone, address="東和県桜ヶ丘市若葉台2丁目1番1号")
    run("death", died_on, resident_number=home["son"].resident_number)

    before_move = pdf_text(issue(home, clerk, as_of=moved_on - timedelta(days=1))[1])
    assert "緑町3丁目2番5号" in before_move
    assert "若葉台" not in before_move
    assert "田中翔太" in before_move
    assert "現在の記載事項" in before_move

    before_death = pdf_text(issue(home, clerk, as_of=died_on - timedelta(days=1))[1])
    assert "若葉台2丁目1番1号" in before_death
    assert "田中翔太" in before_death

    now = pdf_text(issue(home, clerk)[1])
    assert "若葉台2丁目1番1号" in now
    assert "田中翔太" not in now
    # Someone no longer in the household is not on a copy of it (that is a 除票).
    with pytest.raises(ProblemList) as excinfo:
        issue(home, clerk, resident_numbers=[home["son"].resident_number])
    assert codes(excinfo) == ["not_member"]


# Numbers, the register, the audit event ------------------------------------------------------------------


def test_fiscal_year_prefix():
    assert fiscal_year_prefix(date(2025, 4, 1)) == "R7"
    assert fiscal_year_prefix(date(2026, 3, 31)) == "R7"
    assert fiscal_year_prefix(date(2026, 4, 1)) == "R8"
    assert fiscal_year_prefix(date(2019, 3, 31)) == "H30"
    assert fiscal_year_prefix(date(2019, 4, 1)) == "R1"  # 令和元年度, though April 2019 was still 平成


def test_certificate_numbers_are_unique_and_increase(home, clerk):
    numbers = [issue(home, clerk)[0].certificate_number for _ in range(3)]
    prefix = fiscal_year_prefix(TODAY)
    assert numbers == [f"{prefix}-000001", f"{prefix}-000002", f"{prefix}-000003"]
    assert JuminhyoIssue.objects.values("certificate_number").distinct().count() == 3


def test_an_issue_is_registered_with_one_export_event(home, clerk):
    before = AuditEvent.objects.count()
    issued, pdf = issue(
        home, clerk, resident_numbers=[home["wife"].resident_number, home["head"].resident_number]
    )
    issued.refresh_from_db()
    assert issued.resident_numbers == [home["head"].resident_number, home["wife"].resident_number]
    assert issued.sha256 == hashlib.sha256(pdf).hexdigest()
    assert (issued.pages, issued.as_of, issued.issued_by) == (1, TODAY, clerk)
    assert (issued.requester_kind, issued.requester_name, issued.purpose) == (
        "self",
        "田中 一郎",
        "勤務先への提出",
    )
    assert issued.options == {
        "include_domicile": False,
        "include_relationship": True,
        "include_juminhyo_code": False,
        "include_mynumber": False,
    }
    events = list(AuditEvent.objects.filter(id__gt=before))
    assert [e.action for e in events] == ["export"]
    event = events[0]
    assert event.subjects == sorted([home["head"].pk, home["wife"].pk])
    assert event.object_type == "resident"
    assert event.purpose == "住民票の写し交付 (certified copy of the resident record)"
    assert event.detail == {"certificate_number": issued.certificate_number, "options": issued.options}
    assert verify_chain().ok
    assert "田中翔太" not in pdf_text(pdf)


def test_a_partial_copy_still_names_the_head(home, clerk):
    _, pdf = issue(home, clerk, resident_numbers=[home["son"].resident_number])
    text = pdf_text(pdf)
    assert "世帯主田中一郎" in text
    assert "田中翔太" in text
    assert "田中花子" not in text


# Refusals -----------------------------------------------------------------------------------------------


def refused(home, clerk, **kwargs) -> list[str]:
    before = AuditEvent.objects.filter(action="export").count()
    with pytest.raises(ProblemList) as excinfo:
        issue(home, clerk, **kwargs)
    assert not JuminhyoIssue.objects.exists()
    assert AuditEvent.objects.filter(action="export").count() == before
    return codes(excinfo)


def test_the_purpose_is_required(home, clerk):
    assert refused(home, clerk, purpose="  ") == ["required"]


def test_a_copy_with_the_my_number_is_refused_for_now(home, clerk):
    with pytest.raises(ProblemList) as excinfo:
        issue(home, clerk, include_mynumber=True)
    (problem,) = excinfo.value.problems
    assert problem.code == "mynumber_not_available"
    assert problem.ja == "個人番号入りの写しは番号利用事務の権限と理由が必要です（統合宛名の実装後に対応）"
    assert "My Number" in problem.en
    assert not JuminhyoIssue.objects.exists()
    assert AuditEvent.objects.filter(action="denied", detail__reason="mynumber_not_available").count() == 1


def test_bad_requests_are_refused_with_reasons(home, clerk):
    other = make_household()
    stranger, _ = make_resident(other, given=("次郎", "ジロウ"))
    assert refused(home, clerk, resident_numbers=[stranger.resident_number]) == ["not_member"]
    assert refused(home, clerk, resident_numbers=[]) == ["required"]
    assert refused(home, clerk, as_of=TODAY + timedelta(days=1)) == ["future_date"]
    assert refused(home, clerk, as_of=date(2010, 1, 1)) == ["no_residents"]
    assert refused(home, clerk, requester_kind="boss", requester_name="") == ["invalid_choice", "required"]
    with pytest.raises(ProblemList) as excinfo:
        issue_juminhyo("0000000000", issued_by=clerk, **REQUEST)
    assert codes(excinfo) == ["unknown_household"]


def test_a_protected_person_is_not_copied_for_an_agent(home, clerk):
    home["wife"].support_measure = True
    home["wife"].save()
    assert refused(home, clerk, requester_kind="agent") == ["support_measure"]
    assert issue(home, clerk, requester_kind="household_member")[0].pk


def test_a_name_the_font_cannot_print_is_refused_not_dropped(clerk):
    household = make_household()
    make_resident(household, family=("\U00020bb7野", "ヨシノ"))  # 𠮷 (つちよし) is not in IPAex
    with pytest.raises(ProblemList) as excinfo:
        issue_juminhyo(household.household_number, issued_by=clerk, **REQUEST)
    assert codes(excinfo) == ["unprintable_characters"]
    assert "U+20BB7" in excinfo.value.problems[0].ja


def test_without_a_font_nothing_is_issued_and_the_error_names_the_package(home, clerk, monkeypatch):
    monkeypatch.setattr(juminhyo_pdf, "MINCHO_PATHS", ("/nonexistent/ipaexm.ttf",))
    monkeypatch.setattr(juminhyo_pdf, "GOTHIC_PATHS", ())
    with pytest.raises(juminhyo_pdf.PdfFontMissing, match="apt-get install -y fonts-ipaexfont-mincho"):
        issue(home, clerk)
    with (
        override_settings(SESSHU_PDF_FONT="/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
        pytest.raises(juminhyo_pdf.PdfFontMissing, match="SESSHU_PDF_FONT"),
    ):
        issue(home, clerk)
    assert not JuminhyoIssue.objects.exists()


# Screens ------------------------------------------------------------------------------------------------


def grant_issue_right(user) -> None:
    """Rights come from role groups only: give the user's role the right (roles.py will, later)."""
    permission = Permission.objects.get(content_type__app_label="residents", codename="issue_juminhyo")
    for group in user.groups.all():
        group.permissions.add(permission)


@pytest.fixture
def issuer(clerk):
    grant_issue_right(clerk)
    return clerk


def form_data(home, **extra):
    return {
        "household_number": home["household"].household_number,
        "scope": "household",
        "include_relationship": "1",
        "as_of": TODAY.isoformat(),
        **REQUEST,
        **extra,
    }


def test_the_form_shows_the_members_and_logs_the_read(client, home, issuer):
    client.force_login(issuer)
    before = AuditEvent.objects.count()
    url = reverse("residents:juminhyo_new")
    response = client.get(f"{url}?household={home['household'].household_number}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "田中 翔太" in html
    assert 'name="purpose"' in html
    (event,) = AuditEvent.objects.filter(id__gt=before)
    assert (event.action, event.route) == ("view", "residents:juminhyo_new")
    assert event.subjects == sorted(home[k].pk for k in ("head", "wife", "son"))


def test_posting_the_form_returns_the_pdf(client, home, issuer):
    client.force_login(issuer)
    response = client.post(
        reverse("residents:juminhyo_new"),
        form_data(home, scope="chosen", resident_numbers=[home["son"].resident_number]),
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    issued = JuminhyoIssue.objects.get()
    assert (
        response["Content-Disposition"] == f'attachment; filename="juminhyo-{issued.certificate_number}.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    assert issued.resident_numbers == [home["son"].resident_number]
    assert issued.issued_by == issuer


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"purpose": ""}, "利用目的を入力してください。"),
        ({"as_of": "昭和99年13月1日"}, "日付"),
        ({"as_of": "x" * 500}, "日付"),
        ({"include_mynumber": "1"}, "個人番号入りの写し"),
        ({"scope": "chosen", "resident_numbers": ["9" * 40, "<script>"]}, "この世帯の住民ではありません"),
        ({"requester_kind": "\x00"}, "請求者の区分"),
        ({"household_number": "99999"}, "世帯番号"),
    ],
)
def test_bad_input_shows_the_form_again(client, home, issuer, extra, message):
    client.force_login(issuer)
    response = client.post(reverse("residents:juminhyo_new"), form_data(home, **extra))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not JuminhyoIssue.objects.exists()


def test_a_server_without_the_font_says_so_on_the_form(client, home, issuer):
    client.force_login(issuer)
    with override_settings(SESSHU_PDF_FONT="/nonexistent/font.ttf"):
        response = client.post(reverse("residents:juminhyo_new"), form_data(home))
    assert response.status_code == 503
    assert "システム管理者に連絡してください" in response.content.decode()
    assert not JuminhyoIssue.objects.exists()


def test_without_the_right_the_form_is_refused_and_logged(client, home):
    for role in ("clerk", "auditor", None):
        user = make_staff(role)
        client.force_login(user)
        for response in (
            client.get(f"{reverse('residents:juminhyo_new')}?household={home['household'].household_number}"),
            client.post(reverse("residents:juminhyo_new"), form_data(home)),
        ):
            assert response.status_code == 403
            assert "田中" not in response.content.decode()
        events = list(AuditEvent.objects.filter(actor=user).exclude(action="login"))
        assert [(e.action, e.outcome) for e in events] == [("denied", "denied")] * 2
        assert events[0].detail == {"permission": "residents.issue_juminhyo"}
    assert not JuminhyoIssue.objects.exists()


def test_the_issuance_register_lists_copies_and_logs_the_read(client, home, issuer):
    issued, _ = issue(home, issuer, resident_numbers=[home["wife"].resident_number])
    client.force_login(make_staff("register"))  # reading the register needs no right to issue
    before = AuditEvent.objects.count()
    response = client.get(reverse("residents:juminhyo_register"))
    html = response.content.decode()
    assert response.status_code == 200
    assert issued.certificate_number in html
    assert issued.sha256[:12] in html
    assert "勤務先への提出" in html
    (event,) = AuditEvent.objects.filter(id__gt=before)
    assert (event.action, event.object_type, event.subjects) == ("view", "juminhyo_issue", [home["wife"].pk])
    assert event.detail == {"issues": [issued.certificate_number]}

    other = client.get(reverse("residents:juminhyo_register") + "?household=0000000000&page=zz")
    assert other.status_code == 200
    assert issued.certificate_number not in other.content.decode()

    client.force_login(make_staff("clerk"))
    assert client.get(reverse("residents:juminhyo_register")).status_code == 403


def test_the_screens_link_to_each_other(client, home, issuer):
    client.force_login(issuer)
    issue(home, issuer)
    url = reverse("residents:juminhyo_new") + f"?household={home['household'].household_number}"
    html = client.get(url).content.decode()
    assert f'href="{reverse("residents:juminhyo_register")}"' in html
    html = client.get(reverse("residents:juminhyo_register")).content.decode()
    assert f'href="{reverse("residents:juminhyo_new")}"' in html
