"""一括確認: confirming a chunk of moves with a few bulk statements instead of a dozen queries per move.

``confirm_chunk`` reads the chunk's moves, the residents they name and the members of their households
at once (locked, in id order), then takes the moves in their order. Each is planned by the same
``plan_<kind>`` function as a single confirmation, reading the register from a ``ChunkRegister``: the
residents as the moves before it in the chunk left them (its household, status, head, latest change).
A move that fails a rule is reported with the same problems and changes nothing; the others go on.

A move that passes is applied in memory (the revision, the resident's new current copy, the events,
the move's confirmation, one audit event), and the chunk is written at the end: one INSERT for the
revisions, one for the events, one for the audit events (``record_many``, the same hash chain), COPY
on PostgreSQL; then one UPDATE for the changed residents and one for the confirmed moves.

Moves that add residents or households (転入, 出生, 職権記載, 世帯分離, a part-household 転居) take the
one-by-one path (``moves._confirm_locked``), which hands out the 宛名番号 and 世帯番号 as it goes:
what is pending is written first, so that move sees the register as the moves before it left it, and
the residents it touched are read again afterwards.
"""

from collections import defaultdict
from datetime import date

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from sesshu.audit.models import Action
from sesshu.audit.services import event_values, record_many
from sesshu.core.bulk import insert_rows, update_rows
from sesshu.core.problems import Problem, ProblemList
from sesshu.core.text import nfkc

from . import moves as single
from .history import fill_keys, state_of
from .models import (
    Household,
    Move,
    MoveKind,
    MoveStatus,
    RegisterEvent,
    Resident,
    ResidentRevision,
    ResidentStatus,
)

# Kinds applied in memory: they change residents already in the register and create nothing.
BULK_KINDS = {
    MoveKind.MOVE_WITHIN,  # unless part of a household moves (it forms a new household: one by one)
    MoveKind.MOVE_OUT_PLANNED,
    MoveKind.MOVE_OUT_CONFIRMED,
    MoveKind.DEATH,
    MoveKind.HEAD_CHANGE,
    MoveKind.HOUSEHOLD_MERGE,
    MoveKind.NAME_CHANGE,
    MoveKind.EX_OFFICIO_CORRECTION,
    MoveKind.EX_OFFICIO_DELETION,
    MoveKind.RESIDENCE_RENEWAL,
    MoveKind.RESIDENCE_EXPIRY,
}
# The search keys a resident's current copy carries (history.fill_keys), and a marker for 'no value'.
_KEYS = ("kana_key", "kanji_key", "address_key")
_UNSET = object()
_MOVE_COLUMNS = ["status", "reviewer", "reviewed_at", "resident_numbers"]


def confirm_chunk(move_ids: list[int], reviewer, result) -> None:
    """Confirm these moves in order inside the caller's transaction; fill ``result`` (a BatchResult)."""
    found = Move.objects.select_for_update(of=("self",)).filter(pk__in=move_ids)
    moves = {m.pk: m for m in found.order_by("pk")}
    authors = _usernames({m.author_id for m in moves.values()})
    register = ChunkRegister()
    register.preload(m for m in moves.values() if m.kind in BULK_KINDS and m.status == MoveStatus.PENDING)
    for move_id in move_ids:
        move = moves.get(move_id)
        try:
            single._check_reviewable(move, reviewer)
            if not _confirm_in_memory(register, move, reviewer, authors):
                _confirm_one_by_one(register, move, reviewer)
        except ProblemList as exc:
            result.refused[move_id] = exc.as_dicts()
        except Problem as problem:
            result.refused[move_id] = [problem.as_dict()]
        else:
            result.confirmed.append(move_id)
    register.flush()


def _usernames(ids) -> dict[int, str]:
    staff = get_user_model().objects.filter(pk__in=ids)
    return {user.pk: user.get_username() for user in staff}


def _confirm_in_memory(register: "ChunkRegister", move: Move, reviewer, authors: dict[int, str]) -> bool:
    """Plan the move against the chunk and apply it there; False when it must go one by one."""
    if move.kind not in BULK_KINDS:
        return False
    token = single._chunk.set(register)
    try:
        plan, effective_on, _ = single.make_plan(move.kind, move.data, lock=True)
    finally:
        single._chunk.reset(token)
    if plan.new_residents or plan.new_household:
        return False
    register.apply(plan, move, effective_on, reviewer, authors[move.author_id])
    return True


