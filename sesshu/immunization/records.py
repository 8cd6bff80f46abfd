"""Vaccination records: entry, the checks every dose passes, four-eyes corrections and deletions, history.

Every entry point writes an audit event whose subjects are the person. The checks here are the ones
a clinic file's rows pass too (the import builds on ``check_dose``):

- refused (``Problem``, Japanese and English): a dose before birth, after death or in the future, an
  unknown or expired lot, a lot of another vaccine, a volume that is not positive, a second record of
  the same dose (the dose identity: person, vaccine, 接種日);
- flagged (``DoseFlag``, shown before saving, saved only when confirmed with a note): a dose the
  schedule engine does not count (間違い接種 and its reason).

Four-eyes: a correction or a deletion is a ``RecordChange`` proposed by one person and applied only
when another confirms it (any other staff member with ``immunization.confirm_recordchange``; the
author never, as for the register's moves). Confirming copies the record's state into a
``RecordVersion`` first, so every earlier state stays readable in the record's history.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from sesshu.addressee.models import Person, PersonStatus
from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record as audit
from sesshu.core.problems import Problem, ProblemList

from .models import (
    ChangeKind,
    ChangeStatus,
    Clinic,
    ClinicFee,
    Doctor,
    Lot,
    Product,
    RecordChange,
    RecordSource,
    RecordStatus,
    RecordVersion,
    VaccinationRecord,
    Vaccine,
)

PURPOSE_ENTRY = "予防接種台帳 接種記録の登録 (immunization register: record entry)"
PURPOSE_CHANGE = "予防接種台帳 接種記録の訂正・削除 (immunization register: record correction)"
PURPOSE_CONFIRM = "予防接種台帳 訂正・削除の確認 (immunization register: four-eyes confirmation)"
PURPOSE_RECORD_VIEW = "予防接種台帳 接種記録照会 (immunization register: vaccination record)"
PURPOSE_QUEUE = "予防接種台帳 確認待ち一覧 (immunization register: pending changes)"

# The fields a clerk enters (and a correction may change); everything else is bookkeeping.
ENTRY_FIELDS = (
    "vaccine",
    "dose_number",
    "vaccinated_on",
    "product",
    "lot",
    "lot_number",
    "product_name",
    "maker_name",
    "volume_ml",
    "clinic",
    "clinic_name",
    "venue",
    "screening_doctor",
    "screening_doctor_name",
    "vaccinating_doctor",
    "vaccinating_doctor_name",
    "legal_category",
    "delivery",
    "payment",
    "insurance_category",
    "billing_month",
    "fee_yen",
    "screening_only",
    "not_vaccinated_reason",
    "doctor_decision",
    "findings",
    "redness_long_mm",
    "redness_short_mm",
    "induration_long_mm",
    "induration_short_mm",
    "double_redness_long_mm",
    "double_redness_short_mm",
    "reaction_judgement",
    "detailed_exam_result",
    "antibody_test",
    "previous_vaccine_check",
    "remarks",
    "before_move_in",
    "ticket_number",
    "registered_branch",
)
FK_FIELDS = {"vaccine", "product", "lot", "clinic", "screening_doctor", "vaccinating_doctor"}


class FourEyesViolation(Problem):
    pass


@dataclass
class DoseFlag:
    """What the schedule engine says about a dose it does not count."""

    mistake: bool  # 間違い接種 (ages, intervals, sex, cohort, product change)
    reasons: list[dict] = field(default_factory=list)  # {"code", "ja", "en"}

    @property
    def title_ja(self) -> str:
        return "間違い接種" if self.mistake else "定期接種として数えられない接種"

    @property
    def title_en(self) -> str:
        return "Vaccination error (間違い接種)" if self.mistake else "Dose not counted as routine"


class FlagNotConfirmed(Problem):
    """The dose is flagged; saving needs the clerk's confirmation and a note."""

    def __init__(self, flag: DoseFlag):
        super().__init__(
            "flag_not_confirmed",
            f"{flag.title_ja}の疑いがあります。内容を確認し、メモを付けて保存するか、修正してください。",
            f"{flag.title_en}: check it, then save with a note or correct the entry.",
        )
        self.flag = flag


# Masters --------------------------------------------------------------------------------------------


def fee_for(clinic: Clinic | int, vaccine: str, dose_number: int, day: date) -> int | None:
    """The clinic's 委託料 for this dose on this day: a line for the dose wins over the all-doses line."""
    lines = ClinicFee.objects.filter(
        clinic=clinic, vaccine_id=vaccine, dose_number__in=[0, dose_number], valid_from__lte=day
    ).order_by("-dose_number", "-valid_from")
    line = lines.first()
    return line.fee_yen if line else None


