"""Rows to persons, for the whole file in a few queries (no query per row).

1. A row with a ticket number (接種券番号) is the person of that notice — when the notice exists, is
   not voided, and the row's birth date and kana name (when given) agree with the person.
2. Otherwise the 5情報: the persons born on the row's date whose kana key (full-width katakana, no
   spaces, small and voiced kana folded) equals the row's. Exactly one → matched.
3. Anything else is in doubt: the candidates (same birth date and kana, kanji name or address) go to
   the review queue, where a clerk picks the person or rejects the row. Nothing is linked silently.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sesshu.addressee.models import Person

from ..models import Notice

CHUNK = 10_000  # ids per IN (...): under SQLite's variable limit (32,766)


@dataclass
class Match:
    person_id: int | None
    candidates: list[int] = field(default_factory=list)
    reason: dict | None = None  # why in doubt (a problem dict)


@dataclass
class Candidate:
    pk: int
    kana_key: str
    kanji_key: str
    address_key: str
    sex: str
    birth_date: object
    status: str
    status_date: object


FIELDS = ("pk", "kana_key", "kanji_key", "address_key", "sex", "birth_date", "status", "status_date")


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def load_persons(ids=(), birth_dates=()) -> dict[int, Candidate]:
    persons: dict[int, Candidate] = {}
    for chunk in _chunks(sorted(set(ids))):
        for row in Person.objects.filter(pk__in=chunk).values_list(*FIELDS):
            persons[row[0]] = Candidate(*row)
    for chunk in _chunks(sorted(set(birth_dates))):
        for row in Person.objects.filter(birth_date__in=chunk).values_list(*FIELDS):
            persons[row[0]] = Candidate(*row)
    return persons


def _doubt(code: str, ja: str, en: str, candidates: list[int]) -> Match:
    return Match(None, candidates[:10], {"code": code, "field": "person", "message_ja": ja, "message_en": en})


def match_rows(rows: list[dict]) -> tuple[list[Match], dict[int, Candidate]]:
    """A Match per row (values dicts with birth_date as date and the keys), and the persons read."""
    tickets = sorted({r["ticket_number"] for r in rows if r.get("ticket_number")})
    notices = {}
    for chunk in _chunks(tickets):
        for number, person_id, voided in Notice.objects.filter(ticket_number__in=chunk).values_list(
            "ticket_number", "person_id", "voided_at"
        ):
            notices[number] = (person_id, voided)
    persons = load_persons(
        ids=[p for p, _ in notices.values()],
        birth_dates=[r["birth_date"] for r in rows if r.get("birth_date")],
    )
    by_birth: dict[object, list[Candidate]] = defaultdict(list)
    for person in persons.values():
        by_birth[person.birth_date].append(person)
    return [_match(row, notices, persons, by_birth) for row in rows], persons


def _match(row: dict, notices: dict, persons: dict, by_birth: dict) -> Match:
    born = by_birth.get(row.get("birth_date"), [])
    same_kana = [p for p in born if row["kana_key"] and p.kana_key == row["kana_key"]]
    ticket = row.get("ticket_number")
    if ticket:
        found = notices.get(ticket)
        if found is None or found[1] is not None:
            return _doubt(
                "unknown_ticket",
                "接種券番号に該当する有効な通知がありません。氏名・生年月日で確認してください。",
                "No valid notice has this ticket number: check the person by name and birth date.",
                [p.pk for p in same_kana] or [p.pk for p in born if p.kanji_key == row["kanji_key"]],
            )
        person = persons.get(found[0])
        agrees = person is not None and (
            row.get("birth_date") in (None, person.birth_date)
            and (not row["kana_key"] or row["kana_key"] == person.kana_key)
        )
        if agrees:
            return Match(person.pk)
        return _doubt(
            "ticket_mismatch",
            "接種券番号の対象者と氏名カナ・生年月日が一致しません。",
            "The ticket number's person does not have this kana name and birth date.",
            [found[0], *[p.pk for p in same_kana if p.pk != found[0]]],
        )
    if len(same_kana) == 1:
        person = same_kana[0]
        if row.get("sex") and row["sex"] != person.sex:
            return _doubt(
                "sex_mismatch",
                "氏名カナ・生年月日は一致しますが性別が異なります。",
                "The kana name and birth date match, but the sex differs.",
                [person.pk],
            )
        return Match(person.pk)
    if len(same_kana) > 1:
        ranked = sorted(
            same_kana,
            key=lambda p: (p.kanji_key != row["kanji_key"], p.address_key != row["address_key"], p.pk),
        )
        return _doubt(
            "several_candidates",
            f"氏名カナ・生年月日が一致する人が{len(same_kana)}人います。",
            f"{len(same_kana)} persons have this kana name and birth date.",
            [p.pk for p in ranked],
        )
    near = [
        p.pk
        for p in born
        if (row["kanji_key"] and p.kanji_key == row["kanji_key"])
        or (row["address_key"] and p.address_key == row["address_key"])
    ]
    return _doubt(
        "no_candidate",
        "氏名カナ・生年月日が一致する人がいません。",
        "Nobody has this kana name and birth date.",
        near,
    )
