"""Moves (異動): entering one, checking it, and applying it once a second person confirms it.

``submit_move`` reads and checks a move, and stores it as pending. ``confirm_move`` (by someone other
than the author) checks it again against the register as it is now, then writes the revisions and the
outbox events in one transaction; ``reject_move`` closes it with a reason. Nothing reaches the
register without the second person (the assessments' four-eyes rule).

Each kind has one ``plan_<kind>`` function that reads the input, checks every rule, and returns a
``Plan``: the residents to create, the changes to existing ones, and the events to publish. The plan
is computed at submission (to refuse early) and again at confirmation (the register may have changed
in between); only the second one is applied.

The planners read the register only through ``_residents``, ``_members_now``, ``_last_change`` and
``_household_by_number``. A batch confirmation (``bulk_moves``) points these at the chunk's residents
held in memory, so each move of the chunk is checked against the register as the moves before it
left it, with the same rules and messages, without a query per move.
"""

from collections import defaultdict
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from sesshu.audit.models import Action, Outcome
from sesshu.audit.services import record
from sesshu.core.problems import Problem, ProblemList

from .history import latest_valid_from, new_resident, state_of, write_revision
from .input import RELATIONSHIPS, Reader
from .models import (
    EventKind,
    Household,
    Move,
    MoveKind,
    MoveStatus,
    RegisterEvent,
    Resident,
    ResidentRevision,
    ResidentStatus,
)
from .numbers import next_number

PURPOSE_ENTRY = "住民記録 異動入力 (resident register: move entry)"
PURPOSE_CONFIRM = "住民記録 異動確認 (resident register: move confirmation)"
NOTIFICATION_DAYS = 14  # 住民基本台帳法 §22-§24: 転入・転居・転出 within 14 days; 戸籍法 §49: births too
DEATH_NOTIFICATION_DAYS = 7  # 戸籍法 §86
MOVE_OUT_ADVANCE_DAYS = 14  # a 転出届 is accepted up to 14 days before the planned move (運用)
NEW = "new"  # the placeholder household of a move that creates one


@dataclass
class Plan:
    summary: str
    resident_numbers: list[str]
    new_residents: list[dict] = field(default_factory=list)  # register items (+ "household": key)
    changes: dict[str, dict] = field(default_factory=dict)  # resident_number -> changed items
    events: list[tuple[str, str]] = field(default_factory=list)  # (EventKind, resident_number or "+i")
    new_household: bool = False


def _p(code: str, ja: str, en: str, field_name: str | None = None) -> Problem:
    return Problem(code, ja, en, field_name)


# The chunk of a batch confirmation being planned (bulk_moves.ChunkRegister), or None: the database.
_chunk: ContextVar = ContextVar("sesshu_move_chunk", default=None)


# Checks shared by the kinds ---------------------------------------------------------------------------


def check_dates(
    kind: str, effective_on: date | None, notified_on: date | None, data: dict, today: date
) -> list:
    problems = []
    if effective_on is None or notified_on is None:
        return problems
    if notified_on > today:
        problems.append(
            _p(
                "future_date",
                "届出日に未来の日付は入力できません。",
                "The notification date cannot be in the future.",
                "notified_on",
            )
        )
    if kind != MoveKind.MOVE_OUT_PLANNED and effective_on > today:
        problems.append(
            _p(
                "future_date",
                "異動日に未来の日付は入力できません。",
                "The date of the move cannot be in the future.",
                "effective_on",
            )
        )
    if kind in LATE_RULES and notified_on < effective_on:
        problems.append(
            _p(
                "notified_before_move",
                "届出日が異動日より前になっています。",
                "The notification date is before the date of the move.",
                "notified_on",
            )
        )
    limit = LATE_RULES.get(kind)
    if limit and (notified_on - effective_on).days > limit and not str(data.get("late_reason", "")).strip():
        problems.append(
            _p(
                "late_notification",
                f"届出期間（{limit}日）を過ぎています。遅延理由を入力してください。",
                f"The notification is more than {limit} days late: enter the reason for the delay.",
                "late_reason",
            )
        )
    return problems


LATE_RULES = {
    MoveKind.MOVE_IN: NOTIFICATION_DAYS,
    MoveKind.MOVE_WITHIN: NOTIFICATION_DAYS,
    MoveKind.BIRTH: NOTIFICATION_DAYS,
    MoveKind.DEATH: DEATH_NOTIFICATION_DAYS,
}


def _residents(numbers: list[str], *, lock: bool) -> dict[str, Resident]:
    if (chunk := _chunk.get()) is not None:
        return chunk.residents(numbers)
    # Locked in id order, always: two confirmations touching the same residents cannot deadlock.
    queryset = Resident.objects.filter(resident_number__in=numbers).select_related("household").order_by("id")
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    return {r.resident_number: r for r in queryset}


def _require_residents(
    numbers: list[str], lock: bool, *, statuses=(ResidentStatus.RESIDENT,)
) -> dict[str, Resident]:
    found = _residents(numbers, lock=lock)
    problems = []
    for number in numbers:
        resident = found.get(number)
        if resident is None:
            problems.append(
                _p(
                    "unknown_resident",
                    f"宛名番号 {number} の住民は見つかりません。",
                    f"No resident with number {number}.",
                    "resident_numbers",
                )
            )
        elif resident.status not in statuses:
            problems.append(
                _p(
                    "not_resident",
                    f"宛名番号 {number} の方は現在住民ではありません（{resident.get_status_display()}）。",
                    f"Resident {number} is not currently a resident ({resident.status}).",
                    "resident_numbers",
                )
            )
    if problems:
        raise ProblemList(problems)
    return found


def _last_change(resident: Resident) -> date | None:
    """The date of the resident's latest revision (a new move may not be dated before it)."""
    if (chunk := _chunk.get()) is not None:
        return chunk.last_change(resident)
    return latest_valid_from(resident)


def _household_by_number(number: str) -> Household | None:
    if (chunk := _chunk.get()) is not None:
        return chunk.household_by_number(number)
    return Household.objects.filter(household_number=number).first()


def _not_before_history(residents: dict[str, Resident], effective_on: date) -> None:
    problems = []
    for number, resident in residents.items():
        last = _last_change(resident)
        if last and effective_on < last:
            problems.append(
                _p(
                    "before_last_move",
                    f"宛名番号 {number} の方の異動日が前回の異動日（{last.isoformat()}）より前です。",
                    f"The date is before resident {number}'s last recorded change ({last.isoformat()}).",
                    "effective_on",
                )
            )
    if problems:
        raise ProblemList(problems)


