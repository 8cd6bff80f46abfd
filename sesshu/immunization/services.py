"""What the immunization register shows about persons, each read written to the audit log.

The screens and the API both come through here, so they show the same data and log the same events.
"""

from dataclasses import dataclass

from django.core.paginator import Page

from sesshu.accounts.roles import has_right
from sesshu.addressee.models import Person
from sesshu.addressee.services import (
    SearchCriteria,
    mask_protected,
    persons_by_resident_number,
    resident_number_of,
    search_persons,
)
from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.paging import page_of
from sesshu.core.problems import Problem
from sesshu.residents.services import HouseholdView, household_of

from .models import VaccinationRecord

PURPOSE_SEARCH = "予防接種台帳 対象者検索 (immunization register: person search)"
PURPOSE_VIEW = "予防接種台帳 個人照会 (immunization register: person record)"
PURPOSE_HISTORY = "予防接種台帳 接種履歴照会 (immunization register: vaccination history)"


def person_not_found() -> Problem:
    # One answer for "does not exist" and "may not see": the difference is itself information.
    return Problem("not_found", "該当する人が見つかりません。", "No such person.")


def find_persons(criteria: SearchCriteria, page_number: int = 1, page_size: int = 20, viewer=None) -> Page:
    persons = search_persons(criteria)
    if criteria.address and not has_right(viewer, "addressee.view_protected_address"):
        # Finding someone by address would tell where a protected person lives.
        persons = persons.exclude(protected=True)
    page = page_of(persons, page_number, page_size)
    record(
        Action.SEARCH,
        purpose=PURPOSE_SEARCH,
        object_type="person",
        subjects=[p.pk for p in page.object_list],
        criteria=criteria.for_audit() | {"page": page.number, "page_size": page_size},
        result_count=page.paginator.count,
    )
    mask_protected(page.object_list, viewer)
    return page


@dataclass
class PersonRecord:
    person: Person
    household: HouseholdView | None
    household_person_ids: dict[str, int]  # register number -> person id, for links
    vaccinations: list[VaccinationRecord]


def access_person(person_id: int, purpose: str) -> Person:
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        # Asking for ids that do not exist is how enumeration looks in the log: keep the attempt.
        record(Action.VIEW, purpose=purpose, outcome=Outcome.FAILED, criteria={"person_id": person_id})
        raise person_not_found()
    return person


def person_record(person_id: int, viewer=None) -> PersonRecord:
    """The person page: 5情報, the household, and the vaccination history."""
    person = access_person(person_id, PURPOSE_VIEW)
    resident_number = resident_number_of(person)
    household = household_of(resident_number) if resident_number else None
    member_ids: dict[str, int] = {}
    if household:
        member_ids = persons_by_resident_number([m.resident_number for m in household.members])
    vaccinations = list(
        person.vaccinations.active()
        .select_related("vaccine")
        .order_by("vaccine__sort_order", "dose_number", "vaccinated_on")
    )
    record(
        Action.VIEW,
        purpose=PURPOSE_VIEW,
        object_type="person",
        subjects=[person.pk, *member_ids.values()],
        result_count=len(vaccinations),
    )
    mask_protected([person], viewer)
    return PersonRecord(person, household, member_ids, vaccinations)


def vaccination_history(person_id: int) -> tuple[Person, list[VaccinationRecord]]:
    person = access_person(person_id, PURPOSE_HISTORY)
    vaccinations = list(
        person.vaccinations.active()
        .select_related("vaccine")
        .order_by("vaccinated_on", "vaccine__sort_order", "dose_number")
    )
    record(
        Action.VIEW,
        purpose=PURPOSE_HISTORY,
        object_type="vaccination_record",
        subjects=[person.pk],
        result_count=len(vaccinations),
    )
    return person, vaccinations
