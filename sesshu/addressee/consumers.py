"""The addressee's consumer of the register's events: keeps every resident's 統合宛名 up to date.

A resident who enters the register (転入, 出生, 職権記載) gets an integrated number the first time an
event names them; every later event refreshes the 5情報 copy and the status. Applying the same event
twice changes nothing.
"""

from datetime import date

from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.residents.numbers import next_number_for

from .models import BusinessNumber, BusinessSystem, Person, PersonKind, PersonStatus
from .services import fill_search_keys

PURPOSE = "統合宛名 住基連携 (integrated addressee: register feed)"
INTEGRATED_NUMBER_BASE = 10**14  # 15 digits, as the synthetic city's
_STATUS = {
    "resident": PersonStatus.RESIDENT,
    "moved_out": PersonStatus.MOVED_OUT,
    "deceased": PersonStatus.DECEASED,
    "deleted": PersonStatus.DELETED,
}


def on_register_events(events) -> None:
    touched = []
    for event in events:
        touched.append(apply_payload(event.payload).pk)
    record(
        Action.CHANGE,
        purpose=PURPOSE,
        object_type="person",
        subjects=touched,
        detail={"events": [events[0].pk, events[-1].pk], "count": len(events)},
    )


def apply_payload(payload: dict) -> Person:
    link = (
        BusinessNumber.objects.select_related("person")
        .filter(system=BusinessSystem.RESIDENTS, number=payload["resident_number"])
        .first()
    )
    if link is None:
        person = Person(
            integrated_number=next_number_for(
                "integrated_number", Person, "integrated_number", INTEGRATED_NUMBER_BASE
            ),
            kind=PersonKind.RESIDENT,
        )
    else:
        person = link.person
    status = payload.get("status", "resident")
    person.status = _STATUS.get(status, PersonStatus.RESIDENT)
    person.status_date = _date(payload.get("left_on"))
    for name in (
        "family_name",
        "given_name",
        "family_name_kana",
        "given_name_kana",
        "latin_name",
        "sex",
        "postal_code",
    ):
        setattr(person, name, payload.get(name, "") or "")
    person.birth_date = _date(payload["birth_date"])
    person.address = payload.get("moved_to_address") if status == "moved_out" else payload.get("address", "")
    fill_search_keys(person)
    person.save()
    if link is None:
        BusinessNumber.objects.create(
            person=person, system=BusinessSystem.RESIDENTS, number=payload["resident_number"]
        )
    return person


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None
