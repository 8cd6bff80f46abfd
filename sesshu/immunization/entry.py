"""Reading a record entry as a clerk types it from a paper 予診票 into the values the services take.

Every field arrives as text. Dates accept ISO, 8 digits and 和暦 (R7.4.1, 令和7年4月1日); numbers
accept full-width digits; masters are chosen by code. All problems of one entry are reported together,
each in Japanese and English, with the field it belongs to.
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from sesshu.core.problems import Problem, ProblemList, too_long
from sesshu.core.text import nfkc
from sesshu.core.wareki import parse_date

from .models import (
    Clinic,
    Delivery,
    Doctor,
    DoctorDecision,
    LegalCategory,
    Payment,
    Product,
    VaccinationRecord,
    Vaccine,
)

TEXT_FIELDS = (
    "venue",
    "insurance_category",
    "not_vaccinated_reason",
    "findings",
    "reaction_judgement",
    "detailed_exam_result",
    "antibody_test",
    "previous_vaccine_check",
    "remarks",
    "registered_branch",
)
REACTION_FIELDS = (
    "redness_long_mm",
    "redness_short_mm",
    "induration_long_mm",
    "induration_short_mm",
    "double_redness_long_mm",
    "double_redness_short_mm",
)
CHOICES = {
    "legal_category": LegalCategory,
    "delivery": Delivery,
    "payment": Payment,
    "doctor_decision": DoctorDecision,
}
TRUE = {"1", "on", "true", "yes"}


def _text(data: Mapping, name: str) -> str:
    return nfkc(str(data.get(name) or "")).strip()


def _required(name: str, ja: str, en: str) -> Problem:
    return Problem("required", f"{ja}を入力してください。", f"Enter the {en}.", name)


def parse_entry(data: Mapping) -> dict:
    """The entry's values (model field names; masters as objects). Raises ProblemList."""
    problems: list[Problem] = []
    values: dict = {}

    code = _text(data, "vaccine")
    vaccine = Vaccine.objects.filter(pk=code).first() if code else None
    if not code:
        problems.append(_required("vaccine", "ワクチン", "vaccine"))
    elif vaccine is None:
        problems.append(
            Problem(
                "unknown_vaccine",
                f"ワクチンコード「{code[:20]}」は登録されていません。",
                f"Unknown vaccine code “{code[:20]}”.",
                "vaccine",
            )
        )
    values["vaccine"] = vaccine

    values["vaccinated_on"] = _date(data, "vaccinated_on", problems, required=True, ja="接種日", en="date")
    billing = _date(data, "billing_month", problems, required=False, ja="請求年月", en="billing month")
    values["billing_month"] = billing.replace(day=1) if billing else None

    values["dose_number"] = _int(
        data, "dose_number", problems, "接種回", "dose number", required=True, low=1, high=20
    )
    values["fee_yen"] = _int(data, "fee_yen", problems, "委託料", "fee", low=0, high=1_000_000)
    for name in REACTION_FIELDS:
        values[name] = _int(data, name, problems, "反応径", "reaction size", low=0, high=200)

    volume_text = _text(data, "volume_ml")
    values["volume_ml"] = None
    if volume_text:
        try:
            volume = Decimal(volume_text)
        except InvalidOperation:
            volume = None
        if volume is None or not volume.is_finite() or volume <= 0 or volume >= 1000:
            problems.append(
                Problem(
                    "volume_not_positive",
                    "接種量は0より大きい数（mL）で入力してください。",
                    "The volume must be a number of mL greater than 0.",
                    "volume_ml",
                )
            )
        else:
            values["volume_ml"] = volume.quantize(Decimal("0.01"))

    values["lot_number"] = _text(data, "lot_number").upper()
    values["ticket_number"] = "".join(ch for ch in _text(data, "ticket_number") if ch.isdigit())
    values["product"] = _master(data, "product", Product, "code", problems, "販売名", "product")
    values["clinic"] = _master(data, "clinic", Clinic, "code", problems, "実施医療機関", "clinic")
    values["screening_doctor"] = _master(data, "screening_doctor", Doctor, "pk", problems, "問診医", "doctor")
    values["vaccinating_doctor"] = _master(
        data, "vaccinating_doctor", Doctor, "pk", problems, "接種医", "doctor"
    )
    values["clinic_name"] = _text(data, "clinic_name")
    for name in ("screening_doctor_name", "vaccinating_doctor_name"):
        values[name] = _text(data, name)
    for name in TEXT_FIELDS:
        values[name] = _text(data, name)
    for name, choices in CHOICES.items():
        raw = _text(data, name)
        if raw and raw not in choices.values:
            problems.append(
                Problem(
                    "invalid_choice",
                    f"「{raw[:20]}」は選べる値ではありません。",
                    f"“{raw[:20]}” is not one of the choices.",
                    name,
                )
            )
        values[name] = raw or (choices.values[0] if name != "doctor_decision" else "")
    for name in ("screening_only", "before_move_in"):
        values[name] = _text(data, name).lower() in TRUE
    if values["screening_only"] and not values["not_vaccinated_reason"]:
        problems.append(
            Problem(
                "reason_required",
                "予診のみの場合は未接種理由を入力してください。",
                "For a screening without vaccination, give the reason it was not given.",
                "not_vaccinated_reason",
            )
        )
    for name in ("lot_number", "ticket_number", "clinic_name", *TEXT_FIELDS):
        field = VaccinationRecord._meta.get_field(name)
        if field.max_length and len(values[name]) > field.max_length:
            problems.append(too_long(name, str(field.verbose_name), name.replace("_", " "), field.max_length))
    if problems:
        raise ProblemList(problems)
    return values


