"""The forecasting engine: which doses count, and what each series needs next.

Antigen-based: a dose of a combination vaccine (5種混合) is evaluated in every series whose vaccines
list it (DPT-IPV 1期 and Hib). Each dose is judged by the rule in force on its date; the next dose
is planned with the rule in force on the as-of date. All arithmetic is in ``dates`` (the ministry's
reading of ages and intervals).
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache, lru_cache

from sesshu.core.problems import Problem, ProblemList

from . import reasons as R
from .campaigns import Campaign, campaigns
from .dates import age_day, fiscal_year_end, fiscal_year_of, interval_day, reached_years
from .rules import Course, DoseSpec, Rule, Series, Window, schedule
from .types import DoseEvaluation, Extension, Forecast, Reason, Recommendation

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Period:
    start: date
    end: date
    window: Window
    rule: Rule
    extension: Extension | None = None


class SeriesResult:
    """One series' verdict on its doses (by index into the history) and its recommendation."""

    __slots__ = ("recommendation", "verdicts")

    def __init__(self) -> None:
        self.verdicts: dict[int, tuple[bool, list[Reason]]] = {}
        self.recommendation: Recommendation | None = None


def _periods(
    s: Series, birth: date, sex: str, doses: list[tuple[int, date, str]], extensions: list[Extension]
) -> tuple[list[Period], bool]:
    """The person's eligible periods over every rule version; and whether only sex kept them out."""
    extend = _extendable(s)
    if extend:
        # Catch-up windows run longer for those with a dose in a given period: one flag a window.
        flags = tuple(any(a <= d <= b for _, d, _ in doses) for a, b in extend)
    else:
        flags = ()
    base, sex_only = _base_periods(s, birth, sex if _by_sex(s) else "", flags)
    if not base or not extensions:
        return base, sex_only  # shared (cached): callers only read it
    out = list(base)
    for ext in extensions:
        out += _long_term_care(s, birth, ext, out)
    out.sort(key=lambda p: (p.start, p.end))  # stable: as if sorted with the base periods
    return out, False


@cache
def _by_sex(s: Series) -> bool:
    """Whether any window of the series depends on sex (else its periods are the same for everyone)."""
    return any(w.sex for rule in s.rules for w in rule.windows)


@cache
def _extendable(s: Series) -> tuple[tuple[date, date], ...]:
    """The dose periods of the series' windows that extend (in rule and window order)."""
    return tuple(
        w.extend_if_dose_between
        for rule in s.rules
        for w in rule.windows
        if w.extend_until and w.extend_if_dose_between
    )


@cache
def _windows(s: Series) -> tuple[tuple[Rule, date, date, Window, bool], ...]:
    """(rule, its first and last day in force, window, whether the window extends) for every window of
    the series, in rule and window order: worked out once, read for every birth date."""
    return tuple(
        (rule, *s.rule_period(rule), w, bool(w.extend_until and w.extend_if_dose_between))
        for rule in s.rules
        for w in rule.windows
    )


@lru_cache(maxsize=2_000_000)
def _base_periods(s: Series, birth: date, sex: str, flags: tuple[bool, ...]) -> tuple[list[Period], bool]:
    """The periods before 長期療養特例, sorted (cached: they depend on birth date, sex and ``flags``)."""
    out: list[Period] = []
    sex_only = False
    flag = iter(flags)
    for rule, rule_start, rule_end, w, extends in _windows(s):
        extended = next(flag) if extends else False
        if not w.applies(birth, sex):
            if w.sex and w.applies(birth, w.sex):
                sex_only = True
            continue
        until = w.extend_until if extended else None
        for start, end in w.periods(birth):
            if until is not None:
                end = max(end, until)
            start, end = max(start, rule_start), min(end, rule_end)
            if start <= end:
                out.append(Period(start, end, w, rule))
    if out:
        sex_only = False
        if len(out) > 1:
            out.sort(key=lambda p: (p.start, p.end))
    return out, sex_only


