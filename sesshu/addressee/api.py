"""The integrated addressee's API: number conversion for business systems, and non-resident registration.

The services (conversion.py, non_residents.py) check the input and write the audit events; these
operations only check the right and shape the answer. Errors are the API's usual bilingual list.
"""

from datetime import date

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from sesshu.accounts.api_access import api_right

from . import conversion, non_residents
from .models import Person

router = Router(tags=["addressee"])


class ConvertQuery(Schema):
    system: str = ""
    number: str = ""


class Conversion(Schema):
    integrated_number: str
    person_id: int


class BusinessNumbers(Schema):
    person_id: int
    integrated_number: str
    numbers: dict[str, str]  # system -> that system's number for the person


class NonResidentIn(Schema):
    # Everything is text: the service reads it as a clerk's form would (和暦 dates, hiragana
    # readings, full-width digits) and answers with bilingual problems, not a schema error.
    family_name: str = ""
    given_name: str = ""
    family_name_kana: str = ""
    given_name_kana: str = ""
    latin_name: str = ""
    birth_date: str = ""
    sex: str = ""
    postal_code: str = ""
    address: str = ""
    source: str = ""
    not_duplicate_of: str = ""  # integrated numbers checked to be other people (after possible_duplicate)


class NonResidentOut(Schema):
    id: int
    integrated_number: str
    kind: str
    status: str
    name: str
    name_kana: str
    latin_name: str
    birth_date: date
    sex: str
    postal_code: str
    address: str
    source: str


@router.get(
    "/addressee/convert",
    response=Conversion,
    summary="The person a business system knows by its own number (業務宛名番号 → 統合宛名番号)",
)
@api_right("addressee.view_person", conversion.PURPOSE_CONVERT)
def convert_business_number(request: HttpRequest, query: Query[ConvertQuery]):
    person = conversion.person_for_business_number(query.system, query.number)
    if person is None:
        raise conversion.number_not_found()
    return {"integrated_number": person.integrated_number, "person_id": person.pk}


@router.get(
    "/addressee/persons/{int:person_id}/business-numbers",
    response=BusinessNumbers,
    summary="Every business system's number for a person (統合宛名番号 → 業務宛名番号)",
)
@api_right("addressee.view_person", conversion.PURPOSE_CONVERT)
def get_business_numbers(request: HttpRequest, person_id: int):
    numbers = conversion.business_numbers_of(person_id)
    person = Person.objects.only("integrated_number").get(pk=person_id)
    return {"person_id": person.pk, "integrated_number": person.integrated_number, "numbers": numbers}


@router.post(
    "/addressee/non-residents",
    response={201: NonResidentOut},
    summary="Register a non-resident (住登外者) and give them an integrated addressee number",
)
@api_right("addressee.register_non_resident", non_residents.PURPOSE_REGISTER)
def create_non_resident(request: HttpRequest, body: NonResidentIn):
    data = body.dict()
    person = non_residents.register_non_resident(data, source=data.pop("source"), author=request.user)
    return Status(
        201,
        {
            "id": person.pk,
            "integrated_number": person.integrated_number,
            "kind": person.kind,
            "status": person.status,
            "name": person.full_name,
            "name_kana": person.full_name_kana,
            "latin_name": person.latin_name,
            "birth_date": person.birth_date,
            "sex": person.sex,
            "postal_code": person.postal_code,
            "address": person.address,
            "source": person.source,
        },
    )
