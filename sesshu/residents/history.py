"""Revisions: writing a resident's next state, and reading any resident or household as of a date.

A revision is in force from its ``valid_from`` until the next revision of the same resident; among
revisions with the same ``valid_from`` the later ``seq`` wins (a correction made the same day).
"""

from datetime import date

from django.db.models import Max
from django.utils import timezone

from sesshu.core.text import address_key, kana_key, kanji_key

from .models import RECORD_FIELDS, Household, Resident, ResidentRevision, ResidentStatus


def state_of(record) -> dict:
    """The register items of a resident or revision, with the household, as a plain dict."""
    state = {name: getattr(record, name) for name in RECORD_FIELDS}
    state["household_id"] = record.household_id
    return state


def fill_keys(resident: Resident) -> None:
    resident.kana_key = kana_key(resident.family_name_kana + resident.given_name_kana)
    resident.kanji_key = kanji_key(resident.family_name + resident.given_name)
    resident.address_key = address_key(resident.address)


def new_resident(resident_number: str, state: dict, juminhyo_code: str | None = None) -> Resident:
    resident = Resident(resident_number=resident_number, juminhyo_code=juminhyo_code, **state)
    fill_keys(resident)
    resident.save()
    return resident


def write_revision(
    resident: Resident, changes: dict, valid_from: date, move=None, recorded_at=None
) -> ResidentRevision:
    """Append the resident's next revision (current state + changes) and make it the current copy."""
    state = state_of(resident) | changes
    seq = (resident.revisions.aggregate(m=Max("seq"))["m"] or 0) + 1
    revision = ResidentRevision.objects.create(
        resident=resident,
        seq=seq,
        valid_from=valid_from,
        recorded_at=recorded_at or timezone.now(),
        move=move,
        **state,
    )
    for name, value in state.items():
        setattr(resident, name, value)
    fill_keys(resident)
    resident.save()
    return revision


def latest_valid_from(resident: Resident) -> date | None:
    return resident.revisions.aggregate(m=Max("valid_from"))["m"]


def resident_as_of(resident: Resident, day: date) -> ResidentRevision | None:
    """The resident's 住民票 as it stood at the end of ``day`` (None: not yet in the register)."""
    return resident.revisions.filter(valid_from__lte=day).order_by("-valid_from", "-seq").first()


def household_as_of(household: Household, day: date) -> list[ResidentRevision]:
    """The members of a household at the end of ``day``, head first, then by birth date.

    Candidates are every resident who was ever in the household; each one's revision in force that
    day decides whether they still belonged to it and were still resident.
    """
    candidates = ResidentRevision.objects.filter(household=household, valid_from__lte=day).values(
        "resident_id"
    )
    in_force = {}
    for revision in (
        ResidentRevision.objects.filter(resident_id__in=candidates, valid_from__lte=day)
        .select_related("resident")
        .order_by("resident_id", "valid_from", "seq")
    ):
        in_force[revision.resident_id] = revision  # the last one per resident wins
    members = [
        r for r in in_force.values() if r.household_id == household.pk and r.status == ResidentStatus.RESIDENT
    ]
    return sorted(members, key=lambda r: (not r.is_head, r.birth_date, r.resident_id))


def household_now(household: Household) -> list[Resident]:
    return list(
        household.members.filter(status=ResidentStatus.RESIDENT).order_by("-is_head", "birth_date", "id")
    )
