"""What the person page shows of the forecast: one row a series, and the 間違い接種 in the history."""

from datetime import date

from django.utils.translation import get_language

from .forecast_service import extensions_of
from .models import LongTermCareException
from .schedule import SERIES, forecast

BADGE = {"due": "due", "not_yet": "muted", "complete": "ok", "aged_out": "warn", "not_eligible": "inactive"}


def forecast_context(record, as_of: date) -> dict:
    """Context for immunization/_forecast.html. The page's own view event covers this read: the
    forecast is made from the history and exceptions the page already shows."""
    person = record.person
    history = [(v.vaccine_id, v.vaccinated_on) for v in record.vaccinations]
    fc = forecast(person.birth_date, person.sex, history, as_of, extensions=extensions_of(person))
    english = (get_language() or "ja").startswith("en")
    rows = []
    for r in fc.recommendations:
        series = SERIES[r.series] if r.series in SERIES else None
        name = (series.name_en if english else series.name_ja) if series else r.series
        rows.append(
            {
                "code": r.series,
                "name": name,
                "status": r.status,
                "badge": BADGE[r.status],
                "rec": r,
                "reasons": [
                    {"text": x.en if english else x.ja, "source": x.source, "code": x.code} for x in r.reasons
                ],
                "active": r.status in ("due", "not_yet") or (r.status == "aged_out" and r.dose_number),
            }
        )
    flagged = {}
    for e in fc.evaluations:
        if not e.valid or e.reasons:
            flagged[(e.vaccine, e.date)] = {
                "mistake": e.mistake,
                "valid": e.valid,
                "reasons": [x.en if english else x.ja for x in e.reasons],
            }
    for v in record.vaccinations:
        v.evaluation = flagged.get((v.vaccine_id, v.vaccinated_on))
    exceptions = LongTermCareException.objects.filter(person=person).order_by("illness_from")
    a_series = [
        (code, s.name_en if english else s.name_ja)
        for code, s in SERIES._value().items()
        if s.category == "A"
    ]
    return {
        "forecast": fc,
        "forecast_rows": rows,
        "forecast_as_of": as_of,
        "mistake_count": sum(1 for f in flagged.values() if f["mistake"]),
        "long_term_care": exceptions,
        "a_series": a_series,
    }