def _person_input(reader: Reader, effective_on: date | None, *, with_relationship=True) -> dict:
    """The register items of a person entering the register (転入, 出生, 職権記載)."""
    person = {
        "family_name": reader.text("family_name", "氏", "family name", limit=50),
        "given_name": reader.text("given_name", "名", "given name", limit=50),
        "family_name_kana": reader.kana("family_name_kana", "氏（カナ）", "family name reading"),
        "given_name_kana": reader.kana("given_name_kana", "名（カナ）", "given name reading"),
        "latin_name": reader.text("latin_name", "英字氏名", "Latin name", required=False, limit=100).upper(),
        "alias": reader.text("alias", "通称", "alias", required=False, limit=100),
        "birth_date": reader.date("birth_date", "生年月日", "date of birth"),
        "sex": reader.choice("sex", "性別", "sex", {"M", "F"}),
        "nationality": reader.text("nationality", "国籍", "nationality", required=False, limit=50),
        "registered_domicile": reader.text(
            "registered_domicile", "本籍", "registered domicile", required=False, limit=200
        ),
        "domicile_head": reader.text(
            "domicile_head", "筆頭者", "head of the family register", required=False, limit=100
        ),
    }
    if with_relationship:
        person["relationship"] = reader.choice("relationship", "続柄", "relationship", RELATIONSHIPS)
    juminhyo_code = reader.juminhyo_code("juminhyo_code")
    if person["nationality"]:
        person["residence_status"] = reader.text(
            "residence_status", "在留資格", "status of residence", limit=50
        )
        person["residence_period"] = reader.text(
            "residence_period", "在留期間", "period of stay", required=False, limit=20
        )
        person["residence_expiry"] = reader.date(
            "residence_expiry",
            "在留期間等満了日",
            "expiry of the period of stay",
            required=person["residence_status"] != "永住者",
        )
        person["residence_card_number"] = reader.text(
            "residence_card_number", "在留カード等の番号", "residence card number", required=False, limit=12
        )
        if person["residence_expiry"] and effective_on and person["residence_expiry"] <= effective_on:
            reader.problems.append(
                _p(
                    "residence_expired",
                    "在留期間がすでに満了しています。",
                    "The period of stay has already expired.",
                    f"{reader.prefix}residence_expiry",
                )
            )
    if person["birth_date"] and effective_on and person["birth_date"] > effective_on:
        reader.problems.append(
            _p(
                "born_after_move",
                "生年月日が異動日より後になっています。",
                "The date of birth is after the date of the move.",
                f"{reader.prefix}birth_date",
            )
        )
    person["juminhyo_code"] = juminhyo_code
    return person


def _already_resident(person: dict) -> Problem | None:
    """A person who is already a resident cannot move in (the seeds' example of a logical check)."""
    from sesshu.core.text import kanji_key

    same = Resident.objects.filter(status=ResidentStatus.RESIDENT)
    if person.get("juminhyo_code") and same.filter(juminhyo_code=person["juminhyo_code"]).exists():
        match = True
    else:
        match = same.filter(
            kanji_key=kanji_key(person["family_name"] + person["given_name"]), birth_date=person["birth_date"]
        ).exists()
    if match:
        return _p(
            "already_resident",
            f"{person['family_name']} {person['given_name']}さんはすでに住民として記録されています。",
            f"{person['family_name']} {person['given_name']} is already a resident.",
        )
    return None


_MEMBER_FIELDS = (
    "id", "resident_number", "household_id", "is_head", "relationship", "status", "address", "postal_code",
    "family_name", "given_name",
)  # fmt: skip


def _members_now(household_id: int) -> list[Resident]:
    """The household's current members, with just the items the rules look at."""
    if (chunk := _chunk.get()) is not None:
        return chunk.members_now(household_id)
    members = Resident.objects.filter(household_id=household_id, status=ResidentStatus.RESIDENT)
    return list(members.only(*_MEMBER_FIELDS).order_by("id"))


def check_households(plan: Plan, residents: dict[str, Resident]) -> None:
    """After the move, every household that still has residents has exactly one head among them."""
    household_ids = {r.household_id for r in residents.values()}
    household_ids |= {
        c["household_id"] for c in plan.changes.values() if isinstance(c.get("household_id"), int)
    }
    household_ids |= {p["household"] for p in plan.new_residents if isinstance(p.get("household"), int)}
    membership: dict[object, list[tuple[bool, str]]] = defaultdict(list)
    touched = set(plan.changes)
    for household_id in household_ids:
        for member in _members_now(household_id):
            if member.resident_number in touched:
                continue
            membership[household_id].append((member.is_head, member.resident_number))
    for number, change in plan.changes.items():
        resident = residents[number]
        status = change.get("status", resident.status)
        if status != ResidentStatus.RESIDENT:
            continue
        household = change.get("household_id", resident.household_id)
        membership[household].append((change.get("is_head", resident.is_head), number))
    for person in plan.new_residents:
        membership[person["household"]].append((person.get("is_head", False), "+"))
    problems = []
    for members in membership.values():
        heads = sum(1 for is_head, _ in members if is_head)
        if members and heads == 0:
            problems.append(
                _p(
                    "no_head",
                    "世帯主のいない世帯ができてしまいます。新しい世帯主を指定してください。",
                    "This would leave a household without a head: name the new head.",
                    "new_head",
                )
            )
        elif heads > 1:
            problems.append(
                _p(
                    "two_heads",
                    "一つの世帯に世帯主が二人になります。",
                    "A household would have two heads.",
                    "new_head",
                )
            )
    if problems:
        raise ProblemList(problems[:1])


def _new_head(reader: Reader, data: dict, candidates: set[str], required: bool) -> str | None:
    head = str(data.get("new_head", "") or "").strip()
    if not head:
        if required:
            reader.problems.append(
                _p(
                    "no_head",
                    "世帯主のいない世帯ができてしまいます。新しい世帯主を指定してください。",
                    "This would leave a household without a head: name the new head.",
                    "new_head",
                )
            )
        return None
    if head not in candidates:
        reader.problems.append(
            _p(
                "head_not_member",
                "新しい世帯主はその世帯の住民から選んでください。",
                "The new head must be a member of the household.",
                "new_head",
            )
        )
        return None
    return head


def _relationships(data: dict, numbers) -> dict[str, str]:
    given = data.get("relationships") or {}
    return {n: given[n] for n in numbers if n in given and given[n] in RELATIONSHIPS}


# The kinds ------------------------------------------------------------------------------------------


