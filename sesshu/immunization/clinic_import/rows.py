"""Each row's values, checked against the masters held in memory (no query per row).

The parsing reuses the entry form's helpers (dates in ISO, 8 digits or 和暦; whole numbers; the same
problem codes and messages), and the checks are those of ``records.check_dose`` that need no person:
unknown vaccine, clinic or lot, a lot of another vaccine, an expired lot, a volume that is not > 0,
a date in the future. The checks against the person (before birth, after death, the same dose
twice) follow the matching (``services``).

A row is two parts. *Who* (ticket number, names, birth date, sex, address) differs on every row and
is read for each. *The dose* (vaccine, date, dose number, lot, clinic, doctors, 区分, fee, remarks)
repeats: a month's file has a few hundred dates, a few vaccines, lots, clinics and doctors, so the
same dose cells come back many times. The dose part is read and checked once per distinct set of
cells and kept (its values and problems), which saves most of the time of a large file.
"""

import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from operator import itemgetter

from sesshu.core.problems import Problem
from sesshu.core.text import kana_key

from .. import entry
from ..models import Clinic, ClinicFee, Lot, Vaccine
from ..records import _volume_problem
from .layout import AT, KEYS, LEGAL, PAYMENT, SEX, YES

# The dose cells: a row's dose part is a function of these (and of the file's clinic and today).
DOSE_CELLS = (
    "vaccine",
    "vaccinated_on",
    "dose_number",
    "fee_yen",
    "screening_only",
    "not_vaccinated_reason",
    "volume_ml",
    "clinic",
    "lot_number",
    "legal_category",
    "payment",
    "vaccinating_doctor_name",
    "screening_doctor_name",
    "remarks",
)
_dose_cells = itemgetter(*(AT[name] for name in DOSE_CELLS))  # a row's dose cells, as a tuple
_TICKET, _NAME_KANA, _NAME, _ADDRESS, _SEX, _BIRTH = (
    AT[name] for name in ("ticket_number", "name_kana", "name", "address", "sex", "birth_date")
)
_normalize = unicodedata.normalize
_string = json.encoder.encode_basestring  # a str as a JSON string (non-ASCII kept), in C


@dataclass
class Masters:
    """The masters the rows refer to, read once per file."""

    vaccines: dict[str, Vaccine]
    clinics: dict[str, Clinic]
    lots: dict[str, list[Lot]]  # by lot number
    fees: dict[tuple[int, str], list[ClinicFee]] = field(default_factory=dict)
    # Parsed dates by (column, text): a month's file repeats a few hundred dates over many rows.
    dates: dict[tuple[str, str], tuple] = field(default_factory=dict)
    # Read dose parts by (file clinic, today) and then by the dose cells.
    doses: dict[tuple, dict] = field(default_factory=dict)
    kana_keys: dict[str, str] = field(default_factory=dict)
    # The who cells that repeat, by their text: sex → (sex, problem); birth date → (date, ISO, problems).
    sexes: dict[str, tuple] = field(default_factory=dict)
    births: dict[str, tuple] = field(default_factory=dict)

    def parse_date(self, cells: dict, name: str, problems: list, *, ja: str, en: str):
        """``entry._date`` (required), remembered per text: the same problems for the same text."""
        key = (name, cells.get(name) or "")
        found = self.dates.get(key)
        if found is None:
            own: list = []
            found = self.dates[key] = (entry._date(cells, name, own, required=True, ja=ja, en=en), own)
        problems.extend(found[1])
        return found[0]

    @classmethod
    def load(cls) -> "Masters":
        lots = defaultdict(list)
        for lot in Lot.objects.select_related("product__maker"):
            lots[lot.lot_number].append(lot)
        fees = defaultdict(list)
        for line in ClinicFee.objects.order_by("-dose_number", "-valid_from"):
            fees[(line.clinic_id, line.vaccine_id)].append(line)
        return cls(
            vaccines={v.pk: v for v in Vaccine.objects.all()},
            clinics={c.code: c for c in Clinic.objects.all()},
            lots=dict(lots),
            fees=dict(fees),
        )

    def fee(self, clinic_id: int, vaccine: str, dose_number: int, day: date) -> int | None:
        """As ``records.fee_for``: a line for the dose wins over the all-doses line, latest start first."""
        for line in self.fees.get((clinic_id, vaccine), ()):
            if line.dose_number in (0, dose_number) and line.valid_from <= day:
                return line.fee_yen
        return None


def _text(cells: dict, name: str) -> str:
    """``entry._text``: the cell NFKC-normalized and stripped ("" when missing)."""
    return _clean(cells.get(name))


def _clean(value) -> str:
    """A cell NFKC-normalized and stripped ("" when empty or missing)."""
    if not value:
        return ""
    if value.__class__ is not str:
        value = str(value)
    return _normalize("NFKC", value).strip()


