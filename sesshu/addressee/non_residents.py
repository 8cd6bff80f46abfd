"""住登外者: persons the city deals with who are not in its resident register.

Someone vaccinated here who lives elsewhere, a former resident whose record the register no longer
keeps up to date, a child placed with a family in another city: the immunization register still
needs one identity for them, so they get a 統合宛名番号 like every resident, with 5情報 entered by a
clerk instead of copied from the register.

- ``register_non_resident``: check the 5情報 and the basis (登録の根拠), refuse an obvious duplicate,
  number and save the person.
- ``non_resident_for_edit`` / ``update_non_resident``: read and correct a non-resident's 5情報.

Every function writes its audit event. Changes record the names of the changed items, never their
values, so the log does not become a second copy of the 5情報.

No four-eyes confirmation: see docs/addressee.md ("Why one clerk is enough").
"""

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.problems import Problem, ProblemList, too_long
from sesshu.core.text import is_latin, kanji_key, nfkc
from sesshu.residents.input import Reader
from sesshu.residents.numbers import next_numbers_for

from .consumers import INTEGRATED_NUMBER_BASE
from .models import Person, PersonKind, PersonStatus
from .services import fill_search_keys

PURPOSE_REGISTER = "住登外者の登録 (integrated addressee: non-resident registration)"
PURPOSE_CHANGE = "住登外者の5情報の変更 (integrated addressee: non-resident correction)"
# The same series as the register consumer's: one counter, so residents and non-residents never
# share a number however their registrations interleave.
SERIES = "integrated_number"
SOURCE_MAX = 200
# The items a clerk enters and may correct, in the order of the form.
ITEMS = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "latin_name",
    "birth_date",
    "sex",
    "postal_code",
    "address",
)
_KEY_ITEMS = ("family_name", "given_name", "birth_date")  # what the duplicate check compares
_POSTAL = re.compile(r"^(\d{3})-?(\d{4})$")
_DASHES = re.compile(r"[‐‑‒–—―−－ｰ─━ー]")
MAX_NAMED_DUPLICATES = 5


@dataclass
class PossibleDuplicate(Problem):
    """Someone with the same name and birth date is already in the addressee (resident or not).

    ``numbers`` are their 統合宛名番号, so the screen can offer "this is a different person" for
    exactly those; the message names them too, for API clients.
    """

    numbers: tuple[str, ...] = ()


def _p(code: str, ja: str, en: str, field: str | None = None) -> Problem:
    return Problem(code, ja, en, field)


# Reading the input -------------------------------------------------------------------------------------


def read_items(data) -> tuple[dict, list[Problem]]:
    """The 5情報 as a clerk or a system sends them, normalized; every problem found, not just the first.

    Hiragana and half-width readings become katakana, full-width digits become ASCII, 和暦 dates are
    read (the register's Reader does this for moves, so both screens accept the same spellings).
    """
    reader = Reader(data if data is not None else {})
    values = {
        "family_name": reader.text("family_name", "氏", "family name", limit=50),
        "given_name": reader.text("given_name", "名", "given name", limit=50),
        "family_name_kana": reader.kana("family_name_kana", "氏（カナ）", "family name reading"),
        "given_name_kana": reader.kana("given_name_kana", "名（カナ）", "given name reading"),
        "latin_name": reader.text("latin_name", "ローマ字氏名", "Latin name", required=False).upper(),
        "birth_date": reader.date("birth_date", "生年月日", "date of birth"),
        "sex": reader.choice("sex", "性別", "sex", {"M", "F"}),
        "postal_code": reader.text("postal_code", "郵便番号", "postal code", required=False, limit=10),
        "address": reader.text("address", "住所", "address", limit=200),
    }
    problems = reader.problems
    if values["latin_name"] and not is_latin(values["latin_name"]):
        problems.append(
            _p(
                "not_latin",
                "ローマ字氏名はアルファベットで入力してください。",
                "The Latin name must be written in Latin letters.",
                "latin_name",
            )
        )
    if values["postal_code"]:
        match = _POSTAL.match(_DASHES.sub("-", values["postal_code"]))
        if match:
            values["postal_code"] = f"{match.group(1)}-{match.group(2)}"
        else:
            problems.append(
                _p(
                    "invalid_postal_code",
                    "郵便番号は7桁の数字（例: 359-0001）で入力してください。",
                    "Enter the postal code as 7 digits (for example 359-0001).",
                    "postal_code",
                )
            )
    if values["birth_date"] and values["birth_date"] > timezone.localdate():
        problems.append(
            _p(
                "birth_date_in_future",
                "生年月日が未来の日付です。",
                "The date of birth is in the future.",
                "birth_date",
            )
        )
    return values, problems