def find_lot(vaccine: str, lot_number: str, product: Product | None) -> Lot | None:
    lots = Lot.objects.select_related("product__maker").filter(lot_number=lot_number)
    lots = lots.filter(product=product) if product else lots.filter(product__vaccine_id=vaccine)
    return lots.first()


# Checks ---------------------------------------------------------------------------------------------


def _p(code: str, ja: str, en: str, field_name: str | None = None) -> Problem:
    return Problem(code, ja, en, field_name)


def check_dose(
    person: Person, values: dict, *, today: date, exclude_pk: int | None = None, kept_lot: str = ""
) -> dict:
    """Refuse what cannot be a dose (``ProblemList``); return ``values`` completed from the masters.

    Completes: the lot (from its number), product, maker and names from the lot, the volume from the
    product, the clinic's name and the fee from the fee table when not given. ``kept_lot``: the lot
    the corrected record already has, accepted as it is even when the master does not know it (records
    from paper ledgers and other cities carry such lots; a correction of another item keeps them).
    """
    problems: list[Problem] = []
    day: date = values["vaccinated_on"]
    vaccine: Vaccine = values["vaccine"]
    if day < person.birth_date:
        problems.append(
            _p(
                "before_birth",
                f"接種日 {day.isoformat()} が生年月日 {person.birth_date.isoformat()} より前です。",
                f"The date {day.isoformat()} is before the birth date {person.birth_date.isoformat()}.",
                "vaccinated_on",
            )
        )
    if person.status == PersonStatus.DECEASED and person.status_date and day > person.status_date:
        problems.append(
            _p(
                "after_death",
                f"接種日 {day.isoformat()} が死亡日 {person.status_date.isoformat()} より後です。",
                f"The date {day.isoformat()} is after the death on {person.status_date.isoformat()}.",
                "vaccinated_on",
            )
        )
    if day > today:
        problems.append(
            _p(
                "future_date",
                f"接種日 {day.isoformat()} は未来の日付です。",
                f"The date {day.isoformat()} is in the future.",
                "vaccinated_on",
            )
        )
    volume = values.get("volume_ml")
    if volume is not None and volume <= 0:
        problems.append(_volume_problem())
    product: Product | None = values.get("product")
    if product is not None and product.vaccine_id != vaccine.pk:
        problems.append(
            _p(
                "product_mismatch",
                f"販売名「{product.name}」は{vaccine.name_ja}のワクチンではありません。",
                f"The product “{product.name}” is not a {vaccine.name_en} vaccine.",
                "product",
            )
        )
    lot_number = values.get("lot_number", "")
    if lot_number and not values.get("screening_only"):
        lot = find_lot(vaccine.pk, lot_number, product)
        if lot is None and not values.get("before_move_in") and lot_number != kept_lot:
            # Doses from before the person moved in come from the 母子健康手帳: their lots were never
            # in this city's master, so only they may carry a lot the master does not know.
            problems.append(
                _p(
                    "unknown_lot",
                    f"Lot「{lot_number}」は{vaccine.name_ja}のロットとして登録されていません。",
                    f"Lot “{lot_number}” is not registered for {vaccine.name_en}.",
                    "lot_number",
                )
            )
        elif lot is not None:
            if lot.expires_on < day:
                problems.append(
                    _p(
                        "expired_lot",
                        f"Lot「{lot_number}」の有効期限（{lot.expires_on.isoformat()}）が接種日より前です。",
                        f"Lot “{lot_number}” expired on {lot.expires_on.isoformat()}, before the dose.",
                        "lot_number",
                    )
                )
            values["lot"] = lot
            values["product"] = product = lot.product
    if problems:
        raise ProblemList(problems)
    if product is not None:
        values["product_name"] = product.name
        values["maker_name"] = product.maker.name
        if volume is None and not values.get("screening_only"):
            values["volume_ml"] = product.standard_volume_ml
    clinic: Clinic | None = values.get("clinic")
    if clinic is not None:
        values["clinic_name"] = clinic.name
        if (
            values.get("fee_yen") is None
            and not values.get("before_move_in")
            and not values.get("screening_only")
        ):
            values["fee_yen"] = fee_for(clinic, vaccine.pk, values["dose_number"], day)
    for doctor_field in ("screening_doctor", "vaccinating_doctor"):
        doctor: Doctor | None = values.get(doctor_field)
        if doctor is not None:
            values[f"{doctor_field}_name"] = doctor.name
    if not values.get("screening_only"):
        duplicate = (
            VaccinationRecord.objects.given()
            .filter(person=person, vaccine=vaccine, vaccinated_on=day)
            .exclude(pk=exclude_pk)
            .first()
        )
        if duplicate is not None:
            raise ProblemList([duplicate_problem(vaccine, day)])
    return values