def plan_move_in(data, effective_on, notified_on, lock):
    """転入: new residents arriving with the previous city's 転出証明書."""
    reader = Reader(data)
    address = reader.text("address", "住所", "address", limit=200)
    postal_code = reader.text("postal_code", "郵便番号", "postal code", required=False, limit=8)
    previous_address = reader.text("previous_address", "前住所", "previous address", limit=200)
    reader.text(
        "certificate_issuer",
        "転出証明書の発行市区町村",
        "municipality that issued the move-out certificate",
        limit=50,
    )
    existing = str(data.get("household_number", "") or "").strip()
    members_data = data.get("members") or []
    if not isinstance(members_data, list) or not members_data:
        reader.problems.append(
            _p("required", "転入する方を入力してください。", "Enter the persons moving in.", "members")
        )
        members_data = []
    people = []
    for i, member in enumerate(members_data[:20]):
        sub = Reader(member if isinstance(member, dict) else {}, prefix=f"members.{i}.")
        person = _person_input(sub, effective_on)
        person["is_head"] = sub.flag("is_head")
        reader.problems += sub.problems
        people.append(person)
    household_key: object = NEW
    if existing:
        household = Household.objects.filter(household_number=existing).first()
        if household is None or not _members_now(household.pk):
            reader.problems.append(
                _p(
                    "unknown_household",
                    "指定の世帯は住民のいる世帯ではありません。",
                    "That household has no residents.",
                    "household_number",
                )
            )
        else:
            household_key = household.pk
            if any(p["is_head"] for p in people):
                reader.problems.append(
                    _p(
                        "two_heads",
                        "既存の世帯に入る方は世帯主になれません（世帯主変更は別の届出です）。",
                        "A person joining a household cannot become its head by a move-in.",
                        "members",
                    )
                )
    reader.raise_if_any()
    for person in people:
        if problem := _already_resident(person):
            reader.problems.append(problem)
    if household_key == NEW and sum(p["is_head"] for p in people) != 1:
        reader.problems.append(
            _p(
                "no_head",
                "新しい世帯には世帯主を一人指定してください。",
                "Name exactly one head for the new household.",
                "members",
            )
        )
    reader.raise_if_any()
    late = {"remarks": f"届出遅延: {data['late_reason']}"} if str(data.get("late_reason", "")).strip() else {}
    plan = Plan(
        summary=f"転入 {len(people)}人 {address[:40]}",
        resident_numbers=[],
        new_household=household_key == NEW,
    )
    for i, person in enumerate(people):
        state = (
            person
            | late
            | {
                "household": household_key,
                "postal_code": postal_code,
                "address": address,
                "address_since": effective_on,
                "address_notified_on": notified_on,
                "address_reason": "転入",
                "previous_address": previous_address,
                "became_resident_on": effective_on,
                "became_resident_notified_on": notified_on,
                "became_resident_reason": "転入",
                "became_foreign_resident_on": effective_on if person["nationality"] else None,
            }
        )
        if person["is_head"]:
            state["relationship"] = "世帯主"
        plan.new_residents.append(state)
        plan.events.append((EventKind.MOVED_IN, f"+{i}"))
    check_households(plan, {})
    return plan


def plan_ex_officio_entry(data, effective_on, notified_on, lock):
    """職権記載: the city enters a person on its own authority (e.g. after a 戸籍 notice); reason required."""
    reader = Reader(data)
    reason = reader.text("reason", "職権記載の理由", "reason for the entry", limit=200)
    reader.raise_if_any()
    plan = plan_move_in(data, effective_on, notified_on, lock)
    for person in plan.new_residents:
        person["became_resident_reason"] = "職権記載"
        person["address_reason"] = "職権記載"
        person["remarks"] = (person.get("remarks", "") + f" 職権記載: {reason}").strip()
    plan.summary = "職権記載 " + plan.summary.removeprefix("転入 ")
    return plan


def plan_birth(data, effective_on, notified_on, lock):
    """出生: a child born into a household of the city; the birth date is the date of the move."""
    reader = Reader(data)
    number = str(data.get("household_number", "") or "").strip()
    household = Household.objects.filter(household_number=number).first() if number else None
    members = _members_now(household.pk) if household else []
    if not members:
        reader.problems.append(
            _p(
                "unknown_household",
                "出生した子が入る世帯（住民のいる世帯）を指定してください。",
                "Choose the household (with residents) the child is born into.",
                "household_number",
            )
        )
    child = _person_input(reader, effective_on)
    if child["birth_date"] and effective_on and child["birth_date"] != effective_on:
        reader.problems.append(
            _p(
                "birth_date_mismatch",
                "出生の異動日は生年月日と同じ日です。",
                "The date of a birth is the date of birth.",
                "birth_date",
            )
        )
    reader.raise_if_any()
    head = next(m for m in members if m.is_head) if any(m.is_head for m in members) else members[0]
    late = {"remarks": f"届出遅延: {data['late_reason']}"} if str(data.get("late_reason", "")).strip() else {}
    state = (
        child
        | late
        | {
            "household": household.pk,
            "is_head": False,
            "postal_code": head.postal_code,
            "address": head.address,
            "address_since": effective_on,
            "address_notified_on": notified_on,
            "address_reason": "出生",
            "became_resident_on": effective_on,
            "became_resident_notified_on": notified_on,
            "became_resident_reason": "出生",
            "became_foreign_resident_on": effective_on if child["nationality"] else None,
        }
    )
    plan = Plan(summary=f"出生 {child['family_name']} {child['given_name']}", resident_numbers=[])
    plan.new_residents.append(state)
    plan.events.append((EventKind.BORN, "+0"))
    check_households(plan, {})
    return plan


