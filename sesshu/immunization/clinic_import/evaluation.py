"""The schedule engine's verdict on the doses of clinic-file rows: does the dose count (間違い接種, why).

A row's dose is judged among the person's whole history: the active, given records of the register
(``VaccinationRecord.objects.given()``), plus the doses of the rows being judged that are not in the
register yet (a previewed file's matched rows), each dose once. Rows judged together are read in bulk:
persons, histories and 長期療養特例 in a few queries per ``CHUNK`` persons, and the engine runs once a
person whatever the number of their rows.

Judged: rows with a person (matched, imported, or recognised as already recorded), a dose given (not
予診のみ), a date, a vaccine the engine knows and the legal category 定期 (or none given, which the
import records as 定期). 任意・臨時 doses and vaccines outside the routine schedule are not judged: the
engine's rules are the routine schedule's.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.utils import timezone

from sesshu.addressee.models import Person

from ..models import ImportRow, ImportRowStatus, LongTermCareException, VaccinationRecord
from ..schedule import Extension, forecast
from ..schedule.engine import vaccine_codes

CHUNK = 2000  # persons a query (well under every database's bound on parameters)
JUDGED_STATUSES = (ImportRowStatus.MATCHED, ImportRowStatus.IMPORTED, ImportRowStatus.DUPLICATE)
ROUTINE = ("", "routine")


@dataclass(frozen=True, slots=True)
class RowEvaluation:
    """The engine's answer for one row's dose."""

    valid: bool
    mistake: bool  # 間違い接種: too young, too old, interval too short, product changed, sex, cohort
    reasons_ja: tuple[str, ...] = ()
    reasons_en: tuple[str, ...] = ()

    @property
    def title_ja(self) -> str:
        return "間違い接種" if self.mistake else "定期接種外"

    @property
    def reason_ja(self) -> str:
        return " ".join(self.reasons_ja)

    @property
    def reason_en(self) -> str:
        return " ".join(self.reasons_en)


def _dose(row: ImportRow) -> tuple[str, date] | None:
    """(vaccine, day) when the row's dose is one the engine judges, else None."""
    v = row.values
    if row.person_id is None or row.status not in JUDGED_STATUSES or v.get("screening_only"):
        return None
    if (v.get("legal_category") or "") not in ROUTINE or not v.get("vaccinated_on"):
        return None
    if v.get("vaccine") not in vaccine_codes():
        return None
    return v["vaccine"], date.fromisoformat(v["vaccinated_on"])


def evaluate_rows(rows: Iterable[ImportRow], *, as_of: date | None = None) -> dict[int, RowEvaluation]:
    """{row pk: evaluation} for the rows whose dose the engine judges (see the module's docstring).

    No audit here: the caller's event (the preview, the fee report) names the persons."""
    doses: dict[int, tuple[str, date]] = {}
    pending: dict[int, set[tuple[str, date]]] = defaultdict(set)
    person_of: dict[int, int] = {}
    for row in rows:
        dose = _dose(row)
        if dose is None:
            continue
        doses[row.pk] = dose
        person_of[row.pk] = row.person_id
        if row.state != ImportRowStatus.IMPORTED:
            pending[row.person_id].add(dose)  # in the register already when imported
    if not doses:
        return {}
    today = as_of or timezone.localdate()
    as_of = max([today, *(day for _, day in doses.values())])
    known = set(vaccine_codes())
    ids = sorted(set(person_of.values()))
    verdicts: dict[tuple[int, str, date], RowEvaluation] = {}
    for i in range(0, len(ids), CHUNK):
        chunk = ids[i : i + CHUNK]
        persons = Person.objects.filter(pk__in=chunk).values_list("id", "birth_date", "sex")
        history: dict[int, set[tuple[str, date]]] = defaultdict(set)
        for person_id, vaccine, day in (
            VaccinationRecord.objects.given()
            .filter(person_id__in=chunk)
            .values_list("person_id", "vaccine_id", "vaccinated_on")
        ):
            if vaccine in known:
                history[person_id].add((vaccine, day))
        extensions: dict[int, list[Extension]] = defaultdict(list)
        for e in LongTermCareException.objects.filter(person_id__in=chunk).order_by("illness_from"):
            extensions[e.person_id].append(Extension(e.series, e.illness_from, e.illness_until, e.reason))
        for person_id, birth, sex in persons:
            doses_of = history[person_id] | pending.get(person_id, set())
            fc = forecast(birth, sex, sorted(doses_of), as_of, extensions=extensions[person_id], checked=True)
            for e in fc.evaluations:
                if e.valid:
                    continue
                verdicts[(person_id, e.vaccine, e.date)] = RowEvaluation(
                    valid=False,
                    mistake=e.mistake,
                    reasons_ja=tuple(r.ja for r in e.reasons),
                    reasons_en=tuple(r.en for r in e.reasons),
                )
    valid = RowEvaluation(valid=True, mistake=False)
    return {pk: verdicts.get((person_of[pk], *dose), valid) for pk, dose in doses.items()}