@dataclass(slots=True)
class Dose:
    """The dose part of a row, shared by every row with the same dose cells."""

    values: dict
    problems: list[dict]
    vaccine: str | None  # the vaccine code when known
    day: date | None
    screening_only: bool


@dataclass(slots=True)
class Row:
    """One row as read: its line, who values, problems, the matching keys and the shared dose part."""

    line: int
    who: dict
    problems: list[dict]
    kana_key: str
    birth: date | None
    dose: Dose

    def who_json(self) -> str:
        """The who part as JSON text (as ``json.dumps(self.who, ensure_ascii=False)`` would write it,
        written out here: this runs for every row of the file)."""
        w = self.who
        birth = w["birth_date"]
        return (
            f'{{"ticket_number": {_string(w["ticket_number"])}, "name_kana": {_string(w["name_kana"])}, '
            f'"name": {_string(w["name"])}, "address": {_string(w["address"])}, "sex": {_string(w["sex"])}, '
            f'"birth_date": {_string(birth) if birth else "null"}}}'
        )


def read_row(line: int, cells: list, masters: Masters, doses: dict, default_clinic, today: date) -> Row:
    """A row (its cells in the layout's order): the who part read now, the dose part from ``doses``
    (read on its first appearance).

    The cells that repeat (sex, birth date) are read once per distinct text: this runs for every row
    of the file."""
    problems: list = []
    ticket = _clean(cells[_TICKET])
    if ticket and not ticket.isdigit():  # printed with spaces or hyphens: the digits only
        ticket = ticket.replace(" ", "")
        if not ticket.isdigit():
            ticket = "".join(ch for ch in ticket if ch.isdigit())
    name_kana = _clean(cells[_NAME_KANA])[:100]
    key = masters.kana_keys.get(name_kana)
    if key is None:
        key = masters.kana_keys[name_kana] = kana_key(name_kana)
    raw = cells[_SEX]
    sex_read = masters.sexes.get(raw) if raw.__class__ is str else None
    if sex_read is None:
        sex_read = _read_sex(raw)
        if raw.__class__ is str:
            masters.sexes[raw] = sex_read
    sex, sex_problem = sex_read
    if sex_problem:
        problems.append(sex_problem)
    if not key and not ticket:
        problems.append(entry._required("name_kana", "氏名カナ", "name in kana").as_dict())
    raw = cells[_BIRTH] or ""
    birth_read = masters.births.get(raw) if raw.__class__ is str else None
    if birth_read is None:
        birth_problems: list = []
        birth = masters.parse_date(
            {"birth_date": raw}, "birth_date", birth_problems, ja="生年月日", en="birth date"
        )
        birth_read = (birth, birth.isoformat() if birth else None, [p.as_dict() for p in birth_problems])
        if raw.__class__ is str:
            masters.births[raw] = birth_read
    birth, birth_iso, birth_problems = birth_read
    if birth_problems:
        problems.extend(birth_problems)
    who = {
        "ticket_number": ticket,
        "name_kana": name_kana,
        "name": _clean(cells[_NAME])[:100],
        "address": _clean(cells[_ADDRESS])[:200],
        "sex": sex,
        "birth_date": birth_iso,
    }
    try:
        cache_key = _dose_cells(cells)
        dose = doses.get(cache_key)
    except TypeError:  # a cell that is not text (cannot be a key): read, not kept
        cache_key, dose = None, None
    if dose is None:
        dose = _read_dose(dict(zip(KEYS, cells, strict=False)), masters, default_clinic, today)
        if cache_key is not None:
            doses[cache_key] = dose
    if dose.problems:
        problems = problems + dose.problems
    return Row(line, who, problems, key, birth, dose)


def _read_sex(cell) -> tuple[str, dict | None]:
    """(M, F or "", the problem dict when the cell says something else)."""
    raw_sex = _clean(cell)
    sex = SEX.get(raw_sex, "")
    if raw_sex and not sex:
        return sex, Problem(
            "invalid_sex",
            f"性別「{raw_sex[:10]}」を読めません（男・女）。",
            f"Unknown sex “{raw_sex[:10]}” (男 or 女).",
            "sex",
        ).as_dict()
    return sex, None


def read_all(raw_rows, masters: Masters, *, default_clinic: Clinic | None, today: date) -> list[Row]:
    """Every row of a file (``[(line, [cell per layout column])]``, ``reading.read_rows``), in order."""
    doses = masters.doses.setdefault((default_clinic.pk if default_clinic else None, today), {})
    return [read_row(line, cells, masters, doses, default_clinic, today) for line, cells in raw_rows]


