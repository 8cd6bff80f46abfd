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
    already = set(
        MoveInHistoryCheck.objects.filter(register_event_id__in=[e.pk for e in moved_in]).values_list(
            "register_event_id", flat=True
        )
    )
    checks = [
        MoveInHistoryCheck(
            register_event_id=event.pk,
            person_id=persons[event.resident_number],
            moved_in_on=date.fromisoformat(event.payload["became_resident_on"]),
            previous_address=event.payload.get("previous_address", "")[:200],
        )
        for event in moved_in
        if event.pk not in already and event.resident_number in persons
    ]
    MoveInHistoryCheck.objects.bulk_create(checks)
    if checks:
        record(
            Action.CREATE,
            purpose=PURPOSE,
            object_type="history_check",
            subjects=[c.person_id for c in checks],
            result_count=len(checks),
        )
