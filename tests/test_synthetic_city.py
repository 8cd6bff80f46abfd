"""The synthetic city (`sesshu seed`): deterministic, internally consistent, safe to rerun."""

import re
import unicodedata
from collections import defaultdict
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from sesshu.addressee.models import BusinessNumber, Person
from sesshu.audit.models import Action, AuditEvent
from sesshu.audit.services import verify_chain
from sesshu.demo import synthetic
from sesshu.demo.dates import add_years, age_on
from sesshu.demo.models import SeedRun
from sesshu.immunization.models import VaccinationRecord
from sesshu.residents.models import Household, Resident

pytestmark = pytest.mark.django_db

AS_OF = date(2025, 4, 1)
KATAKANA = re.compile(r"[ァ-ヶー]+")
TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")
NATIONALITIES = {"ベトナム", "フィリピン", "ブラジル", "中国", "韓国", "ネパール", "インドネシア", "米国"}
RESIDENCE_STATUSES = {
    "永住者",
    "技能実習",
    "留学",
    "家族滞在",
    "定住者",
    "特定技能",
    "技術・人文知識・国際業務",
}


@pytest.fixture
def city():
    """A 1000-resident city: big enough for shares (foreign, coverage) to mean something, still fast."""
    counts = synthetic.build_city(1000, seed=5, as_of=AS_OF)
    return counts


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed", *args, "--no-progress", stdout=out)
    return out.getvalue()


def city_events() -> list[str]:
    return list(AuditEvent.objects.filter(object_type="synthetic_city").values_list("action", flat=True))


# Determinism --------------------------------------------------------------------------------------------


def test_the_same_seed_builds_the_same_city_and_another_seed_another():
    first_counts = synthetic.build_city(400, seed=3, as_of=AS_OF)
    first = synthetic.city_digest()
    synthetic.delete_city()
    assert Resident.objects.count() == 0

    again_counts = synthetic.build_city(400, seed=3, as_of=AS_OF)
    assert synthetic.city_digest() == first
    assert again_counts == first_counts
    synthetic.delete_city()

    synthetic.build_city(400, seed=4, as_of=AS_OF)
    assert synthetic.city_digest() != first
    assert Resident.objects.count() == 400


# The register -------------------------------------------------------------------------------------------


def test_counts_match_the_rows(city):
    assert Resident.objects.count() == city["residents"] == 1000
    assert Person.objects.count() == city["persons"] == 1000
    assert Household.objects.count() == city["households"]
    assert VaccinationRecord.objects.filter(source="synthetic").count() == city["vaccination_records"]
    assert 350 < city["households"] < 550  # about 2.2 people per household, as in Japan


def test_every_household_has_exactly_one_head_and_one_family_name(city):
    members = defaultdict(list)
    for household_id, is_head, family, nationality in Resident.objects.values_list(
        "household_id", "is_head", "family_name", "nationality"
    ):
        members[household_id].append((is_head, family, nationality))
    assert len(members) == city["households"]
    for rows in members.values():
        assert sum(is_head for is_head, _, _ in rows) == 1
        if not rows[0][2]:  # Japanese households share one family name
            assert len({family for _, family, _ in rows}) == 1
    heads = Resident.objects.filter(is_head=True)
    assert set(heads.values_list("relationship", flat=True)) == {"世帯主"}


def test_names_have_full_width_katakana_readings(city):
    for family_kana, given_kana in Resident.objects.values_list("family_name_kana", "given_name_kana"):
        assert KATAKANA.fullmatch(family_kana), family_kana
        assert KATAKANA.fullmatch(given_kana), given_kana
        assert unicodedata.normalize("NFKC", family_kana + given_kana) == family_kana + given_kana


def test_about_three_percent_are_foreign_with_latin_names_and_residence_status(city):
    foreign = list(Resident.objects.exclude(nationality=""))
    assert 0.01 <= len(foreign) / 1000 <= 0.06
    for r in foreign:
        assert r.nationality in NATIONALITIES
        assert r.residence_status in RESIDENCE_STATUSES
        assert r.latin_name == f"{r.family_name} {r.given_name}"
        assert re.fullmatch(r"[A-Z]+( [A-Z]+)+", r.latin_name), r.latin_name
        if r.residence_status == "永住者":
            assert r.residence_expiry is None  # permanent residents have no period of stay
        else:
            assert add_years(AS_OF, 1) <= r.residence_expiry <= add_years(AS_OF, 5)
    households = {r.household_id for r in foreign}
    assert not Resident.objects.filter(household_id__in=households, nationality="").exists()
    japanese = Resident.objects.filter(nationality="")
    assert not japanese.exclude(latin_name="").exists() and not japanese.exclude(residence_status="").exists()


def test_each_resident_has_a_person_with_the_same_five_facts(city):
    persons = {p.pk: p for p in Person.objects.all()}
    person_of = dict(BusinessNumber.objects.filter(system="residents").values_list("number", "person_id"))
    for r in Resident.objects.select_related("household"):
        person = persons[person_of[r.resident_number]]
        assert (person.family_name, person.given_name, person.birth_date, person.sex) == (
            r.family_name,
            r.given_name,
            r.birth_date,
            r.sex,
        )
        assert person.status == r.status and person.status_date == r.left_on
        assert person.kana_key  # search keys are filled


