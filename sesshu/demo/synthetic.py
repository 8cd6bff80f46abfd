"""The synthetic city: 桜ヶ丘市, 東和県, a fictional municipality for demos, tests and benchmarks.

``build_city(residents, seed, as_of)`` fills the resident register, the integrated addressee and the
vaccination ledger with a whole town's worth of made-up people: households, moves in and out, deaths,
foreign residents and a routine-schedule vaccination history for everyone. Nobody in it is real.

The same (residents, seed, as_of) always gives the same data, row for row and number for number:
every draw comes from one ``random.Random(seed)`` and Fakers seeded from the same seed, in a fixed
order, never from global random state. (Database ids are assigned by the database, so they repeat
only on an empty one; ``registered_at`` is the time of the build.)

Numbers have shapes no real register confuses with a My Number, which is 12 digits: 宛名番号 are 10
digits from 1000000001, 世帯番号 10 digits from 9000000001, 統合宛名番号 15 digits. A leak scanner
looking for 12-digit runs must find nothing here.
"""

import hashlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.functions import Length
from django.utils import timezone

from sesshu.addressee.models import BusinessNumber, BusinessSystem, MyNumberRecord, Person
from sesshu.addressee.mynumber import register_issued_numbers
from sesshu.addressee.services import person_from_resident
from sesshu.core.bulk import copy_or_insert
from sesshu.immunization.models import (
    Delivery,
    LegalCategory,
    Payment,
    RecordSource,
    VaccinationRecord,
    Vaccine,
)
from sesshu.residents.history import fill_keys, state_of
from sesshu.residents.models import Household, RegisterEvent, Resident, ResidentRevision, ResidentStatus
from sesshu.residents.mynumber_issuer import issuer

from .masters import (
    ADULT_VACCINES,
    FEE_TABLE_FROM,
    FEES,
    OLD_FEE_TABLE_FROM,
    LedgerMasters,
    ensure_masters,
)
from .models import SeedRun
from .population import CITY, PREFECTURE, HouseholdPlan, Member, Population
from .schedule import MASS_VACCINATION_SITE, VACCINE_ORDER, Dose, Ledger, Schedule

RESIDENT_NUMBER_BASE = 10**9  # 宛名番号 1000000001, 1000000002, ... (10 digits)
HOUSEHOLD_NUMBER_BASE = 9 * 10**9  # 世帯番号 9000000001, ... (10 digits, starting with 9)
INTEGRATED_NUMBER_BASE = 10**14  # 統合宛名番号 100000000000001, ... (15 digits)
MAX_RESIDENTS = 1_000_000
BATCH_SIZE = 2000  # rows per INSERT (Django lowers it to what the database takes)
CHUNK_RESIDENTS = 2000  # residents generated, then written, at a time: memory stays flat


class CityExists(Exception):
    """A synthetic city is already there; it has to be deleted before another is built."""


@dataclass(frozen=True)
class RecordedDose:
    dose: Dose
    clinic: str
    lot: str
    before_move_in: bool


# Planning (no database) ------------------------------------------------------------------------------


def plan_city(residents: int, seed: int, as_of: date) -> Iterator[HouseholdPlan]:
    """The city's households in order, exactly ``residents`` people in all, with their vaccinations."""
    population = Population(seed, as_of)
    schedule = Schedule(population.rng, as_of)
    ledger = Ledger(population.rng)
    remaining = residents
    while remaining > 0:
        plan = population.household(room=remaining)
        for member in plan.members:
            member.doses = recorded_doses(member, schedule, ledger, as_of)
        remaining -= len(plan.members)
        yield plan


