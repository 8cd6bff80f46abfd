"""New residents' My Numbers, from the national issuer, stored in the vault as the register reports them.

A birth gets a number issued; a move-in brings the number the person already has (the national side
knows it by the 住民票コード). Runs after the addressee consumer, so the person exists.
"""

from sesshu.residents.models import Resident
from sesshu.residents.mynumber_issuer import issuer

from .models import BusinessNumber, BusinessSystem
from .mynumber import register_issued_numbers


def on_register_events(events) -> None:
    numbers = [e.resident_number for e in events if e.kind in {"born", "moved_in"}]
    if not numbers:
        return
    persons = dict(
        BusinessNumber.objects.filter(system=BusinessSystem.RESIDENTS, number__in=numbers).values_list(
            "number", "person_id"
        )
    )
    source = issuer()
    residents = Resident.objects.filter(resident_number__in=list(persons))
    register_issued_numbers([(persons[r.resident_number], source.number_for(r)) for r in residents])