def _long_term_care(s: Series, birth: date, ext: Extension, periods: list[Period]) -> list[Period]:
    """長期療養特例: two years from the day the illness ended, up to the series' age limit."""
    if ext.series != s.code:
        return []
    rule = s.rule_at(ext.illness_until) or s.rules[-1]
    if rule.long_term_care is None:
        return []
    if not any(p.start <= ext.illness_until and ext.illness_from <= p.end for p in periods):
        return []  # the illness did not keep the person from the eligible period
    # 「なくなった日から起算して2年を経過する日まで」: the day before the same day two years later.
    end = reached_years(ext.illness_until, 2)
    if rule.long_term_care.upper_age:
        end = min(end, age_day(birth, rule.long_term_care.upper_age))
    start = ext.illness_until
    if start > end:
        return []
    w = Window(
        source=rule.long_term_care.source, label_ja="長期療養特例", label_en="long-term illness exception"
    )
    return [Period(start, end, w, rule, ext)]


def _containing(periods: list[Period], day: date) -> Period | None:
    for p in periods:
        if p.start <= day <= p.end:
            return p
    return None


def _first_from(periods: list[Period], day: date) -> Period | None:
    """The period containing ``day``, else the next one to start."""
    for p in periods:
        if p.end >= day:
            return p
    return None


def _what(p: Period | list[Period]) -> tuple[str, str]:
    w = p.window if isinstance(p, Period) else p[0].window
    return w.description


# Courses (A類, and B類 given once: 高齢者肺炎球菌, 帯状疱疹) -----------------------------------------


def _course_series(
    s: Series,
    birth: date,
    sex: str,
    doses: list[tuple[int, date, str]],
    as_of: date,
    extensions: list[Extension],
) -> SeriesResult:
    result = SeriesResult()
    periods, sex_only = _periods(s, birth, sex, doses, extensions)
    counted: list[date] = []
    course: Course | None = None
    first_vaccine: str | None = None
    k = 0  # the next dose of the course
    done = False
    skipped = False  # a dose of the course was left out (given only until an age)
    first_routine = s.rules[0].valid_from

    for index, day, vaccine in doses:
        rule = s.rule_at(day)
        if rule is None and day < first_routine:
            result.verdicts[index] = (True, [R.not_routine(s, day, first_routine)])
            if course is None:
                course = s.rules[0].course_for(birth, day, vaccine)
                first_vaccine = vaccine
            counted.append(day)
            k += 1
            done = done or k >= len(course.doses)
            continue
        rule = rule or s.rules[-1]
        if done:
            result.verdicts[index] = (False, [R.extra_dose(s, day, rule.source)])
            continue
        if course is None:
            course = rule.course_for(birth, day, vaccine)
        if first_vaccine and course.vaccine and vaccine != first_vaccine:
            result.verdicts[index] = (
                False,
                [R.product_changed(s, day, first_vaccine, vaccine, course.source)],
            )
            continue
        while k < len(course.doses) - 1 and counted and _skip(course.doses[k], birth, day, counted):
            k += 1
            skipped = True
        spec = _effective(course.doses[k], skipped)
        problem = _check_dose(s, birth, sex, day, spec, counted, periods, rule, course)
        if problem:
            result.verdicts[index] = (False, [problem])
            continue
        result.verdicts[index] = (True, [])
        if first_vaccine is None:
            first_vaccine = vaccine
        counted.append(day)
        k += 1
        if k >= len(course.doses) or _completes_early(course.doses[k], birth, counted):
            done = True

    if s.kind == "cohort" and doses and (not counted or counted[0] < first_routine):
        # B類 given once: whoever was vaccinated before (at their own cost, or before it was routine) is
        # not a target any more (施行令 第1条の3 表: 「既に…接種を受けた者を除く」).
        day = counted[0] if counted else doses[0][1]
        status = "complete" if done else "not_eligible"
        reason = R.vaccinated_before(s, day, s.rules[-1].source)
        result.recommendation = Recommendation(s.code, None, status, reasons=(reason,))
        return result
    result.recommendation = _next_dose(s, birth, as_of, periods, sex_only, course, k, counted, done, skipped)
    return result


