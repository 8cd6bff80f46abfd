"""Reading move input (form fields or API JSON) into clean values, collecting every problem at once.

Each reader normalizes as staff would expect (full-width digits, hiragana readings) and records a
Problem with the field name and a message in Japanese and English for anything it cannot accept.
"""

import re
from datetime import date

import jaconv

from sesshu.core.numbers import validate_juminhyo_code
from sesshu.core.problems import Problem, ProblemList, too_long
from sesshu.core.text import nfkc
from sesshu.core.wareki import parse_date

_KATAKANA = re.compile(r"^[\u30a0-\u30ff\u3000 ]+$")
RELATIONSHIPS = {
    "世帯主", "妻", "夫", "子", "父", "母", "孫", "兄", "姉", "弟", "妹", "祖父", "祖母",
    "子の妻", "子の夫", "妻の父", "妻の母", "夫の父", "夫の母", "縁故者", "同居人", "その他",
}  # fmt: skip


class Reader:
    def __init__(self, data: dict, prefix: str = ""):
        self.data = data or {}
        self.prefix = prefix
        self.problems: list[Problem] = []

    def _name(self, field: str) -> str:
        return f"{self.prefix}{field}"

    def _raw(self, field: str) -> str:
        value = self.data.get(field, "")
        return "" if value is None else str(value)

    def missing(self, field: str, label_ja: str, label_en: str) -> None:
        self.problems.append(
            Problem(
                "required", f"{label_ja}を入力してください。", f"Enter the {label_en}.", self._name(field)
            )
        )

    def text(self, field: str, label_ja: str, label_en: str, *, required=True, limit=100) -> str:
        value = nfkc(self._raw(field)).strip()
        if "\x00" in value:
            value = value.replace("\x00", "")
        if required and not value:
            self.missing(field, label_ja, label_en)
        elif len(value) > limit:
            self.problems.append(too_long(self._name(field), label_ja, label_en, limit))
        return value

    def kana(self, field: str, label_ja: str, label_en: str, *, required=True) -> str:
        raw = self._raw(field).strip()
        value = jaconv.hira2kata(jaconv.h2z(raw, kana=True, ascii=False, digit=False))
        if required and not value:
            self.missing(field, label_ja, label_en)
        elif value and not _KATAKANA.match(value):
            self.problems.append(
                Problem(
                    "not_kana",
                    f"{label_ja}はカタカナ（またはひらがな）で入力してください。",
                    f"The {label_en} must be written in kana.",
                    self._name(field),
                )
            )
        elif len(value) > 100:
            self.problems.append(too_long(self._name(field), label_ja, label_en, 100))
        return value

    def date(self, field: str, label_ja: str, label_en: str, *, required=True) -> date | None:
        raw = self._raw(field).strip()
        if not raw:
            if required:
                self.missing(field, label_ja, label_en)
            return None
        try:
            return parse_date(raw[:40], field=self._name(field))
        except Problem as problem:
            self.problems.append(problem)
            return None

    def choice(self, field: str, label_ja: str, label_en: str, choices, *, required=True) -> str:
        value = nfkc(self._raw(field)).strip()
        if not value:
            if required:
                self.missing(field, label_ja, label_en)
            return ""
        if value not in choices:
            self.problems.append(
                Problem(
                    "invalid_choice",
                    f"{label_ja}「{value[:20]}」は選べません。",
                    f"“{value[:20]}” is not a valid {label_en}.",
                    self._name(field),
                )
            )
        return value

    def flag(self, field: str) -> bool:
        return str(self.data.get(field, "")).lower() in {"1", "true", "on", "yes"}

    def juminhyo_code(self, field: str) -> str | None:
        raw = self._raw(field).strip()
        if not raw:
            return None
        try:
            return validate_juminhyo_code(raw)
        except Problem as problem:
            problem.field = self._name(field)
            self.problems.append(problem)
            return None

    def resident_numbers(self, field: str = "resident_numbers") -> list[str]:
        value = self.data.get(field) or []
        if isinstance(value, str):
            value = re.split(r"[\s,、]+", value)
        numbers = [nfkc(str(v)).strip() for v in value if str(v).strip()]
        if not numbers:
            self.problems.append(
                Problem("required", "対象の住民を選んでください。", "Choose the residents concerned.", field)
            )
        bad = [n for n in numbers if not n.isdigit() or len(n) > 12]
        if bad:
            self.problems.append(
                Problem(
                    "invalid_number", "宛名番号は数字です。", "An addressee number is digits only.", field
                )
            )
        return list(dict.fromkeys(numbers))

    def raise_if_any(self) -> None:
        if self.problems:
            raise ProblemList(self.problems)
