"""The schedule as data: series, their rule versions, eligibility windows and courses.

The rules are TOML files under ``data/`` (one per group of series), read once with ``tomllib`` and
compiled into the frozen objects below, so the engine only does date arithmetic per person. Every
rule names its legal source and the day it came into force (``valid_from``); a rule is in force
until the next version of the same series starts (or its ``valid_until``).
"""

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cache, cached_property
from pathlib import Path

from sesshu.core.problems import Problem, ProblemList

from .dates import (
    age_day,
    fiscal_year_end,
    fiscal_year_of,
    fiscal_year_start,
    interval_day,
    parse_spec,
    reached_years,
    school_entry,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
KINDS = ("course", "seasonal", "cohort")
CATEGORIES = ("A", "B", "temporary", "special_measures")


def spec_ja(spec: str) -> str:
    months, weeks, days = parse_spec(spec)
    if months:
        return f"{months // 12}歳" if months % 12 == 0 and months >= 12 else f"生後{months}月"
    return f"出生{weeks}週{days}日後"


def spec_en(spec: str) -> str:
    months, weeks, days = parse_spec(spec)
    if months:
        if months % 12 == 0 and months >= 12:
            return "1 year" if months == 12 else f"{months // 12} years"
        return f"{months} months"
    return f"{weeks} weeks {days} days after birth"


def interval_ja(spec: str) -> str:
    months, weeks, days = parse_spec(spec)
    return f"{months}月" if months else f"{7 * weeks + days}日"


def interval_en(spec: str) -> str:
    months, weeks, days = parse_spec(spec)
    return f"{months} months" if months else f"{7 * weeks + days} days"


@dataclass(frozen=True)
class Window:
    """Who is eligible when: a cohort (birth dates, sex) and a period (ages, fiscal years, dates)."""

    source: str
    label_ja: str = ""
    label_en: str = ""
    born_from: date | None = None
    born_until: date | None = None
    sex: str | None = None
    from_age: str | None = None  # 「N歳以上」「生後N月から」
    until_age: str | None = None  # 「N歳に至るまで」「N歳未満」
    fy_from_age: str | None = None  # from the start of the fiscal year in which the age is reached
    fy_until_age: str | None = None  # to the end of the fiscal year in which the age is reached
    school: str | None = None  # "year_before_entry": 小学校就学前の1年間 (MR 2期)
    fy_ages: tuple[int, ...] = ()  # 「当該年度内にN歳となる者」, fiscal years in ``fiscal_years``
    fy_age_or_older: int | None = None  # ... and everyone older than this in those years
    fiscal_years: tuple[int, int] | None = None
    from_date: date | None = None
    until_date: date | None = None
    extend_until: date | None = None  # catch-up completions: extended to this day ...
    extend_if_dose_between: tuple[date, date] | None = None  # ... for those with a dose in this period

    def applies(self, birth: date, sex: str) -> bool:
        if self.born_from and birth < self.born_from:
            return False
        if self.born_until and birth > self.born_until:
            return False
        return not (self.sex and sex != self.sex)

    def periods(self, birth: date) -> list[tuple[date, date]]:
        """The periods (inclusive) this window gives someone born on ``birth``."""
        if self.fy_ages or self.fy_age_or_older is not None:
            assert self.fiscal_years is not None
            first, last = self.fiscal_years
            # The fiscal years in which an age is reached (each age once), not every year against every age.
            reached = (fiscal_year_of(reached_years(birth, a)) for a in self.fy_ages)
            years = {y for y in reached if first <= y <= last}
            if self.fy_age_or_older is not None:
                older_from = fiscal_year_of(reached_years(birth, self.fy_age_or_older)) + 1
                years.update(range(max(first, older_from), last + 1))
            out = [self._clip(fiscal_year_start(y), fiscal_year_end(y)) for y in sorted(years)]
            return [p for p in out if p[0] <= p[1]]
        start, end = birth, date.max
        if self.from_age:
            start = age_day(birth, self.from_age)
        if self.until_age:
            end = age_day(birth, self.until_age)
        if self.fy_from_age:
            start = fiscal_year_start(fiscal_year_of(age_day(birth, self.fy_from_age)))
        if self.fy_until_age:
            end = fiscal_year_end(fiscal_year_of(age_day(birth, self.fy_until_age)))
        if self.school == "year_before_entry":
            entry = school_entry(birth)
            start, end = date(entry.year - 1, 4, 1), entry - timedelta(days=1)
        start, end = self._clip(start, end)
        return [(start, end)] if start <= end else []

    def _clip(self, start: date, end: date) -> tuple[date, date]:
        if self.from_date and start < self.from_date:
            start = self.from_date
        if self.until_date and end > self.until_date:
            end = self.until_date
        return start, end

    @cached_property
    def description(self) -> tuple[str, str]:
        """(Japanese, English) of the window as reasons name it; worked out once a window."""
        return self.describe_ja(), self.describe_en()

    def describe_ja(self) -> str:
        if self.label_ja:
            return self.label_ja
        parts = []
        if self.from_age:
            parts.append(f"{spec_ja(self.from_age)}から")
        if self.until_age:
            parts.append(f"{spec_ja(self.until_age)}に至るまで")
        return "".join(parts) or "対象期間"

    def describe_en(self) -> str:
        if self.label_en:
            return self.label_en
        parts = []
        if self.from_age:
            parts.append(f"from {spec_en(self.from_age)}")
        if self.until_age:
            parts.append(f"until reaching {spec_en(self.until_age)}")
        return " ".join(parts) or "the eligible period"


@dataclass(frozen=True)
class DoseSpec:
    interval: str | None = None  # 「N日（月）以上の間隔」 after the dose before
    interval_from_first: str | None = None  # ... and after the first dose (B型肝炎 3回目: 139日)
    from_age: str | None = None  # this dose not before (e.g. PCV 追加: 生後12月に至った日以降)
    until_age: str | None = None  # this dose by (e.g. Hib 初回2・3回目: 生後12月に至るまで)
    skip_when_late: bool = False  # past ``until_age`` the dose is not given; the course moves on
    skip_if_previous_after_age: str | None = None  # PCV: no 初回3回目 when 2回目 came after 生後12月
    interval_if_skipped: str | None = None  # Hib: 追加 27日 after the last 初回 dose when 初回 was cut short
    recommended_interval: tuple[str, str] | None = None
    recommended_age: tuple[str, str] | None = None
    # HPV: a course that started before 15 with the 9-valent vaccine is complete with two doses
    completes_after_first: str | None = None
    completes_if_first_until_age: str | None = None
    completes_if_first_from: date | None = None
    label_ja: str = ""
    label_en: str = ""


@dataclass(frozen=True)
class Course:
    name: str
    doses: tuple[DoseSpec, ...]
    start_until_age: str | None = None  # chosen when the first dose is given by this age
    vaccine: str | None = None  # chosen when the first dose is this product (ロタ 1価/5価, 帯状疱疹)
    source: str = ""


@dataclass(frozen=True)
class LongTermCare:
    """長期療養特例: eligibility extended for two years after an illness, up to an age limit."""

    source: str
    upper_age: str | None = None


@dataclass(frozen=True)
class Rule:
    series: str
    valid_from: date
    valid_until: date | None
    source: str
    windows: tuple[Window, ...]
    courses: tuple[Course, ...]
    recommended_age: tuple[str, str] | None = None
    recommended_school: str | None = None
    recommended_source: str = ""
    season_from: tuple[int, int] | None = None  # (month, day) a season's vaccinations start
    season_recommended_until: tuple[int, int] | None = None
    long_term_care: LongTermCare | None = None

    def in_force_until(self, next_from: date | None) -> date:
        ends = [d for d in (self.valid_until, next_from and next_from - timedelta(days=1)) if d]
        return min(ends) if ends else date.max

    def course_for(self, birth: date, day: date, vaccine: str | None) -> Course:
        by_product = [c for c in self.courses if c.vaccine]
        if by_product:
            # Before the first dose the product is open: plan with the one allowed longest (listed last).
            return next((c for c in by_product if c.vaccine == vaccine), by_product[-1])
        for course in self.courses:
            if course.start_until_age is None or day <= age_day(birth, course.start_until_age):
                return course
        return self.courses[-1]


@dataclass(frozen=True, eq=False)  # hashed by identity: the engine caches per series object
class Series:
    code: str
    name_ja: str
    name_en: str
    category: str
    kind: str
    vaccines: tuple[str, ...]
    order: int
    rules: tuple[Rule, ...]  # by valid_from
    file: str = ""
    follows: str | None = None  # 第2期 after 第1期: doses 第1期 counted are not this series' doses

    def __post_init__(self) -> None:
        spans = []
        for i, rule in enumerate(self.rules):
            nxt = self.rules[i + 1].valid_from if i + 1 < len(self.rules) else None
            spans.append((rule.valid_from, rule.in_force_until(nxt), rule))
        object.__setattr__(self, "_spans", tuple(spans))
        periods = {id(rule): (start, end) for start, end, rule in reversed(spans)}  # first span wins
        object.__setattr__(self, "_rule_periods", periods)

    def rule_at(self, day: date) -> Rule | None:
        for start, end, rule in self._spans:
            if start <= day <= end:
                return rule
        return None

    def rule_for_forecast(self, as_of: date) -> Rule:
        """The rule to plan the next dose with: the one in force, else the last one that was."""
        in_force = self.rule_at(as_of)
        if in_force:
            return in_force
        earlier = [r for r in self.rules if r.valid_from <= as_of]
        return earlier[-1] if earlier else self.rules[0]

    def rule_period(self, rule: Rule) -> tuple[date, date]:
        try:
            return self._rule_periods[id(rule)]
        except KeyError:
            raise ValueError(rule) from None


# Loading and validating -----------------------------------------------------------------------------


class _Reader:
    """Reads one TOML table, collecting bilingual problems instead of stopping at the first."""

    def __init__(self, file: str, problems: list[Problem]):
        self.file = file
        self.problems = problems

    def problem(self, where: str, ja: str, en: str) -> None:
        self.problems.append(
            Problem("invalid_schedule", f"{self.file} {where}: {ja}", f"{self.file} {where}: {en}", where)
        )

    def date(self, table: dict, key: str, where: str, required: bool = False) -> date | None:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(where, f"{key} がありません。", f"{key} is missing.")
            return None
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.problem(
                where,
                f"{key} の日付 {value!r} が正しくありません（YYYY-MM-DD）。",
                f"{key}: {value!r} is not a date (YYYY-MM-DD).",
            )
            return None

    def spec(self, table: dict, key: str, where: str) -> str | None:
        value = table.get(key)
        if value is None:
            return None
        try:
            parse_spec(str(value))
        except ValueError:
            self.problem(
                where,
                f"{key} の {value!r} は年齢・間隔の書き方（例: 2mo, 65y, 6w0d, 27d）ではありません。",
                f"{key}: {value!r} is not an age or interval (e.g. 2mo, 65y, 6w0d, 27d).",
            )
            return None
        return str(value)

    def spec_pair(self, table: dict, key: str, where: str) -> tuple[str, str] | None:
        value = table.get(key)
        if value is None:
            return None
        if not (isinstance(value, list) and len(value) == 2):
            self.problem(where, f"{key} は2つの値の配列です。", f"{key} must be a list of two values.")
            return None
        a = self.spec({"x": value[0]}, "x", f"{where}.{key}")
        b = self.spec({"x": value[1]}, "x", f"{where}.{key}")
        return (a, b) if a and b else None

    def text(self, table: dict, key: str, where: str, required: bool = True) -> str:
        value = table.get(key, "")
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(where, f"{key}（文字列）がありません。", f"{key} (text) is missing.")
            return ""
        return value

    def month_day(self, table: dict, key: str, where: str) -> tuple[int, int] | None:
        value = table.get(key)
        if value is None:
            return None
        try:
            month, day = (int(x) for x in str(value).split("-"))
            date(2000, month, day)
        except ValueError:
            self.problem(where, f"{key} は MM-DD で書きます。", f"{key} must be MM-DD.")
            return None
        return month, day


def _window(r: _Reader, t: dict, where: str, default_source: str) -> Window:
    years = t.get("fiscal_years")
    between = t.get("extend_if_dose_between")
    window = Window(
        source=t.get("source", default_source),
        label_ja=t.get("label_ja", ""),
        label_en=t.get("label_en", ""),
        born_from=r.date(t, "born_from", where),
        born_until=r.date(t, "born_until", where),
        sex=t.get("sex"),
        from_age=r.spec(t, "from_age", where),
        until_age=r.spec(t, "until_age", where),
        fy_from_age=r.spec(t, "fy_from_age", where),
        fy_until_age=r.spec(t, "fy_until_age", where),
        school=t.get("school"),
        fy_ages=tuple(int(a) for a in t.get("fy_ages", [])),
        fy_age_or_older=t.get("fy_age_or_older"),
        fiscal_years=tuple(years) if years else None,
        from_date=r.date(t, "from_date", where),
        until_date=r.date(t, "until_date", where),
        extend_until=r.date(t, "extend_until", where),
        extend_if_dose_between=(
            (r.date({"x": between[0]}, "x", where), r.date({"x": between[1]}, "x", where))
            if between
            else None
        ),
    )
    if window.sex not in (None, "M", "F"):
        r.problem(where, "sex は M か F です。", "sex must be M or F.")
    if window.school not in (None, "year_before_entry"):
        r.problem(where, "school は year_before_entry のみです。", "school may only be year_before_entry.")
    if (window.fy_ages or window.fy_age_or_older is not None) and not window.fiscal_years:
        r.problem(where, "fy_ages には fiscal_years が必要です。", "fy_ages needs fiscal_years.")
    return window


def _dose(r: _Reader, t: dict, where: str) -> DoseSpec:
    return DoseSpec(
        interval=r.spec(t, "interval", where),
        interval_from_first=r.spec(t, "interval_from_first", where),
        from_age=r.spec(t, "from_age", where),
        until_age=r.spec(t, "until_age", where),
        skip_when_late=bool(t.get("skip_when_late", False)),
        skip_if_previous_after_age=r.spec(t, "skip_if_previous_after_age", where),
        interval_if_skipped=r.spec(t, "interval_if_skipped", where),
        recommended_interval=r.spec_pair(t, "recommended_interval", where),
        recommended_age=r.spec_pair(t, "recommended_age", where),
        completes_after_first=r.spec(t, "completes_after_first", where),
        completes_if_first_until_age=r.spec(t, "completes_if_first_until_age", where),
        completes_if_first_from=r.date(t, "completes_if_first_from", where),
        label_ja=t.get("label_ja", ""),
        label_en=t.get("label_en", ""),
    )


def _rule(r: _Reader, code: str, t: dict, where: str, vaccines: tuple[str, ...]) -> Rule:
    source = r.text(t, "source", where)
    courses = []
    for j, c in enumerate(t.get("courses", [])):
        cw = f"{where}.courses[{j}]"
        doses = tuple(_dose(r, d, f"{cw}.doses[{k}]") for k, d in enumerate(c.get("doses", [])))
        if not doses:
            r.problem(cw, "doses がありません。", "doses is missing.")
        if c.get("vaccine") and c["vaccine"] not in vaccines:
            r.problem(cw, f"vaccine {c['vaccine']} はこのシリーズのワクチンではありません。",
                      f"vaccine {c['vaccine']} is not one of this series' vaccines.")  # fmt: skip
        courses.append(
            Course(
                name=c.get("name", f"course{j + 1}"),
                doses=doses,
                start_until_age=r.spec(c, "start_until_age", cw),
                vaccine=c.get("vaccine"),
                source=c.get("source", source),
            )
        )
    if not courses:
        courses.append(Course(name="single", doses=(DoseSpec(),), source=source))
    ltc = t.get("long_term_care")
    windows = tuple(
        _window(r, w, f"{where}.windows[{i}]", source) for i, w in enumerate(t.get("windows", []))
    )
    if not windows:
        r.problem(where, "windows（対象者）がありません。", "windows (who is eligible) is missing.")
    return Rule(
        series=code,
        valid_from=r.date(t, "valid_from", where, required=True) or date.min,
        valid_until=r.date(t, "valid_until", where),
        source=source,
        windows=windows,
        courses=tuple(courses),
        recommended_age=r.spec_pair(t, "recommended_age", where),
        recommended_school=t.get("recommended_school"),
        recommended_source=t.get("recommended_source", ""),
        season_from=r.month_day(t, "season_from", where),
        season_recommended_until=r.month_day(t, "season_recommended_until", where),
        long_term_care=(
            LongTermCare(source=ltc.get("source", ""), upper_age=r.spec(ltc, "upper_age", where))
            if isinstance(ltc, dict)
            else None
        ),
    )


def parse_series(data: dict, file: str, problems: list[Problem], known_vaccines: set[str]) -> list[Series]:
    r = _Reader(file, problems)
    out = []
    for i, s in enumerate(data.get("series", [])):
        where = f"series[{i}]"
        code = r.text(s, "code", where)
        where = f"{code or where}"
        vaccines = tuple(s.get("vaccines", []))
        unknown = [v for v in vaccines if known_vaccines and v not in known_vaccines]
        if unknown or not vaccines:
            r.problem(
                where,
                f"ワクチンコードが不明です: {unknown or '(なし)'}",
                f"unknown vaccine codes: {unknown or '(none)'}",
            )
        kind = s.get("kind", "course")
        if kind not in KINDS:
            r.problem(
                where,
                f"kind は {', '.join(KINDS)} のいずれかです。",
                f"kind must be one of {', '.join(KINDS)}.",
            )
        category = s.get("category", "")
        if category not in CATEGORIES:
            r.problem(where, f"category は {', '.join(CATEGORIES)} のいずれかです。",
                      f"category must be one of {', '.join(CATEGORIES)}.")  # fmt: skip
        rules = [_rule(r, code, t, f"{where}.rules[{j}]", vaccines) for j, t in enumerate(s.get("rules", []))]
        if not rules:
            r.problem(where, "rules がありません。", "rules is missing.")
            continue
        out.append(
            Series(
                code=code,
                name_ja=r.text(s, "name_ja", where),
                name_en=r.text(s, "name_en", where),
                category=category,
                kind=kind,
                vaccines=vaccines,
                order=int(s.get("order", 1000)),
                rules=tuple(sorted(rules, key=lambda x: x.valid_from)),
                file=file,
                follows=s.get("follows"),
            )
        )
    return out


def read_toml(path: Path, problems: list[Problem]) -> dict | None:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except UnicodeDecodeError:
        problems.append(Problem("invalid_schedule", f"{path.name}: UTF-8 で保存してください。",
                                f"{path.name}: save the file as UTF-8.", path.name))  # fmt: skip
    except tomllib.TOMLDecodeError as exc:
        problems.append(Problem("invalid_schedule", f"{path.name}: TOML の書式が正しくありません（{exc}）。",
                                f"{path.name}: not valid TOML ({exc}).", path.name))  # fmt: skip
    except OSError as exc:
        problems.append(Problem("invalid_schedule", f"{path.name}: 読めません（{exc.strerror}）。",
                                f"{path.name}: cannot be read ({exc.strerror}).", path.name))  # fmt: skip
    return None


VACCINE_FILE = "vaccines.toml"


def load_vaccines(directory: Path = DATA_DIR) -> dict[str, dict]:
    problems: list[Problem] = []
    data = read_toml(directory / VACCINE_FILE, problems)
    if problems or data is None:
        raise ProblemList(problems)
    return {v["code"]: v for v in data["vaccine"]}


def load_series(directory: Path = DATA_DIR) -> list[Series]:
    """Every series in the data files, validated; ProblemList with every problem found."""
    problems: list[Problem] = []
    vaccines = set(load_vaccines(directory))
    series: list[Series] = []
    for path in sorted(directory.glob("*.toml")):
        if path.name == VACCINE_FILE:
            continue
        data = read_toml(path, problems)
        if data is not None:
            series += parse_series(data, path.name, problems, vaccines)
    seen: set[str] = set()
    for s in series:
        if s.code in seen:
            problems.append(Problem("invalid_schedule", f"シリーズ {s.code} が重複しています。",
                                    f"series {s.code} is defined twice.", s.code))  # fmt: skip
        seen.add(s.code)
    if problems:
        raise ProblemList(problems)
    return sorted(series, key=lambda s: (s.order, s.code))


@dataclass
class Schedule:
    series: list[Series]
    vaccines: dict[str, dict]
    by_vaccine: dict[str, list[Series]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for s in self.series:
            for v in s.vaccines:
                self.by_vaccine.setdefault(v, []).append(s)


@cache
def schedule() -> Schedule:
    return Schedule(load_series(), load_vaccines())


def interval_ok(previous: date, day: date, spec: str | None) -> bool:
    return spec is None or day >= interval_day(previous, spec)