def _check_dose(
    s: Series, birth: date, sex: str, day: date, spec: DoseSpec, counted: list[date],
    periods: list[Period], rule: Rule, course: Course,
) -> Reason | None:  # fmt: skip
    if not periods:
        sex_rule = any(w.sex and w.sex != sex for w in rule.windows)
        return R.wrong_sex(s, rule.source) if sex_rule else R.not_in_cohort(s, day, rule.source)
    period = _containing(periods, day)
    if spec.from_age and day < age_day(birth, spec.from_age):
        earliest = age_day(birth, spec.from_age)
        return R.too_young(s, day, earliest, f"{spec.from_age}", spec.from_age, course.source)
    if period is None:
        nxt = _first_from(periods, day)
        if nxt is not None and not counted and nxt is periods[0]:
            what = _what(nxt)
            return R.too_young(s, day, nxt.start, *what, nxt.window.source)
        if nxt is None or counted:
            last = max((p for p in periods if p.end < day), key=lambda p: p.end, default=periods[-1])
            return R.too_old(s, day, last.end, *_what(last), last.window.source)
        return R.not_in_cohort(s, day, nxt.window.source)
    if spec.until_age and day > age_day(birth, spec.until_age):
        deadline = age_day(birth, spec.until_age)
        return R.too_old(
            s, day, deadline, spec.label_ja or spec.until_age, spec.label_en or spec.until_age, course.source
        )
    if counted and spec.interval and day < interval_day(counted[-1], spec.interval):
        return R.interval_too_short(
            s, day, counted[-1], spec.interval, interval_day(counted[-1], spec.interval), course.source
        )
    if counted and spec.interval_from_first and day < interval_day(counted[0], spec.interval_from_first):
        earliest = interval_day(counted[0], spec.interval_from_first)
        return R.interval_too_short(s, day, counted[0], spec.interval_from_first, earliest, course.source)
    return None


def _skip(spec: DoseSpec, birth: date, day: date, counted: list[date]) -> bool:
    """Whether this dose of the course is left out for a dose given (or planned) on ``day``."""
    if spec.skip_when_late and spec.until_age and day > age_day(birth, spec.until_age):
        return True
    limit = spec.skip_if_previous_after_age
    return bool(limit and counted and counted[-1] > age_day(birth, limit))


def _effective(spec: DoseSpec, skipped: bool) -> DoseSpec:
    if skipped and spec.interval_if_skipped:
        return replace(spec, interval=spec.interval_if_skipped, recommended_interval=None)
    return spec


def _completes_early(spec: DoseSpec, birth: date, counted: list[date]) -> bool:
    """HPV: two doses complete the course when the first was a 9-valent dose before the 15th birthday."""
    if not spec.completes_after_first or len(counted) < 2:
        return False
    first = counted[0]
    if spec.completes_if_first_from and first < spec.completes_if_first_from:
        return False
    if spec.completes_if_first_until_age and first > age_day(birth, spec.completes_if_first_until_age):
        return False
    return counted[-1] >= interval_day(first, spec.completes_after_first)


