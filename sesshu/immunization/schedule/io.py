"""The forecast's JSON input, checked with bilingual problems (shared by the API and the CLI)."""

import json
from datetime import date

from sesshu.core.problems import Problem, ProblemList

from .engine import forecast
from .rules import schedule
from .types import Forecast


def _date(value, field: str, ja: str, en: str, problems: list[Problem]) -> date | None:
    if not isinstance(value, str):
        problems.append(
            Problem(
                "required",
                f"{ja}（YYYY-MM-DD）を指定してください。",
                f"{en} (YYYY-MM-DD) is required.",
                field,
            )
        )
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad()
    except ValueError:
        problems.append(
            Problem("invalid_date", f"{ja} {value[:20]!r} は実在する日付（YYYY-MM-DD）ではありません。",
                    f"{en} {value[:20]!r} is not a real date (YYYY-MM-DD).", field)
        )  # fmt: skip
        return None


def _bad():
    raise ValueError


def parse_request(raw: bytes | str) -> dict:
    """The input as a dict of checked values; ProblemList naming every problem found."""
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        raise ProblemList([Problem("invalid_json", "JSONとして読めません（UTF-8のJSONを送ってください）。",
                                   "Not valid JSON (send UTF-8 JSON).", "body")]) from None  # fmt: skip
    if not isinstance(data, dict):
        raise ProblemList(
            [Problem("invalid_json", "JSONのオブジェクトを送ってください。", "Send a JSON object.", "body")]
        )
    problems: list[Problem] = []
    birth = _date(data.get("birth_date"), "birth_date", "生年月日", "birth_date", problems)
    as_of = _date(data.get("as_of"), "as_of", "基準日", "as_of", problems)
    sex = data.get("sex")
    if sex not in ("M", "F"):
        problems.append(Problem("invalid_sex", '性別は "M" か "F" です。', 'sex must be "M" or "F".', "sex"))
    history = data.get("history", [])
    entries = []
    known = schedule().vaccines
    if not isinstance(history, list):
        problems.append(
            Problem("invalid_history", "history は配列です。", "history must be a list.", "history")
        )
        history = []
    if len(history) > 500:
        problems.append(
            Problem(
                "too_many", "history は500件までです。", "history may have at most 500 entries.", "history"
            )
        )
        history = []
    for i, item in enumerate(history):
        field = f"history[{i}]"
        if not isinstance(item, dict):
            problems.append(
                Problem(
                    "invalid_history", f"{field} はオブジェクトです。", f"{field} must be an object.", field
                )
            )
            continue
        vaccine = item.get("vaccine")
        if vaccine not in known:
            shown = str(vaccine)[:30]
            problems.append(
                Problem("unknown_vaccine", f"{field}.vaccine {shown!r} は不明なワクチンコードです（{', '.join(known)}）。",  # noqa: E501
                        f"{field}.vaccine {shown!r} is not a known vaccine code ({', '.join(known)}).", f"{field}.vaccine")  # noqa: E501
            )  # fmt: skip
        day = _date(item.get("date"), f"{field}.date", f"{field}.date", f"{field}.date", problems)
        if birth and day and day < birth:
            problems.append(
                Problem(
                    "before_birth",
                    f"{field}.date が生年月日より前です。",
                    f"{field}.date is before the birth date.",
                    f"{field}.date",
                )
            )
        entries.append((vaccine, day))
    if birth and as_of and as_of < birth:
        problems.append(
            Problem(
                "before_birth", "基準日が生年月日より前です。", "as_of is before the birth date.", "as_of"
            )
        )
    if problems:
        raise ProblemList(problems)
    return {"birth_date": birth, "sex": sex, "as_of": as_of, "history": entries}


def forecast_json(raw: bytes | str) -> Forecast:
    request = parse_request(raw)
    return forecast(request["birth_date"], request["sex"], request["history"], request["as_of"], checked=True)