def _volume_problem() -> Problem:
    return _p(
        "volume_not_positive",
        "接種量は0より大きい数（mL）で入力してください。",
        "The volume must be a number of mL greater than 0.",
        "volume_ml",
    )


def duplicate_problem(vaccine: Vaccine, day: date) -> Problem:
    return _p(
        "duplicate_dose",
        f"この人の{vaccine.name_ja} {day.isoformat()} の接種記録はすでにあります。",
        f"This person already has a record of {vaccine.name_en} on {day.isoformat()}.",
        "vaccinated_on",
    )


def evaluate_dose(
    person: Person, vaccine: str, day: date, *, exclude_pk: int | None = None, today: date | None = None
) -> DoseFlag | None:
    """Ask the schedule engine about the dose among the person's other doses; None when it counts."""
    from .schedule.engine import forecast

    history = [
        (v, d)
        for v, d in VaccinationRecord.objects.given()
        .filter(person=person)
        .exclude(pk=exclude_pk)
        .values_list("vaccine_id", "vaccinated_on")
    ]
    history.append((vaccine, day))
    result = forecast(person.birth_date, person.sex, history, max(day, today or timezone.localdate()))
    evaluation = next((e for e in result.evaluations if e.vaccine == vaccine and e.date == day), None)
    if evaluation is None or evaluation.valid:
        return None
    return DoseFlag(
        mistake=evaluation.mistake,
        reasons=[{"code": r.code, "ja": r.ja, "en": r.en} for r in evaluation.reasons],
    )


# Entry ----------------------------------------------------------------------------------------------


@dataclass
class EntryResult:
    record: VaccinationRecord | None
    flag: DoseFlag | None


def preview_entry(person: Person, values: dict, *, actor=None) -> DoseFlag | None:
    """Check the entry (refusals raise) and evaluate it; nothing is saved. Audited as a view."""
    check_dose(person, dict(values), today=timezone.localdate())
    flag = evaluate_dose(person, values["vaccine"].pk, values["vaccinated_on"])
    audit(
        Action.VIEW,
        purpose=PURPOSE_ENTRY,
        object_type="vaccination_record",
        subjects=[person.pk],
        detail={"step": "preview", "vaccine": values["vaccine"].pk, "flagged": flag is not None},
        actor=actor,
    )
    return flag


def enter_record(
    person: Person,
    values: dict,
    *,
    actor,
    source: str = RecordSource.MANUAL,
    flag_confirmed: bool = False,
    flag_note: str = "",
) -> VaccinationRecord:
    """Save a new record. A flagged dose needs ``flag_confirmed`` and a note (else FlagNotConfirmed)."""
    today = timezone.localdate()
    with transaction.atomic():
        Person.objects.select_for_update().filter(pk=person.pk).first()  # one entry per person at a time
        values = check_dose(person, dict(values), today=today)
        flag = evaluate_dose(person, values["vaccine"].pk, values["vaccinated_on"], today=today)
        if flag is not None and not (flag_confirmed and flag_note.strip()):
            raise FlagNotConfirmed(flag)
        record = VaccinationRecord(
            person=person,
            source=source,
            registered_by=actor,
            flagged=flag is not None,
            flag_reasons=flag.reasons if flag else [],
            flag_note=flag_note.strip() if flag else "",
            **{k: v for k, v in values.items() if k in ENTRY_FIELDS},
        )
        try:
            with transaction.atomic():
                record.save()
        except IntegrityError:
            # Another entry of the same dose won the race between the check and the insert.
            raise ProblemList([duplicate_problem(values["vaccine"], values["vaccinated_on"])]) from None
        audit(
            Action.CREATE,
            purpose=PURPOSE_ENTRY,
            object_type="vaccination_record",
            subjects=[person.pk],
            detail={
                "record": record.pk,
                "vaccine": record.vaccine_id,
                "dose_number": record.dose_number,
                "flagged": record.flagged,
            },
            actor=actor,
        )
    return record


# Four-eyes changes ----------------------------------------------------------------------------------


def snapshot(record: VaccinationRecord) -> dict:
    """The record's fields as JSON (ids for foreign keys), for a version or a proposal."""
    data = model_to_dict(record, fields=[*ENTRY_FIELDS, "status", "flagged", "flag_reasons", "flag_note"])
    return {k: _jsonable(v) for k, v in data.items()}