def read_source(raw) -> tuple[str, list[Problem]]:
    """登録の根拠: why the city holds this person's 5情報 (a certificate shown, another city's notice)."""
    source = nfkc("" if raw is None else str(raw)).replace("\x00", "").strip()
    if not source:
        return source, [
            _p(
                "source_required",
                "登録の根拠（例: 予防接種済証の提出、他市からの通知）を入力してください。",
                "Enter the basis for the registration (for example: a vaccination certificate shown, "
                "a notice from another city).",
                "source",
            )
        ]
    if len(source) > SOURCE_MAX:
        return source, [too_long("source", "登録の根拠", "Basis for registration", SOURCE_MAX)]
    return source, []


def _distinct_from(data) -> set[str]:
    """Integrated numbers the clerk has checked to be other people (the answer to PossibleDuplicate)."""
    raw = nfkc(str((data or {}).get("not_duplicate_of", "") or ""))[:200]
    return {n for n in re.split(r"[\s,、]+", raw) if n}


def _duplicates(values: dict, exclude: int | None = None) -> list[Person]:
    # Residents and non-residents alike, whatever their status: a former resident who comes back for a
    # vaccination already has a number, and a second one would split their history in two.
    same = Person.objects.filter(
        kanji_key=kanji_key(values["family_name"] + values["given_name"]), birth_date=values["birth_date"]
    )
    if exclude is not None:
        same = same.exclude(pk=exclude)
    return list(same.order_by("integrated_number")[:MAX_NAMED_DUPLICATES])


def _duplicate_problem(persons: list[Person]) -> PossibleDuplicate:
    numbers = tuple(p.integrated_number for p in persons)
    listed = "、".join(numbers)
    return PossibleDuplicate(
        "possible_duplicate",
        f"氏名と生年月日が同じ方がすでに登録されています（統合宛名番号 {listed}）。同じ方であれば、"
        "新たに登録せずその番号をお使いください。別の方であることを確認した場合は、その旨を選んで登録してください。",
        f"Someone with the same name and date of birth is already registered (integrated addressee number "
        f"{', '.join(numbers)}). If it is the same person, use that number instead; if you have checked that "
        "it is someone else, say so and register again.",
        None,
        numbers,
    )


def _refuse_duplicate(action: Action, purpose: str, persons: list[Person], subject: int | None = None):
    # The refusal told the clerk who is already there: that disclosure belongs in the log.
    record(
        action,
        purpose=purpose,
        outcome=Outcome.FAILED,
        object_type="person",
        subjects=[p.pk for p in persons] + ([subject] if subject else []),
        detail={"reason": "possible_duplicate"},
    )
    raise ProblemList([_duplicate_problem(persons)])


def _username(author) -> str:
    return author.get_username() if author is not None else ""


# Registering ------------------------------------------------------------------------------------------


def register_non_resident(data, *, source: str, author) -> Person:
    """Number and save a non-resident; ProblemList for anything the clerk must fix first.

    ``data`` holds the 5情報 (form fields or API JSON); ``not_duplicate_of`` in it lists the integrated
    numbers the clerk has checked to be other people, after a ``possible_duplicate`` refusal.
    """
    values, problems = read_items(data)
    source, source_problems = read_source(source)
    problems += source_problems
    if problems:
        raise ProblemList(problems)
    distinct_from = _distinct_from(data)
    with transaction.atomic():
        # Numbering first: it locks the counter row, so concurrent registrations line up and each
        # duplicate check below sees the person the previous one saved.
        number = next_numbers_for(SERIES, Person, "integrated_number", INTEGRATED_NUMBER_BASE, 1)[0]
        duplicates = _duplicates(values)
        blocking = [p for p in duplicates if p.integrated_number not in distinct_from]
        if blocking:
            transaction.set_rollback(True)  # the number goes back to the counter
        else:
            person = Person(
                integrated_number=number,
                kind=PersonKind.NON_RESIDENT,
                status=PersonStatus.NON_RESIDENT,
                source=source,
                **values,
            )
            fill_search_keys(person).save()
            detail = {"source": source, "author": _username(author)}
            if duplicates:
                detail["distinct_from"] = [p.integrated_number for p in duplicates]
            record(
                Action.CREATE,
                purpose=PURPOSE_REGISTER,
                object_type="person",
                subjects=[person.pk],
                detail=detail,
            )
    if blocking:
        _refuse_duplicate(Action.CREATE, PURPOSE_REGISTER, blocking)
    return person


