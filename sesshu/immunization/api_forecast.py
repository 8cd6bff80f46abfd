"""The forecast API: for a person described in the request (nothing stored), and for a stored person."""

from datetime import date

from django.utils import timezone
from ninja import Router

from sesshu.accounts.api_access import api_right
from sesshu.core.problems import Problem, ProblemList

from . import forecast_service
from .schedule.io import forecast_json

router = Router(tags=["forecast"])

PURPOSE_CALCULATE = "予防接種スケジュールの計算（個人を特定しない） (schedule forecast for given data)"


@router.post(
    "/forecast", summary="Forecast for a birth date, sex and history in the request (JSON in, JSON out)"
)
@api_right("immunization.view_vaccinationrecord", PURPOSE_CALCULATE)
def forecast_for_input(request):
    return forecast_json(request.body).as_json()


@router.get("/persons/{int:person_id}/forecast", summary="A stored person's forecast (audited)")
@api_right("immunization.view_vaccinationrecord", forecast_service.PURPOSE_FORECAST)
def forecast_for_person(request, person_id: int, as_of: str = ""):
    day = timezone.localdate()
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise ProblemList([Problem("invalid_date", "as_of はYYYY-MM-DDの実在する日付です。",
                                       "as_of must be a real date, YYYY-MM-DD.", "as_of")]) from None  # fmt: skip  # noqa: E501
    _, fc = forecast_service.person_forecast(person_id, day)
    return fc.as_json()
