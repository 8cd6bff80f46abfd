"""Test data made through the same code paths the product uses (no pre-seeded rows)."""

import itertools
from datetime import date

from django.utils import timezone

from sesshu.accounts.models import Staff
from sesshu.accounts.roles import assign_role
from sesshu.addressee.models import BusinessNumber, BusinessSystem
from sesshu.addressee.services import person_from_resident
from sesshu.immunization.models import RecordSource, VaccinationRecord
from sesshu.residents.history import fill_keys, state_of
from sesshu.residents.models import Household, Resident, ResidentRevision

_seq = itertools.count(1)
PASSWORD = "Correct-Horse-42"


def make_staff(role: str | None, username: str | None = None) -> Staff:
    n = next(_seq)
    staff = Staff.objects.create_user(username=username or f"{role or 'norole'}{n}", password=PASSWORD)
    if role:
        assign_role(staff, role)
    return staff


def make_household(
    address: str = "東和県桜ヶ丘市緑町3丁目2番5号", postal_code: str = "359-0001"
) -> Household:
    """A household; its members (make_resident) live at this address."""
    n = next(_seq)
    household = Household.objects.create(household_number=f"9{n:09d}")
    household.test_address = (postal_code, address)
    return household


def make_resident(
    household: Household,
    family: tuple[str, str] = ("田中", "タナカ"),
    given: tuple[str, str] = ("太郎", "タロウ"),
    birth_date: date = date(2020, 4, 1),
    sex: str = "M",
    relationship: str = "世帯主",
    is_head: bool = True,
    status: str = "resident",
    latin_name: str = "",
    **extra,
):
    """A resident, its addressee person and the link between them; returns (resident, person)."""
    n = next(_seq)
    postal_code, address = household.test_address
    resident = Resident(
        resident_number=f"{10**9 + n}",
        household=household,
        postal_code=postal_code,
        address=address,
        relationship=relationship,
        is_head=is_head,
        family_name=family[0],
        family_name_kana=family[1],
        given_name=given[0],
        given_name_kana=given[1],
        latin_name=latin_name,
        birth_date=birth_date,
        sex=sex,
        became_resident_on=birth_date,
        became_resident_reason="出生",
        status=status,
        **extra,
    )
    fill_keys(resident)
    resident.save()
    ResidentRevision.objects.create(
        resident=resident, seq=1, valid_from=birth_date, recorded_at=timezone.now(), **state_of(resident)
    )
    person = person_from_resident(resident, integrated_number=f"{10**14 + n}")
    person.save()
    BusinessNumber.objects.create(
        person=person, system=BusinessSystem.RESIDENTS, number=resident.resident_number
    )
    return resident, person


def make_vaccination(
    person, vaccine: str = "MR", dose: int = 1, on: date = date(2021, 4, 10)
) -> VaccinationRecord:
    return VaccinationRecord.objects.create(
        person=person,
        vaccine_id=vaccine,
        dose_number=dose,
        vaccinated_on=on,
        clinic_name="桜ヶ丘こどもクリニック",
        lot_number="AB123C",
        source=RecordSource.MANUAL,
    )
