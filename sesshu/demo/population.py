"""The people of the synthetic city: ages, households, addresses, moves in and out, deaths. No database.

Households are built around one person whose age is drawn from Japan's age pyramid (a child for
families, the head for single and couple households), and everyone else's age follows from theirs:
spouses a few years apart, children born when their mother was 20 to 42, grandparents a generation
up. So the ages in a household always fit together, and the city's pyramid comes out close to the
census one.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker

from sesshu.residents.models import ResidentStatus, Sex

from .dates import DAYS_PER_YEAR, add_years, age_on, random_day, years_before
from .names import COUNTRY_NAMES, OWN_NAME_AFTER_MARRIAGE, ForeignNames, JapaneseNames, Name

PREFECTURE = "東和県"
CITY = "桜ヶ丘市"

# 2020 census (国勢調査): the share of the population in each 5-year age band, in percent, and the share
# of women in the band. Slightly more boys are born; women outlive men, so old bands are mostly women.
AGE_BANDS: list[tuple[int, float, float]] = [
    (0, 3.6, 0.488),
    (5, 4.0, 0.488),
    (10, 4.2, 0.488),
    (15, 4.4, 0.487),
    (20, 4.8, 0.485),
    (25, 4.8, 0.487),
    (30, 5.1, 0.490),
    (35, 5.8, 0.492),
    (40, 6.5, 0.493),
    (45, 7.7, 0.494),
    (50, 6.9, 0.497),
    (55, 6.3, 0.500),
    (60, 5.9, 0.505),
    (65, 7.2, 0.515),
    (70, 7.4, 0.530),
    (75, 5.7, 0.560),
    (80, 4.6, 0.600),
    (85, 3.2, 0.660),
    (90, 1.5, 0.750),
    (95, 0.4, 0.830),
    (100, 0.06, 0.880),
]
OLDEST = 106

# Household types and their shares of households (2020 census 世帯の家族類型, rounded).
HOUSEHOLD_TYPES = {"single": 38, "couple": 20, "couple_children": 25, "single_parent": 9, "extended": 8}
FOREIGN_HOUSEHOLD_TYPES = {"single": 55, "couple": 15, "couple_children": 30}
# Foreign households are smaller than Japanese ones; 3.7% of households gives about 3% of people.
FOREIGN_HOUSEHOLD_SHARE = 0.037

# How much likelier than the pyramid alone a band is to be the anchor of a household type: people
# living alone are mostly young adults or old, couples without children mostly past child-rearing,
# children at home mostly under 23.
SINGLE_BY_AGE = {
    15: 0.3,
    20: 2.0,
    25: 1.5,
    30: 1.0,
    35: 0.8,
    40: 0.7,
    45: 0.7,
    50: 0.7,
    55: 0.8,
    60: 0.9,
    65: 1.2,
    70: 1.4,
    75: 1.7,
    80: 2.1,
    85: 3.0,
    90: 4.0,
    95: 4.0,
    100: 3.5,
}
COUPLE_BY_AGE = {
    20: 0.3,
    25: 0.5,
    30: 0.4,
    35: 0.25,
    40: 0.2,
    45: 0.25,
    50: 0.5,
    55: 1.0,
    60: 1.5,
    65: 2.3,
    70: 2.6,
    75: 2.7,
    80: 2.5,
    85: 1.9,
    90: 1.0,
    95: 0.3,
    100: 0.1,
}
# The eldest child still at home: 夫婦と子 households include many grown, unmarried children.
CHILD_AT_HOME_BY_AGE = {0: 0.55, 5: 0.6, 10: 0.65, 15: 0.8, 20: 0.8, 25: 0.65, 30: 0.45, 35: 0.3}
# ひとり親と子 households are as often a widowed parent with a middle-aged child as a young family.
SINGLE_PARENT_CHILD_BY_AGE = {
    0: 0.5,
    5: 0.6,
    10: 0.7,
    15: 0.8,
    20: 0.9,
    25: 1.0,
    30: 1.0,
    40: 1.0,
    50: 0.8,
    55: 0.5,
}

# A person's chance of having died in the last five years, by age band: calibrated so that about
# 1.5% of the register are 死亡 (消除) entries, nearly all of them old.
DEATH_BY_AGE = {0: 0.0007, 20: 0.001, 40: 0.004, 60: 0.014, 70: 0.034, 80: 0.095, 90: 0.24}
HOUSEHOLD_MOVES_OUT = 0.02  # whole households that left the city in the last five years
FOREIGN_HOUSEHOLD_MOVES_OUT = 0.12  # trainees and students go home when their status ends
CHILD_LEAVES_HOME = 0.15  # grown children (18-30) who moved out to study or work elsewhere
HOUSEHOLD_MOVED_IN = 0.27  # households that came from elsewhere; the rest have always lived here
SPOUSE_FROM_ELSEWHERE = 0.6  # of the spouses in households that have always lived here

# Fictional places people came from and went to (not real municipalities, like the city itself).
OTHER_PLACES = [
    "東和県青葉市",
    "東和県朝日町",
    "東和県若草市",
    "北陽県白浜市",
    "北陽県雪見市",
    "西海県港南市",
    "西海県潮見市",
    "南山県川辺市",
    "南山県山吹村",
    "中央都緑ヶ丘区",
    "中央都星見区",
    "東海道県富士見市",
]
RESIDENCE_STATUS_SINGLE = {
    "技能実習": 30,
    "特定技能": 20,
    "留学": 20,
    "技術・人文知識・国際業務": 18,
    "永住者": 12,
}
RESIDENCE_STATUS_FAMILY = {"永住者": 45, "定住者": 20, "技術・人文知識・国際業務": 35}


@dataclass(frozen=True)
class Town:
    name: str
    postal_code: str
    chome: int  # how many 丁目 the town has


@dataclass
class Member:
    relationship: str
    is_head: bool
    sex: str
    birth_date: date
    name: Name | None = None
    nationality: str = ""
    residence_status: str = ""
    residence_expiry: date | None = None
    became_resident_on: date | None = None
    became_resident_reason: str = ""
    previous_address: str = ""
    status: str = ResidentStatus.RESIDENT
    left_on: date | None = None
    left_reason: str = ""
    moved_to_address: str = ""
    doses: list = field(default_factory=list)

    @property
    def moved_in(self) -> bool:
        return self.became_resident_reason == "転入"

    @property
    def active(self) -> bool:
        return self.status == ResidentStatus.RESIDENT


@dataclass
class HouseholdPlan:
    postal_code: str
    address: str
    members: list[Member]
    foreign: bool = False


class Population:
    """Draws households one by one; every draw comes from the one seeded ``rng`` and Fakers."""

    def __init__(self, seed: int, as_of: date):
        self.as_of = as_of
        self.rng = random.Random(seed)
        self.faker = Faker("ja_JP")
        self.faker.seed_instance(seed)
        self.japanese = JapaneseNames(self.faker)
        self.foreign = ForeignNames(seed, self.rng)
        self.towns = self._make_towns()
        self._town_weights = [self.rng.uniform(0.4, 2.0) for _ in self.towns]
        self._used_addresses: set[str] = set()

    # The city's map ---------------------------------------------------------------------------------

    def _make_towns(self) -> list[Town]:
        count = self.rng.randint(24, 36)
        names: list[str] = []
        while len(names) < count:
            name = self.faker.town()
            if name not in names and _ordinary_town(name):
                names.append(name)
        # One 3-digit area for the whole city, and a 4-digit code per town, as Japan's codes run.
        area = self.rng.randint(300, 899)
        codes = sorted(self.rng.sample(range(100, 9900), count))
        return [
            Town(n, f"{area:03d}-{c:04d}", self.rng.randint(1, 6)) for n, c in zip(names, codes, strict=True)
        ]

    def home_address(self, apartment_share: float) -> tuple[str, str]:
        """(postal code, address) in the city; houses are never shared by two households."""
        while True:
            town = self.rng.choices(self.towns, weights=self._town_weights)[0]
            address = f"{PREFECTURE}{CITY}{town.name}{self._street_number(town.chome)}"
            if self.rng.random() < apartment_share:
                room = self.rng.randint(1, 6) * 100 + self.rng.randint(1, 12)
                address += f" {self.faker.building_name()}{town.name}{room}号室"
            if address not in self._used_addresses:
                self._used_addresses.add(address)
                return town.postal_code, address

    def _street_number(self, chome: int) -> str:
        rng = self.rng
        return f"{rng.randint(1, chome)}丁目{rng.randint(1, 40)}番{rng.randint(1, 30)}号"

    def address_elsewhere(self) -> str:
        town = self.faker.town()
        while not _ordinary_town(town):
            town = self.faker.town()
        return f"{self.rng.choice(OTHER_PLACES)}{town}{self._street_number(5)}"

    # Ages -------------------------------------------------------------------------------------------

    def sample_age(self, lowest: float, highest: float, propensity: dict[int, float] | None = None) -> float:
        """An age (in years, fractional) from the pyramid between lowest and highest, reweighted by band."""
        choices, weights = [], []
        for low, share, _female in AGE_BANDS:
            high = low + 5 if low < 100 else OLDEST
            overlap = min(high, highest) - max(low, lowest)
            if overlap > 0:
                choices.append((max(low, lowest), max(low, lowest) + overlap))
                weights.append(share * overlap / (high - low) * _band_value(propensity, low, 1.0))
        start, end = self.rng.choices(choices, weights=weights)[0]
        return self.rng.uniform(start, end)

    def birth_for_age(self, age: float) -> date:
        """The birth date of someone ``age`` years old today; at least a day old."""
        return min(years_before(self.as_of, age), self.as_of - timedelta(days=1))

    def female_share(self, age: float) -> float:
        return _band_value({low: female for low, _share, female in AGE_BANDS}, age, 0.5)

    def sex_at(self, age: float, shift: float = 0.0) -> str:
        return Sex.FEMALE if self.rng.random() < self.female_share(age) + shift else Sex.MALE

    def spouse_gap(self) -> float:
        """Years by which a husband is older than his wife: two on average, rarely more than eight."""
        return min(9.0, max(-4.0, self.rng.gauss(2.2, 3.0)))

    def mother_age_at_first_birth(self, span: float) -> float:
        """20-42 at every birth: the first child comes at 20 to 42 minus the years to the last one."""
        return min(42.0 - span, max(20.0, self.rng.gauss(29.5, 4.5)))

    def child_ages(
        self,
        counts: dict[int, int],
        oldest_eldest: float,
        propensity: dict[int, float] = CHILD_AT_HOME_BY_AGE,
    ) -> list[float]:
        """Ages of one mother's children still at home, eldest first, at most 22 years apart."""
        number = self.rng.choices(list(counts), weights=list(counts.values()))[0]
        ages = [self.sample_age(0, oldest_eldest, propensity)]
        for _ in range(number - 1):
            younger = ages[-1] - self.rng.uniform(1.2, 5.0)
            if younger <= 0.01 or ages[0] - younger > 22:
                break
            ages.append(younger)
        return ages

    # Household compositions -------------------------------------------------------------------------

    def member(self, relationship: str, age: float, sex: str, head: bool = False) -> Member:
        return Member(relationship=relationship, is_head=head, sex=sex, birth_date=self.birth_for_age(age))

    def single(self, lowest: float = 18, highest: float = OLDEST) -> list[Member]:
        age = self.sample_age(lowest, highest, SINGLE_BY_AGE)
        # Young people living alone are more often men; old people living alone are mostly widows.
        shift = -0.07 if age < 60 else 0.12
        return [self.member("世帯主", age, self.sex_at(age, shift), head=True)]

    def couple(self, lowest: float = 22, highest: float = 100) -> list[Member]:
        husband = self.sample_age(lowest, highest, COUPLE_BY_AGE)
        wife = max(20.0, husband - self.spouse_gap())
        return self._couple_members(husband, wife)

    def _couple_members(self, husband: float, wife: float) -> list[Member]:
        if self.rng.random() < 0.92:
            return [self.member("世帯主", husband, Sex.MALE, head=True), self.member("妻", wife, Sex.FEMALE)]
        return [self.member("世帯主", wife, Sex.FEMALE, head=True), self.member("夫", husband, Sex.MALE)]

    def couple_with_children(self, oldest_child: float = 40) -> list[Member]:
        children = self.child_ages({1: 42, 2: 42, 3: 14, 4: 2}, oldest_child)
        mother = children[0] + self.mother_age_at_first_birth(children[0] - children[-1])
        father = max(children[0] + 20 + self.rng.random(), mother + self.spouse_gap())
        return self._couple_members(father, mother) + self._children(children)

    def _children(self, ages: list[float]) -> list[Member]:
        return [self.member("子", age, Sex.MALE if self.rng.random() < 0.512 else Sex.FEMALE) for age in ages]

    def single_parent(self) -> list[Member]:
        children = self.child_ages({1: 55, 2: 35, 3: 10}, 60, SINGLE_PARENT_CHILD_BY_AGE)
        mother = children[0] + self.mother_age_at_first_birth(children[0] - children[-1])
        if self.rng.random() < 0.8:
            parent = self.member("世帯主", mother, Sex.FEMALE, head=True)
        else:
            parent = self.member("世帯主", mother + self.spouse_gap(), Sex.MALE, head=True)
        return [parent, *self._children(children)]

    def extended(self) -> list[Member]:
        """Three generations (with the head's parents, or with a son's family), or siblings."""
        kind = self.rng.choices(["with_parents", "with_grandchildren", "siblings"], weights=[50, 30, 20])[0]
        if kind == "with_grandchildren":
            members = self._with_grandchildren()
            if members:
                return members
        if kind == "siblings":
            return self._siblings()
        return self._with_parents()

    def _with_parents(self) -> list[Member]:
        members = self.couple_with_children(oldest_child=20)
        head_age = age_on(members[0].birth_date, self.as_of) + 0.5
        mother = head_age + min(40.0, max(20.0, self.rng.gauss(28.0, 4.0)))
        father = mother + self.spouse_gap()
        which = self.rng.choices(["mother", "both", "father"], weights=[60, 30, 10])[0]
        if which != "father" and mother < OLDEST - 2:
            members.append(self.member("母", mother, Sex.FEMALE))
        if which != "mother" and father < OLDEST - 4:
            members.append(self.member("父", father, Sex.MALE))
        return members

    def _with_grandchildren(self) -> list[Member]:
        grandchildren = self.child_ages({1: 45, 2: 45, 3: 10}, 20)
        daughter_in_law = grandchildren[0] + self.mother_age_at_first_birth(
            grandchildren[0] - grandchildren[-1]
        )
        son = max(daughter_in_law + self.spouse_gap(), grandchildren[0] + 20.5)
        grandmother = son + min(40.0, max(20.0, self.rng.gauss(28.0, 4.0)))
        grandfather = grandmother + self.spouse_gap()
        if grandfather > 100:
            return []
        members = [self.member("世帯主", grandfather, Sex.MALE, head=True)]
        if self.rng.random() < 0.85:
            members.append(self.member("妻", grandmother, Sex.FEMALE))
        members += [self.member("子", son, Sex.MALE), self.member("子の妻", daughter_in_law, Sex.FEMALE)]
        members += [self.member("孫", age, self.sex_at(age)) for age in grandchildren]
        return members

    def _siblings(self) -> list[Member]:
        head_age = self.sample_age(45, 92)
        members = [self.member("世帯主", head_age, self.sex_at(head_age, 0.1), head=True)]
        for _ in range(self.rng.choices([1, 2], weights=[85, 15])[0]):
            age = max(40.0, head_age + self.rng.uniform(-8, 8))
            sex = self.sex_at(age, 0.1)
            older = age > head_age
            relationship = {
                (True, True): "兄",
                (True, False): "弟",
                (False, True): "姉",
                (False, False): "妹",
            }[(sex == Sex.MALE, older)]
            members.append(self.member(relationship, age, sex))
        return members

    def japanese_household(self) -> list[Member]:
        kind = self.rng.choices(list(HOUSEHOLD_TYPES), weights=list(HOUSEHOLD_TYPES.values()))[0]
        return {
            "single": self.single,
            "couple": self.couple,
            "couple_children": self.couple_with_children,
            "single_parent": self.single_parent,
            "extended": self.extended,
        }[kind]()

    def foreign_household(self) -> list[Member]:
        kind = self.rng.choices(
            list(FOREIGN_HOUSEHOLD_TYPES), weights=list(FOREIGN_HOUSEHOLD_TYPES.values())
        )[0]
        if kind == "single":
            # Mostly young workers and students; men a little more often than women.
            age = self.rng.triangular(18.5, 45, 24)
            return [
                self.member("世帯主", age, Sex.MALE if self.rng.random() < 0.56 else Sex.FEMALE, head=True)
            ]
        if kind == "couple":
            husband = self.rng.uniform(25, 50)
            return self._couple_members(husband, max(20.0, husband - self.spouse_gap()))
        return self.couple_with_children(oldest_child=15)

    # Names ------------------------------------------------------------------------------------------

    def name_japanese(self, members: list[Member]) -> None:
        family = self.japanese.family()
        taken: set[str] = set()
        for m in members:
            m.name = self.japanese.name(family, m.sex, taken)
            taken.add(m.name.given)

    def name_foreign(self, members: list[Member], nationality: str) -> None:
        husband_family = self.foreign.family(nationality)
        taken: set[str] = set()
        for m in members:
            wife = m.relationship in {"妻"} or (m.is_head and m.sex == Sex.FEMALE and len(members) > 1)
            family = husband_family
            if wife and nationality in OWN_NAME_AFTER_MARRIAGE:
                family = self.foreign.family(nationality)
            m.name = self.foreign.name(family, nationality, m.sex, taken)
            m.nationality = nationality
            taken.add(m.name.given)

    def grant_residence_status(self, members: list[Member]) -> None:
        """A status for each foreign member: workers and students alone, families together."""
        table = RESIDENCE_STATUS_SINGLE if len(members) == 1 else RESIDENCE_STATUS_FAMILY
        head_status = self.rng.choices(list(table), weights=list(table.values()))[0]
        if head_status == "留学" and age_on(members[0].birth_date, self.as_of) > 30:
            head_status = "技術・人文知識・国際業務"
        family_status = "家族滞在" if head_status == "技術・人文知識・国際業務" else head_status
        for m in members:
            m.residence_status = head_status if m.is_head else family_status
            # 永住者 have no period of stay; everyone else holds a status that runs out in 1-5 years.
            if m.residence_status != "永住者":
                m.residence_expiry = self.as_of + timedelta(days=self.rng.randint(365, 5 * 365))

    # Moving in ----------------------------------------------------------------------------------------

    def settle_japanese(self, members: list[Member]) -> None:
        if self.rng.random() < HOUSEHOLD_MOVED_IN:
            adults = [m for m in members if m.relationship in {"世帯主", "妻", "夫"}]
            earliest = max(max(add_years(m.birth_date, 20) for m in adults), years_before(self.as_of, 45))
            if earliest < self.as_of:
                arrival = random_day(self.rng, earliest, self.as_of - timedelta(days=1))
                self._arrive(members, arrival, self.address_elsewhere())
                return
        for m in members:
            _born_here(m)
        for m in members:
            if m.relationship in {"妻", "夫", "子の妻"} and self.rng.random() < SPOUSE_FROM_ELSEWHERE:
                self._marry_in(m, members)

    def settle_foreign(self, members: list[Member]) -> None:
        years_here = self.rng.uniform(0.05, 6) if len(members) == 1 else self.rng.uniform(0.5, 15)
        adults_came_at_16 = max(add_years(m.birth_date, 16) for m in members if m.relationship != "子")
        arrival = min(max(years_before(self.as_of, years_here), adults_came_at_16), self.as_of)
        self._arrive(members, arrival, COUNTRY_NAMES[members[0].nationality])

    @staticmethod
    def _arrive(members: list[Member], arrival: date, previous_address: str) -> None:
        """Everyone born before the household came moved in with it; the others were born here."""
        for m in members:
            if m.birth_date < arrival:
                m.became_resident_on, m.became_resident_reason = arrival, "転入"
                m.previous_address = previous_address
            else:
                _born_here(m)

    def _marry_in(self, spouse: Member, members: list[Member]) -> None:
        """A spouse from elsewhere moved in on marrying, a year or two before the first child."""
        children = {"妻": "子", "夫": "子", "子の妻": "孫"}[spouse.relationship]
        firstborn = min((m.birth_date for m in members if m.relationship == children), default=None)
        if firstborn is not None:
            married = firstborn - timedelta(days=round(self.rng.uniform(0.3, 3.0) * DAYS_PER_YEAR))
        else:
            married = spouse.birth_date + timedelta(days=round(self.rng.uniform(24, 33) * DAYS_PER_YEAR))
        married = max(married, add_years(spouse.birth_date, 18))
        if married < self.as_of:
            spouse.became_resident_on, spouse.became_resident_reason = married, "転入"
            spouse.previous_address = self.address_elsewhere()

    # Moving out and dying -----------------------------------------------------------------------------

    def remove_some(self, members: list[Member], foreign: bool) -> None:
        """消除: whole households that left, grown children who left home, and deaths."""
        window = add_years(self.as_of, -5)
        leaves = FOREIGN_HOUSEHOLD_MOVES_OUT if foreign else HOUSEHOLD_MOVES_OUT
        if self.rng.random() < leaves:
            first = max(window, *(m.became_resident_on + timedelta(days=1) for m in members))
            if first <= self.as_of:
                left = random_day(self.rng, first, self.as_of)
                abroad = foreign and self.rng.random() < 0.6
                moved_to = COUNTRY_NAMES[members[0].nationality] if abroad else self.address_elsewhere()
                for m in members:
                    _leave(m, ResidentStatus.MOVED_OUT, left, "転出", moved_to)
                return
        for m in members:
            if m.relationship == "子" and 18 <= age_on(m.birth_date, self.as_of) <= 30:
                if self.rng.random() < CHILD_LEAVES_HOME:
                    first = max(window, add_years(m.birth_date, 18), m.became_resident_on + timedelta(days=1))
                    if first <= self.as_of:
                        left = random_day(self.rng, first, self.as_of)
                        _leave(m, ResidentStatus.MOVED_OUT, left, "転出", self.address_elsewhere())
        for m in members:
            if m.active and self.rng.random() < _band_value(
                DEATH_BY_AGE, age_on(m.birth_date, self.as_of), 0
            ):
                self._die(m, members, window)

    def _die(self, person: Member, members: list[Member], window: date) -> None:
        first = max(window, person.became_resident_on + timedelta(days=1))
        if first > self.as_of:
            return
        others = [m for m in members if m is not person and m.active]
        if person.is_head and others and not _hand_over_headship(person, others):
            return  # a head whose household could not say who heads it now stays alive, for simplicity
        _leave(person, ResidentStatus.DECEASED, random_day(self.rng, first, self.as_of), "死亡", "")

    # One household ----------------------------------------------------------------------------------

    def household(self, room: int) -> HouseholdPlan:
        """One household of at most ``room`` people, named, housed, settled, thinned by moves and deaths."""
        foreign = self.rng.random() < FOREIGN_HOUSEHOLD_SHARE
        members = (self.foreign_household() if foreign else self.japanese_household())[:room]
        if foreign:
            self.name_foreign(members, self.foreign.nationality())
            self.grant_residence_status(members)
            self.settle_foreign(members)
        else:
            self.name_japanese(members)
            self.settle_japanese(members)
        apartment_share = 0.8 if foreign else (0.65 if len(members) == 1 else 0.3)
        postal_code, address = self.home_address(apartment_share)
        self.remove_some(members, foreign)
        return HouseholdPlan(postal_code=postal_code, address=address, members=members, foreign=foreign)


