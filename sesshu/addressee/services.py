"""Keeping the integrated identity, and finding persons by their 5情報."""

import re
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet

from sesshu.core.problems import Problem, ProblemList, too_long
from sesshu.core.text import address_key, kana_key, kanji_key, latin_key, name_key, nfkc, starts_with
from sesshu.core.wareki import parse_date
from sesshu.residents.models import Resident

from .models import BusinessNumber, BusinessSystem, Person, PersonKind, PersonStatus

_STATUS_FROM_REGISTER = {
    "resident": PersonStatus.RESIDENT,
    "moved_out": PersonStatus.MOVED_OUT,
    "deceased": PersonStatus.DECEASED,
    "deleted": PersonStatus.DELETED,  # 職権消除, 在留期間満了
}


def fill_search_keys(person: Person) -> Person:
    person.kana_key = kana_key(person.family_name_kana + person.given_name_kana)
    person.given_kana_key = kana_key(person.given_name_kana)
    person.kanji_key = kanji_key(person.family_name + person.given_name)
    person.given_kanji_key = kanji_key(person.given_name)
    person.latin_key = latin_key(person.latin_name)
    person.address_key = address_key(person.address)
    return person


def person_from_resident(resident: Resident, integrated_number: str) -> Person:
    """The addressee copy of a resident's 5情報 (unsaved: callers save one or many at once)."""
    person = Person(
        integrated_number=integrated_number,
        kind=PersonKind.RESIDENT,
        status=_STATUS_FROM_REGISTER[resident.status],
        status_date=resident.left_on,
        family_name=resident.family_name,
        given_name=resident.given_name,
        family_name_kana=resident.family_name_kana,
        given_name_kana=resident.given_name_kana,
        latin_name=resident.latin_name,
        birth_date=resident.birth_date,
        sex=resident.sex,
        postal_code=resident.postal_code,
        address=resident.moved_to_address if resident.status == "moved_out" else resident.address,
    )
    return fill_search_keys(person)


WITHHELD_JA = "（支援措置対象のため表示しません）"


def mask_protected(persons, user) -> None:
    """Withhold protected persons' addresses (支援措置) from staff without the right, on these objects
    only (never saved): screens, prints and exports built from them show the withheld text instead."""
    from sesshu.accounts.roles import has_right

    if has_right(user, "addressee.view_protected_address"):
        return
    for person in persons:
        if person.protected:
            person.address, person.postal_code = WITHHELD_JA, ""
            person.address_withheld = True


def resident_number_of(person: Person) -> str | None:
    return (
        BusinessNumber.objects.filter(person=person, system=BusinessSystem.RESIDENTS)
        .values_list("number", flat=True)
        .first()
    )


def persons_by_resident_number(numbers: list[str]) -> dict[str, int]:
    rows = BusinessNumber.objects.filter(system=BusinessSystem.RESIDENTS, number__in=numbers)
    return dict(rows.values_list("number", "person_id"))


# Search --------------------------------------------------------------------------------------------

NAME_MAX, ADDRESS_MAX = 100, 200


@dataclass
class SearchCriteria:
    name: str = ""
    birth_date: date | None = None
    address: str = ""
    include_inactive: bool = False  # moved-out and deceased persons too
    raw: dict = field(default_factory=dict)

    def for_audit(self) -> dict:
        return {
            "name": self.name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else "",
            "address": self.address,
            "include_inactive": self.include_inactive,
        }


def parse_search(params) -> SearchCriteria:
    """Read search input from a form or query string; every problem found is reported at once."""
    problems: list[Problem] = []
    name = nfkc(str(params.get("name", "") or "")).strip()
    address = nfkc(str(params.get("address", "") or "")).strip()
    birth_raw = str(params.get("birth_date", "") or "").strip()
    if len(name) > NAME_MAX:
        problems.append(too_long("name", "氏名", "Name", NAME_MAX))
    if len(address) > ADDRESS_MAX:
        problems.append(too_long("address", "住所", "Address", ADDRESS_MAX))
    birth_date = None
    if birth_raw:
        try:
            birth_date = parse_date(birth_raw[:40], field="birth_date")
        except Problem as problem:
            problems.append(problem)
    if "\x00" in name + address:
        problems.append(
            Problem(
                "invalid_character",
                "使用できない文字が含まれています。",
                "The input contains a character that cannot be used.",
            )
        )
    if not problems and not (name or address or birth_date):
        problems.append(
            Problem(
                "no_criteria",
                "氏名（漢字・カナ・ローマ字）、生年月日、住所のいずれかを入力してください。",
                "Enter a name (kanji, kana or Latin), a birth date or an address.",
            )
        )
    if problems:
        raise ProblemList(problems)
    include_inactive = str(params.get("include_inactive", "")).lower() in {"1", "true", "on", "yes"}
    return SearchCriteria(
        name=name, birth_date=birth_date, address=address, include_inactive=include_inactive
    )


def search_persons(criteria: SearchCriteria) -> QuerySet[Person]:
    persons = Person.objects.all()
    if not criteria.include_inactive:
        persons = persons.filter(status__in=[PersonStatus.RESIDENT, PersonStatus.NON_RESIDENT])
    if criteria.name:
        kind, key = name_key(criteria.name)
        if not key:
            return persons.none()
        if kind == "kana":
            persons = persons.filter(
                Q(**starts_with("kana_key", key)) | Q(**starts_with("given_kana_key", key))
            )
        elif kind == "latin":
            persons = persons.filter(latin_key__contains=key)
        else:
            persons = persons.filter(
                Q(**starts_with("kanji_key", key)) | Q(**starts_with("given_kanji_key", key))
            )
    if criteria.birth_date:
        persons = persons.filter(birth_date=criteria.birth_date)
    if criteria.address:
        key = address_key(criteria.address)
        if not key:
            return persons.none()
        persons = persons.filter(address_key__contains=key)
    return persons.order_by("kana_key", "birth_date", "id")


def set_alternative_address(person_id: int, postal_code: str, address: str) -> Person:
    """The mailing address for a protected person (支援措置): notices go there, never to the home.

    Only staff who may see the protected address set it (the view checks); the change is logged with
    the field names, not the address.
    """
    from sesshu.audit.models import Action
    from sesshu.audit.services import record

    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Problem("not_found", "該当する人が見つかりません。", "No such person.")
    postal_code, address = nfkc(postal_code).strip(), nfkc(address).strip()
    problems = []
    if len(address) > ADDRESS_MAX:
        problems.append(too_long("alternative_address", "送付先住所", "Mailing address", ADDRESS_MAX))
    if postal_code and not re.fullmatch(r"\d{3}-?\d{4}", postal_code):
        problems.append(
            Problem(
                "invalid_postal_code",
                "郵便番号は7桁です（例 359-0001）。",
                "A postal code has 7 digits.",
                "alternative_postal_code",
            )
        )
    if problems:
        raise ProblemList(problems)
    person.alternative_postal_code, person.alternative_address = postal_code, address
    person.save(update_fields=["alternative_postal_code", "alternative_address"])
    record(
        Action.CHANGE,
        purpose="支援措置 送付先の登録 (mailing address of a protected person)",
        object_type="person",
        subjects=[person.pk],
        detail={"fields": ["alternative_postal_code", "alternative_address"]},
    )
    return person