def plan_move_within(data, effective_on, notified_on, lock):
    """転居: a new address in the city. Only the address and its dates change (the seeds' rule)."""
    allowed = {"resident_numbers", "address", "postal_code", "new_head", "late_reason"} | {
        "effective_on",
        "notified_on",
    }
    extra = sorted(k for k, v in (data or {}).items() if k not in allowed and v not in ("", None, [], {}))
    if extra:
        items = ", ".join(extra)[:60]
        raise ProblemList(
            [
                _p(
                    "move_within_changes_other_items",
                    f"転居では住所以外の事項は変更できません（{items}）。別の届出で処理してください。",
                    f"A move within the city changes only the address ({items}); use another kind of move.",
                )
            ]
        )
    reader = Reader(data)
    numbers = reader.resident_numbers()
    address = reader.text("address", "新住所", "new address", limit=200)
    postal_code = reader.text("postal_code", "郵便番号", "postal code", required=False, limit=8)
    reader.raise_if_any()
    residents = _require_residents(numbers, lock)
    _not_before_history(residents, effective_on)
    households = {r.household_id for r in residents.values()}
    if len(households) > 1:
        reader.problems.append(
            _p(
                "several_households",
                "転居は一つの世帯ごとに届け出てください。",
                "Notify one household's move at a time.",
                "resident_numbers",
            )
        )
    if any(r.address == address for r in residents.values()):
        reader.problems.append(
            _p(
                "same_address",
                "新住所が現住所と同じです。",
                "The new address is the current address.",
                "address",
            )
        )
    reader.raise_if_any()
    household_id = households.pop()
    staying = [m for m in _members_now(household_id) if m.resident_number not in residents]
    whole = not staying
    changes = {
        "address": address,
        "postal_code": postal_code,
        "address_since": effective_on,
        "address_notified_on": notified_on,
        "address_reason": "転居",
    }
    plan = Plan(
        summary=f"転居 {len(numbers)}人 {address[:40]}", resident_numbers=numbers, new_household=not whole
    )
    new_head = None
    if not whole:
        # Part of a household moving to another home forms a household of its own there; the head
        # stays behind with the rest (a head who leaves needs a change of head first).
        if any(r.is_head for r in residents.values()):
            raise ProblemList(
                [
                    _p(
                        "no_head",
                        "残る世帯に世帯主がいなくなります。先に世帯主変更を届け出てください。",
                        "The household left behind would have no head: notify a change of head first.",
                        "new_head",
                    )
                ]
            )
        new_head = _new_head(reader, data, set(numbers), required=True)
        reader.raise_if_any()
    for number in numbers:
        change = dict(changes)
        if not whole:
            relationship = "世帯主" if number == new_head else residents[number].relationship
            change |= {"household_id": NEW, "is_head": number == new_head, "relationship": relationship}
        plan.changes[number] = change
        plan.events.append((EventKind.MOVED_WITHIN, number))
        if not whole:
            plan.events.append((EventKind.HOUSEHOLD_CHANGED, number))
    check_households(plan, residents)
    return plan


def plan_move_out_planned(data, effective_on, notified_on, lock):
    """転出届: the residents say where and when they will move; the register marks them 転出予定."""
    reader = Reader(data)
    numbers = reader.resident_numbers()
    destination = reader.text("destination_address", "転出先", "destination", limit=200)
    planned_on = reader.date("planned_on", "転出予定日", "planned date of the move")
    reader.raise_if_any()
    if planned_on > notified_on + timedelta(days=MOVE_OUT_ADVANCE_DAYS):
        reader.problems.append(
            _p(
                "planned_too_far",
                f"転出予定日は届出日から{MOVE_OUT_ADVANCE_DAYS}日以内にしてください。",
                f"The planned date must be within {MOVE_OUT_ADVANCE_DAYS} days of the notification.",
                "planned_on",
            )
        )
    reader.raise_if_any()
    residents = _require_residents(numbers, lock)
    _not_before_history(residents, effective_on)
    already = [n for n, r in residents.items() if r.move_out_planned_on]
    if already:
        reader.problems.append(
            _p(
                "already_planned",
                f"宛名番号 {already[0]} の方はすでに転出予定です。",
                f"Resident {already[0]} has already notified a move-out.",
                "resident_numbers",
            )
        )
    reader.raise_if_any()
    return Plan(
        summary=f"転出予定 {len(numbers)}人 {planned_on.isoformat()} {destination[:30]}",
        resident_numbers=numbers,
        changes={n: {"moved_to_address": destination, "move_out_planned_on": planned_on} for n in numbers},
    )


def plan_move_out_confirmed(data, effective_on, notified_on, lock):
    """転出確定: the new city's 転入通知 arrived; the residents leave the register on the day they moved."""
    reader = Reader(data)
    numbers = reader.resident_numbers()
    reader.text("new_municipality", "転入先市区町村", "new municipality", limit=50)
    reader.raise_if_any()
    residents = _require_residents(numbers, lock)
    _not_before_history(residents, effective_on)
    unplanned = [n for n, r in residents.items() if not r.move_out_planned_on]
    if unplanned:
        reader.problems.append(
            _p(
                "no_move_out_notified",
                f"宛名番号 {unplanned[0]} の方の転出届がありません。",
                f"Resident {unplanned[0]} has not notified a move-out.",
                "resident_numbers",
            )
        )
    reader.raise_if_any()
    plan = Plan(summary=f"転出確定 {len(numbers)}人", resident_numbers=numbers)
    dates = (effective_on, notified_on)
    return _leaving(
        plan, reader, data, residents, ResidentStatus.MOVED_OUT, "転出", EventKind.MOVED_OUT, dates
    )


def _head_succession(
    plan: Plan, reader: Reader, data: dict, residents: dict[str, Resident], leaving: set[str]
) -> None:
    """When a head leaves and others stay, one of those staying becomes head (named in the move)."""
    for resident in list(residents.values()):
        if not resident.is_head or resident.resident_number not in leaving:
            continue
        staying = {
            m.resident_number: m
            for m in _members_now(resident.household_id)
            if m.resident_number not in leaving
        }
        if not staying:
            continue
        head = _new_head(reader, data, set(staying), required=True)
        reader.raise_if_any()
        if head not in residents:
            residents[head] = staying[head]
        plan.changes[head] = plan.changes.get(head, {}) | {"is_head": True, "relationship": "世帯主"}
        for number, relation in _relationships(data, staying).items():
            if number != head:
                if number not in residents:
                    residents[number] = staying[number]
                plan.changes[number] = plan.changes.get(number, {}) | {"relationship": relation}
        plan.events.append((EventKind.HOUSEHOLD_CHANGED, head))


def _leaving(plan, reader, data, residents, status, reason, event_kind, dates, remarks=None) -> Plan:
    """Residents leaving the register (死亡, 転出, 消除): their status and the day they left (``dates`` is
    (effective_on, notified_on)), the event, and a new head for the household when its head leaves."""
    effective_on, notified_on = dates
    for number in plan.resident_numbers:
        change = {
            "status": status,
            "left_on": effective_on,
            "left_notified_on": notified_on,
            "left_reason": reason,
        }
        if remarks is not None:
            change["remarks"] = remarks
        plan.changes[number] = change
        plan.events.append((event_kind, number))
    _head_succession(plan, reader, data, residents, set(plan.resident_numbers))
    check_households(plan, residents)
    return plan