def _jsonable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _proposal(values: dict) -> dict:
    return {
        (f"{k}_id" if k in FK_FIELDS else k): _jsonable(v.pk if k in FK_FIELDS and v is not None else v)
        for k, v in values.items()
        if k in ENTRY_FIELDS
    }


def propose_change(
    record_id: int,
    *,
    kind: str,
    reason: str,
    actor,
    values: dict | None = None,
    flag_note: str = "",
) -> RecordChange:
    """A clerk proposes a correction (``values``: the whole corrected entry) or a deletion."""
    reason = (reason or "").strip()
    with transaction.atomic():
        record = _locked_record(record_id)
        if record.status != RecordStatus.ACTIVE:
            raise Problem(
                "not_active",
                "この記録は訂正できません（削除済み等）。",
                "This record can no longer be changed.",
            )
        if not reason:
            raise ProblemList(
                [
                    _p(
                        "reason_required",
                        "訂正・削除の理由を入力してください。",
                        "Give the reason for the change.",
                        "reason",
                    )
                ]
            )
        if RecordChange.objects.filter(record=record, status=ChangeStatus.PENDING).exists():
            raise Problem(
                "change_pending",
                "この記録には確認待ちの訂正・削除があります。先に確認または差戻ししてください。",
                "A change of this record is already waiting for confirmation.",
            )
        proposed: dict = {}
        if kind == ChangeKind.CORRECT:
            if values is None:
                raise ValueError("a correction needs values")
            checked = check_dose(
                record.person,
                dict(values),
                today=timezone.localdate(),
                exclude_pk=record.pk,
                kept_lot=record.lot_number,
            )
            flag = evaluate_dose(
                record.person, checked["vaccine"].pk, checked["vaccinated_on"], exclude_pk=record.pk
            )
            if flag is not None and not flag_note.strip():
                raise FlagNotConfirmed(flag)
            proposed = _proposal(checked) | {
                "flagged": flag is not None,
                "flag_reasons": flag.reasons if flag else [],
                "flag_note": flag_note.strip() if flag else "",
            }
        elif kind != ChangeKind.DELETE:
            raise ValueError(kind)
        change = RecordChange.objects.create(
            record=record,
            kind=kind,
            proposed=proposed,
            reason=reason,
            based_on=record.version,
            proposed_by=actor,
        )
        audit(
            Action.CHANGE,
            purpose=PURPOSE_CHANGE,
            object_type="vaccination_record",
            subjects=[record.person_id],
            detail={"record": record.pk, "change": change.pk, "kind": kind, "step": "proposed"},
            actor=actor,
        )
    return change


