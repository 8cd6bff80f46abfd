"""The immunization register's consumer of the register's events.

Persons themselves are kept by the addressee consumer (which runs first); here a move-in opens a
history check for the health centre, so a new resident's earlier vaccinations are asked for.
"""

from datetime import date

from sesshu.addressee.models import BusinessNumber, BusinessSystem
from sesshu.audit.models import Action
from sesshu.audit.services import record

from .models import MoveInHistoryCheck

PURPOSE = "予防接種台帳 住基連携 (immunization register: register feed)"


def on_register_events(events) -> None:
    moved_in = [e for e in events if e.kind == "moved_in"]
    if not moved_in:
        return
    persons = dict(
        BusinessNumber.objects.filter(
            system=BusinessSystem.RESIDENTS, number__in=[e.resident_number for e in moved_in]
        ).values_list("number", "person_id")
    )
    opened = []
    for event in moved_in:
        person_id = persons.get(event.resident_number)
        if person_id is None:
            continue
        _, created = MoveInHistoryCheck.objects.get_or_create(
            register_event_id=event.pk,
            defaults={
                "person_id": person_id,
                "moved_in_on": date.fromisoformat(event.payload["became_resident_on"]),
                "previous_address": event.payload.get("previous_address", "")[:200],
            },
        )
        if created:
            opened.append(person_id)
    if opened:
        record(
            Action.CREATE,
            purpose=PURPOSE,
            object_type="history_check",
            subjects=opened,
            result_count=len(opened),
        )