def plan_death(data, effective_on, notified_on, lock):
    """死亡: the resident leaves the register on the day of death, never before they were born."""
    reader = Reader(data)
    number = reader.text("resident_number", "宛名番号", "addressee number", limit=12)
    reader.raise_if_any()
    residents = _require_residents([number], lock)
    deceased = residents[number]
    if effective_on < deceased.birth_date:
        reader.problems.append(
            _p(
                "death_before_birth",
                "死亡日が生年月日より前になっています。",
                "The date of death is before the date of birth.",
                "effective_on",
            )
        )
    reader.raise_if_any()
    _not_before_history(residents, effective_on)
    plan = Plan(summary=f"死亡 {deceased.full_name}", resident_numbers=[number])
    dates = (effective_on, notified_on)
    return _leaving(plan, reader, data, residents, ResidentStatus.DECEASED, "死亡", EventKind.DIED, dates)


def plan_head_change(data, effective_on, notified_on, lock):
    """世帯主変更: another member becomes head; relationships may be restated against the new head."""
    reader = Reader(data)
    number = str(data.get("household_number", "") or "").strip()
    household = _household_by_number(number)
    members = {m.resident_number: m for m in _members_now(household.pk)} if household else {}
    if not members:
        raise ProblemList(
            [
                _p(
                    "unknown_household",
                    "住民のいる世帯を指定してください。",
                    "Choose a household with residents.",
                    "household_number",
                )
            ]
        )
    head = _new_head(reader, data, set(members), required=True)
    reader.raise_if_any()
    if members[head].is_head:
        raise ProblemList(
            [_p("same_head", "指定の方はすでに世帯主です。", "That person is already the head.", "new_head")]
        )
    residents = _residents(list(members), lock=lock)
    _not_before_history(residents, effective_on)
    plan = Plan(summary=f"世帯主変更 {number} → {members[head].full_name}", resident_numbers=list(members))
    relations = _relationships(data, members)
    for n, member in members.items():
        change = {"is_head": n == head}
        change["relationship"] = (
            "世帯主" if n == head else relations.get(n, "その他" if member.is_head else member.relationship)
        )
        plan.changes[n] = change
        plan.events.append((EventKind.HOUSEHOLD_CHANGED, n))
    check_households(plan, residents)
    return plan


def plan_household_split(data, effective_on, notified_on, lock):
    """世帯分離: some members form a new household at the same address, with a head of their own."""
    reader = Reader(data)
    numbers = reader.resident_numbers()
    reader.raise_if_any()
    residents = _require_residents(numbers, lock)
    households = {r.household_id for r in residents.values()}
    if len(households) != 1:
        raise ProblemList(
            [
                _p(
                    "several_households",
                    "分離する方は同じ世帯から選んでください。",
                    "Choose members of one household.",
                    "resident_numbers",
                )
            ]
        )
    household_id = next(iter(households))
    staying = {m.resident_number: m for m in _members_now(household_id) if m.resident_number not in residents}
    if not staying:
        raise ProblemList(
            [
                _p(
                    "split_everyone",
                    "世帯の全員を分離することはできません。",
                    "A split must leave someone in the household.",
                    "resident_numbers",
                )
            ]
        )
    new_head = _new_head(reader, data, set(numbers), required=True)
    reader.raise_if_any()
    _not_before_history(residents, effective_on)
    plan = Plan(summary=f"世帯分離 {len(numbers)}人", resident_numbers=numbers, new_household=True)
    for n in numbers:
        plan.changes[n] = {
            "household_id": NEW,
            "is_head": n == new_head,
            "relationship": "世帯主"
            if n == new_head
            else _relationships(data, [n]).get(n, residents[n].relationship),
        }
        plan.events.append((EventKind.HOUSEHOLD_CHANGED, n))
    leaving_head = any(r.is_head for r in residents.values())
    if leaving_head:
        _head_succession_in(plan, reader, data, staying, residents)
    check_households(plan, residents)
    return plan


def _head_succession_in(plan, reader, data, staying, residents):
    head = str(data.get("remaining_head", "") or "").strip()
    if head not in staying:
        raise ProblemList(
            [
                _p(
                    "no_head",
                    "元の世帯に残る方から新しい世帯主を指定してください。",
                    "Name the new head of the household left behind.",
                    "remaining_head",
                )
            ]
        )
    residents[head] = staying[head]
    plan.changes[head] = {"is_head": True, "relationship": "世帯主"}
    plan.events.append((EventKind.HOUSEHOLD_CHANGED, head))


def plan_household_merge(data, effective_on, notified_on, lock):
    """世帯合併: one household joins another at the same address; its head stops being a head."""
    source = _household_by_number(str(data.get("household_number", "")).strip())
    target = _household_by_number(str(data.get("into_household_number", "")).strip())
    source_members = _members_now(source.pk) if source else []
    target_members = _members_now(target.pk) if target else []
    if not source_members or not target_members or source == target:
        raise ProblemList(
            [
                _p(
                    "unknown_household",
                    "合併する世帯と合併先の世帯（住民のいる別々の世帯）を指定してください。",
                    "Choose two different households with residents.",
                    "household_number",
                )
            ]
        )
    if {m.address for m in source_members} != {target_members[0].address}:
        raise ProblemList(
            [
                _p(
                    "different_address",
                    "住所の異なる世帯は合併できません。先に転居を届け出てください。",
                    "Households at different addresses cannot merge: notify the move first.",
                    "into_household_number",
                )
            ]
        )
    numbers = [m.resident_number for m in source_members]
    residents = _residents(numbers, lock=lock)
    _not_before_history(residents, effective_on)
    relations = _relationships(data, numbers)
    plan = Plan(
        summary=f"世帯合併 {source.household_number} → {target.household_number}", resident_numbers=numbers
    )
    for n, member in residents.items():
        plan.changes[n] = {
            "household_id": target.pk,
            "is_head": False,
            "relationship": relations.get(n, "その他" if member.is_head else member.relationship),
        }
        plan.events.append((EventKind.HOUSEHOLD_CHANGED, n))
    check_households(plan, residents)
    return plan