def _read_dose(cells: dict, masters: Masters, default_clinic: Clinic | None, today: date) -> Dose:
    problems: list[Problem] = []
    values: dict = {}

    def text(name: str) -> str:
        return _text(cells, name)

    code = text("vaccine").upper()
    vaccine = masters.vaccines.get(code)
    if not code:
        problems.append(entry._required("vaccine", "ワクチン", "vaccine"))
    elif vaccine is None:
        problems.append(
            Problem(
                "unknown_vaccine",
                f"ワクチンコード「{code[:20]}」は登録されていません。",
                f"Unknown vaccine code “{code[:20]}”.",
                "vaccine",
            )
        )
    values["vaccine"] = vaccine.pk if vaccine else code[:20]
    day = masters.parse_date(cells, "vaccinated_on", problems, ja="接種日", en="date")
    values["vaccinated_on"] = day.isoformat() if day else None
    if day and day > today:
        problems.append(
            Problem(
                "future_date",
                f"接種日 {day.isoformat()} は未来の日付です。",
                f"The date {day.isoformat()} is in the future.",
                "vaccinated_on",
            )
        )
    values["dose_number"] = entry._int(
        cells, "dose_number", problems, "接種回", "dose number", required=True, low=1, high=20
    )
    values["fee_yen"] = entry._int(cells, "fee_yen", problems, "委託料", "fee", low=0, high=1_000_000)
    values["screening_only"] = text("screening_only").lower() in YES
    values["not_vaccinated_reason"] = text("not_vaccinated_reason")[:200]
    if values["screening_only"] and not values["not_vaccinated_reason"]:
        problems.append(
            Problem(
                "reason_required",
                "予診のみの場合は未接種理由を入力してください。",
                "For a screening without vaccination, give the reason it was not given.",
                "not_vaccinated_reason",
            )
        )

    volume_text = text("volume_ml")
    values["volume_ml"] = None
    if volume_text:
        try:
            volume = Decimal(volume_text)
        except InvalidOperation:
            volume = None
        if volume is None or not volume.is_finite() or volume <= 0 or volume >= 1000:
            problems.append(_volume_problem())
        else:
            values["volume_ml"] = str(volume.quantize(Decimal("0.01")))

    clinic_code = text("clinic")
    clinic = masters.clinics.get(clinic_code) if clinic_code else default_clinic
    if clinic is None:
        if clinic_code:
            problems.append(
                Problem(
                    "unknown_master",
                    f"実施医療機関「{clinic_code[:20]}」は登録されていません。",
                    f"Unknown clinic “{clinic_code[:20]}”.",
                    "clinic",
                )
            )
        else:
            problems.append(entry._required("clinic", "医療機関コード", "clinic code"))
    values["clinic_id"] = clinic.pk if clinic else None

    lot_number = text("lot_number").upper()[:30]
    values["lot_number"] = lot_number
    values["lot_id"] = values["product_id"] = None
    if lot_number and vaccine and not values["screening_only"]:
        lot = next((x for x in masters.lots.get(lot_number, ()) if x.product.vaccine_id == vaccine.pk), None)
        if lot is None:
            problems.append(
                Problem(
                    "unknown_lot",
                    f"Lot「{lot_number}」は{vaccine.name_ja}のロットとして登録されていません。",
                    f"Lot “{lot_number}” is not registered for {vaccine.name_en}.",
                    "lot_number",
                )
            )
        else:
            if day and lot.expires_on < day:
                problems.append(
                    Problem(
                        "expired_lot",
                        f"Lot「{lot_number}」の有効期限（{lot.expires_on.isoformat()}）が接種日より前です。",
                        f"Lot “{lot_number}” expired on {lot.expires_on.isoformat()}, before the dose.",
                        "lot_number",
                    )
                )
            values["lot_id"], values["product_id"] = lot.pk, lot.product_id
            values["product_name"], values["maker_name"] = lot.product.name, lot.product.maker.name
            if values["volume_ml"] is None and lot.product.standard_volume_ml is not None:
                values["volume_ml"] = str(lot.product.standard_volume_ml)

    for name, words in (("legal_category", LEGAL), ("payment", PAYMENT)):
        raw = text(name)
        values[name] = words.get(raw, raw if raw in words.values() else "")
        if raw and not values[name]:
            problems.append(
                Problem(
                    "invalid_choice",
                    f"「{raw[:20]}」は選べる値ではありません。",
                    f"“{raw[:20]}” is not one of the choices.",
                    name,
                )
            )
    for name in ("vaccinating_doctor_name", "screening_doctor_name"):
        values[name] = text(name)[:50]
    values["remarks"] = text("remarks")[:1000]
    if clinic and vaccine and day and values["dose_number"]:
        values["fee_table_yen"] = masters.fee(clinic.pk, vaccine.pk, values["dose_number"], day)
        values["under_contract"] = clinic.under_contract_on(day)
    return Dose(
        values=values,
        problems=[p.as_dict() for p in problems],
        vaccine=vaccine.pk if vaccine else None,
        day=day,
        screening_only=values["screening_only"],
    )