def _next_dose(
    s: Series, birth: date, as_of: date, periods: list[Period], sex_only: bool,
    course: Course | None, k: int, counted: list[date], done: bool, skipped: bool,
) -> Recommendation:  # fmt: skip
    rule = _forecast_rule(s, as_of)
    if done:
        if s.category == "B" and counted:
            reason = R.vaccinated_before(s, counted[0], rule.source)
            return Recommendation(s.code, None, "complete", reasons=(reason,))
        return _complete(s, len(counted), rule.source)
    if not periods:
        reason = R.wrong_sex(s, rule.source) if sex_only else R.not_eligible(s, rule.source)
        return Recommendation(s.code, None, "not_eligible", reasons=(reason,))
    if course is None:
        start = max(as_of, periods[0].start)
        course = rule.course_for(birth, start, None)
    notes: list[Reason] = []
    earliest = periods[0].start
    if counted:
        # Doses only given until an age are left out once that age has passed.
        while k < len(course.doses) - 1:
            spec = course.doses[k]
            candidate = max(as_of, _earliest_for(spec, birth, counted, earliest))
            if not _skip(spec, birth, candidate, counted):
                break
            until = age_day(birth, spec.until_age) if spec.until_age else counted[-1]
            notes.append(R.skipped(s, k + 1, until, course.source))
            k += 1
            skipped = True
        spec = _effective(course.doses[k], skipped)
    else:
        spec = course.doses[0]
    n = k + 1
    earliest = _earliest_for(spec, birth, counted, earliest)
    # Plan in the period running on the as-of day (or the next); a past one only to name its deadline.
    period = _first_from(periods, max(earliest, as_of)) or _first_from(periods, earliest)
    if period is None:
        last = periods[-1]
        status_reason = R.aged_out(s, n, last.end, last.window.source)
        return Recommendation(s.code, n, "aged_out", deadline=last.end, reasons=(*notes, status_reason))
    earliest = max(earliest, period.start)
    deadline = period.end
    if spec.until_age:
        deadline = min(deadline, age_day(birth, spec.until_age))
    source = period.window.source
    if earliest > deadline:
        return Recommendation(
            s.code, n, "aged_out", deadline=deadline, reasons=(*notes, R.aged_out(s, n, deadline, source))
        )
    rec_from, rec_until = _recommended(s, rule, spec, birth, counted, n)
    if rec_from and rec_until:
        rec_from, rec_until = max(rec_from, earliest), min(rec_until, deadline)
        if rec_from > rec_until:
            rec_from = rec_until = None
    if period.extension is not None:
        notes.append(R.long_term_care(s, period.end, period.window.source))
    what = _what(period)
    if as_of > deadline:
        status, reason = "aged_out", R.aged_out(s, n, deadline, source)
    elif as_of < earliest:
        if s.category == "B" and not counted:
            reason = R.not_eligible(s, source, earliest)
            return Recommendation(s.code, None, "not_eligible", earliest=earliest, reasons=(reason,))
        else:
            status, reason = "not_yet", R.not_yet(s, n, earliest, *what, source)
    else:
        status, reason = "due", R.due(s, n, earliest, deadline, *what, source)
        if rec_until and as_of > rec_until:
            notes.append(R.past_recommended(s, rec_until, rule.recommended_source or source))
    return Recommendation(s.code, n, status, earliest, rec_from, rec_until, deadline, (reason, *notes))


@lru_cache(maxsize=10_000)
def _complete(s: Series, count: int, source: str) -> Recommendation:
    """A course complete with ``count`` doses: the same answer for everyone (shared, immutable)."""
    return Recommendation(s.code, None, "complete", reasons=(R.complete(s, count, source),))


@lru_cache(maxsize=10_000)
def _forecast_rule(s: Series, as_of: date) -> Rule:
    return s.rule_for_forecast(as_of)


def _earliest_for(spec: DoseSpec, birth: date, counted: list[date], floor: date) -> date:
    earliest = floor
    if spec.from_age:
        earliest = max(earliest, age_day(birth, spec.from_age))
    if counted and spec.interval:
        earliest = max(earliest, interval_day(counted[-1], spec.interval))
    if counted and spec.interval_from_first:
        earliest = max(earliest, interval_day(counted[0], spec.interval_from_first))
    return earliest


def _recommended(
    s: Series, rule: Rule, spec: DoseSpec, birth: date, counted: list[date], n: int
) -> tuple[date | None, date | None]:
    if spec.recommended_age:
        a, b = spec.recommended_age
        return age_day(birth, a), age_day(birth, b)
    if counted and spec.recommended_interval:
        a, b = spec.recommended_interval
        return interval_day(counted[-1], a), interval_day(counted[-1], b)
    if n == 1 and rule.recommended_age:
        a, b = rule.recommended_age
        return age_day(birth, a), age_day(birth, b)
    if n == 1 and rule.recommended_school == "year_before_entry":
        from .dates import school_entry

        entry = school_entry(birth)
        return date(entry.year - 1, 4, 1), entry - ONE_DAY
    return None, None


# Seasonal B類 (高齢者インフルエンザ, 新型コロナ): one dose a fiscal year -------------------------------