def test_nobody_has_a_date_before_birth_or_after_as_of(city):
    five_years_ago = add_years(AS_OF, -5)
    for r in Resident.objects.all():
        assert r.birth_date <= r.became_resident_on <= AS_OF
        if r.became_resident_reason == "出生":
            assert r.became_resident_on == r.birth_date and not r.previous_address
        else:
            assert r.became_resident_reason == "転入"
            assert r.became_resident_on > r.birth_date and r.previous_address
        if r.status == "resident":
            assert r.left_on is None and not r.left_reason
        else:
            assert r.became_resident_on < r.left_on <= AS_OF and r.left_on >= five_years_ago
            assert r.left_reason == {"moved_out": "転出", "deceased": "死亡"}[r.status]
            assert bool(r.moved_to_address) == (r.status == "moved_out")


def test_vaccinations_fall_between_birth_and_as_of_and_stop_at_death(city):
    residents = {r.resident_number: r for r in Resident.objects.all()}
    records = VaccinationRecord.objects.values_list(
        "person__business_numbers__number", "vaccinated_on", "before_move_in"
    )
    deceased_with_records = set()
    for number, day, before_move_in in records:
        r = residents[number]
        assert r.birth_date < day <= AS_OF
        if r.left_on:
            assert day <= r.left_on
        if r.status == "deceased":
            deceased_with_records.add(number)
        assert before_move_in == (r.became_resident_reason == "転入" and day < r.became_resident_on)
    assert deceased_with_records  # the check above did look at some deceased persons' records


def test_measles_rubella_coverage_is_high_but_not_complete(city):
    toddlers = [
        r.resident_number
        for r in Resident.objects.filter(status="resident")
        if 2 <= age_on(r.birth_date, AS_OF) <= 5
    ]
    vaccinated = set(
        VaccinationRecord.objects.filter(vaccine_id="MR", dose_number=1).values_list(
            "person__business_numbers__number", flat=True
        )
    )
    coverage = sum(number in vaccinated for number in toddlers) / len(toddlers)
    assert len(toddlers) >= 20
    assert 0.85 < coverage < 1.0


def test_no_twelve_digit_number_anywhere(city):
    """12 digits is a My Number's shape; the city's numbers must never look like one."""
    for model in (Household, Resident, Person, BusinessNumber, VaccinationRecord):
        for row in model.objects.values_list():
            text = unicodedata.normalize("NFKC", " ".join(str(value) for value in row))
            assert not TWELVE_DIGITS.search(text), (model.__name__, row)
    assert len(Resident.objects.first().resident_number) == 10
    assert len(Person.objects.first().integrated_number) == 15


# The command --------------------------------------------------------------------------------------------


def test_rerunning_the_command_with_the_same_parameters_does_nothing():
    output = seed("--residents", "300", "--seed", "5", "--as-of", "2025-04-01")
    assert "300 residents" in output
    counts = (Resident.objects.count(), VaccinationRecord.objects.count(), SeedRun.objects.count())

    assert "already seeded: 300 residents, seed 5" in seed(
        "--residents", "300", "--seed", "5", "--as-of", "2025-04-01"
    )
    assert "already seeded" in seed("--residents", "300", "--seed", "5")  # no --as-of: the city's own date
    assert (Resident.objects.count(), VaccinationRecord.objects.count(), SeedRun.objects.count()) == counts
    assert city_events() == [Action.CREATE]
    event = AuditEvent.objects.get(object_type="synthetic_city")
    assert event.actor_username == "seed" and event.route == "cli:seed"
    # The numbers the simulated issuer gave went into the vault, with their own audit event.
    assert AuditEvent.objects.filter(object_type="mynumber", action="create").exists()
    assert event.purpose == "合成データ作成 (synthetic city)"
    assert event.detail["counts"]["residents"] == 300


def test_other_parameters_are_refused_without_replace_and_rebuild_with_it():
    seed("--residents", "300", "--seed", "5", "--as-of", "2025-04-01")
    first = synthetic.city_digest()

    with pytest.raises(CommandError, match="--replace") as refused:
        seed("--residents", "200", "--seed", "5", "--as-of", "2025-04-01")
    assert "既にあります" in str(refused.value) and "already exists" in str(refused.value)
    assert synthetic.city_digest() == first

    seed("--residents", "200", "--seed", "6", "--as-of", "2025-04-01", "--replace")
    assert Resident.objects.count() == 200
    assert SeedRun.objects.get().seed == 6
    assert city_events() == [Action.CREATE, Action.DELETE, Action.CREATE]
    deleted = AuditEvent.objects.get(action=Action.DELETE).detail["counts"]
    assert deleted["residents"] == 300 and deleted["seed_runs"] == 1
    assert verify_chain().ok


def test_a_failed_build_leaves_the_database_as_it_was(monkeypatch):
    seed("--residents", "300", "--seed", "5", "--as-of", "2025-04-01")
    before = synthetic.city_digest()

    def broken(records):
        raise RuntimeError("disk full")

    monkeypatch.setattr(synthetic, "_insert_vaccination_records", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        seed("--residents", "400", "--seed", "9", "--as-of", "2025-04-01", "--replace")
    assert synthetic.city_digest() == before
    assert Resident.objects.count() == 300 and SeedRun.objects.get().seed == 5
    assert city_events() == [Action.CREATE]
    assert verify_chain().ok


def test_bad_parameters_are_refused():
    with pytest.raises(CommandError, match="residents"):
        seed("--residents", "0")
    with pytest.raises(CommandError):
        seed("--as-of", "1 April 2025")
    assert not SeedRun.objects.exists()
