"""Searching the register by the 4情報, under the seeds' rule against building a database of people:
at least two items other than sex (name and address, or name and date of birth, ...)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from sesshu.core.problems import Problem, ProblemList, too_long
from sesshu.core.text import address_key, name_key, nfkc, starts_with
from sesshu.core.wareki import parse_date

from .models import Resident, ResidentStatus


@dataclass
class RegisterCriteria:
    name: str = ""
    birth_date: date | None = None
    address: str = ""
    sex: str = ""
    include_former: bool = False  # moved out, deceased and deleted residents too

    def for_audit(self) -> dict:
        return {
            "name": self.name,
            "birth_date": self.birth_date.isoformat() if self.birth_date else "",
            "address": self.address,
            "sex": self.sex,
            "include_former": self.include_former,
        }


def parse_register_search(params) -> RegisterCriteria:
    problems = []
    name = nfkc(str(params.get("name", "") or "")).strip().replace("\x00", "")
    address = nfkc(str(params.get("address", "") or "")).strip().replace("\x00", "")
    sex = str(params.get("sex", "") or "").strip()
    birth_date = None
    if len(name) > 100:
        problems.append(too_long("name", "氏名", "Name", 100))
    if len(address) > 200:
        problems.append(too_long("address", "住所", "Address", 200))
    if sex not in {"", "M", "F"}:
        problems.append(
            Problem("invalid_choice", "性別は男・女から選んでください。", "Choose male or female.", "sex")
        )
    raw_birth = str(params.get("birth_date", "") or "").strip()
    if raw_birth:
        try:
            birth_date = parse_date(raw_birth[:40], field="birth_date")
        except Problem as problem:
            problems.append(problem)
    if not problems and sum(bool(x) for x in (name, birth_date, address)) < 2:
        problems.append(
            Problem(
                "two_items_required",
                "住民記録の検索には、性別以外の2項目以上（氏名と住所、氏名と生年月日など）を入力してください。",
                "A register search needs at least two items besides sex "
                "(name and address, name and birth date, ...).",
            )
        )
    if problems:
        raise ProblemList(problems)
    include_former = str(params.get("include_former", "")).lower() in {"1", "true", "on", "yes"}
    return RegisterCriteria(name, birth_date, address, sex, include_former)


def search_register(criteria: RegisterCriteria) -> QuerySet[Resident]:
    residents = Resident.objects.select_related("household")
    if not criteria.include_former:
        residents = residents.filter(status=ResidentStatus.RESIDENT)
    if criteria.name:
        kind, key = name_key(criteria.name)
        if kind == "kana":
            residents = residents.filter(**starts_with("kana_key", key))
        elif kind == "latin":
            residents = residents.filter(latin_name__icontains=criteria.name.strip())
        else:
            residents = residents.filter(
                Q(**starts_with("kanji_key", key)) | Q(alias__startswith=criteria.name)
            )
    if criteria.birth_date:
        residents = residents.filter(birth_date=criteria.birth_date)
    if criteria.address:
        residents = residents.filter(address_key__contains=address_key(criteria.address))
    if criteria.sex:
        residents = residents.filter(sex=criteria.sex)
    return residents.order_by("kana_key", "birth_date", "id")