def _seasonal_series(
    s: Series,
    birth: date,
    sex: str,
    doses: list[tuple[int, date, str]],
    as_of: date,
    extensions: list[Extension],
) -> SeriesResult:
    result = SeriesResult()
    periods, _ = _periods(s, birth, sex, doses, extensions)
    seasons: set[int] = set()
    first_routine = s.rules[0].valid_from
    for index, day, _vaccine in doses:
        rule = s.rule_at(day)
        if rule is None:
            result.verdicts[index] = (True, [R.not_routine(s, day, first_routine)]) if day < first_routine else (  # noqa: E501
                False, [R.not_in_cohort(s, day, s.rules[-1].source)])  # fmt: skip
            continue
        fy = fiscal_year_of(day)
        if _containing(periods, day) is None:
            result.verdicts[index] = (False, [R.not_in_cohort(s, day, rule.source)])
        elif fy in seasons:
            result.verdicts[index] = (False, [R.already_this_season(s, day, rule.source)])
        else:
            seasons.add(fy)
            result.verdicts[index] = (True, [])

    rule = _forecast_rule(s, as_of)
    fy = fiscal_year_of(as_of)
    period = _containing(periods, as_of)
    if period is None:
        nxt = _first_from(periods, as_of)
        result.recommendation = Recommendation(
            s.code, None, "not_eligible", earliest=nxt.start if nxt else None,
            reasons=(R.not_eligible(s, rule.source, nxt.start if nxt else None),),
        )  # fmt: skip
        return result
    if fy in seasons:
        result.recommendation = Recommendation(
            s.code, None, "complete", reasons=(R.season_complete(s, fy, rule.source),)
        )
        return result
    month, day_ = rule.season_from or (4, 1)
    season_start = date(fy if month >= 4 else fy + 1, month, day_)
    earliest = max(season_start, period.start)
    deadline = min(fiscal_year_end(fy), period.end)
    rec_until = None
    if rule.season_recommended_until:
        m, d = rule.season_recommended_until
        rec_until = min(date(fy if m >= 4 else fy + 1, m, d), deadline)
    what = _what(period)
    if as_of < earliest:
        status, reason = "not_yet", R.not_yet(s, 1, earliest, *what, period.window.source)
    else:
        status, reason = "due", R.due(s, 1, earliest, deadline, *what, period.window.source)
    result.recommendation = Recommendation(
        s.code, 1, status, earliest, earliest if rec_until else None, rec_until, deadline, (reason,)
    )
    return result


KIND = {"course": _course_series, "cohort": _course_series, "seasonal": _seasonal_series}


@lru_cache(maxsize=200_000)
def _empty_recommendations(birth: date, sex: str, as_of: date) -> tuple[Recommendation, ...]:
    """Every series' recommendation for someone with no doses of it, in schedule order (cached).

    Most series of most persons have no doses: their answer depends on birth date and sex only, so
    it is shared by everyone born that day (a city has ~30 persons a birth date); and for the series
    whose windows do not depend on sex, by both sexes.
    """
    shared = _empty_for_both_sexes(birth, as_of)
    return tuple(
        rec if rec is not None else _empty(s, birth, sex, as_of)
        for s, rec in zip(schedule().series, shared, strict=True)
    )


@lru_cache(maxsize=200_000)
def _empty_for_both_sexes(birth: date, as_of: date) -> tuple[Recommendation | None, ...]:
    return tuple(None if _by_sex(s) else _empty(s, birth, "", as_of) for s in schedule().series)


@cache
def _series_of_vaccine() -> dict[str, tuple[int, ...]]:
    """vaccine code -> the indexes (schedule order) of the series that count its doses."""
    series = schedule().series
    return {v: tuple(i for i, s in enumerate(series) if v in s.vaccines) for v in schedule().vaccines}


def _empty(s: Series, birth: date, sex: str, as_of: date) -> Recommendation:
    recommendation = KIND[s.kind](s, birth, sex, [], as_of, []).recommendation
    assert recommendation is not None  # every kind plans its series
    return recommendation


# The entry points ----------------------------------------------------------------------------------


def vaccine_codes() -> tuple[str, ...]:
    return tuple(schedule().vaccines)


def normalize_history(history: Iterable[tuple[str, date]]) -> list[tuple[str, date]]:
    known = schedule().vaccines
    problems = []
    out = []
    for i, (vaccine, day) in enumerate(history):
        if vaccine not in known:
            problems.append(
                Problem(
                    "unknown_vaccine",
                    f"{i + 1}件目のワクチンコード {vaccine!r} は不明です（使えるコード: {', '.join(known)}）。",  # noqa: E501
                    f"History entry {i + 1}: unknown vaccine code {vaccine!r} (known: {', '.join(known)}).",
                    f"history[{i}].vaccine",
                )
            )
            continue
        out.append((vaccine, day))
    if problems:
        raise ProblemList(problems)
    return out


