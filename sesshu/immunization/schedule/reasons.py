"""The sentences a clerk reads: every reason names the rule and its legal source."""

from datetime import date
from functools import lru_cache

from .rules import Series, interval_en, interval_ja
from .types import Reason

# Reasons are immutable and their arguments hashable: the same sentence (a dose day, a birth date's
# deadline) recurs across a city's persons, so each is built once a process (bulk forecasts).
_cached = lru_cache(maxsize=100_000)


def _d(day: date | None) -> str:
    return day.isoformat() if day else "-"


@_cached
def too_young(s: Series, day: date, earliest: date, what_ja: str, what_en: str, source: str) -> Reason:
    return Reason(
        "too_young",
        f"{s.name_ja}: {_d(day)} の接種は対象年齢（{what_ja}）より前です。{_d(earliest)} から接種できます（間違い接種）。",  # noqa: E501
        f"{s.name_en}: the dose on {_d(day)} was given before the eligible age ({what_en}); "
        f"doses count from {_d(earliest)} (an administration error).",
        source,
    )


@_cached
def too_old(s: Series, day: date, deadline: date, what_ja: str, what_en: str, source: str) -> Reason:
    return Reason(
        "too_old",
        f"{s.name_ja}: {_d(day)} の接種は対象期間（{what_ja}、{_d(deadline)} まで）を過ぎています（間違い接種）。",  # noqa: E501
        f"{s.name_en}: the dose on {_d(day)} was given after the eligible period ({what_en}, until "
        f"{_d(deadline)}) (an administration error).",
        source,
    )


@_cached
def interval_too_short(
    s: Series, day: date, previous: date, spec: str, earliest: date, source: str
) -> Reason:
    return Reason(
        "interval_too_short",
        f"{s.name_ja}: {_d(day)} の接種は前回（{_d(previous)}）から{interval_ja(spec)}以上の間隔を置いていません。"  # noqa: E501
        f"{_d(earliest)} から接種できます（間違い接種）。",
        f"{s.name_en}: the dose on {_d(day)} came less than {interval_en(spec)} after the dose of "
        f"{_d(previous)}; the earliest day was {_d(earliest)} (an administration error).",
        source,
    )


@_cached
def not_in_cohort(s: Series, day: date, source: str) -> Reason:
    return Reason(
        "not_in_cohort",
        f"{s.name_ja}: {_d(day)} の時点でこの人は定期接種の対象者ではありません（間違い接種）。",
        f"{s.name_en}: on {_d(day)} this person was not in the routine schedule's target group "
        "(an administration error).",
        source,
    )


@_cached
def wrong_sex(s: Series, source: str) -> Reason:
    return Reason(
        "wrong_sex",
        f"{s.name_ja}: 定期接種の対象は女性のみです。",
        f"{s.name_en}: the routine schedule covers females only.",
        source,
    )


@_cached
def not_routine(s: Series, day: date, start: date) -> Reason:
    return Reason(
        "not_routine_then",
        f"{s.name_ja}: {_d(day)} はこの定期接種の開始（{_d(start)}）前です。定期接種ではありませんが接種歴として数えます。",  # noqa: E501
        f"{s.name_en}: {_d(day)} is before this routine vaccination began ({_d(start)}); not a routine "
        "dose, but it counts in the history.",
        "予防接種法施行令 附則",
    )


@_cached
def extra_dose(s: Series, day: date, source: str) -> Reason:
    return Reason(
        "series_already_complete",
        f"{s.name_ja}: {_d(day)} の時点で必要な回数は完了していました（定期接種の回数を超える接種）。",
        f"{s.name_en}: the series was already complete on {_d(day)} (a dose beyond the routine schedule).",
        source,
    )


@_cached
def product_changed(s: Series, day: date, first: str, this: str, source: str) -> Reason:
    return Reason(
        "product_changed",
        f"{s.name_ja}: {_d(day)} は {this} ですが、1回目は {first} でした。原則として同じワクチンで接種します（間違い接種）。",  # noqa: E501
        f"{s.name_en}: the dose on {_d(day)} was {this} but the course began with {first}; a course "
        "uses one product (an administration error).",
        source,
    )


@_cached
def already_this_season(s: Series, day: date, source: str) -> Reason:
    return Reason(
        "already_this_season",
        f"{s.name_ja}: {_d(day)} の年度には既に定期接種を受けています（定期接種は年度に1回）。",
        f"{s.name_en}: a routine dose had already been given in the fiscal year of {_d(day)} (one a year).",
        source,
    )