def _date(data: Mapping, name: str, problems: list, *, required: bool, ja: str, en: str) -> date | None:
    raw = _text(data, name)
    if not raw:
        if required:
            problems.append(_required(name, ja, en))
        return None
    try:
        return parse_date(raw, name)
    except Problem as problem:
        problems.append(problem)
        return None


def _int(
    data: Mapping, name: str, problems: list, ja: str, en: str, *, required: bool = False, low: int, high: int
) -> int | None:
    raw = _text(data, name)
    if not raw:
        if required:
            problems.append(_required(name, ja, en))
        return None
    if not (raw.isascii() and raw.isdigit()) or not low <= int(raw) <= high:
        problems.append(
            Problem(
                "invalid_number",
                f"{ja}は{low}から{high}までの整数で入力してください。",
                f"The {en} must be a whole number from {low} to {high}.",
                name,
            )
        )
        return None
    return int(raw)


def _master(data: Mapping, name: str, model, key: str, problems: list, ja: str, en: str):
    raw = _text(data, name)
    if not raw:
        return None
    if key == "pk" and not raw.isdigit():
        found = None
    else:
        found = model.objects.filter(**{key: raw}).first()
    if found is None:
        problems.append(
            Problem(
                "unknown_master",
                f"{ja}「{raw[:20]}」は登録されていません。",
                f"Unknown {en} “{raw[:20]}”.",
                name,
            )
        )
    return found


def form_data(record: VaccinationRecord) -> dict[str, str]:
    """A record as the entry form's text fields (for a correction, prefilled)."""
    data = {}
    for name in ("dose_number", "fee_yen", "lot_number", "ticket_number", "clinic_name", *REACTION_FIELDS):
        value = getattr(record, name)
        data[name] = "" if value is None else str(value)
    data["vaccine"] = record.vaccine_id
    data["vaccinated_on"] = record.vaccinated_on.isoformat()
    data["billing_month"] = record.billing_month.isoformat() if record.billing_month else ""
    data["volume_ml"] = "" if record.volume_ml is None else str(record.volume_ml)
    data["product"] = record.product.code if record.product_id else ""
    data["clinic"] = record.clinic.code if record.clinic_id else ""
    data["screening_doctor"] = str(record.screening_doctor_id or "")
    data["vaccinating_doctor"] = str(record.vaccinating_doctor_id or "")
    data["screening_doctor_name"] = record.screening_doctor_name
    data["vaccinating_doctor_name"] = record.vaccinating_doctor_name
    for name in (*TEXT_FIELDS, *CHOICES):
        data[name] = getattr(record, name)
    for name in ("screening_only", "before_move_in"):
        data[name] = "1" if getattr(record, name) else ""
    return data
