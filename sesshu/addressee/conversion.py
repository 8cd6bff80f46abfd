"""The conversion service (番号変換): business systems' own numbers to the 統合宛名番号 and back.

Business systems that hold no My Number (most of them: only number-use work may) exchange persons
by their own addressee number (業務宛名番号). This module answers "who is number N in system S" and
"which numbers does this person have", and links a system's number to a person. Each call writes
its audit event (object type ``business_number``).

The register's link (system ``residents``) is made by the register consumer when a resident enters
the register, and only there: a hand-made link could attach a resident number to the wrong person,
and the consumer would then copy that resident's 5情報 onto them.
"""

import re

from django.db import IntegrityError, transaction

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.problems import Problem, ProblemList
from sesshu.core.text import nfkc

from .models import BusinessNumber, BusinessSystem, Person

PURPOSE_CONVERT = "統合宛名 番号変換 (integrated addressee: number conversion)"
PURPOSE_LINK = "業務宛名番号の紐付け (integrated addressee: linking a business number)"
NUMBER_MAX = 20  # BusinessNumber.number
_NUMBER = re.compile(r"^[0-9A-Za-z-]+$")
# Systems whose links another process owns (see the module docstring).
MANAGED_SYSTEMS = {BusinessSystem.RESIDENTS}


def _p(code: str, ja: str, en: str, field: str | None = None) -> Problem:
    return Problem(code, ja, en, field)


def read_system(raw) -> str:
    system = nfkc("" if raw is None else str(raw)).strip().lower()
    if not system:
        raise _p("required", "業務システムを指定してください。", "Name the business system.", "system")
    if system not in BusinessSystem.values:
        raise _p(
            "unknown_system",
            f"業務システム「{system[:20]}」はありません（{'、'.join(BusinessSystem.values)}）。",
            f"There is no business system “{system[:20]}” ({', '.join(BusinessSystem.values)}).",
            "system",
        )
    return system


def read_number(raw) -> str:
    number = nfkc("" if raw is None else str(raw)).strip()
    if not number:
        raise _p("required", "業務宛名番号を入力してください。", "Enter the business number.", "number")
    if len(number) > NUMBER_MAX or not _NUMBER.match(number):
        raise _p(
            "invalid_number",
            f"業務宛名番号は{NUMBER_MAX}文字以内の英数字です。",
            f"A business number is at most {NUMBER_MAX} letters and digits.",
            "number",
        )
    return number


def _read(system, number) -> tuple[str, str]:
    problems, values = [], []
    for reader, raw in ((read_system, system), (read_number, number)):
        try:
            values.append(reader(raw))
        except Problem as problem:
            problems.append(problem)
    if problems:
        raise ProblemList(problems)
    return values[0], values[1]


def number_not_found() -> Problem:
    return _p(
        "not_found",
        "この業務システムの番号に該当する人はいません。",
        "Nobody has this number in that business system.",
    )


def person_not_found() -> Problem:
    return _p("not_found", "該当する人が見つかりません。", "No such person.")


def person_for_business_number(system, number) -> Person | None:
    """The person a business system knows by ``number`` (None if nobody): a logged search."""
    system, number = _read(system, number)
    link = BusinessNumber.objects.select_related("person").filter(system=system, number=number).first()
    person = link.person if link else None
    record(
        Action.SEARCH,
        purpose=PURPOSE_CONVERT,
        object_type="business_number",
        subjects=[person.pk] if person else [],
        criteria={"system": system, "number": number},
        result_count=1 if person else 0,
    )
    return person


def _person(person_id: int, action: Action, purpose: str) -> Person:
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        # Unknown ids are how enumeration looks in the log: keep the attempt.
        record(action, purpose=purpose, outcome=Outcome.FAILED, criteria={"person_id": person_id})
        raise person_not_found()
    return person


def business_numbers_of(person_id: int) -> dict[str, str]:
    """Every business system's number for the person, by system: a logged read."""
    person = _person(person_id, Action.VIEW, PURPOSE_CONVERT)
    # One number per system (link_business_number keeps it so); the lowest wins should old data differ.
    numbers: dict[str, str] = {}
    links = BusinessNumber.objects.filter(person=person).order_by("system", "number")
    for system, number in links.values_list("system", "number"):
        numbers.setdefault(system, number)
    record(
        Action.VIEW,
        purpose=PURPOSE_CONVERT,
        object_type="business_number",
        subjects=[person.pk],
        result_count=len(numbers),
    )
    return numbers


def _number_in_use() -> Problem:
    # Who holds the number is not said: the clerk or system asking may not be entitled to know.
    return _p(
        "number_in_use",
        "この業務宛名番号はすでに別の人に紐付いています。",
        "This business number is already linked to someone else.",
        "number",
    )


def _already_linked() -> Problem:
    return _p(
        "already_linked",
        "この人にはすでにこの業務システムの番号が紐付いています。",
        "This person already has a number in that business system.",
        "system",
    )


def link_business_number(person_id: int, system, number, *, author) -> BusinessNumber:
    """Link a business system's own number to a person: one number per person and system, and one
    person per number. Linking the same pair again changes nothing (and writes no event)."""
    system, number = _read(system, number)
    person = _person(person_id, Action.CREATE, PURPOSE_LINK)
    if system in MANAGED_SYSTEMS:
        raise ProblemList(
            [
                _p(
                    "managed_by_register",
                    "住民基本台帳の宛名番号は住民記録から自動で紐付きます。手作業では紐付けられません。",
                    "Resident register numbers are linked by the register itself, never by hand.",
                    "system",
                )
            ]
        )
    refusal: tuple[str, Problem] | None = None
    try:
        with transaction.atomic():
            # The person's row is locked so that two links for one person and system cannot both pass
            # the check below; the (system, number) constraint covers the other direction.
            Person.objects.select_for_update().filter(pk=person.pk).first()
            existing = BusinessNumber.objects.filter(system=system, number=number).first()
            if existing is not None and existing.person_id == person.pk:
                return existing
            if existing is not None:
                refusal = ("number_in_use", _number_in_use())
            elif BusinessNumber.objects.filter(person=person, system=system).exists():
                refusal = ("already_linked", _already_linked())
            else:
                link = BusinessNumber.objects.create(person=person, system=system, number=number)
                record(
                    Action.CREATE,
                    purpose=PURPOSE_LINK,
                    object_type="business_number",
                    subjects=[person.pk],
                    detail={
                        "system": system,
                        "number": number,
                        "author": author.get_username() if author is not None else "",
                    },
                )
    except IntegrityError:
        # Another link of the same number was committed between the check and the insert.
        refusal = ("number_in_use", _number_in_use())
    if refusal is not None:
        # Outside the transaction, so that the refusal stays in the log.
        record(
            Action.CREATE,
            purpose=PURPOSE_LINK,
            outcome=Outcome.FAILED,
            object_type="business_number",
            subjects=[person.pk],
            detail={"system": system, "reason": refusal[0]},
        )
        raise ProblemList([refusal[1]])
    return link