@_cached
def campaign_dose(name_ja: str, name_en: str, day: date, source: str) -> Reason:
    return Reason(
        "campaign",
        f"{name_ja}: {_d(day)} の接種はこの接種事業（臨時接種等）の接種として数えます。",
        f"{name_en}: the dose on {_d(day)} counts as a dose of this campaign.",
        source,
    )


# Recommendations ---------------------------------------------------------------------------------


@_cached
def due(s: Series, n: int, earliest: date, deadline: date, what_ja: str, what_en: str, source: str) -> Reason:
    return Reason(
        "due",
        f"{s.name_ja} {n}回目: {_d(earliest)} から {_d(deadline)} まで接種できます（{what_ja}）。",
        f"{s.name_en} dose {n}: may be given from {_d(earliest)} until {_d(deadline)} ({what_en}).",
        source,
    )


@_cached
def not_yet(s: Series, n: int, earliest: date, why_ja: str, why_en: str, source: str) -> Reason:
    return Reason(
        "not_yet",
        f"{s.name_ja} {n}回目: {_d(earliest)} から接種できます（{why_ja}）。",
        f"{s.name_en} dose {n}: may be given from {_d(earliest)} ({why_en}).",
        source,
    )


@_cached
def past_recommended(s: Series, until: date, source: str) -> Reason:
    return Reason(
        "past_recommended_period",
        f"{s.name_ja}: 標準的な接種期間（{_d(until)} まで）を過ぎています。期限までに接種を勧めてください。",
        f"{s.name_en}: the standard period ended on {_d(until)}; encourage vaccination before the deadline.",
        source,
    )


@_cached
def complete(s: Series, count: int, source: str) -> Reason:
    return Reason(
        "complete",
        f"{s.name_ja}: 必要な{count}回の接種が完了しています。",
        f"{s.name_en}: all {count} doses needed have been given.",
        source,
    )


@_cached
def season_complete(s: Series, fiscal_year: int, source: str) -> Reason:
    return Reason(
        "complete",
        f"{s.name_ja}: {fiscal_year}年度の定期接種は済んでいます。",
        f"{s.name_en}: this fiscal year's ({fiscal_year}) routine dose has been given.",
        source,
    )


@_cached
def vaccinated_before(s: Series, day: date, source: str) -> Reason:
    return Reason(
        "vaccinated_before",
        f"{s.name_ja}: 既に接種を受けている（{_d(day)}）ため、定期接種の対象外です。",
        f"{s.name_en}: already vaccinated ({_d(day)}), so no routine dose is due.",
        source,
    )


@_cached
def aged_out(s: Series, n: int, deadline: date, source: str) -> Reason:
    return Reason(
        "aged_out",
        f"{s.name_ja} {n}回目: 定期接種の期限（{_d(deadline)}）を過ぎました。長期療養特例に当たる場合は記録してください。",  # noqa: E501
        f"{s.name_en} dose {n}: the legal deadline ({_d(deadline)}) has passed. Record the long-term "
        "illness exception if it applies.",
        source,
    )


@_cached
def skipped(s: Series, n: int, until: date, source: str) -> Reason:
    return Reason(
        "dose_skipped",
        f"{s.name_ja}: {n}回目は{_d(until)}までに接種する決まりのため行いません（次の回へ進みます）。",
        f"{s.name_en}: dose {n} is only given until {_d(until)}, so it is left out and the course moves on.",
        source,
    )


@_cached
def not_eligible(s: Series, source: str, next_from: date | None = None) -> Reason:
    if next_from:
        return Reason(
            "not_in_cohort",
            f"{s.name_ja}: 現在は定期接種の対象者ではありません。{_d(next_from)} から対象になります。",
            f"{s.name_en}: not in the routine target group now; eligible from {_d(next_from)}.",
            source,
        )
    return Reason(
        "not_in_cohort",
        f"{s.name_ja}: 生年月日・年齢から定期接種の対象者ではありません。",
        f"{s.name_en}: by date of birth and age, this person is not in the routine target group.",
        source,
    )


@_cached
def long_term_care(s: Series, until: date, source: str) -> Reason:
    return Reason(
        "long_term_care",
        f"{s.name_ja}: 長期療養特例により {_d(until)} まで接種できます。",
        f"{s.name_en}: the long-term illness exception extends eligibility until {_d(until)}.",
        source,
    )