def forecast(
    birth_date: date,
    sex: str,
    history: Iterable[tuple[str, date]],
    as_of: date,
    *,
    extensions: Iterable[Extension] = (),
    checked: bool = False,
) -> Forecast:
    """Evaluate every dose and plan every series for one person. Unknown vaccine codes: ProblemList."""
    sched = schedule()
    entries = list(history) if checked else normalize_history(history)
    if len(entries) > 1:
        order = _vaccine_order()
        entries.sort(key=lambda e: (e[1], order[e[0]]))  # stable: the same order as the history gave
    exts = list(extensions)
    verdicts: list[list[tuple[str, bool, list[Reason]]]] = [[] for _ in entries]
    recommendations = list(_empty_recommendations(birth_date, sex, as_of))
    if entries or exts:
        # Only the series with a dose (or a 長期療養特例) are worked out; the others keep the shared answer.
        given: dict[str, list[int]] = {}  # vaccine -> indexes of its doses up to the as-of date
        for i, (vaccine, day) in enumerate(entries):
            if day <= as_of:
                given.setdefault(vaccine, []).append(i)
        series_of = _series_of_vaccine()
        wanted = {index for vaccine in given for index in series_of[vaccine]}
        if exts:
            wanted.update(i for i, s in enumerate(sched.series) if any(e.series == s.code for e in exts))
        counted_by: dict[str, set[int]] = {}  # for a 2期 that follows a 1期: the doses 1期 counted
        followed = _followed()
        for index in sorted(wanted):
            s = sched.series[index]
            series_exts = [e for e in exts if e.series == s.code] if exts else []
            found = [given[v] for v in s.vaccines if v in given]
            indexes = found[0] if len(found) == 1 else sorted(i for f in found for i in f)
            if s.follows and s.follows in counted_by:
                taken = counted_by[s.follows]
                indexes = [i for i in indexes if i not in taken]
            if not indexes and not series_exts:
                continue
            doses = [(i, entries[i][1], entries[i][0]) for i in indexes]
            result = KIND[s.kind](s, birth_date, sex, doses, as_of, series_exts)
            if s.code in followed:
                counted_by[s.code] = {i for i, (valid, _) in result.verdicts.items() if valid}
            for i, (valid, reasons) in result.verdicts.items():
                verdicts[i].append((s.code, valid, reasons))
            assert result.recommendation is not None  # every kind plans its series
            recommendations[index] = result.recommendation
    for c in campaigns():
        rec = c.evaluate(birth_date, sex, entries, as_of, verdicts)
        if rec is not None:
            recommendations.append(rec)
    return Forecast(as_of, lambda: _evaluations(entries, verdicts, as_of), recommendations)


@cache
def _followed() -> frozenset[str]:
    """The series another series follows (第1期 before 第2期)."""
    return frozenset(s.follows for s in schedule().series if s.follows)


@cache
def _vaccine_order() -> dict[str, int]:
    """vaccine code -> its place in the schedule (doses of one day are evaluated in this order)."""
    return {code: v["order"] for code, v in schedule().vaccines.items()}


def _evaluations(entries, verdicts, as_of: date) -> list[DoseEvaluation]:
    out = []
    for (vaccine, day), found in zip(entries, verdicts, strict=True):
        if day > as_of:
            reason = Reason(
                "future_date",
                f"接種日 {day.isoformat()} が基準日より後です。",
                f"The dose date {day.isoformat()} is after the as-of date.",
                "",
            )
            out.append(DoseEvaluation(vaccine, day, False, [reason]))
            continue
        valid_in = [code for code, valid, _ in found if valid]
        reasons: list[Reason] = []
        for _code, valid, rs in found:
            if valid or not valid_in:
                reasons += rs
        if any(r.code == "campaign" for r in reasons):
            reasons = [r for r in reasons if r.code != "not_routine_then"]
        out.append(DoseEvaluation(vaccine, day, bool(valid_in), _unique(reasons), valid_in))
    return out


def _unique(reasons: list[Reason]) -> list[Reason]:
    seen = set()
    out = []
    for r in reasons:
        if (r.code, r.en) not in seen:
            seen.add((r.code, r.en))
            out.append(r)
    return out


__all__ = ["Campaign", "forecast", "normalize_history", "vaccine_codes"]