def recorded_doses(member: Member, schedule: Schedule, ledger: Ledger, as_of: date) -> list[RecordedDose]:
    """The doses the city's ledger holds for a person: none before birth, after today, or after they left.

    Doses given before a Japanese family moved in came with them (転入前接種); doses a foreign resident
    had abroad are in no Japanese ledger, so they are left out.
    """
    last_day = min(as_of, member.left_on or as_of)
    home_clinics = ledger.clinics_of()
    recorded = []
    seen: set[tuple[str, date]] = set()
    for dose in schedule.history(member.birth_date, member.sex):
        if not member.birth_date < dose.on <= last_day:
            continue
        if (dose.vaccine, dose.on) in seen:
            # One dose of a vaccine a day: a second draw on the same day would be a 間違い接種 the
            # ledger's dose identity (person, vaccine, 接種日) refuses; the schedule almost never makes one.
            continue
        seen.add((dose.vaccine, dose.on))
        before_move_in = member.moved_in and dose.on < member.became_resident_on
        if before_move_in and member.nationality:
            continue
        clinic = ledger.clinic(dose, member.birth_date, home_clinics, elsewhere=before_move_in)
        recorded.append(RecordedDose(dose, clinic, ledger.lot(dose.vaccine, clinic, dose.on), before_move_in))
    return recorded


# Writing ---------------------------------------------------------------------------------------------


def build_city(
    residents: int, seed: int, as_of: date, progress: Callable[[int], object] | None = None
) -> dict:
    """Build the city in one transaction and record the build; returns the row counts.

    ``progress`` (e.g. a tqdm bar's ``update``) is called with the number of residents written so far
    in each chunk. Raises CityExists when a synthetic city is already there (see ``delete_city``).
    """
    if not 1 <= residents <= MAX_RESIDENTS:
        raise ValueError(f"residents must be from 1 to {MAX_RESIDENTS:,}")
    if not connection.features.can_return_rows_from_bulk_insert:
        raise RuntimeError("The synthetic city needs a database that returns ids from bulk inserts.")
    _check_vaccines()
    counts: Counter[str] = Counter()
    with transaction.atomic():
        if SeedRun.objects.exists():
            raise CityExists("A synthetic city already exists; delete it first.")
        ledger = LedgerColumns(ensure_masters(as_of))
        for chunk in _chunks(plan_city(residents, seed, as_of), CHUNK_RESIDENTS):
            written = _write_households(chunk, counts, ledger)
            if progress is not None:
                progress(written)
        result = dict(sorted(counts.items()))
        SeedRun.objects.create(residents=residents, seed=seed, as_of=as_of, counts=result)
    return result


def _check_vaccines() -> None:
    missing = set(VACCINE_ORDER) - set(Vaccine.objects.values_list("code", flat=True))
    if missing:
        raise RuntimeError(f"Vaccines missing (run `sesshu migrate`): {', '.join(sorted(missing))}")
    fields = {f.name for f in VaccinationRecord._meta.concrete_fields if not f.primary_key}
    if fields != set(_RECORD_FIELDS):
        # The ledger is written with a plain INSERT (see _insert_vaccination_records): a new field
        # needs a value there too.
        raise RuntimeError(f"VaccinationRecord's fields changed; update _RECORD_FIELDS: {sorted(fields)}")


def _chunks(plans: Iterable[HouseholdPlan], size: int) -> Iterator[list[HouseholdPlan]]:
    chunk: list[HouseholdPlan] = []
    people = 0
    for plan in plans:
        chunk.append(plan)
        people += len(plan.members)
        if people >= size:
            yield chunk
            chunk, people = [], 0
    if chunk:
        yield chunk