def plan_name_change(data, effective_on, notified_on, lock):
    """氏名変更 (by a 戸籍 notice): the name and its reading; the former surname may be kept as 旧氏."""
    reader = Reader(data)
    number = reader.text("resident_number", "宛名番号", "addressee number", limit=12)
    new = {
        "family_name": reader.text("family_name", "氏", "family name", limit=50),
        "given_name": reader.text("given_name", "名", "given name", limit=50),
        "family_name_kana": reader.kana("family_name_kana", "氏（カナ）", "family name reading"),
        "given_name_kana": reader.kana("given_name_kana", "名（カナ）", "given name reading"),
    }
    reader.raise_if_any()
    residents = _require_residents([number], lock)
    resident = residents[number]
    if all(getattr(resident, k) == v for k, v in new.items()):
        raise ProblemList(
            [_p("nothing_changes", "氏名が現在と同じです。", "The name is unchanged.", "family_name")]
        )
    _not_before_history(residents, effective_on)
    if reader.flag("keep_former_surname") and new["family_name"] != resident.family_name:
        new |= {"former_surname": resident.family_name, "former_surname_kana": resident.family_name_kana}
    plan = Plan(
        summary=f"氏名変更 {resident.full_name} → {new['family_name']} {new['given_name']}",
        resident_numbers=[number],
    )
    plan.changes[number] = new
    plan.events.append((EventKind.RENAMED, number))
    return plan


# Items a correction may touch: everything but identity, status and household membership (those have
# their own moves, so that each leaves the events other systems rely on).
CORRECTABLE = {
    "family_name", "given_name", "family_name_kana", "given_name_kana", "latin_name", "alias", "alias_kana",
    "former_surname", "former_surname_kana", "birth_date", "sex", "relationship", "became_resident_on",
    "postal_code", "address_since", "previous_address", "registered_domicile", "domicile_head", "remarks",
    "nationality", "residence_status", "residence_period", "residence_expiry", "residence_card_number",
    "national_health_insurance", "national_pension", "child_allowance", "long_term_care",
    "late_elderly_medical", "support_measure",
}  # fmt: skip
_DATE_ITEMS = {"birth_date", "became_resident_on", "address_since", "residence_expiry"}
_FLAG_ITEMS = {
    "national_health_insurance",
    "national_pension",
    "child_allowance",
    "long_term_care",
    "late_elderly_medical",
    "support_measure",
}


def plan_ex_officio_correction(data, effective_on, notified_on, lock):
    """職権修正: the city corrects items it recorded wrongly; the reason is required and kept."""
    reader = Reader(data)
    number = reader.text("resident_number", "宛名番号", "addressee number", limit=12)
    reason = reader.text("reason", "修正の理由", "reason for the correction", limit=200)
    raw_changes = data.get("changes") or {}
    if not isinstance(raw_changes, dict) or not raw_changes:
        reader.problems.append(
            _p("required", "修正する事項を入力してください。", "Enter the items to correct.", "changes")
        )
        raw_changes = {}
    unknown = sorted(k for k in raw_changes if k not in CORRECTABLE)
    if unknown:
        reader.problems.append(
            _p(
                "not_correctable",
                f"職権修正では変更できない事項です: {', '.join(unknown)[:80]}",
                f"These items cannot be corrected here: {', '.join(unknown)[:80]}",
                "changes",
            )
        )
    sub = Reader(raw_changes, prefix="changes.")
    changes = {}
    for key in raw_changes:
        if key not in CORRECTABLE:
            continue
        if key in _DATE_ITEMS:
            changes[key] = sub.date(key, key, key)
        elif key in _FLAG_ITEMS:
            changes[key] = sub.flag(key)
        elif key.endswith("_kana"):
            changes[key] = sub.kana(key, key, key, required=key in {"family_name_kana", "given_name_kana"})
        elif key == "sex":
            changes[key] = sub.choice(key, "性別", "sex", {"M", "F"})
        elif key == "relationship":
            changes[key] = sub.choice(key, "続柄", "relationship", RELATIONSHIPS)
        else:
            changes[key] = sub.text(key, key, key, required=key in {"family_name", "given_name"}, limit=200)
    reader.problems += sub.problems
    reader.raise_if_any()
    residents = _require_residents([number], lock, statuses=tuple(ResidentStatus))
    resident = residents[number]
    birth = changes.get("birth_date", resident.birth_date)
    if resident.left_on and birth > resident.left_on:
        raise ProblemList(
            [
                _p(
                    "death_before_birth",
                    "生年月日が消除日より後になります。",
                    "The date of birth would be after the date the resident left.",
                    "changes.birth_date",
                )
            ]
        )
    if birth > effective_on:
        raise ProblemList(
            [
                _p(
                    "born_in_future",
                    "生年月日が修正日より後になります。",
                    "The date of birth would be after the date of the correction.",
                    "changes.birth_date",
                )
            ]
        )
    changes = {k: v for k, v in changes.items() if getattr(resident, k) != v}
    if not changes:
        raise ProblemList(
            [
                _p(
                    "nothing_changes",
                    "修正後の内容が現在と同じです。",
                    "The corrected items are unchanged.",
                    "changes",
                )
            ]
        )
    if "relationship" in changes and resident.is_head and changes["relationship"] != "世帯主":
        raise ProblemList(
            [
                _p(
                    "no_head",
                    "世帯主の続柄は世帯主変更で変更してください。",
                    "Change the head's relationship with a change of head.",
                    "changes.relationship",
                )
            ]
        )
    changes["remarks"] = (
        changes.get("remarks", resident.remarks) + f"\n職権修正 {effective_on.isoformat()}: {reason}"
    ).strip()
    plan = Plan(
        summary=f"職権修正 {resident.full_name} ({', '.join(sorted(changes))[:60]})",
        resident_numbers=[number],
    )
    plan.changes[number] = changes
    plan.events.append((EventKind.CORRECTED, number))
    return plan


def plan_ex_officio_deletion(data, effective_on, notified_on, lock):
    """職権消除: the city removes a resident who no longer lives there (実態調査); reason required."""
    reader = Reader(data)
    number = reader.text("resident_number", "宛名番号", "addressee number", limit=12)
    reason = reader.text("reason", "消除の理由", "reason for the deletion", limit=200)
    reader.raise_if_any()
    residents = _require_residents([number], lock)
    _not_before_history(residents, effective_on)
    plan = Plan(summary=f"職権消除 {residents[number].full_name}", resident_numbers=[number])
    remarks = (residents[number].remarks + f"\n職権消除: {reason}").strip()
    dates = (effective_on, notified_on)
    return _leaving(
        plan, reader, data, residents, ResidentStatus.DELETED, "職権消除", EventKind.DELETED, dates, remarks
    )


