"""Vaccination histories as Japan's routine schedule (定期接種) gave them, by birth date. No database.

Each series knows the birth cohorts it applied to, its standard ages and intervals (標準的な接種期間)
and how many people took it. Like a real ledger, the result is not tidy: about one dose in twenty is
late (given after the standard window), some series stop after a dose or two, and some children are
never vaccinated at all.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sesshu.residents.models import Sex

from .dates import add_months, add_years, age_on, random_day, school_entry

LATE_SHARE = 0.05  # doses given after the standard window
INFANT_COVERAGE = 0.95
DROPOUT = 0.015  # chance that a series stops before each later dose

# Clinics of the fictional city (children's, adults', and the city hospital, which sees both), and a
# few elsewhere for doses given before a family moved in.
CHILD_CLINICS = [
    "桜ヶ丘こどもクリニック",
    "みどりの森小児科",
    "ひだまりキッズクリニック",
    "さくら小児科医院",
    "あおば小児科",
    "ほしぞらこども診療所",
    "桜ヶ丘市民病院",
]
ADULT_CLINICS = [
    "みどり内科医院",
    "東和中央クリニック",
    "はなみずき内科",
    "やまびこ診療所",
    "すずらん医院",
    "ひかり内科クリニック",
    "桜ヶ丘駅前クリニック",
    "丘の上ファミリークリニック",
    "桜ヶ丘市民病院",
]
MASS_VACCINATION_SITE = "桜ヶ丘市集団接種会場"  # COVID-19 only
CLINICS_ELSEWHERE = [
    "白浜こども医院",
    "港南市民病院",
    "青葉内科クリニック",
    "川辺ファミリー診療所",
    "雪見台小児科",
]

# The order a ledger lists vaccines given on the same day (immunization migration 0002's order).
VACCINE_ORDER = {
    code: i
    for i, code in enumerate(
        [
            "DPT-IPV-Hib",
            "DPT-IPV",
            "Hib",
            "PCV",
            "HepB",
            "Rota1",
            "Rota5",
            "BCG",
            "MR",
            "VAR",
            "JE",
            "DT",
            "HPV",
            "Flu",
            "PPSV23",
            "HZ-live",
            "HZ-RZV",
            "COVID-19",
        ]
    )
}


@dataclass(frozen=True)
class Dose:
    vaccine: str
    number: int  # the dose's number within its series (接種回)
    on: date
    late: bool = False


class Schedule:
    """Draws one person's doses; every draw comes from the city's one ``rng``."""

    def __init__(self, rng: random.Random, as_of: date):
        self.rng = rng
        self.as_of = as_of

    def history(self, birth: date, sex: str) -> list[Dose]:
        """Every dose the person would have had by now, ledger order (date, then vaccine)."""
        doses: list[Dose] = []
        for series in (
            self.hib_and_pcv,
            self.hepatitis_b,
            self.rotavirus,
            self.dpt_ipv,
            self.bcg,
            self.measles_rubella,
            self.varicella,
            self.japanese_encephalitis,
            self.diphtheria_tetanus,
            self.hpv,
            self.influenza,
            self.pneumococcal_elderly,
            self.covid,
        ):
            doses += series(birth, sex)
        return sorted(doses, key=lambda d: (d.on, VACCINE_ORDER[d.vaccine], d.number))

    # Drawing days -----------------------------------------------------------------------------------

    def takes(self, share: float) -> bool:
        return self.rng.random() < share

    def continues(self) -> bool:
        return self.rng.random() >= DROPOUT

    def in_window(self, first: date, last: date) -> tuple[date, bool]:
        """A day in the standard window, or (now and then) some weeks after it."""
        if self.rng.random() < LATE_SHARE:
            return max(first, last) + timedelta(days=self.rng.randint(14, 180)), True
        return random_day(self.rng, first, max(first, last)), False

    def at_months(self, birth: date, first: int, last: int) -> tuple[date, bool]:
        """A day from the ``first``-month birthday until the day before the ``last``-month one."""
        return self.in_window(add_months(birth, first), add_months(birth, last) - timedelta(days=1))

    def series(
        self,
        vaccine: str,
        first: tuple[date, bool],
        later: list[Callable[[date], tuple[date, date]]],
    ) -> list[Dose]:
        """Dose one on ``first``; each later dose in the window its rule gives from the dose before."""
        day, late = first
        doses = [Dose(vaccine, 1, day, late)]
        for number, window in enumerate(later, start=2):
            if not self.continues():
                break
            day, late = self.in_window(*window(day))
            doses.append(Dose(vaccine, number, day, late))
        return doses

    # Infants ----------------------------------------------------------------------------------------

    def _primary_and_booster(
        self,
        vaccine: str,
        birth: date,
        start_month: int,
        interval: tuple[int, int],
        booster: Callable[[date], tuple[date, date]],
    ) -> list[Dose]:
        """Three primary doses some weeks apart from ``start_month``, then a booster."""
        if not self.takes(INFANT_COVERAGE):
            return []
        apart = _days_after(*interval)
        return self.series(
            vaccine, self.at_months(birth, start_month, start_month + 1), [apart, apart, booster]
        )

    def hib_and_pcv(self, birth: date, sex: str) -> list[Dose]:
        """Routine since April 2013; from February 2024 births Hib comes inside the 5-in-1 vaccine."""
        if birth < date(2013, 2, 1):
            return []
        doses = []
        if birth < date(2024, 2, 1):
            # Hib booster: 7-13 months after the third dose, and not before the first birthday.
            def hib_booster(d3: date) -> tuple[date, date]:
                first = max(add_months(d3, 7), add_months(birth, 12))
                return first, add_months(first, 6)

            doses += self._primary_and_booster("Hib", birth, 2, (27, 45), hib_booster)

        # PCV booster: at 12-15 months, at least 60 days after the third dose.
        def pcv_booster(d3: date) -> tuple[date, date]:
            first = max(add_months(birth, 12), d3 + timedelta(days=60))
            return first, max(first, add_months(birth, 15))

        return doses + self._primary_and_booster("PCV", birth, 2, (27, 45), pcv_booster)

    def hepatitis_b(self, birth: date, sex: str) -> list[Dose]:
        """Routine for children born from April 2016: at 2 and 3 months, the third at 7-8 months."""
        if birth < date(2016, 4, 1) or not self.takes(INFANT_COVERAGE):
            return []

        def third(d2: date) -> tuple[date, date]:
            first = max(add_months(birth, 7), d2 + timedelta(days=112))
            return first, max(first, add_months(birth, 9) - timedelta(days=1))

        return self.series("HepB", self.at_months(birth, 2, 3), [_days_after(27, 45), third])

    def rotavirus(self, birth: date, sex: str) -> list[Dose]:
        """Routine from August 2020 births: Rota1 twice or Rota5 three times, never late (age limits)."""
        if birth < date(2020, 8, 1) or not self.takes(0.93):
            return []
        vaccine, number, limit_weeks = ("Rota1", 2, 24) if self.takes(0.55) else ("Rota5", 3, 32)
        day = random_day(self.rng, add_months(birth, 2), add_months(birth, 2) + timedelta(days=20))
        doses = [Dose(vaccine, 1, day)]
        for n in range(2, number + 1):
            day = day + timedelta(days=self.rng.randint(27, 40))
            if not self.continues() or day > birth + timedelta(weeks=limit_weeks):
                break
            doses.append(Dose(vaccine, n, day))
        return doses

    def dpt_ipv(self, birth: date, sex: str) -> list[Dose]:
        """4-in-1 for births from September 2012, 5-in-1 (with Hib) from February 2024."""
        if birth < date(2012, 9, 1):
            return []
        if birth >= date(2024, 2, 1):
            return self._primary_and_booster(
                "DPT-IPV-Hib", birth, 2, (20, 45), lambda d3: (add_months(d3, 6), add_months(d3, 13))
            )
        # The first dose moved from 3 to 2 months in April 2023.
        start = 2 if birth >= date(2023, 2, 1) else 3
        return self._primary_and_booster(
            "DPT-IPV", birth, start, (20, 45), lambda d3: (add_months(d3, 12), add_months(d3, 18))
        )

    def bcg(self, birth: date, sex: str) -> list[Dose]:
        """Once before the first birthday: at 5-8 months since 2013 (3-6 months before)."""
        if birth < date(2005, 4, 2) or not self.takes(0.96):
            return []
        first, last = (5, 8) if birth >= date(2012, 11, 1) else (3, 6)
        day, late = self.at_months(birth, first, last)
        return [Dose("BCG", 1, day, late)]

    # Toddlers and school children -------------------------------------------------------------------

    def measles_rubella(self, birth: date, sex: str) -> list[Dose]:
        """MR from April 2006: dose 1 at 12-23 months, dose 2 in the year before primary school."""
        doses = []
        if birth >= date(2005, 4, 2) and self.takes(INFANT_COVERAGE):
            # Most children have it soon after the first birthday; the standard window runs to 24 months.
            day = random_day(self.rng, add_months(birth, 12), add_months(birth, 15))
            late = self.takes(LATE_SHARE)
            if late:
                day = add_months(birth, 24) + timedelta(days=self.rng.randint(0, 180))
            doses.append(Dose("MR", 1, day, late))
        second_share = 0.965 if doses else (0.3 if birth >= date(2005, 4, 2) else 0.93)
        if birth >= date(2000, 4, 2) and self.takes(second_share):
            entry = school_entry(birth)
            day, late = self.in_window(add_years(entry, -1), entry - timedelta(days=1))
            doses.append(Dose("MR", 2, day, late))
        return doses

    def varicella(self, birth: date, sex: str) -> list[Dose]:
        """Routine from October 2014 (births from October 2013): at 12-15 months, again 6-12 months on."""
        if birth < date(2013, 10, 1) or not self.takes(0.93):
            return []
        return self.series(
            "VAR", self.at_months(birth, 12, 16), [lambda d1: (add_months(d1, 6), add_months(d1, 12))]
        )

    def japanese_encephalitis(self, birth: date, sex: str) -> list[Dose]:
        """Two doses at 3 some weeks apart, a third a year later, a fourth (期2) at 9."""
        if birth < date(2007, 4, 2) or not self.takes(0.80):
            return []
        doses = self.series(
            "JE",
            self.at_months(birth, 36, 42),
            [_days_after(6, 28), lambda d2: (add_months(d2, 11), add_months(d2, 13))],
        )
        if len(doses) == 3 and self.takes(0.85):
            day, late = self.in_window(add_years(birth, 9), add_years(birth, 10) - timedelta(days=1))
            doses.append(Dose("JE", 4, day, late))
        return doses

    def diphtheria_tetanus(self, birth: date, sex: str) -> list[Dose]:
        """DT (期2) at 11, before the 13th birthday at the latest."""
        if birth < date(2000, 4, 2) or not self.takes(0.80):
            return []
        day, late = self.in_window(add_years(birth, 11), add_years(birth, 12) - timedelta(days=1))
        return [Dose("DT", 1, day, late)]

    def hpv(self, birth: date, sex: str) -> list[Dose]:
        """Girls from 12 to 16. Few took it while it was not recommended (cohorts turning 12 in 2013-2021)."""
        if sex != Sex.FEMALE or birth < date(1997, 4, 2):
            return []
        turns_12 = birth.year + 12
        first: tuple[date, bool] | None = None
        if turns_12 <= 2012:
            # The 2010-2013 grant programme, before routine vaccination was suspended in June 2013.
            start, end = (
                max(add_years(birth, 12), date(2011, 1, 1)),
                min(add_years(birth, 17), date(2013, 6, 13)),
            )
            if start < end and self.takes(0.6):
                first = (random_day(self.rng, start, end), False)
        elif turns_12 <= 2021:
            if self.takes(0.10):
                first = self.in_window(add_months(birth, 150), add_months(birth, 168))
            elif birth <= date(2008, 4, 1) and self.takes(0.15):
                # The catch-up programme (キャッチアップ接種) of April 2022 to March 2025: late by definition.
                first = (random_day(self.rng, date(2022, 4, 1), date(2025, 3, 31)), True)
        elif self.takes(0.40):
            first = self.in_window(add_months(birth, 150), add_months(birth, 168))
        if first is None:
            return []
        d1 = first[0]
        return self.series(
            "HPV", first, [_days_after(30, 75), lambda _d2: (add_months(d1, 6), add_months(d1, 8))]
        )

    # Adults -------------------------------------------------------------------------------------------

    def influenza(self, birth: date, sex: str) -> list[Dose]:
        """B類 since 2001 for people 65 and over: one dose each autumn, by habit more than by chance."""
        turns_65 = add_years(birth, 65)
        if turns_65 > self.as_of:
            return []
        habit = self.rng.choices([0.9, 0.4, 0.0], weights=[45, 25, 30])[0]
        doses = []
        for season in range(max(2001, turns_65.year), self.as_of.year + 1):
            if self.takes(habit):
                day = random_day(self.rng, max(date(season, 10, 1), turns_65), date(season, 12, 28))
                doses.append(Dose("Flu", 1, day))
        return doses

    def pneumococcal_elderly(self, birth: date, sex: str) -> list[Dose]:
        """PPSV23 once, in the first year the person is eligible (at 65; 70, 75, ... until March 2024)."""
        window = _ppsv23_window(birth)
        if window is None or not self.takes(0.35):
            return []
        return [Dose("PPSV23", 1, random_day(self.rng, *window))]

    def covid(self, birth: date, sex: str) -> list[Dose]:
        """Adults from 2021: two doses for about three in four, then boosters, most often the old."""
        if age_on(birth, date(2021, 4, 1)) < 18 or not self.takes(0.78):
            return []
        elderly = age_on(birth, date(2022, 3, 31)) >= 65
        start = (date(2021, 4, 12), date(2021, 7, 31)) if elderly else (date(2021, 6, 15), date(2021, 10, 31))
        d1 = random_day(self.rng, *start)
        doses = [Dose("COVID-19", 1, d1), Dose("COVID-19", 2, d1 + timedelta(days=self.rng.randint(21, 28)))]
        if not self.takes(0.97):
            return doses[:1]
        boosters = [  # (earliest, latest, months after the dose before, share elderly, share others)
            (date(2021, 12, 1), date(2022, 6, 30), 6, 0.92, 0.70),
            (date(2022, 5, 25), date(2022, 12, 31), 5, 0.85, 0.35),
            (date(2023, 1, 10), date(2023, 8, 31), 3, 0.75, 0.20),
            (date(2023, 9, 20), date(2024, 3, 31), 3, 0.65, 0.30),
        ]
        for earliest, latest, gap, share_elderly, share_others in boosters:
            if not self.takes(share_elderly if elderly else share_others):
                break
            first = max(earliest, add_months(doses[-1].on, gap))
            day = random_day(self.rng, first, max(latest, first + timedelta(days=60)))
            doses.append(Dose("COVID-19", len(doses) + 1, day))
        return doses


def _days_after(low: int, high: int) -> Callable[[date], tuple[date, date]]:
    return lambda previous: (previous + timedelta(days=low), previous + timedelta(days=high))


def _ppsv23_window(birth: date) -> tuple[date, date] | None:
    """The first window of eligibility: fiscal years 2014-2023 took 65, 70, ... 100; since then 65 only."""
    for year in range(2014, 2024):
        fiscal_end = date(year + 1, 3, 31)
        if age_on(birth, fiscal_end) in range(65, 101, 5):
            return max(date(year, 4, 1), date(2014, 10, 1)), fiscal_end
    turns_65 = add_years(birth, 65)
    if turns_65 >= date(2024, 4, 1):
        return turns_65, add_years(birth, 66) - timedelta(days=1)
    return None


# Writing the ledger -----------------------------------------------------------------------------------


class Ledger:
    """Who gave each dose and from which lot: a home clinic most of the time, lots shared for a while."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._lots: dict[tuple[str, str, int, int], str] = {}

    def clinics_of(self) -> tuple[str, str]:
        """A person's own children's clinic and own adult clinic."""
        return self.rng.choice(CHILD_CLINICS), self.rng.choice(ADULT_CLINICS)

    def clinic(self, dose: Dose, birth: date, home: tuple[str, str], elsewhere: bool) -> str:
        if elsewhere:
            return self.rng.choice(CLINICS_ELSEWHERE)
        if dose.vaccine == "COVID-19" and self.takes(0.3):
            return MASS_VACCINATION_SITE
        child = age_on(birth, dose.on) < 15
        if self.takes(0.85):
            return home[0] if child else home[1]
        return self.rng.choice(CHILD_CLINICS if child else ADULT_CLINICS)

    def takes(self, share: float) -> bool:
        return self.rng.random() < share

    def lot(self, vaccine: str, clinic: str, day: date) -> str:
        """A clinic uses one lot of a vaccine for a quarter: "AB123C"."""
        key = (vaccine, clinic, day.year, (day.month - 1) // 3)
        if key not in self._lots:
            letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
            r = self.rng
            self._lots[key] = (
                f"{r.choice(letters)}{r.choice(letters)}{r.randint(100, 999)}{r.choice(letters)}"
            )
        return self._lots[key]