def _write_households(plans: list[HouseholdPlan], counts: Counter, ledger: "LedgerColumns") -> int:
    """Insert a chunk of households with everything that hangs off them, a few statements per table."""
    households = []
    for _ in plans:
        counts["households"] += 1
        number = str(HOUSEHOLD_NUMBER_BASE + counts["households"])
        households.append(Household(household_number=number))
    Household.objects.bulk_create(households, batch_size=BATCH_SIZE)

    residents, members = [], []
    for household, plan in zip(households, plans, strict=True):
        for member in plan.members:
            counts["residents"] += 1
            number = str(RESIDENT_NUMBER_BASE + counts["residents"])
            residents.append(_resident(household, plan, member, number))
            members.append(member)
            _count_member(member, plan, counts)
    Resident.objects.bulk_create(residents, batch_size=BATCH_SIZE)
    revisions = [rev for resident in residents for rev in _revisions(resident)]
    ResidentRevision.objects.bulk_create(revisions, batch_size=BATCH_SIZE)
    counts["revisions"] += len(revisions)

    persons = [
        person_from_resident(resident, str(INTEGRATED_NUMBER_BASE + counts["persons"] + i))
        for i, resident in enumerate(residents, start=1)
    ]
    counts["persons"] += len(persons)
    Person.objects.bulk_create(persons, batch_size=BATCH_SIZE)
    BusinessNumber.objects.bulk_create(
        [
            BusinessNumber(person=person, system=BusinessSystem.RESIDENTS, number=resident.resident_number)
            for person, resident in zip(persons, residents, strict=True)
        ],
        batch_size=BATCH_SIZE,
    )
    counts["business_numbers"] += len(persons)
    # Everyone in the register has a My Number; the simulated national issuer gives them out, and they
    # go into the vault as the real ones would (encrypted, audited, never in this module's hands after).
    source = issuer()
    counts["mynumbers"] += register_issued_numbers(
        [
            (person.pk, source.number_for(resident))
            for person, resident in zip(persons, residents, strict=True)
        ]
    )

    records = [
        ledger.row(person.pk, given)
        for person, member in zip(persons, members, strict=True)
        for given in member.doses
    ]
    _insert_vaccination_records(records)
    counts["vaccination_records"] += len(records)
    return len(residents)


def _insert_vaccination_records(rows: list[tuple]) -> None:
    """Write the ledger with the database's fastest plain statement instead of bulk_create.

    The ledger is most of the city's rows (six or so per person), and bulk_create spends most of its
    time compiling each value of each row into SQL. Here SQLite runs one prepared INSERT over all rows
    (executemany) and PostgreSQL loads them with COPY: each is several times faster. Values are
    adapted as the ORM would (dates by the backend's adapter; ``LedgerColumns.row`` makes the rows), and
    every row gets the same registered_at, the time of the build.
    """
    columns = [VaccinationRecord._meta.get_field(f).column for f in _RECORD_FIELDS]
    copy_or_insert(connection, VaccinationRecord._meta.db_table, columns, rows)


# The columns the ledger fills per dose, in this order; every other field gets its model default.
_DOSE_FIELDS = [
    "person",
    "vaccine",
    "dose_number",
    "vaccinated_on",
    "clinic_name",
    "lot_number",
    "before_move_in",
    "source",
    "registered_at",
    "clinic",
    "venue",
    "product",
    "product_name",
    "maker_name",
    "volume_ml",
    "screening_doctor",
    "screening_doctor_name",
    "vaccinating_doctor",
    "vaccinating_doctor_name",
    "legal_category",
    "delivery",
    "payment",
    "billing_month",
    "fee_yen",
    "registered_branch",
]
_DEFAULTED_FIELDS = [
    f.name
    for f in VaccinationRecord._meta.concrete_fields
    if not f.primary_key and f.name not in _DOSE_FIELDS
]
_RECORD_FIELDS = [*_DOSE_FIELDS, *_DEFAULTED_FIELDS]
PRODUCT_DETAILS_FROM = date(2015, 4, 1)  # older doses came from paper ledgers without 販売名 or doctor
COVID_ROUTINE_FROM = date(2024, 4, 1)  # 特例臨時接種 until March 2024, B類 定期接種 since


