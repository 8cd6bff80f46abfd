"""The CSV layout of the clinic file (docs/clinic-file.md): one header row, then one row per dose.

Each column has a Japanese header (what a clinic's spreadsheet shows) and an English one; either is
accepted, in any order, and unknown columns are ignored.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    key: str
    ja: str
    en: str
    required: bool = False


COLUMNS = (
    Column("ticket_number", "接種券番号", "ticket_number"),
    Column("name_kana", "氏名カナ", "name_kana", required=True),
    Column("name", "氏名", "name"),
    Column("birth_date", "生年月日", "birth_date", required=True),
    Column("sex", "性別", "sex"),
    Column("address", "住所", "address"),
    Column("vaccine", "ワクチンコード", "vaccine", required=True),
    Column("dose_number", "接種回", "dose_number", required=True),
    Column("vaccinated_on", "接種日", "vaccinated_on", required=True),
    Column("lot_number", "Lot", "lot_number"),
    Column("volume_ml", "接種量", "volume_ml"),
    Column("clinic", "医療機関コード", "clinic_code"),
    Column("vaccinating_doctor_name", "接種医", "vaccinating_doctor"),
    Column("screening_doctor_name", "問診医", "screening_doctor"),
    Column("legal_category", "法定区分", "legal_category"),
    Column("payment", "公費自費区分", "payment"),
    Column("fee_yen", "委託料", "fee_yen"),
    Column("screening_only", "予診のみ", "screening_only"),
    Column("not_vaccinated_reason", "未接種理由", "not_vaccinated_reason"),
    Column("remarks", "特記事項", "remarks"),
)
BY_HEADER = {h: c for c in COLUMNS for h in (c.ja, c.en, c.key)}
REQUIRED = tuple(c for c in COLUMNS if c.required)
# A row is read as its cells in the layout's order (a list, whatever the file's column order).
KEYS = tuple(c.key for c in COLUMNS)
AT = {key: i for i, key in enumerate(KEYS)}


def cells_of(values: dict) -> list:
    """A row given as {column key: value} (a FHIR Bundle's, a test's) as cells in the layout's order."""
    return [values.get(key, "") for key in KEYS]


# Japanese words a spreadsheet carries for the choices, mapped to the record's values.
SEX = {"男": "M", "女": "F", "M": "M", "F": "F", "1": "M", "2": "F", "男性": "M", "女性": "F"}
LEGAL = {
    "定期": "routine",
    "臨時": "temporary",
    "特定接種": "specific",
    "住民接種": "resident",
    "任意": "voluntary",
}
PAYMENT = {"公費": "public", "一部自己負担": "partial", "自費": "self"}
YES = {"1", "○", "〇", "はい", "有", "yes", "true", "y"}