def plan_residence_renewal(data, effective_on, notified_on, lock):
    """在留期間更新: a foreign resident's new status, period and expiry (from the immigration notice)."""
    reader = Reader(data)
    number = reader.text("resident_number", "宛名番号", "addressee number", limit=12)
    new = {
        "residence_status": reader.text("residence_status", "在留資格", "status of residence", limit=50),
        "residence_period": reader.text(
            "residence_period", "在留期間", "period of stay", required=False, limit=20
        ),
        "residence_expiry": reader.date(
            "residence_expiry", "在留期間等満了日", "expiry of the period of stay"
        ),
        "residence_card_number": reader.text(
            "residence_card_number", "在留カード等の番号", "residence card number", required=False, limit=12
        ),
    }
    reader.raise_if_any()
    residents = _require_residents([number], lock)
    resident = residents[number]
    if not resident.nationality:
        raise ProblemList(
            [
                _p(
                    "not_foreign",
                    "在留期間の更新は外国人住民だけが対象です。",
                    "Only foreign residents have a period of stay.",
                    "resident_number",
                )
            ]
        )
    if new["residence_expiry"] <= effective_on or (
        resident.residence_expiry and new["residence_expiry"] <= resident.residence_expiry
    ):
        raise ProblemList(
            [
                _p(
                    "expiry_not_later",
                    "新しい満了日は現在の満了日と更新日より後にしてください。",
                    "The new expiry must be after the current one and after the date of renewal.",
                    "residence_expiry",
                )
            ]
        )
    _not_before_history(residents, effective_on)
    plan = Plan(
        summary=f"在留期間更新 {resident.full_name} → {new['residence_expiry'].isoformat()}",
        resident_numbers=[number],
    )
    plan.changes[number] = {k: v for k, v in new.items() if v or k == "residence_expiry"}
    plan.events.append((EventKind.RESIDENCE_CHANGED, number))
    return plan


def plan_residence_expiry(data, effective_on, notified_on, lock):
    """在留期間満了: a foreign resident whose period of stay ended leaves the register (職権消除)."""
    reader = Reader(data)
    number = reader.text("resident_number", "宛名番号", "addressee number", limit=12)
    reader.raise_if_any()
    residents = _require_residents([number], lock)
    resident = residents[number]
    if not resident.nationality or not resident.residence_expiry:
        raise ProblemList(
            [
                _p(
                    "no_expiry",
                    "在留期間の満了日がない方です。",
                    "This resident has no period of stay that can expire.",
                    "resident_number",
                )
            ]
        )
    if resident.residence_expiry >= effective_on:
        raise ProblemList(
            [
                _p(
                    "not_expired",
                    f"在留期間はまだ満了していません（満了日 {resident.residence_expiry.isoformat()}）。",
                    f"The period of stay has not expired (it ends {resident.residence_expiry.isoformat()}).",
                    "effective_on",
                )
            ]
        )
    _not_before_history(residents, effective_on)
    plan = Plan(summary=f"在留期間満了 {resident.full_name}", resident_numbers=[number])
    dates = (effective_on, notified_on)
    return _leaving(
        plan, reader, data, residents, ResidentStatus.DELETED, "在留期間満了", EventKind.DELETED, dates
    )


PLANNERS = {
    MoveKind.MOVE_IN: plan_move_in,
    MoveKind.MOVE_WITHIN: plan_move_within,
    MoveKind.MOVE_OUT_PLANNED: plan_move_out_planned,
    MoveKind.MOVE_OUT_CONFIRMED: plan_move_out_confirmed,
    MoveKind.BIRTH: plan_birth,
    MoveKind.DEATH: plan_death,
    MoveKind.HEAD_CHANGE: plan_head_change,
    MoveKind.HOUSEHOLD_SPLIT: plan_household_split,
    MoveKind.HOUSEHOLD_MERGE: plan_household_merge,
    MoveKind.NAME_CHANGE: plan_name_change,
    MoveKind.EX_OFFICIO_ENTRY: plan_ex_officio_entry,
    MoveKind.EX_OFFICIO_CORRECTION: plan_ex_officio_correction,
    MoveKind.EX_OFFICIO_DELETION: plan_ex_officio_deletion,
    MoveKind.RESIDENCE_RENEWAL: plan_residence_renewal,
    MoveKind.RESIDENCE_EXPIRY: plan_residence_expiry,
}


def make_plan(
    kind: str, data: dict, *, lock: bool = False, today: date | None = None
) -> tuple[Plan, date, date]:
    """Read the common dates, then the kind's own input and rules; raise ProblemList with everything wrong."""
    if kind not in PLANNERS:
        raise ProblemList(
            [_p("unknown_kind", "異動の種類が正しくありません。", "Unknown kind of move.", "kind")]
        )
    today = today or timezone.localdate()
    reader = Reader(data)
    effective_on = reader.date("effective_on", "異動日", "date of the move")
    notified_on = reader.date("notified_on", "届出日", "notification date")
    reader.problems += check_dates(kind, effective_on, notified_on, data, today)
    if reader.problems:
        # Report the rest of the form's problems too, read against today in place of the bad dates.
        try:
            PLANNERS[kind](data, effective_on or today, notified_on or today, lock)
        except ProblemList as exc:
            reader.problems += [p for p in exc.problems if p.field not in {"effective_on", "notified_on"}]
        except Problem as problem:
            reader.problems.append(problem)
        reader.raise_if_any()
    plan = PLANNERS[kind](data, effective_on, notified_on, lock)
    return plan, effective_on, notified_on


# Four-eyes ------------------------------------------------------------------------------------------


def submit_move(kind: str, data: dict, *, author) -> Move:
    """Check a move and keep it pending for a second person; nothing in the register changes yet."""
    plan, effective_on, notified_on = make_plan(kind, data)
    with transaction.atomic():
        move = Move.objects.create(
            kind=kind,
            effective_on=effective_on,
            notified_on=notified_on,
            data=_jsonable(data),
            resident_numbers=plan.resident_numbers,
            summary=plan.summary[:200],
            author=author,
        )
        record(
            Action.CREATE,
            purpose=PURPOSE_ENTRY,
            object_type="move",
            subjects=_resident_ids(plan.resident_numbers),
            detail={"move": move.pk, "kind": kind, "summary": move.summary},
        )
    return move


class FourEyesViolation(Problem):
    pass


def confirm_move(move_id: int, *, reviewer, run_consumers: bool = True) -> Move:
    """Apply a pending move entered by someone else: revisions and events, all in one transaction.

    The consumers run after the commit (outbox.process_after_commit).
    """
    _check_reviewable(Move.objects.filter(pk=move_id).first(), reviewer)  # a refusal is logged for good
    with transaction.atomic():
        move = _confirm_locked(move_id, reviewer)
        if run_consumers:
            from .outbox import process_after_commit

            process_after_commit()
    return move