class LedgerColumns:
    """Turns a recorded dose into a row of the record table, from the masters and a few rules.

    The new record items are filled cheaply and plausibly, without drawing from the city's random
    generator (so the city's people and doses are those of earlier versions): the vaccine's usual
    product, the clinic's doctor, the fee table's fee, the month after the dose as 請求年月.
    """

    def __init__(self, masters: LedgerMasters):
        self.masters = masters
        fields = {f.name: f for f in VaccinationRecord._meta.concrete_fields}
        self.defaults = tuple(
            fields[name].get_db_prep_save(fields[name].get_default(), connection)
            for name in _DEFAULTED_FIELDS
        )
        self.adapt_date = connection.ops.adapt_datefield_value
        self.adapt_decimal = connection.ops.adapt_decimalfield_value
        self.registered_at = connection.ops.adapt_datetimefield_value(timezone.now())

    def row(self, person_id: int, given: RecordedDose) -> tuple:
        dose, clinic = given.dose, given.clinic
        vaccine, on = dose.vaccine, dose.on
        in_city = not given.before_move_in and clinic in self.masters.clinic_ids
        detailed = on >= PRODUCT_DETAILS_FROM
        product_id = product_name = maker = volume = None
        if detailed and vaccine in self.masters.product_of_vaccine:
            product_id, product_name, maker, volume = self.masters.product_of_vaccine[vaccine]
        doctor_id, doctor_name = (None, "")
        if in_city and detailed:
            doctor_id, doctor_name = self.masters.doctor_of_clinic[clinic]
        fee = None
        if in_city and on >= OLD_FEE_TABLE_FROM:
            fee = FEES[vaccine] if on >= FEE_TABLE_FROM else round(FEES[vaccine] * 0.95 / 10) * 10
        billing = (on.replace(day=1) + timedelta(days=32)).replace(day=1) if in_city else None
        temporary = vaccine == "COVID-19" and on < COVID_ROUTINE_FROM
        return (
            person_id,
            vaccine,
            dose.number,
            self.adapt_date(on),
            clinic,
            given.lot,
            given.before_move_in,
            RecordSource.SYNTHETIC.value,
            self.registered_at,
            self.masters.clinic_ids.get(clinic) if not given.before_move_in else None,
            clinic if clinic == MASS_VACCINATION_SITE else "",
            product_id,
            product_name or "",
            maker or "",
            self.adapt_decimal(volume) if volume is not None else None,
            doctor_id,
            doctor_name,
            doctor_id,
            doctor_name,
            LegalCategory.TEMPORARY.value if temporary else LegalCategory.ROUTINE.value,
            Delivery.GROUP.value if clinic == MASS_VACCINATION_SITE else Delivery.INDIVIDUAL.value,
            Payment.PARTIAL.value if vaccine in ADULT_VACCINES and not temporary else Payment.PUBLIC.value,
            self.adapt_date(billing) if billing else None,
            fee,
            "本庁",
            *self.defaults,
        )


def _resident(household: Household, plan: HouseholdPlan, m: Member, number: str) -> Resident:
    assert m.name is not None and m.became_resident_on is not None
    resident = Resident(
        resident_number=number,
        household=household,
        postal_code=plan.postal_code,
        address=plan.address,
        address_since=m.became_resident_on,
        address_reason=m.became_resident_reason,
        relationship=m.relationship,
        is_head=m.is_head,
        family_name=m.name.family,
        given_name=m.name.given,
        family_name_kana=m.name.family_kana,
        given_name_kana=m.name.given_kana,
        latin_name=m.name.latin,
        birth_date=m.birth_date,
        sex=m.sex,
        nationality=m.nationality,
        residence_status=m.residence_status,
        residence_expiry=m.residence_expiry,
        became_resident_on=m.became_resident_on,
        became_resident_reason=m.became_resident_reason,
        previous_address=m.previous_address,
        status=m.status,
        left_on=m.left_on,
        left_reason=m.left_reason,
        moved_to_address=m.moved_to_address,
    )
    fill_keys(resident)
    return resident


def _revisions(resident: Resident) -> list[ResidentRevision]:
    """The register's history of a synthetic resident: in force from the day they became resident,
    and for those who left, a second revision from the day they left (so as-of queries see both)."""
    recorded_at = timezone.now()
    state = state_of(resident)
    history = []
    if resident.status != ResidentStatus.RESIDENT:
        arrived = state | {
            "status": ResidentStatus.RESIDENT,
            "left_on": None,
            "left_reason": "",
            "moved_to_address": "",
        }
        history.append((resident.became_resident_on, arrived))
    history.append((resident.left_on or resident.became_resident_on, state))
    return [
        ResidentRevision(resident=resident, seq=seq, valid_from=valid_from, recorded_at=recorded_at, **values)
        for seq, (valid_from, values) in enumerate(history, start=1)
    ]