def _confirm_one_by_one(register: "ChunkRegister", move: Move, reviewer) -> None:
    register.flush()  # the single path reads the database: it must see the moves before this one
    with transaction.atomic():
        confirmed = single._confirm_locked(move.pk, reviewer)
    move.status = MoveStatus.CONFIRMED  # the same id twice in a batch is refused the second time
    register.forget(confirmed.resident_numbers)


def _referenced(moves) -> tuple[set[str], set[str]]:
    """The 宛名番号 and 世帯番号 the moves' input names (to read them all at once; misses are read later)."""
    residents, households = set(), set()
    for move in moves:
        data = move.data if isinstance(move.data, dict) else {}
        listed = data.get("resident_numbers") or []
        if isinstance(listed, str):
            listed = listed.replace(",", " ").replace("、", " ").split()
        if isinstance(listed, list):
            residents |= {nfkc(str(n)).strip() for n in listed}
        for key in ("resident_number", "new_head", "remaining_head"):
            residents.add(nfkc(str(data.get(key) or "")).strip())
        if isinstance(data.get("relationships"), dict):
            residents |= {str(n) for n in data["relationships"]}
        for key in ("household_number", "into_household_number"):
            households.add(str(data.get(key) or "").strip())
    return residents - {""}, households - {""}


class ChunkRegister:
    """The residents a chunk of moves reads, as the moves applied so far left them, and what to write.

    Residents are read once (locked) and then kept here; a household's members are read the first time
    it is asked for, and after that follow the moves in memory (``members``: household id -> resident
    ids). Nothing is written until ``flush``.
    """

    def __init__(self) -> None:
        self.by_number: dict[str, Resident] = {}
        self.by_id: dict[int, Resident] = {}
        self.members: dict[int, set[int]] = defaultdict(set)
        self.loaded_households: set[int] = set()
        self.household_numbers: dict[int, str] = {}
        self.households: dict[str, Household] = {}
        self.last_valid_from: dict[int, date] = {}
        self.last_seq: dict[int, int] = {}
        self.changed: dict[int, set[str]] = defaultdict(set)  # resident id -> columns to write
        self.revisions: list[dict] = []  # rows to insert (attname -> value)
        self.events: list[dict] = []
        self.moves: list[Move] = []
        self.audit: list[dict] = []

    # Reading --------------------------------------------------------------------------------------

    def preload(self, moves) -> None:
        numbers, household_numbers = _referenced(moves)
        if household_numbers:
            for household in Household.objects.filter(household_number__in=household_numbers):
                self._know_household(household)
        household_ids = {h.pk for h in self.households.values()}
        if numbers:
            household_ids |= set(
                Resident.objects.filter(resident_number__in=numbers).values_list("household_id", flat=True)
            )
        if numbers or household_ids:
            self._read(
                Resident.objects.filter(resident_number__in=numbers)
                | Resident.objects.filter(household_id__in=household_ids)
            )
        self.loaded_households |= household_ids

    def _read(self, queryset) -> None:
        """Keep the residents of the queryset not kept yet (a kept one may have changed in memory)."""
        # Locked in id order, as the single path does, so that two confirmations cannot deadlock.
        rows = queryset.select_for_update(of=("self",)).order_by("id")
        new = [r for r in rows if r.pk not in self.by_id]
        for resident in new:
            self.by_id[resident.pk] = resident
            self.by_number[resident.resident_number] = resident
            self.members[resident.household_id].add(resident.pk)
        ids = [r.pk for r in new]
        for row in (
            ResidentRevision.objects.filter(resident_id__in=ids)
            .values("resident_id")
            .annotate(last_valid_from=Max("valid_from"), last_seq=Max("seq"))
        ):
            self.last_valid_from[row["resident_id"]] = row["last_valid_from"]
            self.last_seq[row["resident_id"]] = row["last_seq"]
        unknown = {r.household_id for r in new} - set(self.household_numbers)
        for household in Household.objects.filter(pk__in=unknown):
            self._know_household(household)

    def _know_household(self, household: Household) -> None:
        self.households[household.household_number] = household
        self.household_numbers[household.pk] = household.household_number

    def residents(self, numbers) -> dict[str, Resident]:
        missing = [n for n in numbers if n not in self.by_number]
        if missing:
            self._read(Resident.objects.filter(resident_number__in=missing))
        found = [self.by_number[n] for n in dict.fromkeys(numbers) if n in self.by_number]
        return {r.resident_number: r for r in sorted(found, key=lambda r: r.pk)}

    def members_now(self, household_id: int) -> list[Resident]:
        if household_id not in self.loaded_households:
            self._read(Resident.objects.filter(household_id=household_id, status=ResidentStatus.RESIDENT))
            self.loaded_households.add(household_id)
        members = (self.by_id[i] for i in self.members.get(household_id, ()))
        return sorted((r for r in members if r.status == ResidentStatus.RESIDENT), key=lambda r: r.pk)

    def last_change(self, resident: Resident) -> date | None:
        return self.last_valid_from.get(resident.pk)

    def household_by_number(self, number: str) -> Household | None:
        if number not in self.households:
            household = Household.objects.filter(household_number=number).first()
            if household is None:
                return None
            self._know_household(household)
        return self.households[number]

    def forget(self, numbers) -> None:
        """Drop residents a one-by-one move changed (and their households' member lists): read again."""
        numbers = [n for n in numbers if n]
        households = set(
            Resident.objects.filter(resident_number__in=numbers).values_list("household_id", flat=True)
        )
        for number in numbers:
            resident = self.by_number.pop(number, None)
            if resident is None:
                continue
            del self.by_id[resident.pk]
            self.members[resident.household_id].discard(resident.pk)
            households.add(resident.household_id)
            self.last_valid_from.pop(resident.pk, None)
            self.last_seq.pop(resident.pk, None)
        self.loaded_households -= households

    # Applying -------------------------------------------------------------------------------------

    def apply(self, plan, move: Move, effective_on: date, reviewer, author: str) -> None:
        """What ``moves.apply_plan`` and ``_confirm_locked`` write for a plan that creates nothing."""
        recorded_at = timezone.now()
        touched: dict[str, Resident] = {}
        for number, change in plan.changes.items():
            resident = self.by_number[number]
            before = state_of(resident)
            state = before | change
            seq = self.last_seq.get(resident.pk, 0) + 1
            self.revisions.append(
                state
                | {
                    "resident_id": resident.pk,
                    "seq": seq,
                    "valid_from": effective_on,
                    "recorded_at": recorded_at,
                    "move_id": move.pk,
                }
            )
            # The new current copy: the changed items, then the search keys made from them.
            changed = {name for name, value in change.items() if before.get(name, _UNSET) != value}
            for name in changed:
                setattr(resident, name, state[name])
            keys = {name: getattr(resident, name) for name in _KEYS}
            fill_keys(resident)
            changed |= {name for name, value in keys.items() if getattr(resident, name) != value}
            self.changed[resident.pk] |= changed
            if resident.household_id != before["household_id"]:
                self.members[before["household_id"]].discard(resident.pk)
                self.members[resident.household_id].add(resident.pk)
            self.last_seq[resident.pk] = seq
            last = self.last_valid_from.get(resident.pk)
            self.last_valid_from[resident.pk] = max(last, effective_on) if last else effective_on
            touched[number] = resident
        for kind, number in plan.events:
            resident = touched.get(number) or self.by_number[number]
            number_of_household = self._household_number(resident.household_id)
            self.events.append(
                {
                    "kind": kind,
                    "resident_number": resident.resident_number,
                    "effective_on": effective_on,
                    "payload": single.event_payload(resident, number_of_household),
                    "move_id": move.pk,
                }
            )
        move.status = MoveStatus.CONFIRMED
        move.reviewer = reviewer
        move.reviewed_at = timezone.now()
        move.resident_numbers = sorted(set(plan.resident_numbers) | set(touched))
        self.moves.append(move)
        self.audit.append(
            event_values(
                Action.CHANGE,
                purpose=single.PURPOSE_CONFIRM,
                object_type="resident",
                subjects=[r.pk for r in touched.values()],
                detail={"move": move.pk, "kind": move.kind, "author": author},
            )
        )

    def _household_number(self, household_id: int) -> str:
        if household_id not in self.household_numbers:
            self._know_household(Household.objects.get(pk=household_id))
        return self.household_numbers[household_id]

    # Writing --------------------------------------------------------------------------------------

    def flush(self) -> None:
        """Write what the moves applied so far changed: a few statements whatever their number."""
        if not self.moves:
            return
        insert_rows(ResidentRevision, self.revisions)
        by_columns: dict[frozenset, list[Resident]] = defaultdict(list)
        for resident_id, columns in self.changed.items():
            if columns:
                by_columns[frozenset(columns)].append(self.by_id[resident_id])
        for columns, residents in by_columns.items():
            update_rows(Resident, residents, sorted(columns))
        insert_rows(RegisterEvent, self.events)
        update_rows(Move, self.moves, _MOVE_COLUMNS)
        record_many(self.audit)
        self.changed.clear()
        self.revisions, self.events, self.moves, self.audit = [], [], [], []