# Correcting -------------------------------------------------------------------------------------------


def _not_found() -> Problem:
    # The same answer as the person page's for an id that does not exist.
    return _p("not_found", "該当する人が見つかりません。", "No such person.")


def _not_non_resident() -> Problem:
    return _p(
        "not_non_resident",
        "住民（元住民を含む）の5情報は住民記録から反映されます。住民記録の異動として届け出てください。",
        "A resident's (or former resident's) details come from the resident register: "
        "correct them there, as a move.",
    )


def _editable(person_id: int, action: Action, purpose: str) -> Person:
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        # Unknown ids are how enumeration looks in the log: keep the attempt.
        record(action, purpose=purpose, outcome=Outcome.FAILED, criteria={"person_id": person_id})
        raise _not_found()
    if person.kind != PersonKind.NON_RESIDENT:
        raise _not_non_resident()
    return person


def non_resident_for_edit(person_id: int) -> Person:
    """The non-resident whose 5情報 a clerk is about to correct (a logged read)."""
    person = _editable(person_id, Action.VIEW, PURPOSE_CHANGE)
    record(Action.VIEW, purpose=PURPOSE_CHANGE, object_type="person", subjects=[person.pk])
    return person


def form_values(person: Person) -> dict[str, str]:
    """A person's 5情報 and source as form fields (the edit form starts from these)."""
    values = {name: getattr(person, name) for name in ITEMS}
    values["birth_date"] = person.birth_date.isoformat()
    values["source"] = person.source
    return values


def update_non_resident(person_id: int, data, *, author) -> tuple[Person, list[str]]:
    """Correct a non-resident's 5情報 (and, if given, the basis); returns the person and what changed.

    ``data`` carries every item (the edit form is filled from the record); items left as they were
    are not written. The audit event names the changed items only.
    """
    data = data if data is not None else {}
    values, problems = read_items(data)
    if "source" in data:
        values["source"], source_problems = read_source(data.get("source"))
        problems += source_problems
    person = _editable(person_id, Action.CHANGE, PURPOSE_CHANGE)
    if problems:
        # The form comes back with this person's record around it: the attempt is logged.
        record(
            Action.CHANGE,
            purpose=PURPOSE_CHANGE,
            outcome=Outcome.FAILED,
            object_type="person",
            subjects=[person.pk],
            detail={"problems": sorted({p.code for p in problems})},
        )
        raise ProblemList(problems)
    distinct_from = _distinct_from(data)
    blocking: list[Person] = []
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        changed = [name for name, value in values.items() if getattr(person, name) != value]
        if any(name in _KEY_ITEMS for name in changed):
            blocking = [
                p for p in _duplicates(values, exclude=person.pk) if p.integrated_number not in distinct_from
            ]
        if changed and not blocking:
            for name in changed:
                setattr(person, name, values[name])
            fill_search_keys(person)
            keys = ["kana_key", "given_kana_key", "kanji_key", "given_kanji_key", "latin_key", "address_key"]
            person.save(update_fields=[*changed, *keys])
            record(
                Action.CHANGE,
                purpose=PURPOSE_CHANGE,
                object_type="person",
                subjects=[person.pk],
                detail={"changed": changed, "author": _username(author)},
            )
    if blocking:
        _refuse_duplicate(Action.CHANGE, PURPOSE_CHANGE, blocking, subject=person.pk)
    return person, changed
