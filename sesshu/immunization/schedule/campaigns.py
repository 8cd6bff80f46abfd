"""Campaigns a city adds without code: 臨時接種 (予防接種法 §6) and 特措法 住民接種 (新型インフルエンザ等
対策特別措置法 §27の2), as TOML files: target groups in priority order, dates, doses.

Two places are read: the campaigns shipped with the schedule (``data/campaigns/``, e.g. the COVID-19
特例臨時接種 of 2021-2024, so that those doses count) and the city's directory, the setting
``SESSHU_CAMPAIGNS_DIR`` (default ``var/campaigns/``). Every file is validated on load; a broken file
stops the load with bilingual problems (``sesshu schedule check`` lists them all).
"""

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from pathlib import Path

from django.conf import settings

from sesshu.core.problems import Problem, ProblemList

from .dates import age_day, interval_day
from .reasons import campaign_dose
from .rules import DATA_DIR, _Reader, read_toml
from .types import Reason, Recommendation

KINDS = {
    "temporary": ("臨時接種", "temporary vaccination"),
    "special_measures": ("住民接種", "residents' vaccination"),
}


@dataclass(frozen=True)
class Group:
    priority: int
    name_ja: str
    name_en: str
    min_age: str | None = None
    max_age: str | None = None  # 「N歳未満」: until the day the age is reached
    age_on: date | None = None  # ages counted on this day (e.g. the fiscal year's end); else the dose day
    sex: str | None = None
    starts: date | None = None  # this group's vaccinations start (priority order)
    listed_only: bool = False  # not derivable from the register (医療従事者 ...): a person is added by hand

    def includes(self, birth: date, sex: str, day: date) -> bool:
        if self.listed_only or (self.sex and sex != self.sex):
            return False
        on = self.age_on or day
        if self.min_age and on < age_day(birth, self.min_age):
            return False
        return not (self.max_age and on > age_day(birth, self.max_age))


@dataclass(frozen=True)
class Campaign:
    code: str
    name_ja: str
    name_en: str
    kind: str
    source: str
    vaccines: tuple[str, ...]
    starts: date
    ends: date
    groups: tuple[Group, ...]
    doses: int | None = None
    interval: str | None = None
    file: str = ""

    def group_for(self, birth: date, sex: str, day: date, extra: set[str]) -> Group | None:
        found = [
            g for g in self.groups if g.includes(birth, sex, day) or f"{self.code}:{g.priority}" in extra
        ]
        return min(found, key=lambda g: g.priority) if found else None

    def evaluate(self, birth: date, sex: str, entries, as_of: date, verdicts, extra: set[str] = frozenset()):
        """Count the doses given under the campaign; the recommendation while it runs, else None."""
        counted: list[date] = []
        last = min(self.ends, as_of)
        for i, (vaccine, day) in enumerate(entries):
            if vaccine in self.vaccines and self.starts <= day <= last:
                verdicts[i].append(
                    (self.code, True, [campaign_dose(self.name_ja, self.name_en, day, self.source)])
                )
                counted.append(day)
        if as_of < self.starts - _ANNOUNCE or as_of > self.ends:
            return None
        group = self.group_for(birth, sex, max(as_of, self.starts), extra)
        if group is None:
            return Recommendation(
                self.code, None, "not_eligible", reasons=(self._reason("not_in_cohort", None),)
            )
        if self.doses and len(counted) >= self.doses:
            return Recommendation(self.code, None, "complete", reasons=(self._reason("complete", group),))
        earliest = max(self.starts, group.starts or self.starts)
        if counted and self.interval:
            earliest = max(earliest, interval_day(counted[-1], self.interval))
        n = len(counted) + 1
        if earliest > self.ends:
            return Recommendation(
                self.code, n, "aged_out", deadline=self.ends, reasons=(self._reason("aged_out", group),)
            )
        status = "due" if as_of >= earliest else "not_yet"
        return Recommendation(
            self.code, n, status, earliest, earliest, self.ends, self.ends, (self._reason(status, group),)
        )

    def _reason(self, code: str, group: Group | None) -> Reason:
        kind_ja, kind_en = KINDS[self.kind]
        if group is None:
            return Reason(code, f"{self.name_ja}（{kind_ja}）: 対象者の区分に当たりません。",
                          f"{self.name_en} ({kind_en}): not in any target group.", self.source)  # fmt: skip
        return Reason(
            code,
            f"{self.name_ja}（{kind_ja}）: 対象区分「{group.name_ja}」（優先順位 {group.priority}）、"
            f"{self.starts.isoformat()} から {self.ends.isoformat()} まで。",
            f"{self.name_en} ({kind_en}): target group \u201c{group.name_en}\u201d (priority {group.priority}), "  # noqa: E501
            f"from {self.starts.isoformat()} until {self.ends.isoformat()}.",
            self.source,
        )