def _ordinary_town(name: str) -> bool:
    """Faker's towns include landmarks (皇居外苑, 丸の内ＪＰタワー); a residential town has none of those."""
    return not any(word in name for word in ("タワー", "ヒルズ", "公園", "皇居", "外苑")) and all(
        "\u3040" <= ch <= "\u30ff" or "\u4e00" <= ch <= "\u9fff" or ch in "々ヶ" for ch in name
    )


def _band_value(table: dict[int, float] | None, age: float, default: float) -> float:
    """The value of the band an age falls in (bands keyed by their lowest age)."""
    if not table:
        return default
    value = default
    for low in sorted(table):
        if age >= low:
            value = table[low]
    return value


def _born_here(m: Member) -> None:
    m.became_resident_on, m.became_resident_reason, m.previous_address = m.birth_date, "出生", ""


def _leave(m: Member, status: str, day: date, reason: str, moved_to: str) -> None:
    m.status, m.left_on, m.left_reason, m.moved_to_address = status, day, reason, moved_to


def _hand_over_headship(head: Member, others: list[Member]) -> bool:
    """When a head dies, the surviving spouse heads the household, if the rest are their children."""
    spouses = [m for m in others if m.relationship in {"妻", "夫"}]
    if len(spouses) != 1 or any(m.relationship != "子" for m in others if m is not spouses[0]):
        return False
    spouse = spouses[0]
    spouse.relationship, spouse.is_head = "世帯主", True
    head.relationship, head.is_head = ("夫" if head.sex == Sex.MALE else "妻"), False
    return True
