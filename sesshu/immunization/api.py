from datetime import date

from django.conf import settings
from ninja import Query, Router, Schema

from sesshu.accounts.api_access import api_right
from sesshu.addressee.services import parse_search
from sesshu.core.paging import page_number

from . import services

router = Router(tags=["persons"])


class PersonSummary(Schema):
    id: int
    integrated_number: str
    name: str
    name_kana: str
    latin_name: str
    birth_date: date
    sex: str
    address: str
    status: str


class HouseholdMember(Schema):
    person_id: int | None
    name: str
    relationship: str
    birth_date: date


class PersonDetail(PersonSummary):
    postal_code: str
    household_number: str | None
    household: list[HouseholdMember]


class Immunization(Schema):
    vaccine: str
    vaccine_name: str
    dose_number: int
    date: date
    clinic: str
    lot_number: str
    before_move_in: bool


class PersonPage(Schema):
    count: int
    page: int
    pages: int
    results: list[PersonSummary]


class PersonQuery(Schema):
    name: str = ""
    birth_date: str = ""
    address: str = ""
    include_inactive: bool = False
    page: int = 1
    page_size: int = 20


def _summary(p) -> dict:
    return {
        "id": p.pk,
        "integrated_number": p.integrated_number,
        "name": p.full_name,
        "name_kana": p.full_name_kana,
        "latin_name": p.latin_name,
        "birth_date": p.birth_date,
        "sex": p.sex,
        "address": p.address,
        "status": p.status,
    }


@router.get("/persons", response=PersonPage, summary="Search persons by name, birth date or address")
@api_right("addressee.search_person", services.PURPOSE_SEARCH)
def search_persons(request, query: Query[PersonQuery]):
    criteria = parse_search(query.dict())
    page_size = max(1, min(query.page_size, settings.SESSHU_API_MAX_PAGE_SIZE))
    page = services.find_persons(criteria, page_number(query.page), page_size, viewer=request.user)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [_summary(p) for p in page.object_list],
    }


@router.get("/persons/{int:person_id}", response=PersonDetail, summary="A person's 5情報 and household")
@api_right("addressee.view_person", services.PURPOSE_VIEW)
def get_person(request, person_id: int):
    record = services.person_record(person_id, viewer=request.user)
    household = record.household
    return _summary(record.person) | {
        "postal_code": record.person.postal_code,
        "household_number": household.household.household_number if household else None,
        "household": [
            {
                "person_id": record.household_person_ids.get(m.resident_number),
                "name": m.full_name,
                "relationship": m.relationship,
                "birth_date": m.birth_date,
            }
            for m in (household.members if household else [])
        ],
    }


@router.get(
    "/persons/{int:person_id}/immunizations", response=list[Immunization], summary="Vaccination history"
)
@api_right("immunization.view_vaccinationrecord", services.PURPOSE_HISTORY)
def get_immunizations(request, person_id: int):
    _, vaccinations = services.vaccination_history(person_id)
    return [
        {
            "vaccine": v.vaccine_id,
            "vaccine_name": v.vaccine.name_ja,
            "dose_number": v.dose_number,
            "date": v.vaccinated_on,
            "clinic": v.clinic_name,
            "lot_number": v.lot_number,
            "before_move_in": v.before_move_in,
        }
        for v in vaccinations
    ]