def _confirm_locked(move_id: int, reviewer) -> Move:
    move = Move.objects.select_for_update(of=("self",)).select_related("author").filter(pk=move_id).first()
    _check_reviewable(move, reviewer)
    plan, effective_on, notified_on = make_plan(move.kind, move.data, lock=True)
    written = apply_plan(plan, move, effective_on, notified_on)
    move.status = MoveStatus.CONFIRMED
    move.reviewer = reviewer
    move.reviewed_at = timezone.now()
    move.resident_numbers = sorted(set(plan.resident_numbers) | {r.resident_number for r in written})
    move.save(update_fields=["status", "reviewer", "reviewed_at", "resident_numbers"])
    record(
        Action.CHANGE,
        purpose=PURPOSE_CONFIRM,
        object_type="resident",
        subjects=[r.pk for r in written],
        detail={"move": move.pk, "kind": move.kind, "author": move.author.get_username()},
    )
    return move


@dataclass
class BatchResult:
    confirmed: list[int] = field(default_factory=list)
    refused: dict[int, list[dict]] = field(default_factory=dict)  # move id -> problems (as dicts)


def confirm_moves(move_ids: list[int], *, reviewer, chunk: int = 1000) -> BatchResult:
    """一括処理: confirm many pending moves at once (e.g. a day's 転入通知), each still all-or-nothing.

    Moves the reviewer entered are refused (and logged) before anything is applied. The rest go in
    chunks (``bulk_moves``): each chunk's moves, residents and households are read at once, each move
    is checked in turn against the register as the moves before it left it, and the chunk is written
    with a few bulk statements and committed. A move that fails its checks is reported with its
    problems and changes nothing; the others go on. Moves that add residents or households take the
    one-by-one path inside the chunk. The consumers run once at the end.
    """
    from .bulk_moves import confirm_chunk
    from .outbox import process_events

    result = BatchResult()
    own = set(Move.objects.filter(pk__in=move_ids, author=reviewer).values_list("pk", flat=True))
    for move_id in own:
        try:
            _check_reviewable(Move.objects.filter(pk=move_id).first(), reviewer)
        except Problem as problem:
            result.refused[move_id] = [problem.as_dict()]
    todo = [m for m in move_ids if m not in own]
    for start in range(0, len(todo), chunk):
        with transaction.atomic():
            confirm_chunk(todo[start : start + chunk], reviewer, result)
    process_events()
    return result


def reject_move(move_id: int, *, reviewer, reason: str) -> Move:
    reason = (reason or "").strip()
    if not reason:
        raise ProblemList(
            [_p("required", "差戻しの理由を入力してください。", "Enter the reason for rejecting.", "reason")]
        )
    _check_reviewable(Move.objects.filter(pk=move_id).first(), reviewer)
    with transaction.atomic():
        move = Move.objects.select_for_update().filter(pk=move_id).first()
        _check_reviewable(move, reviewer)
        move.status = MoveStatus.REJECTED
        move.reviewer = reviewer
        move.reviewed_at = timezone.now()
        move.rejection_reason = reason[:500]
        move.save()
        record(
            Action.CHANGE,
            purpose=PURPOSE_CONFIRM,
            object_type="move",
            outcome=Outcome.OK,
            subjects=_resident_ids(move.resident_numbers),
            detail={"move": move.pk, "kind": move.kind, "rejected": True},
        )
    return move


def _check_reviewable(move: Move | None, reviewer) -> None:
    if move is None:
        raise Problem("not_found", "該当する異動はありません。", "No such move.")
    if move.status != MoveStatus.PENDING:
        raise Problem(
            "not_pending", "この異動はすでに処理されています。", "This move has already been dealt with."
        )
    if move.author_id == reviewer.pk:
        record(
            Action.DENIED,
            purpose=PURPOSE_CONFIRM,
            outcome=Outcome.DENIED,
            object_type="move",
            detail={"move": move.pk, "reason": "four_eyes"},
        )
        raise FourEyesViolation(
            "four_eyes",
            "自分で入力した異動は確認できません。別の職員が確認してください。",
            "You cannot confirm a move you entered yourself: another staff member must confirm it.",
        )


def apply_plan(plan: Plan, move: Move | None, effective_on: date, notified_on: date) -> list[Resident]:
    """Write the plan: new households and residents, a revision per changed resident, the events."""
    recorded_at = timezone.now()
    new_household_id = None
    if plan.new_household:
        new_household_id = Household.objects.create(
            household_number=next_number("household_number"), created_on=effective_on
        ).pk
    touched: dict[str, Resident] = {}
    created = []
    for state in plan.new_residents:
        state = dict(state)
        household = state.pop("household")
        juminhyo_code = state.pop("juminhyo_code", None) or None
        state["household_id"] = new_household_id if household == NEW else household
        resident = new_resident(next_number("resident_number"), state, juminhyo_code)
        ResidentRevision.objects.create(
            resident=resident,
            seq=1,
            valid_from=effective_on,
            recorded_at=recorded_at,
            move=move,
            **state_of(resident),
        )
        created.append(resident)
    residents = _residents(list(plan.changes), lock=False)
    for number, change in plan.changes.items():
        change = dict(change)
        if change.get("household_id") == NEW:
            change["household_id"] = new_household_id
        touched[number] = residents[number]
        write_revision(residents[number], change, effective_on, move, recorded_at)
    events = []
    for kind, ref in plan.events:
        resident = created[int(ref[1:])] if ref.startswith("+") else touched.get(ref) or residents[ref]
        events.append(
            RegisterEvent(
                kind=kind,
                resident_number=resident.resident_number,
                effective_on=effective_on,
                payload=event_payload(resident),
                move=move,
            )
        )
    RegisterEvent.objects.bulk_create(events)
    return created + list(touched.values())


def event_payload(resident: Resident, household_number: str | None = None) -> dict:
    """A resident's register items after a change, as the outbox and the daily feed carry them."""
    payload = {"resident_number": resident.resident_number, "juminhyo_code": resident.juminhyo_code or ""}
    payload["household_number"] = household_number or resident.household.household_number
    for name, value in state_of(resident).items():
        if name == "household_id":
            continue
        payload[name] = value.isoformat() if isinstance(value, date) else value
    return payload


def _resident_ids(numbers: list[str]) -> list[int]:
    return list(Resident.objects.filter(resident_number__in=numbers).values_list("id", flat=True))


def _jsonable(data):
    if isinstance(data, dict):
        return {str(k): _jsonable(v) for k, v in data.items() if k not in {"csrfmiddlewaretoken"}}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    if isinstance(data, date):
        return data.isoformat()
    return data if data is None or isinstance(data, bool | int | str) else str(data)
