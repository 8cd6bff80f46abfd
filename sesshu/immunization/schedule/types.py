"""What the engine answers: each dose's evaluation and each series' recommendation, with reasons."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

STATUSES = ("due", "not_yet", "complete", "aged_out", "not_eligible")

# Reasons that make a dose a 間違い接種 (a dose given outside the law's ages or intervals): the
# ministry asks cities to report these, so the person page highlights them.
MISTAKE_CODES = frozenset(
    {"too_young", "too_old", "interval_too_short", "product_changed", "wrong_sex", "not_in_cohort"}
)


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    ja: str
    en: str
    source: str

    def as_json(self) -> dict:
        return {"code": self.code, "ja": self.ja, "en": self.en, "source": self.source}


@dataclass(frozen=True, slots=True)
class Extension:
    """長期療養特例 (予防接種法施行令 第1条の3 第2項): the person could not be vaccinated in time because of
    an illness from ``illness_from`` to ``illness_until`` (the day the circumstance ended)."""

    series: str
    illness_from: date
    illness_until: date
    reason: str = ""


@dataclass(slots=True)
class DoseEvaluation:
    vaccine: str
    date: date
    valid: bool
    reasons: list[Reason] = field(default_factory=list)
    series: list[str] = field(default_factory=list)  # the series the dose was counted for

    @property
    def mistake(self) -> bool:
        """A 間違い接種: counted for no series because of ages or intervals."""
        return not self.valid and any(r.code in MISTAKE_CODES for r in self.reasons)

    def as_json(self) -> dict:
        return {
            "vaccine": self.vaccine,
            "date": self.date.isoformat(),
            "valid": self.valid,
            "reasons": [r.as_json() for r in self.reasons],
        }


@dataclass(frozen=True, slots=True)
class Recommendation:
    series: str
    dose_number: int | None
    status: str
    earliest: date | None = None
    recommended_from: date | None = None
    recommended_until: date | None = None
    deadline: date | None = None
    reasons: tuple[Reason, ...] = ()

    def as_json(self) -> dict:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "series": self.series,
            "dose_number": self.dose_number,
            "status": self.status,
            "earliest": iso(self.earliest),
            "recommended_from": iso(self.recommended_from),
            "recommended_until": iso(self.recommended_until),
            "deadline": iso(self.deadline),
            "reasons": [r.as_json() for r in self.reasons],
        }


class Forecast:
    """The engine's answer for one person: ``evaluations`` (one per dose) and ``recommendations``.

    The dose evaluations are assembled from the engine's verdicts when first read: a bulk forecast
    (extraction, the city benchmark) reads only the recommendations, and building a DoseEvaluation
    with its reasons for every dose of a city is a fifth of the engine's time.
    """

    __slots__ = ("_build", "_evaluations", "as_of", "recommendations")

    def __init__(
        self,
        as_of: date,
        evaluations: "list[DoseEvaluation] | Callable[[], list[DoseEvaluation]]",
        recommendations: list[Recommendation],
    ) -> None:
        self.as_of = as_of
        self.recommendations = recommendations
        if callable(evaluations):
            self._build, self._evaluations = evaluations, None
        else:
            self._build, self._evaluations = None, evaluations

    @property
    def evaluations(self) -> list[DoseEvaluation]:
        if self._evaluations is None:
            self._evaluations = self._build()
            self._build = None
        return self._evaluations

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Forecast):
            return NotImplemented
        return (self.as_of, self.evaluations, self.recommendations) == (
            other.as_of,
            other.evaluations,
            other.recommendations,
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    def __repr__(self) -> str:
        return (
            f"Forecast(as_of={self.as_of!r}, evaluations={self.evaluations!r}, "
            f"recommendations={self.recommendations!r})"
        )

    def recommendation(self, series: str) -> Recommendation | None:
        return next((r for r in self.recommendations if r.series == series), None)

    def as_json(self) -> dict:
        return {
            "evaluations": [e.as_json() for e in self.evaluations],
            "recommendations": [r.as_json() for r in self.recommendations],
        }
