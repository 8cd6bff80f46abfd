"""The register's API: search, records as of a date, households, and moves with four-eyes confirmation."""

from datetime import date

from django.conf import settings
from django.http import HttpRequest
from ninja import Query, Router, Schema, Status

from sesshu.accounts.api_access import api_right
from sesshu.core.paging import page_number
from sesshu.core.wareki import parse_date

from . import moves, services
from .moves import event_payload
from .search import parse_register_search

router = Router(tags=["register"])


class RegisterQuery(Schema):
    name: str = ""
    birth_date: str = ""
    address: str = ""
    sex: str = ""
    include_former: bool = False
    page: int = 1


class AsOfQuery(Schema):
    as_of: str = ""


class ResidentSummary(Schema):
    resident_number: str
    household_number: str
    name: str
    name_kana: str
    birth_date: date
    sex: str
    address: str
    status: str


class ResidentPage(Schema):
    count: int
    page: int
    pages: int
    results: list[ResidentSummary]


class MoveIn(Schema):
    kind: str
    data: dict


class RejectIn(Schema):
    reason: str = ""


class MoveOut(Schema):
    id: int
    kind: str
    status: str
    summary: str
    effective_on: date
    notified_on: date
    author: str
    reviewer: str | None
    rejection_reason: str
    resident_numbers: list[str]


def _summary(r) -> dict:
    return {
        "resident_number": getattr(r, "resident_number", None) or r.resident.resident_number,
        "household_number": r.household.household_number,
        "name": r.full_name,
        "name_kana": r.full_name_kana,
        "birth_date": r.birth_date,
        "sex": r.sex,
        "address": r.address,
        "status": r.status,
    }


def _move(m) -> dict:
    return {
        "id": m.pk,
        "kind": m.kind,
        "status": m.status,
        "summary": m.summary,
        "effective_on": m.effective_on,
        "notified_on": m.notified_on,
        "author": m.author.get_username(),
        "reviewer": m.reviewer.get_username() if m.reviewer else None,
        "rejection_reason": m.rejection_reason,
        "resident_numbers": m.resident_numbers,
    }


def _as_of(query: AsOfQuery):
    return parse_date(query.as_of[:40], field="as_of") if query.as_of.strip() else None


@router.get(
    "/register/residents", response=ResidentPage, summary="Search the register (two items besides sex)"
)
@api_right("residents.view_register", services.PURPOSE_SEARCH)
def search_register(request: HttpRequest, query: Query[RegisterQuery]):
    criteria = parse_register_search(query.dict())
    page = services.find_residents(criteria, page_number(query.page), settings.SESSHU_PAGE_SIZE)
    return {
        "count": page.paginator.count,
        "page": page.number,
        "pages": page.paginator.num_pages,
        "results": [_summary(r) for r in page.object_list],
    }


@router.get("/register/residents/{resident_number}", summary="A resident's record, today or as of a date")
@api_right("residents.view_register", services.PURPOSE_VIEW)
def get_resident(request: HttpRequest, resident_number: str, query: Query[AsOfQuery]):
    record = services.resident_record(resident_number[:20], _as_of(query))
    shown = record.shown
    items = event_payload(record.resident) if shown is record.resident else _revision_items(record)
    return {
        "as_of": record.as_of,
        "record": items,
        "household": [_summary(m) for m in record.household],
        "history": [
            {
                "valid_from": h.valid_from,
                "seq": h.seq,
                "move": h.move_id,
                "kind": h.move.kind if h.move else None,
            }
            for h in record.history
        ],
    }


def _revision_items(record) -> dict:
    from .history import state_of

    items = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in state_of(record.shown).items()}
    items.pop("household_id")
    return items | {
        "resident_number": record.resident.resident_number,
        "household_number": record.shown.household.household_number,
    }


@router.get("/register/households/{household_number}", summary="A household's members, today or as of a date")
@api_right("residents.view_register", services.PURPOSE_VIEW)
def get_household(request: HttpRequest, household_number: str, query: Query[AsOfQuery]):
    household, members, day = services.household_record(household_number[:20], _as_of(query))
    return {
        "household_number": household.household_number,
        "as_of": day,
        "members": [_summary(m) for m in members],
    }


@router.get("/register/moves", response=list[MoveOut], summary="Moves by status (default: waiting)")
@api_right("residents.view_move", services.PURPOSE_QUEUE)
def list_moves(request: HttpRequest, status: str = "pending"):
    return [
        _move(m) for m in services.moves_queue(status if status in moves.MoveStatus.values else "pending")
    ]


@router.post(
    "/register/moves", response={201: MoveOut}, summary="Enter a move (it waits for a second person)"
)
@api_right("residents.add_move", moves.PURPOSE_ENTRY)
def create_move(request: HttpRequest, body: MoveIn):
    return Status(201, _move(moves.submit_move(body.kind, body.data, author=request.user)))


@router.post("/register/moves/{int:move_id}/confirm", response=MoveOut, summary="Confirm someone else's move")
@api_right("residents.confirm_move", moves.PURPOSE_CONFIRM)
def confirm(request: HttpRequest, move_id: int):
    return _move(moves.confirm_move(move_id, reviewer=request.user))


@router.post("/register/moves/{int:move_id}/reject", response=MoveOut, summary="Reject someone else's move")
@api_right("residents.confirm_move", moves.PURPOSE_CONFIRM)
def reject(request: HttpRequest, move_id: int, body: RejectIn):
    return _move(moves.reject_move(move_id, reviewer=request.user, reason=body.reason[:500]))