def _count_member(m: Member, plan: HouseholdPlan, counts: Counter) -> None:
    counts["foreign_residents"] += bool(plan.foreign)
    counts["moved_in"] += m.moved_in
    counts["moved_out"] += m.status == ResidentStatus.MOVED_OUT
    counts["deceased"] += m.status == ResidentStatus.DECEASED


# Finding and deleting the city -----------------------------------------------------------------------


def current_run() -> SeedRun | None:
    return SeedRun.objects.order_by("-pk").first()


def city_rows() -> dict[str, QuerySet]:
    """The synthetic city's rows, table by table (empty querysets when there is no city).

    Rows are found by their numbers: the ranges the seed runs wrote. Vaccination records of the
    city's persons are included whatever their source, since they cannot outlive their person.
    """
    households, persons = Household.objects.none(), Person.objects.none()
    for run in SeedRun.objects.order_by("pk"):
        households |= _numbered(
            Household, "household_number", HOUSEHOLD_NUMBER_BASE, run.counts.get("households", 0)
        )
        persons |= _numbered(
            Person, "integrated_number", INTEGRATED_NUMBER_BASE, run.counts.get("persons", 0)
        )
    residents = Resident.objects.filter(household__in=households)
    return {
        "vaccination_records": VaccinationRecord.objects.filter(person__in=persons),
        "mynumbers": MyNumberRecord.objects.filter(person__in=persons),
        "business_numbers": BusinessNumber.objects.filter(person__in=persons),
        "persons": persons,
        "register_events": RegisterEvent.objects.filter(
            resident_number__in=residents.values("resident_number")
        ),
        "revisions": ResidentRevision.objects.filter(resident__in=residents),
        "residents": residents,
        "households": households,
    }


def _numbered(model, field: str, base: int, count: int) -> QuerySet:
    """Rows whose number is base+1 .. base+count (same-length digit strings sort like numbers)."""
    return model.objects.alias(_digits=Length(field)).filter(
        **{f"{field}__gt": str(base), f"{field}__lte": str(base + count), "_digits": len(str(base))}
    )


def delete_city() -> dict[str, int]:
    """Delete the synthetic city and its seed runs (never audit events); returns what was deleted."""
    counts: dict[str, int] = {}
    with transaction.atomic():
        for table, rows in city_rows().items():
            counts[table] = rows.delete()[0]
        counts["seed_runs"] = SeedRun.objects.all().delete()[0]
    return counts


def city_digest() -> str:
    """SHA-256 of the city's rows in row order, ids and build times aside: equal digests, equal cities."""
    rows = city_rows()
    digest = hashlib.sha256()
    tables = [
        (rows["households"], ["household_number"]),
        (rows["residents"], [*_fields(Resident, exclude={"id", "household"}), "household__household_number"]),
        (
            rows["revisions"],
            [
                *_fields(ResidentRevision, exclude={"id", "resident", "household", "recorded_at", "move"}),
                "resident__resident_number",
            ],
        ),
        (rows["persons"], _fields(Person, exclude={"id"})),
        (rows["business_numbers"], ["person__integrated_number", "system", "number"]),
        (
            rows["vaccination_records"],
            [
                *_fields(VaccinationRecord, exclude={"id", "person", "registered_at"}),
                "person__integrated_number",
            ],
        ),
    ]
    for queryset, fields in tables:
        for row in queryset.order_by("pk").values_list(*fields).iterator(chunk_size=5000):
            digest.update(repr(row).encode())
    return digest.hexdigest()


def _fields(model, exclude: set[str]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.name not in exclude]


__all__ = [
    "CITY",
    "PREFECTURE",
    "CityExists",
    "build_city",
    "city_digest",
    "city_rows",
    "current_run",
    "delete_city",
    "plan_city",
]
