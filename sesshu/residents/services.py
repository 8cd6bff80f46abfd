"""Reading the register for other apps. Writing it (moves) comes with the resident-register issue."""

from dataclasses import dataclass

from .models import Household, Resident


@dataclass
class HouseholdView:
    household: Household
    members: list[Resident]


def household_of(resident_number: str) -> HouseholdView | None:
    resident = Resident.objects.select_related("household").filter(resident_number=resident_number).first()
    if resident is None:
        return None
    members = list(
        resident.household.members.filter(status="resident").order_by("-is_head", "birth_date", "id")
    )
    return HouseholdView(resident.household, members)
