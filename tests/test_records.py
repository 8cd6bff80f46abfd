"""Vaccination records: the model's constraints, entry with every kind of bad input, the schedule flag
shown before saving, and four-eyes corrections and deletions that keep the previous version."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from sesshu.audit.models import AuditEvent
from sesshu.core.problems import Problem, ProblemList
from sesshu.immunization import records
from sesshu.immunization.entry import parse_entry
from sesshu.immunization.models import (
    ChangeKind,
    ChangeStatus,
    Clinic,
    ClinicFee,
    Doctor,
    Lot,
    Maker,
    Product,
    RecordChange,
    RecordSource,
    RecordStatus,
    VaccinationRecord,
)

from .factories import make_household, make_resident, make_staff, make_vaccination

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()


@pytest.fixture
def masters():
    biken = Maker.objects.create(code="BIKEN", name="阪大微生物病研究会")
    mr = Product.objects.create(
        vaccine_id="MR",
        maker=biken,
        code="P-MR",
        name="はしか風しん混合生ワクチン",
        standard_volume_ml=Decimal("0.5"),
    )
    je = Product.objects.create(
        vaccine_id="JE", maker=biken, code="P-JE", name="ジェービックV", standard_volume_ml=Decimal("0.5")
    )
    lots = {
        "mr": Lot.objects.create(product=mr, lot_number="MR001", expires_on=TODAY + timedelta(days=365)),
        "mr_expired": Lot.objects.create(product=mr, lot_number="MR000", expires_on=date(2021, 1, 31)),
        "je": Lot.objects.create(product=je, lot_number="JE001", expires_on=TODAY + timedelta(days=365)),
    }
    clinic = Clinic.objects.create(
        code="9900000001", name="桜ヶ丘こどもクリニック", contract_from=date(2000, 4, 1)
    )
    ClinicFee.objects.create(
        clinic=clinic, vaccine_id="JE", dose_number=0, fee_yen=7800, valid_from=date(2019, 4, 1)
    )
    ClinicFee.objects.create(
        clinic=clinic, vaccine_id="JE", dose_number=0, fee_yen=8250, valid_from=date(2024, 4, 1)
    )
    ClinicFee.objects.create(
        clinic=clinic, vaccine_id="JE", dose_number=1, fee_yen=9000, valid_from=date(2024, 4, 1)
    )
    doctor = Doctor.objects.create(name="佐藤 一郎", clinic=clinic)
    return {"mr": mr, "je": je, "clinic": clinic, "doctor": doctor, **lots}


@pytest.fixture
def child():
    _, person = make_resident(make_household(), given=("翔太", "ショウタ"), birth_date=date(2020, 4, 1))
    make_vaccination(person, "MR", 1, date(2021, 4, 10))
    return person


def entry(**overrides) -> dict:
    """A valid JE dose 1 at three years old, as typed (和暦 date)."""
    data = {
        "vaccine": "JE",
        "dose_number": "1",
        "vaccinated_on": "R5.6.1",
        "lot_number": "JE001",
        "clinic": "9900000001",
        "legal_category": "routine",
        "delivery": "individual",
        "payment": "public",
    }
    return data | overrides


def problem_codes(exc) -> list[str]:
    return [p.code for p in exc.value.problems]


# The model ------------------------------------------------------------------------------------------


def test_the_database_refuses_a_volume_that_is_not_positive(child):
    for volume in (Decimal("0"), Decimal("-0.5")):
        with pytest.raises(IntegrityError), transaction.atomic():
            VaccinationRecord.objects.create(
                person=child, vaccine_id="JE", dose_number=1, vaccinated_on=date(2023, 6, 1),
                volume_ml=volume, source=RecordSource.MANUAL,
            )  # fmt: skip


def test_one_active_record_per_dose_identity_but_a_deleted_one_does_not_count(child):
    with pytest.raises(IntegrityError), transaction.atomic():
        make_vaccination(child, "MR", 1, date(2021, 4, 10))
    VaccinationRecord.objects.filter(person=child).update(status=RecordStatus.DELETED)
    again = make_vaccination(child, "MR", 1, date(2021, 4, 10))
    assert VaccinationRecord.objects.filter(person=child).count() == 2
    assert list(VaccinationRecord.objects.active().filter(person=child)) == [again]


def test_a_rejection_without_reason_and_two_pending_changes_are_refused(child):
    record = child.vaccinations.get()
    clerk = make_staff("clerk")
    RecordChange.objects.create(record=record, kind="delete", reason="x", based_on=1, proposed_by=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordChange.objects.create(record=record, kind="delete", reason="y", based_on=1, proposed_by=clerk)
    with pytest.raises(IntegrityError), transaction.atomic():
        RecordChange.objects.filter(record=record).update(status=ChangeStatus.REJECTED)


# Reading what the clerk typed -------------------------------------------------------------------------


def test_dates_are_read_in_wareki_and_iso(masters):
    for typed in ("R5.6.1", "令和5年6月1日", "2023-06-01", "２０２３－０６－０１", "20230601"):
        assert parse_entry(entry(vaccinated_on=typed))["vaccinated_on"] == date(2023, 6, 1)


@pytest.mark.parametrize(
    ("field", "value", "code", "ja", "en"),
    [
        ("vaccinated_on", "令和7年2月30日", "impossible_date", "という日付はありません", "no such date"),
        ("vaccinated_on", "someday", "invalid_date", "読み取れません", "Cannot read the date"),
        ("vaccinated_on", "", "required", "接種日を入力", "Enter the date"),
        ("volume_ml", "-0.5", "volume_not_positive", "0より大きい", "greater than 0"),
        ("volume_ml", "0", "volume_not_positive", "0より大きい", "greater than 0"),
        ("volume_ml", "abc", "volume_not_positive", "0より大きい", "greater than 0"),
        ("dose_number", "0", "invalid_number", "整数", "whole number"),
        ("vaccine", "XYZ", "unknown_vaccine", "登録されていません", "Unknown vaccine"),
        ("clinic", "123", "unknown_master", "登録されていません", "Unknown clinic"),
        ("payment", "free", "invalid_choice", "選べる値", "not one of the choices"),
    ],
)
def test_bad_input_is_refused_in_japanese_and_english(masters, field, value, code, ja, en):
    with pytest.raises(ProblemList) as exc:
        parse_entry(entry(**{field: value}))
    problem = next(p for p in exc.value.problems if p.field == field)
    assert problem.code == code and ja in problem.ja and en in problem.en


def test_screening_only_needs_the_reason_not_vaccinated(masters):
    with pytest.raises(ProblemList) as exc:
        parse_entry(entry(screening_only="1"))
    assert problem_codes(exc) == ["reason_required"]


# Checks against the person and the masters ----------------------------------------------------------


def _enter(person, clerk, **overrides):
    return records.enter_record(person, parse_entry(entry(**overrides)), actor=clerk)


@pytest.mark.parametrize(
    ("overrides", "code", "ja", "en"),
    [
        ({"vaccinated_on": "2020-03-01"}, "before_birth", "生年月日", "before the birth date"),
        ({"vaccinated_on": (TODAY + timedelta(days=3)).isoformat()}, "future_date", "未来", "in the future"),
        ({"lot_number": "ZZ999"}, "unknown_lot", "登録されていません", "not registered"),
        (
            {"vaccine": "MR", "lot_number": "MR000", "vaccinated_on": "2024-04-01"},
            "expired_lot",
            "有効期限",
            "expired",
        ),
        ({"lot_number": "MR001"}, "unknown_lot", "登録されていません", "not registered for Japanese"),
        ({"product": "P-MR"}, "product_mismatch", "ではありません", "is not a Japanese encephalitis"),
        (
            {"vaccine": "MR", "vaccinated_on": "2021-04-10", "lot_number": ""},
            "duplicate_dose",
            "すでに",
            "already",
        ),
    ],
)
def test_doses_that_cannot_be_are_refused_and_nothing_is_saved(child, masters, overrides, code, ja, en):
    clerk = make_staff("clerk")
    with pytest.raises(ProblemList) as exc:
        _enter(child, clerk, **overrides)
    problem = exc.value.problems[0]
    assert (problem.code, ja in problem.ja, en in problem.en) == (code, True, True)
    assert VaccinationRecord.objects.filter(person=child).count() == 1


def test_a_dose_after_death_is_refused(child, masters):
    child.status, child.status_date = "deceased", date(2023, 1, 1)
    child.save()
    with pytest.raises(ProblemList) as exc:
        _enter(child, make_staff("clerk"))
    assert problem_codes(exc) == ["after_death"]
    assert "死亡日" in exc.value.problems[0].ja and "after the death" in exc.value.problems[0].en


def test_a_lot_from_before_moving_in_may_be_unknown_to_the_master(child, masters):
    saved = _enter(child, make_staff("clerk"), lot_number="X1", before_move_in="1", clinic="")
    assert (saved.lot, saved.lot_number, saved.before_move_in, saved.fee_yen) == (None, "X1", True, None)


def test_the_lot_fills_product_maker_volume_and_the_fee_table_the_fee(child, masters):
    saved = _enter(child, make_staff("clerk"), vaccinating_doctor=str(masters["doctor"].pk))
    assert saved.lot == masters["je"] and saved.product == masters["je"].product
    assert (saved.product_name, saved.maker_name, saved.volume_ml) == (
        "ジェービックV",
        "阪大微生物病研究会",
        Decimal("0.50"),
    )
    assert saved.clinic_name == "桜ヶ丘こどもクリニック" and saved.vaccinating_doctor_name == "佐藤 一郎"
    # Before April 2024 the all-doses line of 2019 applies; after it, the dose-1 line wins over all-doses.
    assert saved.fee_yen == 7800
    assert records.fee_for(masters["clinic"], "JE", 1, date(2024, 5, 1)) == 9000
    assert records.fee_for(masters["clinic"], "JE", 2, date(2024, 5, 1)) == 8250
    assert records.fee_for(masters["clinic"], "MR", 1, date(2024, 5, 1)) is None


# The schedule engine's flag ---------------------------------------------------------------------------


def test_a_vaccination_error_is_flagged_and_saved_only_with_a_note(child, masters):
    clerk = make_staff("clerk")
    values = parse_entry(entry(vaccine="MR", dose_number="2", vaccinated_on="R3.5.1", lot_number="MR001"))
    flag = records.preview_entry(child, values, actor=clerk)
    assert flag is not None and flag.mistake and flag.title_ja == "間違い接種"
    assert any(r["code"] == "too_young" and "間違い接種" in r["ja"] for r in flag.reasons)
    with pytest.raises(records.FlagNotConfirmed):
        records.enter_record(child, values, actor=clerk)
    with pytest.raises(records.FlagNotConfirmed):
        records.enter_record(child, values, actor=clerk, flag_confirmed=True, flag_note="  ")
    assert VaccinationRecord.objects.filter(person=child).count() == 1
    saved = records.enter_record(
        child, values, actor=clerk, flag_confirmed=True, flag_note="医療機関に確認済み"
    )
    assert saved.flagged and saved.flag_note == "医療機関に確認済み"
    assert {r["code"] for r in saved.flag_reasons} >= {"too_young"}


def test_a_valid_dose_is_not_flagged(child, masters):
    assert records.preview_entry(child, parse_entry(entry()), actor=make_staff("clerk")) is None


# The screens -----------------------------------------------------------------------------------------


def test_the_form_shows_the_flag_before_saving_then_saves_with_the_note(client, child, masters):
    clerk = make_staff("clerk")
    client.force_login(clerk)
    url = reverse("records:enter", args=[child.pk])
    form = entry(vaccine="MR", dose_number="2", vaccinated_on="R3.5.1", lot_number="MR001")
    response = client.post(url, form)
    page = response.content.decode()
    assert response.status_code == 200 and "間違い接種" in page and "flag-note" in page
    assert VaccinationRecord.objects.filter(person=child).count() == 1
    response = client.post(url, form | {"step": "confirm", "flag_note": "保護者に説明済み"})
    assert response.status_code == 302
    saved = VaccinationRecord.objects.get(person=child, vaccine="MR", dose_number=2)
    assert saved.flagged and saved.registered_by == clerk and saved.source == RecordSource.MANUAL
    created = AuditEvent.objects.filter(action="create", object_type="vaccination_record").get()
    assert created.subjects == [child.pk] and created.actor == clerk


def test_the_form_refuses_bad_input_with_the_message_and_keeps_what_was_typed(client, child, masters):
    client.force_login(make_staff("clerk"))
    url = reverse("records:enter", args=[child.pk])
    response = client.post(url, entry(volume_ml="-1", lot_number="JE001"))
    page = response.content.decode()
    assert response.status_code == 400
    assert "接種量は0より大きい数（mL）で入力してください。" in page and 'value="JE001"' in page
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.post(url, entry(vaccinated_on="令和7年2月30日"))
    assert "There is no such date: 2025-02-30." in response.content.decode()
    assert VaccinationRecord.objects.filter(person=child).count() == 1


def test_a_ticket_number_finds_the_person_and_prefills_the_dose(client, child):
    from sesshu.immunization.models import ExtractionBatch, ExtractionRun, Notice
    from sesshu.immunization.notices.tickets import make_ticket_number

    batch = ExtractionBatch.objects.create(
        purpose="notice", period_kind="fiscal_year", period_start=date(2023, 4, 1),
        period_end=date(2024, 3, 31), key="test", series=["JE-1"],
    )  # fmt: skip
    run = ExtractionRun.objects.create(batch=batch, number=1, as_of=date(2023, 4, 1))
    ticket = make_ticket_number(1234)
    Notice.objects.create(
        batch=batch, run=run, person=child, kind="notice", series="JE-1", dose_number=1, ticket_number=ticket,
        age=3, mail_to="resident", addressee_name="田中 翔太", issued_at=timezone.now(),
    )  # fmt: skip
    client.force_login(make_staff("clerk"))
    spaced = f"{ticket[:6]} {ticket[6:-1]} {ticket[-1]}"
    response = client.get(reverse("records:start"), {"ticket": spaced})
    assert response.status_code == 302 and response["Location"].startswith(
        reverse("records:enter", args=[child.pk])
    )
    page = client.get(response["Location"]).content.decode()
    assert 'value="JE" selected' in page and f'value="{ticket}"' in page
    lookup = AuditEvent.objects.filter(action="search", criteria__ticket_number=ticket).get()
    assert lookup.subjects == [child.pk]
    wrong_digit = ticket[:-1] + str((int(ticket[-1]) + 1) % 10)
    response = client.get(reverse("records:start"), {"ticket": wrong_digit})
    assert response.status_code == 400 and "検査数字が合いません" in response.content.decode()
    unknown = make_ticket_number(99)
    response = client.get(reverse("records:start"), {"ticket": unknown})
    assert response.status_code == 400 and "発行されていません" in response.content.decode()


def test_without_a_ticket_the_person_is_found_by_name_and_birth_date(client, child):
    client.force_login(make_staff("clerk"))
    response = client.get(reverse("records:start"), {"name": "たなか しょうた", "birth_date": "R2.4.1"})
    assert reverse("records:enter", args=[child.pk]) in response.content.decode()


# Four-eyes corrections and deletions ------------------------------------------------------------------


def test_a_correction_is_applied_only_by_another_person_and_keeps_the_previous_version(
    client, child, masters
):
    author, reviewer = make_staff("clerk"), make_staff("clerk")
    record = child.vaccinations.get()
    values = parse_entry(entry(vaccine="MR", vaccinated_on="2021-04-12", lot_number="", clinic=""))
    change = records.propose_change(
        record.pk, kind=ChangeKind.CORRECT, reason="日付の転記誤り", actor=author, values=values
    )
    record.refresh_from_db()
    assert record.vaccinated_on == date(2021, 4, 10)  # nothing changes before the confirmation

    with pytest.raises(records.FourEyesViolation) as exc:
        records.confirm_change(change.pk, reviewer=author)
    assert "別の職員" in exc.value.ja and "another staff member" in exc.value.en
    denied = AuditEvent.objects.filter(action="denied", actor=author).get()
    assert denied.subjects == [child.pk] and denied.detail["reason"] == "four_eyes"

    records.confirm_change(change.pk, reviewer=reviewer)
    record.refresh_from_db()
    assert (record.vaccinated_on, record.version, record.status) == (date(2021, 4, 12), 2, "active")
    previous = record.versions.get()
    assert (previous.version, previous.data["vaccinated_on"], previous.change) == (1, "2021-04-10", change)
    change.refresh_from_db()
    assert (change.status, change.decided_by) == ("confirmed", reviewer)

    client.force_login(reviewer)
    page = client.get(reverse("records:detail", args=[record.pk])).content.decode()
    assert "2021-04-10" in page and "日付の転記誤り" in page and "v1" in page


def test_a_rejection_needs_a_reason_and_leaves_the_record_as_it_was(child, masters):
    author, reviewer = make_staff("clerk"), make_staff("supervisor")
    record = child.vaccinations.get()
    change = records.propose_change(record.pk, kind=ChangeKind.DELETE, reason="重複登録", actor=author)
    with pytest.raises(ProblemList) as exc:
        records.reject_change(change.pk, reviewer=reviewer, reason=" ")
    assert problem_codes(exc) == ["reason_required"] and "Give the reason" in exc.value.problems[0].en
    records.reject_change(change.pk, reviewer=reviewer, reason="重複ではない")
    record.refresh_from_db()
    assert (record.status, record.version, record.versions.count()) == ("active", 1, 0)
    with pytest.raises(Problem, match="already been dealt with"):
        records.confirm_change(change.pk, reviewer=reviewer)


def test_a_confirmed_deletion_hides_the_record_but_keeps_it_in_its_history(client, child, masters):
    author, reviewer = make_staff("clerk"), make_staff("clerk")
    record = child.vaccinations.get()
    client.force_login(author)
    response = client.post(reverse("records:delete", args=[record.pk]), {"reason": ""})
    assert response.status_code == 400 and "理由を入力してください" in response.content.decode()
    client.post(reverse("records:delete", args=[record.pk]), {"reason": "別人の記録"})
    change = RecordChange.objects.get(record=record)
    queue = client.get(reverse("records:changes")).content.decode()
    assert "別人の記録" in queue and f"confirm-{change.pk}" not in queue  # the author sees no button
    client.force_login(reviewer)
    assert f"confirm-{change.pk}" in client.get(reverse("records:changes")).content.decode()
    response = client.post(reverse("records:confirm", args=[change.pk]))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == RecordStatus.DELETED and record.versions.get().data["status"] == "active"
    person_page = client.get(reverse("immunization:person", args=[child.pk])).content.decode()
    assert "2021-04-10" not in person_page
    event = AuditEvent.objects.filter(action="delete", object_type="vaccination_record").get()
    assert event.subjects == [child.pk] and event.actor == reviewer


def test_a_correction_into_a_vaccination_error_needs_a_note(child, masters):
    record = child.vaccinations.get()
    values = parse_entry(entry(vaccine="MR", vaccinated_on="2020-05-01", lot_number="", clinic=""))
    with pytest.raises(records.FlagNotConfirmed):
        records.propose_change(
            record.pk, kind=ChangeKind.CORRECT, reason="訂正", actor=make_staff("clerk"), values=values
        )
    change = records.propose_change(
        record.pk,
        kind=ChangeKind.CORRECT,
        reason="訂正",
        actor=make_staff("clerk"),
        values=values,
        flag_note="確認済",
    )
    assert change.proposed["flagged"] is True


def test_a_change_confirmed_over_a_newer_version_is_refused(child, masters):
    record = child.vaccinations.get()
    change = records.propose_change(record.pk, kind=ChangeKind.DELETE, reason="x", actor=make_staff("clerk"))
    VaccinationRecord.objects.filter(pk=record.pk).update(version=5)
    with pytest.raises(Problem, match="changed after this was proposed"):
        records.confirm_change(change.pk, reviewer=make_staff("clerk"))


def test_roles_that_may_not_enter_or_confirm_are_refused(client, child):
    record = child.vaccinations.get()
    for role in ("auditor", "sysadmin", "register"):
        client.force_login(make_staff(role))
        assert client.get(reverse("records:enter", args=[child.pk])).status_code == 403
        assert client.post(reverse("records:delete", args=[record.pk]), {"reason": "x"}).status_code == 403
    assert not RecordChange.objects.exists()
