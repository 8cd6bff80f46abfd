from datetime import date

from django.db.models import Count

from sesshu.addressee.models import Person
from sesshu.audit.models import Action, AuditEvent
from sesshu.immunization.models import HistoryCheckStatus, MoveInHistoryCheck, VaccinationRecord
from sesshu.residents.models import Move, MoveStatus


def register_figures(today: date) -> dict:
    by_status = dict(Person.objects.values_list("status").annotate(n=Count("id")))
    month_start = today.replace(day=1)
    return {
        "residents": by_status.get("resident", 0),
        "moved_out": by_status.get("moved_out", 0),
        "deceased": by_status.get("deceased", 0),
        "vaccinations_this_month": VaccinationRecord.objects.given()
        .filter(vaccinated_on__gte=month_start)
        .count(),
        "history_checks_open": MoveInHistoryCheck.objects.filter(status=HistoryCheckStatus.OPEN).count(),
    }


def register_work(user) -> dict:
    pending = Move.objects.filter(status=MoveStatus.PENDING)
    return {
        "to_confirm": pending.exclude(author=user).count(),
        "mine_waiting": pending.filter(author=user).count(),
    }


def audit_figures(today: date) -> dict:
    todays = AuditEvent.objects.filter(occurred_at__date=today)
    return {
        "events_today": todays.count(),
        "refused_today": todays.filter(
            action__in=[Action.DENIED, Action.LOGIN_FAILED, Action.LOCKED_OUT]
        ).count(),
    }
