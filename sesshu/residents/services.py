"""Reading the register, for its own screens and API and for other apps; every read is audited."""

from dataclasses import dataclass
from datetime import date

from django.core.paginator import Page
from django.utils import timezone

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.paging import page_of
from sesshu.core.problems import Problem

from .history import household_as_of, household_now, resident_as_of
from .models import Household, Move, MoveStatus, Resident, ResidentRevision
from .search import RegisterCriteria, search_register

PURPOSE_SEARCH = "住民記録 検索 (resident register: search)"
PURPOSE_VIEW = "住民記録 照会 (resident register: record)"
PURPOSE_QUEUE = "住民記録 異動確認待ち一覧 (resident register: moves to confirm)"


@dataclass
class HouseholdView:
    household: Household
    members: list[Resident]


def household_of(resident_number: str) -> HouseholdView | None:
    """The resident's current household (for the immunization person page; that page audits)."""
    resident = Resident.objects.select_related("household").filter(resident_number=resident_number).first()
    if resident is None:
        return None
    return HouseholdView(resident.household, household_now(resident.household))


def not_found() -> Problem:
    return Problem("not_found", "該当する住民記録はありません。", "No such register record.")


def find_residents(criteria: RegisterCriteria, page_number: int = 1, page_size: int = 20) -> Page:
    page = page_of(search_register(criteria), page_number, page_size)
    record(
        Action.SEARCH,
        purpose=PURPOSE_SEARCH,
        object_type="resident",
        subjects=[r.pk for r in page.object_list],
        criteria=criteria.for_audit() | {"page": page.number},
        result_count=page.paginator.count,
    )
    return page


@dataclass
class ResidentRecord:
    resident: Resident
    shown: ResidentRevision | Resident  # the state shown: as of the date asked, or today's
    as_of: date
    history: list[ResidentRevision]
    household: list


def resident_record(resident_number: str, as_of: date | None = None) -> ResidentRecord:
    """A resident's 住民票 (today's, or as it stood on ``as_of``), its full history and the household."""
    today = timezone.localdate()
    resident = Resident.objects.select_related("household").filter(resident_number=resident_number).first()
    if resident is None:
        record(
            Action.VIEW,
            purpose=PURPOSE_VIEW,
            outcome=Outcome.FAILED,
            criteria={"resident_number": resident_number[:20]},
        )
        raise not_found()
    day = as_of or today
    shown = resident if day >= today else resident_as_of(resident, day)
    if shown is None:
        # The answer still says something about the person (when they arrived): it is a read too.
        record(
            Action.VIEW,
            purpose=PURPOSE_VIEW,
            outcome=Outcome.FAILED,
            object_type="resident",
            subjects=[resident.pk],
            criteria={"resident_number": resident_number, "as_of": day.isoformat()},
        )
        raise Problem(
            "not_yet_resident",
            f"{day.isoformat()} にはまだ住民ではありません。",
            f"Not yet a resident on {day.isoformat()}.",
        )
    history = list(resident.revisions.select_related("move").order_by("valid_from", "seq"))
    household = household_now(shown.household) if day >= today else household_as_of(shown.household, day)
    shown_ids = {getattr(m, "resident_id", None) or m.pk for m in household} | {resident.pk}
    record(
        Action.VIEW,
        purpose=PURPOSE_VIEW,
        object_type="resident",
        subjects=shown_ids,
        criteria={"resident_number": resident_number, "as_of": day.isoformat()},
        result_count=len(history),
    )
    return ResidentRecord(resident, shown, day, history, household)


def household_record(household_number: str, as_of: date | None = None) -> tuple[Household, list, date]:
    today = timezone.localdate()
    household = Household.objects.filter(household_number=household_number).first()
    if household is None:
        record(
            Action.VIEW,
            purpose=PURPOSE_VIEW,
            outcome=Outcome.FAILED,
            criteria={"household_number": household_number[:20]},
        )
        raise not_found()
    day = as_of or today
    members = household_now(household) if day >= today else household_as_of(household, day)
    record(
        Action.VIEW,
        purpose=PURPOSE_VIEW,
        object_type="resident",
        subjects=[getattr(m, "resident_id", None) or m.pk for m in members],
        criteria={"household_number": household_number, "as_of": day.isoformat()},
        result_count=len(members),
    )
    return household, members, day


def moves_queue(status: str = MoveStatus.PENDING, limit: int = 200) -> list[Move]:
    """The work queue: moves waiting for a second person (or recently dealt with)."""
    moves = list(
        Move.objects.filter(status=status).select_related("author", "reviewer").order_by("created_at")[:limit]
    )
    numbers = sorted({n for m in moves for n in m.resident_numbers})
    record(
        Action.VIEW,
        purpose=PURPOSE_QUEUE,
        object_type="move",
        subjects=Resident.objects.filter(resident_number__in=numbers).values_list("id", flat=True),
        criteria={"status": status},
        result_count=len(moves),
    )
    return moves


def move_detail(move_id: int) -> Move:
    move = Move.objects.select_related("author", "reviewer").filter(pk=move_id).first()
    if move is None:
        record(Action.VIEW, purpose=PURPOSE_QUEUE, outcome=Outcome.FAILED, criteria={"move": move_id})
        raise Problem("not_found", "該当する異動はありません。", "No such move.")
    record(
        Action.VIEW,
        purpose=PURPOSE_QUEUE,
        object_type="move",
        subjects=Resident.objects.filter(resident_number__in=move.resident_numbers).values_list(
            "id", flat=True
        ),
        detail={"move": move.pk},
    )
    return move
