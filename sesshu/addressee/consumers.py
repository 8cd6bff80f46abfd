"""The addressee's consumer of the register's events: keeps every resident's 統合宛名 up to date.

A resident who enters the register (転入, 出生, 職権記載) gets an integrated number the first time an
event names them; every later event refreshes the 5情報 copy and the status. A batch of events is
applied with a few bulk statements (the daily feed brings thousands at once), and applying the same
events twice changes nothing.
"""

from datetime import date

from sesshu.audit.models import Action
from sesshu.audit.services import record
from sesshu.core.bulk import update_rows
from sesshu.residents.numbers import next_numbers_for

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
_COPIED = (
    "family_name",
    "given_name",
    "family_name_kana",
    "given_name_kana",
    "latin_name",
    "sex",
    "postal_code",
)
_UPDATED = [
    *_COPIED, "status", "status_date", "birth_date", "address", "protected", "kana_key", "given_kana_key",
    "kanji_key", "given_kanji_key", "latin_key", "address_key",
]  # fmt: skip


def on_register_events(events) -> None:
    latest: dict[str, dict] = {}
    for event in events:  # in order: the last event of a resident carries their current state
        latest[event.resident_number] = event.payload
    links = dict(
        BusinessNumber.objects.filter(system=BusinessSystem.RESIDENTS, number__in=list(latest)).values_list(
            "number", "person"
        )
    )
    # Only the ids: every column written back is set from the payload (fewer columns to read).
    persons = {p.pk: p for p in Person.objects.filter(pk__in=list(links.values())).only("id")}
    new_numbers = [number for number in latest if number not in links]
    integrated = next_numbers_for(
        "integrated_number", Person, "integrated_number", INTEGRATED_NUMBER_BASE, len(new_numbers)
    )
    created = []
    for resident_number, integrated_number in zip(new_numbers, integrated, strict=True):
        person = Person(integrated_number=integrated_number, kind=PersonKind.RESIDENT)
        created.append(_copy(latest[resident_number], person))
    Person.objects.bulk_create(created)
    BusinessNumber.objects.bulk_create(
        [
            BusinessNumber(person=person, system=BusinessSystem.RESIDENTS, number=number)
            for number, person in zip(new_numbers, created, strict=True)
        ]
    )
    updated = [_copy(latest[number], persons[person_id]) for number, person_id in links.items()]
    update_rows(Person, updated, _UPDATED)  # one prepared UPDATE for all (bulk_update costs ms a row)
    record(
        Action.CHANGE,
        purpose=PURPOSE,
        object_type="person",
        subjects=[p.pk for p in created + updated],
        detail={"events": [events[0].pk, events[-1].pk], "count": len(events), "new_persons": len(created)},
    )


def _copy(payload: dict, person: Person) -> Person:
    status = payload.get("status", "resident")
    person.status = _STATUS.get(status, PersonStatus.RESIDENT)
    person.status_date = _date(payload.get("left_on"))
    for name in _COPIED:
        setattr(person, name, payload.get(name, "") or "")
    person.birth_date = _date(payload["birth_date"])
    person.protected = bool(payload.get("support_measure"))
    person.address = payload.get("moved_to_address") if status == "moved_out" else payload.get("address", "")
    return fill_search_keys(person)


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None