_ANNOUNCE = timedelta(days=366)  # a campaign shows on the forecast a year before it starts


def parse_campaign(data: dict, file: str, problems: list[Problem], vaccines: set[str]) -> Campaign | None:
    r = _Reader(file, problems)
    before = len(problems)
    code = r.text(data, "code", "code")
    kind = data.get("kind", "")
    if kind not in KINDS:
        r.problem("kind", f"kind は {' / '.join(KINDS)} のいずれかです（臨時接種 / 住民接種）。",
                  f"kind must be one of {' / '.join(KINDS)}.")  # fmt: skip
    listed = data.get("vaccines", [])
    if not listed or any(v not in vaccines for v in listed):
        r.problem("vaccines", f"ワクチンコードが不明です: {listed}", f"unknown vaccine codes: {listed}")
    starts = r.date(data, "starts", "starts", required=True)
    ends = r.date(data, "ends", "ends", required=True)
    if starts and ends and ends < starts:
        r.problem("ends", "終了日が開始日より前です。", "ends is before starts.")
    groups = []
    for i, g in enumerate(data.get("groups", [])):
        where = f"groups[{i}]"
        if not isinstance(g.get("priority"), int) or g["priority"] < 1:
            r.problem(
                where,
                "priority（優先順位、1以上の整数）がありません。",
                "priority (an integer from 1) is missing.",
            )
        if g.get("sex") not in (None, "M", "F"):
            r.problem(where, "sex は M か F です。", "sex must be M or F.")
        groups.append(
            Group(
                priority=int(g.get("priority", 0) or 0),
                name_ja=r.text(g, "name_ja", where),
                name_en=r.text(g, "name_en", where),
                min_age=r.spec(g, "min_age", where),
                max_age=r.spec(g, "max_age", where),
                age_on=r.date(g, "age_on", where),
                sex=g.get("sex"),
                starts=r.date(g, "starts", where),
                listed_only=bool(g.get("listed_only", False)),
            )
        )
    if not groups:
        r.problem("groups", "対象者の区分（groups）がありません。", "groups (the target groups) is missing.")
    priorities = [g.priority for g in groups]
    if len(set(priorities)) != len(priorities):
        r.problem("groups", "優先順位が重複しています。", "two groups have the same priority.")
    doses = data.get("doses")
    if doses is not None and (not isinstance(doses, int) or doses < 1):
        r.problem("doses", "doses は1以上の整数です。", "doses must be an integer from 1.")
    interval = r.spec(data, "interval", "interval")
    if len(problems) > before:
        return None
    return Campaign(
        code=code, name_ja=r.text(data, "name_ja", "name_ja"), name_en=r.text(data, "name_en", "name_en"),
        kind=kind, source=r.text(data, "source", "source"), vaccines=tuple(listed), starts=starts, ends=ends,
        groups=tuple(sorted(groups, key=lambda g: g.priority)), doses=doses, interval=interval, file=file,
    )  # fmt: skip


def campaign_dirs() -> list[Path]:
    configured = (
        getattr(settings, "SESSHU_CAMPAIGNS_DIR", None) or Path(settings.BASE_DIR) / "var" / "campaigns"
    )
    return [DATA_DIR / "campaigns", Path(configured)]


def load_campaigns(directories: list[Path] | None = None) -> list[Campaign]:
    from .rules import load_vaccines

    problems: list[Problem] = []
    vaccines = set(load_vaccines())
    found: list[Campaign] = []
    for directory in directories if directories is not None else campaign_dirs():
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            data = read_toml(path, problems)
            if data is None:
                continue
            campaign = parse_campaign(data, path.name, problems, vaccines)
            if campaign is not None:
                found.append(campaign)
    codes = [c.code for c in found]
    for code in {c for c in codes if codes.count(c) > 1}:
        problems.append(Problem("invalid_campaign", f"接種事業コード {code} が重複しています。",
                                f"campaign code {code} is used twice.", code))  # fmt: skip
    if problems:
        raise ProblemList(problems)
    return found


@cache
def campaigns() -> tuple[Campaign, ...]:
    return tuple(load_campaigns())