def _locked_record(record_id: int) -> VaccinationRecord:
    record = (
        VaccinationRecord.objects.select_for_update(of=("self",))
        .select_related("person", "vaccine")
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        raise Problem("not_found", "該当する接種記録はありません。", "No such vaccination record.")
    return record


def _reviewable(change_id: int, reviewer) -> RecordChange:
    change = RecordChange.objects.select_for_update(of=("self",)).filter(pk=change_id).first()
    if change is None:
        raise Problem("not_found", "該当する訂正・削除はありません。", "No such change.")
    if change.status != ChangeStatus.PENDING:
        raise Problem(
            "not_pending",
            "この訂正・削除はすでに処理されています。",
            "This change has already been dealt with.",
        )
    if change.proposed_by_id == reviewer.pk:
        # The refusal is logged by the caller, after this transaction is rolled back.
        raise FourEyesViolation(
            "four_eyes",
            "自分で起票した訂正・削除は確認できません。別の職員が確認してください。",
            "You cannot confirm a change you proposed yourself: another staff member must confirm it.",
        )
    return change


def confirm_change(change_id: int, *, reviewer) -> VaccinationRecord:
    """Apply a pending change: keep the current state as a version, then correct or delete."""
    try:
        with transaction.atomic():
            change = _reviewable(change_id, reviewer)
            record = _locked_record(change.record_id)
            if record.version != change.based_on or record.status != RecordStatus.ACTIVE:
                raise Problem(
                    "stale_change",
                    "記録が起票後に変更されています。この訂正・削除は差し戻して起票し直してください。",
                    "The record changed after this was proposed: reject it and propose it again.",
                )
            RecordVersion.objects.create(
                record=record,
                version=record.version,
                status=record.status,
                data=snapshot(record),
                change=change,
            )
            if change.kind == ChangeKind.DELETE:
                record.status = RecordStatus.DELETED
            else:
                for name, value in change.proposed.items():
                    setattr(record, name, value)
            record.version += 1
            record.updated_at = timezone.now()
            try:
                with transaction.atomic():
                    record.full_clean(validate_unique=False, validate_constraints=False, exclude=["person"])
                    record.save()
            except IntegrityError:
                raise ProblemList([duplicate_problem(record.vaccine, record.vaccinated_on)]) from None
            change.status = ChangeStatus.CONFIRMED
            change.decided_by = reviewer
            change.decided_at = timezone.now()
            change.save(update_fields=["status", "decided_by", "decided_at"])
            audit(
                Action.DELETE if change.kind == ChangeKind.DELETE else Action.CHANGE,
                purpose=PURPOSE_CONFIRM,
                object_type="vaccination_record",
                subjects=[record.person_id],
                detail={
                    "record": record.pk,
                    "change": change.pk,
                    "kind": change.kind,
                    "version": record.version,
                    "proposed_by": change.proposed_by.get_username(),
                },
                actor=reviewer,
            )
    except FourEyesViolation:
        _record_refusal_again(change_id, reviewer)
        raise
    return record


def _record_refusal_again(change_id: int, reviewer) -> None:
    """The refusal event was rolled back with the transaction: write it again, for good."""
    person_id = RecordChange.objects.filter(pk=change_id).values_list("record__person_id", flat=True).first()
    audit(
        Action.DENIED,
        purpose=PURPOSE_CONFIRM,
        outcome=Outcome.DENIED,
        object_type="vaccination_record",
        subjects=[person_id] if person_id else [],
        detail={"change": change_id, "reason": "four_eyes"},
        actor=reviewer,
    )


def reject_change(change_id: int, *, reviewer, reason: str) -> RecordChange:
    reason = (reason or "").strip()
    if not reason:
        raise ProblemList(
            [
                _p(
                    "reason_required",
                    "差戻しの理由を入力してください。",
                    "Give the reason for the rejection.",
                    "rejection_reason",
                )
            ]
        )
    try:
        with transaction.atomic():
            change = _reviewable(change_id, reviewer)
            change.status = ChangeStatus.REJECTED
            change.decided_by = reviewer
            change.decided_at = timezone.now()
            change.rejection_reason = reason
            change.save(update_fields=["status", "decided_by", "decided_at", "rejection_reason"])
            audit(
                Action.CHANGE,
                purpose=PURPOSE_CONFIRM,
                object_type="vaccination_record",
                subjects=[change.record.person_id],
                detail={
                    "record": change.record_id,
                    "change": change.pk,
                    "kind": change.kind,
                    "step": "rejected",
                },
                actor=reviewer,
            )
    except FourEyesViolation:
        _record_refusal_again(change_id, reviewer)
        raise
    return change


# Reading --------------------------------------------------------------------------------------------


@dataclass
class RecordHistory:
    record: VaccinationRecord
    versions: list[RecordVersion]
    changes: list[RecordChange]


def record_history(record_id: int, *, viewer) -> RecordHistory:
    record = (
        VaccinationRecord.objects.select_related(
            "person", "vaccine", "product", "lot", "clinic", "registered_by"
        )
        .filter(pk=record_id)
        .first()
    )
    if record is None:
        audit(
            Action.VIEW,
            purpose=PURPOSE_RECORD_VIEW,
            outcome=Outcome.FAILED,
            criteria={"record_id": record_id},
            actor=viewer,
        )
        raise Problem("not_found", "該当する接種記録はありません。", "No such vaccination record.")
    versions = list(record.versions.order_by("-version"))
    changes = list(record.changes.select_related("proposed_by", "decided_by").order_by("-proposed_at", "-pk"))
    audit(
        Action.VIEW,
        purpose=PURPOSE_RECORD_VIEW,
        object_type="vaccination_record",
        subjects=[record.person_id],
        detail={"record": record.pk},
        actor=viewer,
    )
    return RecordHistory(record, versions, changes)


def pending_changes(*, viewer) -> list[RecordChange]:
    changes = list(
        RecordChange.objects.filter(status=ChangeStatus.PENDING)
        .select_related("record__person", "record__vaccine", "proposed_by")
        .order_by("proposed_at", "pk")[:500]
    )
    audit(
        Action.VIEW,
        purpose=PURPOSE_QUEUE,
        object_type="vaccination_record",
        subjects=[c.record.person_id for c in changes],
        result_count=len(changes),
        actor=viewer,
    )
    return changes
