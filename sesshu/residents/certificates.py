"""Issuing a certified copy of the resident record (住民票の写し): checks, the PDF, the issuance register.

``issue_juminhyo`` reads a household as it stood on a date, checks the request, and in one transaction
takes the next certificate number, draws the PDF, writes the issuance row (交付簿) and one audit
event. Only the PDF's SHA-256 is kept: a second copy is a new issue with a new number.

A copy shows the members who are residents of the household on the date. Members who died, moved
out or were deleted are on a 除票 (a different certificate, not issued here).
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.problems import Problem, ProblemList
from sesshu.core.wareki import era_of

from .history import household_as_of, household_now
from .input import Reader
from .models import Household, JuminhyoIssue, NumberCounter, RegisterRecord, Resident, ResidentRevision, Sex
from .pdf import JuminhyoCopy, MemberEntry, UnprintableCharacters, render_juminhyo, unprintable_characters

PURPOSE = "住民票の写し交付 (certified copy of the resident record)"
DEFAULT_CITY_NAME = "東和県桜ヶ丘市"
DEFAULT_MAYOR_TITLE = "桜ヶ丘市長"
SEQUENCE_DIGITS = 6
MYNUMBER_REFUSAL_CODE = "mynumber_not_available"


@dataclass(frozen=True)
class CopyOptions:
    """What the requester asked to have printed (住民票の記載事項の選択)."""

    include_domicile: bool = False  # 本籍・筆頭者
    include_relationship: bool = True  # 続柄 (and 世帯主)
    include_juminhyo_code: bool = False
    include_mynumber: bool = False

    def as_dict(self) -> dict[str, bool]:
        return {
            "include_domicile": self.include_domicile,
            "include_relationship": self.include_relationship,
            "include_juminhyo_code": self.include_juminhyo_code,
            "include_mynumber": self.include_mynumber,
        }


def city_name() -> str:
    return getattr(settings, "SESSHU_CITY_NAME", DEFAULT_CITY_NAME)


def mayor_title() -> str:
    return getattr(settings, "SESSHU_MAYOR_TITLE", DEFAULT_MAYOR_TITLE)


# Certificate numbers ------------------------------------------------------------------------------------


def fiscal_year_prefix(day: date) -> str:
    """The 年度 of ``day`` as era letter and year: 2025-04-01 .. 2026-03-31 -> "R7".

    The era is the one in force at the end of the fiscal year, as cities named FY2019 令和元年度.
    """
    fiscal_year = day.year if day.month >= 4 else day.year - 1
    era = era_of(date(fiscal_year + 1, 3, 31))
    return f"{era.letter}{fiscal_year - era.start.year + 1}"


def next_certificate_number(issued_on: date) -> str:
    """ "R7-000123": the next number of the fiscal year; call inside a transaction (the counter is locked).

    Each fiscal year has its own counter row, so numbers restart at 000001 every April.
    """
    prefix = fiscal_year_prefix(issued_on)
    series = f"juminhyo_{prefix}"
    NumberCounter.objects.get_or_create(name=series, defaults={"value": 0})
    counter = NumberCounter.objects.select_for_update().get(name=series)
    counter.value += 1
    counter.save(update_fields=["value"])
    return f"{prefix}-{counter.value:0{SEQUENCE_DIGITS}d}"


# Reading the household ----------------------------------------------------------------------------------


def members_on(household: Household, as_of: date, today: date) -> list[RegisterRecord]:
    """The residents of the household on ``as_of``, head first: the current copies for today."""
    if as_of >= today:
        return household_now(household)
    return household_as_of(household, as_of)


def resident_of(member: RegisterRecord) -> Resident:
    return member.resident if isinstance(member, ResidentRevision) else member


def member_entry(member: RegisterRecord, options: CopyOptions) -> MemberEntry:
    """The items printed for one member; what was not asked for is None here, so it cannot be printed."""
    resident = resident_of(member)
    japanese = not member.is_foreign
    return MemberEntry(
        name=member.full_name,
        name_kana=member.full_name_kana,
        latin_name=member.latin_name,
        birth_date=member.birth_date,
        sex="男" if member.sex == Sex.MALE else "女",
        relationship=member.relationship if options.include_relationship else None,
        became_resident_on=member.became_resident_on,
        became_resident_reason=member.became_resident_reason,
        address_since=member.address_since,
        address_notified_on=member.address_notified_on,
        address_reason=member.address_reason,
        previous_address=member.previous_address,
        registered_domicile=member.registered_domicile if options.include_domicile and japanese else None,
        domicile_head=member.domicile_head if options.include_domicile and japanese else None,
        juminhyo_code=(resident.juminhyo_code or "") if options.include_juminhyo_code else None,
        nationality=member.nationality,
        became_foreign_resident_on=member.became_foreign_resident_on,
        residence_status=member.residence_status,
        residence_period=member.residence_period,
        residence_expiry=member.residence_expiry,
        alias=member.alias,
        alias_kana=member.alias_kana,
    )


# Checks -------------------------------------------------------------------------------------------------


def mynumber_refusal() -> Problem:
    # Until the addressee issue brings the My Number vault and the number-use right to this screen.
    return Problem(
        MYNUMBER_REFUSAL_CODE,
        "個人番号入りの写しは番号利用事務の権限と理由が必要です（統合宛名の実装後に対応）",
        "A copy with the My Number needs the number-use right and a reason "
        "(available once the integrated addressee is in place).",
        "include_mynumber",
    )


def _check_request(
    requester_kind: str, requester_name: str, purpose: str, as_of: date, today: date
) -> tuple[list[Problem], str, str]:
    reader = Reader({"requester_kind": requester_kind, "requester_name": requester_name, "purpose": purpose})
    reader.choice("requester_kind", "請求者の区分", "kind of requester", set(JuminhyoIssue.Requester.values))
    name = reader.text("requester_name", "請求者の氏名", "requester's name", limit=100)
    purpose = reader.text("purpose", "利用目的", "purpose of use", limit=200)
    if as_of > today:
        reader.problems.append(
            Problem(
                "future_date",
                "基準日に未来の日付は指定できません。",
                "The as-of date cannot be in the future.",
                "as_of",
            )
        )
    return reader.problems, name, purpose


def _choose_members(
    members: list[RegisterRecord], resident_numbers: list[str] | None
) -> tuple[list[RegisterRecord], list[Problem]]:
    if resident_numbers is None:
        return members, []
    numbers = list(dict.fromkeys(str(n).strip() for n in resident_numbers if str(n).strip()))
    if not numbers:
        return [], [
            Problem(
                "required",
                "写しに記載する方を選んでください。",
                "Choose the members to print on the copy.",
                "resident_numbers",
            )
        ]
    by_number = {resident_of(m).resident_number: m for m in members}
    strangers = [n for n in numbers if n not in by_number]
    if strangers:
        return [], [
            Problem(
                "not_member",
                f"宛名番号 {strangers[0][:12]} の方は基準日にこの世帯の住民ではありません"
                "（転出・死亡した方は除票で証明します）。",
                f"Resident {strangers[0][:12]} was not a resident of this household on the date "
                "(a person who moved out or died needs a 除票, a different certificate).",
                "resident_numbers",
            )
        ]
    chosen = set(numbers)
    # Printed in the register's order (head first, then by birth date), whatever order was asked for.
    return [m for m in members if resident_of(m).resident_number in chosen], []


def _support_measure_problem(members: Iterable[RegisterRecord], requester_kind: str) -> Problem | None:
    """支援措置 (DV, stalking, abuse): a copy of a protected person goes to them or their household only.

    The protection in force today counts, also for a copy as of a date before it was granted.
    """
    protected = any(m.support_measure or resident_of(m).support_measure for m in members)
    if requester_kind == JuminhyoIssue.Requester.AGENT and protected:
        return Problem(
            "support_measure",
            "支援措置の対象者を含む写しは、代理人の請求では交付できません。本人または同一世帯員の請求に限ります。",
            "A copy that includes a person under a support measure (支援措置) cannot be issued to an "
            "agent: only to the person or a member of the same household.",
            "requester_kind",
        )
    return None


# Issuing ------------------------------------------------------------------------------------------------


def issue_juminhyo(
    household_number: str,
    *,
    resident_numbers: list[str] | None = None,
    include_domicile: bool = False,
    include_relationship: bool = True,
    include_juminhyo_code: bool = False,
    include_mynumber: bool = False,
    as_of: date | None = None,
    requester_kind: str,
    requester_name: str,
    purpose: str,
    issued_by,
) -> tuple[JuminhyoIssue, bytes]:
    """Check the request, then number, draw and register the copy; raise ProblemList for bad input.

    ``resident_numbers`` None prints the whole household (世帯全員); a list prints those members only.
    """
    issued_at = timezone.now()
    today = timezone.localdate(issued_at)
    as_of = as_of or today
    options = CopyOptions(include_domicile, include_relationship, include_juminhyo_code, include_mynumber)
    problems, requester_name, purpose = _check_request(requester_kind, requester_name, purpose, as_of, today)
    if include_mynumber:
        # Logged as a refusal: asking for the My Number is worth seeing in the log even when refused.
        record(
            Action.DENIED,
            purpose=PURPOSE,
            outcome=Outcome.DENIED,
            object_type="resident",
            detail={"reason": MYNUMBER_REFUSAL_CODE, "household_number": str(household_number)[:12]},
        )
        problems.append(mynumber_refusal())
    number = str(household_number or "").strip()
    household = Household.objects.filter(household_number=number).first() if number else None
    household_members: list[RegisterRecord] = []
    if household is None:
        problems.append(
            Problem(
                "unknown_household",
                "指定の世帯番号の世帯はありません。",
                "There is no household with that number.",
                "household_number",
            )
        )
    elif as_of <= today:
        household_members = members_on(household, as_of, today)
        if not household_members:
            problems.append(
                Problem(
                    "no_residents",
                    "この世帯には基準日に住民がいません。",
                    "This household had no residents on the as-of date.",
                    "household_number",
                )
            )
    members: list[RegisterRecord] = []
    if household_members:
        members, choice_problems = _choose_members(household_members, resident_numbers)
        problems += choice_problems
    if problem := _support_measure_problem(members, requester_kind):
        problems.append(problem)
    if problems:
        raise ProblemList(problems)

    # A partial copy (世帯一部) still names the household's head, who may not be printed below.
    head = next((m for m in household_members if m.is_head), None)
    entries = [member_entry(m, options) for m in members]
    copy = JuminhyoCopy(
        certificate_number="R0-000000",  # replaced once the number is taken, inside the transaction
        city_name=city_name(),
        mayor_title=mayor_title(),
        issued_on=today,
        as_of=as_of,
        address=(head or members[0]).address,
        head_name=head.full_name if head else "",
        members=entries,
    )
    if unprintable := unprintable_characters(copy):
        raise ProblemList([_unprintable_problem(unprintable)])

    printed = [resident_of(m) for m in members]
    with transaction.atomic():
        certificate_number = next_certificate_number(today)
        try:
            rendered = render_juminhyo(replace(copy, certificate_number=certificate_number))
        except UnprintableCharacters as exc:  # checked above; the number is rolled back with the rest
            raise ProblemList([_unprintable_problem(exc.characters)]) from None
        issue = JuminhyoIssue.objects.create(
            certificate_number=certificate_number,
            issued_at=issued_at,
            issued_by=issued_by,
            household=household,
            resident_numbers=[r.resident_number for r in printed],
            options=options.as_dict(),
            as_of=as_of,
            requester_kind=requester_kind,
            requester_name=requester_name,
            purpose=purpose,
            pages=rendered.pages,
            sha256=hashlib.sha256(rendered.content).hexdigest(),
        )
        record(
            Action.EXPORT,
            purpose=PURPOSE,
            object_type="resident",
            subjects=[r.pk for r in printed],
            result_count=len(printed),
            detail={"certificate_number": certificate_number, "options": options.as_dict()},
        )
    return issue, rendered.content


def _unprintable_problem(characters: Iterable[str]) -> Problem:
    codes = " ".join(f"U+{ord(c):04X}" for c in sorted(set(characters)))[:60]
    return Problem(
        "unprintable_characters",
        f"印字できない文字（外字）が含まれています（{codes}）。外字の登録が必要です。",
        f"The record contains characters the certificate font cannot print ({codes}); "
        "they must be registered as 外字 first.",
    )
