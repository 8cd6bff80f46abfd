"""Retention of the register (保管期間): records of people who left the register are kept for
``SESSHU_REGISTER_RETENTION_YEARS`` (150 in the Tokorozawa assessment) after they left, then deleted
by this job, with a record of what was deleted. Dry run unless told otherwise.

What goes: the resident, every revision, the events that carried their data (only those every
consumer has already read), the moves that concerned only purged residents, and households left
with no one. What stays: the audit log (append-only), which names internal ids, not data.
"""

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from sesshu.audit.models import Action
from sesshu.audit.services import record

from .models import ConsumerOffset, Household, Move, RegisterEvent, Resident, ResidentRevision, ResidentStatus

PURPOSE = "住民記録 保管期間経過分の消去 (resident register: deletion after retention)"


@dataclass
class PurgeReport:
    cutoff: date
    dry_run: bool
    counts: dict[str, int] = field(default_factory=dict)


def retention_cutoff(today: date | None = None) -> date:
    today = today or timezone.localdate()
    years = settings.SESSHU_REGISTER_RETENTION_YEARS
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


def purge_expired(*, dry_run: bool = True, today: date | None = None) -> PurgeReport:
    cutoff = retention_cutoff(today)
    report = PurgeReport(cutoff, dry_run)
    expired = Resident.objects.exclude(status=ResidentStatus.RESIDENT).filter(left_on__lt=cutoff)
    numbers = list(expired.values_list("resident_number", flat=True))
    read_by_all = ConsumerOffset.objects.aggregate(m=Min("last_event_id"))["m"] or 0
    events = RegisterEvent.objects.filter(resident_number__in=numbers, id__lte=read_by_all)
    revisions = ResidentRevision.objects.filter(resident__in=expired)
    moves = Move.objects.filter(revisions__resident__in=expired).distinct()
    only_theirs = [m.pk for m in moves if set(m.resident_numbers) <= set(numbers)]
    report.counts = {
        "residents": len(numbers),
        "revisions": revisions.count(),
        "events": events.count(),
        "moves": len(only_theirs),
    }
    if dry_run or not numbers:
        return report
    with transaction.atomic():
        ids = list(expired.values_list("id", flat=True))
        household_ids = set(revisions.values_list("household_id", flat=True))
        events.delete()
        revisions.delete()
        Resident.objects.filter(id__in=ids).delete()
        Move.objects.filter(pk__in=only_theirs, revisions__isnull=True).delete()
        empty = Household.objects.filter(pk__in=household_ids, members__isnull=True)
        report.counts["households"] = empty.filter(
            pk__in=Household.objects.exclude(pk__in=ResidentRevision.objects.values("household_id")).values(
                "pk"
            )
        ).delete()[0]
        record(
            Action.DELETE,
            purpose=PURPOSE,
            object_type="resident",
            subjects=ids,
            detail={"cutoff": cutoff.isoformat(), "counts": report.counts},
        )
    return report
