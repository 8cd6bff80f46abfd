"""Rows to persons, for the whole file in a few queries (no query per row).

1. A row with a ticket number (接種券番号) is the person of that notice — when the notice exists, is
   not voided, and the row's birth date and kana name (when given) agree with the person.
2. Otherwise the 5情報: the persons born on the row's date whose kana key (full-width katakana, no
   spaces, small and voiced kana folded) equals the row's. Exactly one → matched.
3. Anything else is in doubt: the candidates (same birth date and kana, kanji name or address) go to
   the review queue, where a clerk picks the person or rejects the row. Nothing is linked silently.

The queries take all the file's keys as one parameter per column (PostgreSQL: arrays; SQLite: one
JSON parameter), unpacked by the database and joined to the indexed columns (no IN list of a
parameter per key): the notices of the ticket numbers, the persons of those notices, and the persons
born on the file's birth dates. Candidates are listed in id order.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from django.db import connection

from sesshu.addressee.models import Person
from sesshu.core.text import address_key, kanji_key

from ..models import Notice, RecordSource, VaccinationRecord

CHUNK = 10_000  # ids per IN (...): under SQLite's variable limit (32,766)


@dataclass
class Match:
    person_id: int | None
    candidates: list[int] = field(default_factory=list)
    reason: dict | None = None  # why in doubt (a problem dict)


class Candidate(NamedTuple):
    """A person as the matching reads it (a tuple: a file's dates bring a hundred thousand of them)."""

    pk: int
    kana_key: str
    kanji_key: str
    address_key: str
    sex: str
    birth_date: object
    status: str
    status_date: object


FIELDS = ("pk", "kana_key", "kanji_key", "address_key", "sex", "birth_date", "status", "status_date")
_COLUMNS = ("id", "kana_key", "kanji_key", "address_key", "sex", "birth_date", "status", "status_date")


def _chunks(items: list, size: int = CHUNK):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def keys_table(columns: list[tuple[str, str]], rows: list[tuple]) -> tuple[str, list]:
    """A FROM item ``k`` with the given columns ((name, PostgreSQL type)) holding ``rows``: one short
    statement for any number of keys, where an IN list takes a parameter per key. PostgreSQL: one
    array per column, unnested side by side (psycopg sends a list as an array without building text);
    SQLite: one JSON parameter of arrays, unpacked by json_each. The keys are ids, dates, digits and
    master codes (no NUL, which PostgreSQL refuses in text)."""
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
        names = ", ".join(name for name, _ in columns)
        return f"unnest({arrays}) AS k({names})", [
            _array([row[i] for row in rows]) for i in range(len(columns))
        ]
    data = json.dumps(rows, default=date.isoformat)
    picks = ", ".join(f"j.value ->> {i} AS {name}" for i, (name, _) in enumerate(columns))
    return f"(SELECT {picks} FROM json_each(%s) AS j) AS k", [data]  # noqa: S608 (names from code)


def _array(values) -> str:
    """A PostgreSQL array literal of ids, dates or text (each element quoted), built here: psycopg
    adapts a list element by element in Python, several times slower at 100,000 keys."""
    first = values[0]
    if isinstance(first, int):
        return "{" + ",".join(map(str, values)) + "}"
    if isinstance(first, date):
        return "{" + ",".join(map(date.isoformat, values)) + "}"
    # Every element quoted; escaped only when one needs it (rarely: the keys are digits and codes).
    # The separators hold 2 quotes each, so any other quote is an element's own.
    quoted = '","'.join(values)
    if "\\" in quoted or quoted.count('"') != 2 * (len(values) - 1):
        return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
    return '{"' + quoted + '"}'


def _fetch(sql: str, params: list) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _candidates(rows: list[tuple]) -> dict[int, Candidate]:
    if connection.vendor == "postgresql":  # dates come as dates
        return {row[0]: Candidate._make(row) for row in rows}
    out = {}
    for row in rows:
        pk, kana, kanji, address, sex, birth, status, status_date = row
        if isinstance(birth, str):  # SQLite through a raw cursor: ISO text
            birth = date.fromisoformat(birth)
        if isinstance(status_date, str):
            status_date = date.fromisoformat(status_date)
        out[pk] = Candidate(pk, kana, kanji, address, sex, birth, status, status_date)
    return out


def _person_select() -> str:
    columns = ", ".join("p." + _q(c) for c in _COLUMNS)
    return f"SELECT {columns} FROM {_q(Person._meta.db_table)} p"  # noqa: S608 (names from the model)


def persons_by_id(ids) -> dict[int, Candidate]:
    ids = sorted(set(ids))
    if not ids:
        return {}
    keys, params = keys_table([("id", "bigint")], [(i,) for i in ids])
    return _candidates(_fetch(f"{_person_select()} JOIN {keys} ON p.id = k.id ORDER BY p.id", params))


def persons_born(days) -> dict[int, Candidate]:
    days = sorted(set(days))
    if not days:
        return {}
    keys, params = keys_table([("birth", "date")], [(d,) for d in days])
    return _candidates(
        _fetch(f"{_person_select()} JOIN {keys} ON p.birth_date = k.birth ORDER BY p.id", params)
    )


def load_persons(ids=(), birth_dates=()) -> dict[int, Candidate]:
    return {**persons_by_id(ids), **persons_born(birth_dates)}


def notices_of(tickets) -> dict[str, tuple[int, object]]:
    """{ticket number: (person id, voided at)} of the notices with these numbers."""
    tickets = sorted(set(tickets))
    if not tickets:
        return {}
    keys, params = keys_table([("number", "text")], [(t,) for t in tickets])
    sql = (
        f"SELECT n.ticket_number, n.person_id, n.voided_at FROM {_q(Notice._meta.db_table)} n "  # noqa: S608
        f"JOIN {keys} ON n.ticket_number = k.number"
    )
    return {number: (person_id, voided) for number, person_id, voided in _fetch(sql, params)}


@dataclass
class Known:
    """A dose already in the register (what the checks of a row need of it)."""

    pk: int
    lot_number: str
    source: str

    def get_source_display(self) -> str:
        return _SOURCE_LABELS.get(self.source, self.source)


_SOURCE_LABELS = dict(RecordSource.choices)


def given_doses(identities) -> dict[tuple[int, str, date], Known]:
    """The active, given records with one of these dose identities (person, vaccine, 接種日)."""
    identities = list(set(identities))
    if not identities:
        return {}
    keys, params = keys_table([("person", "bigint"), ("vaccine", "text"), ("day", "date")], identities)
    sql = (
        "SELECT r.id, r.person_id, r.vaccine_id, r.vaccinated_on, r.lot_number, r.source "  # noqa: S608
        f"FROM {_q(VaccinationRecord._meta.db_table)} r JOIN {keys} ON r.person_id = k.person "
        "AND r.vaccine_id = k.vaccine AND r.vaccinated_on = k.day "
        "WHERE r.status = 'active' AND NOT r.screening_only"
    )
    out = {}
    for pk, person_id, vaccine, day, lot_number, source in _fetch(sql, params):
        if isinstance(day, str):
            day = date.fromisoformat(day)
        out[(person_id, vaccine, day)] = Known(pk, lot_number, source)
    return out


def _doubt(code: str, ja: str, en: str, candidates: list[int]) -> Match:
    return Match(None, candidates[:10], {"code": code, "field": "person", "message_ja": ja, "message_en": en})


class Key(NamedTuple):
    """What a row says of the person: the matching keys (kana key, birth date) and the rest."""

    ticket_number: str
    kana_key: str
    birth_date: date | None
    sex: str
    name: str
    address: str


def match_rows(rows: list[Key]) -> tuple[list[Match], dict[int, Candidate]]:
    """A Match per row, and the persons read."""
    notices = notices_of(r.ticket_number for r in rows if r.ticket_number)
    # Everyone born on a date of the file: a month's file has a few thousand dates, and one indexed
    # scan of them is cheaper than a lookup per (kana, birth date) pair (ten times, at 100,000 rows).
    persons = persons_born(r.birth_date for r in rows if r.birth_date)
    # The persons of notices born on other days (their birth dates are none of the file's, so each
    # list below holds the persons of one query, in id order).
    persons.update(persons_by_id({p for p, _ in notices.values()} - persons.keys()))
    same: dict[tuple, list[Candidate]] = defaultdict(list)
    by_birth: dict[object, list[Candidate]] = defaultdict(list)
    for person in persons.values():
        same[(person.kana_key, person.birth_date)].append(person)
        by_birth[person.birth_date].append(person)
    return [_match(row, notices, persons, same, by_birth) for row in rows], persons


def _keys(row: Key) -> tuple[str, str]:
    return kanji_key(row.name or ""), address_key(row.address or "")


def _match(row: Key, notices: dict, persons: dict, same: dict, by_birth: dict) -> Match:
    """The row's match: ``same`` holds the persons by (kana key, birth date), ``by_birth`` by birth date."""
    birth = row.birth_date
    kana = row.kana_key
    same_kana = same.get((kana, birth), []) if kana and birth is not None else []
    ticket = row.ticket_number
    if ticket:
        found = notices.get(ticket)
        if found is None or found[1] is not None:
            if not same_kana and birth is not None:
                kanji, _ = _keys(row)
                near = [p.pk for p in by_birth.get(birth, []) if p.kanji_key == kanji]
            else:
                near = [p.pk for p in same_kana]
            return _doubt(
                "unknown_ticket",
                "接種券番号に該当する有効な通知がありません。氏名・生年月日で確認してください。",
                "No valid notice has this ticket number: check the person by name and birth date.",
                near,
            )
        person = persons.get(found[0])
        agrees = person is not None and (
            birth in (None, person.birth_date) and (not kana or kana == person.kana_key)
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
        if row.sex and row.sex != person.sex:
            return _doubt(
                "sex_mismatch",
                "氏名カナ・生年月日は一致しますが性別が異なります。",
                "The kana name and birth date match, but the sex differs.",
                [person.pk],
            )
        return Match(person.pk)
    if len(same_kana) > 1:
        kanji, address = _keys(row)
        ranked = sorted(same_kana, key=lambda p: (p.kanji_key != kanji, p.address_key != address, p.pk))
        return _doubt(
            "several_candidates",
            f"氏名カナ・生年月日が一致する人が{len(same_kana)}人います。",
            f"{len(same_kana)} persons have this kana name and birth date.",
            [p.pk for p in ranked],
        )
    kanji, address = _keys(row)
    near = [
        p.pk
        for p in by_birth.get(birth, [])
        if (kanji and p.kanji_key == kanji) or (address and p.address_key == address)
    ]
    return _doubt(
        "no_candidate",
        "氏名カナ・生年月日が一致する人がいません。",
        "Nobody has this kana name and birth date.",
        near,
    )
