"""Batch confirmation (一括確認): the bulk path leaves the register exactly as confirming one by one would.

Each comparison enters the same moves twice on the same register, inside a transaction that is then
rolled back: once confirmed by ``confirm_moves`` (the bulk path), once move by move with
``confirm_move``. What a clerk, another system or an auditor could see afterwards — residents,
households, history, outbox events, the addressee's persons, the audit trail — must be the same.
"""

import itertools
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sesshu.addressee.models import Person
from sesshu.audit.models import AuditChainHead, AuditEvent
from sesshu.audit.services import event_values, record, record_many, verify_chain
from sesshu.core.problems import Problem, ProblemList
from sesshu.residents.history import household_as_of
from sesshu.residents.models import (
    RECORD_FIELDS,
    Household,
    Move,
    RegisterEvent,
    Resident,
    ResidentRevision,
)
from sesshu.residents.moves import confirm_move, confirm_moves, submit_move
from sesshu.residents.outbox import process_events

from .factories import make_household, make_resident, make_staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
D = TODAY - timedelta(days=3)
DAY = {"effective_on": D.isoformat(), "notified_on": D.isoformat()}


@pytest.fixture
def clerks(db):
    return make_staff("register"), make_staff("register")


@pytest.fixture
def city(db):
    """Six households: a family of three, a single person, two households sharing one address, a
    foreign resident, and someone whose move-out is notified; every history starts in 2015."""
    home = make_household(address="東和県桜ヶ丘市緑町3丁目2番5号")
    head, _ = make_resident(home, given=("一郎", "イチロウ"), birth_date=date(1980, 1, 5))
    wife, _ = make_resident(
        home, given=("花子", "ハナコ"), sex="F", relationship="妻", is_head=False, birth_date=date(1982, 3, 3)
    )
    son, _ = make_resident(
        home, given=("翔太", "ショウタ"), relationship="子", is_head=False, birth_date=date(2010, 6, 1)
    )
    single_home = make_household(address="東和県桜ヶ丘市本町1-1")
    single, _ = make_resident(single_home, family=("鈴木", "スズキ"), given=("一", "ハジメ"))
    flat_a = make_household(address="東和県桜ヶ丘市若葉台5-5-101")
    sato, _ = make_resident(
        flat_a, family=("佐藤", "サトウ"), given=("健", "ケン"), birth_date=date(1970, 1, 1)
    )
    flat_b = make_household(address="東和県桜ヶ丘市若葉台5-5-101")
    ito, _ = make_resident(
        flat_b, family=("伊藤", "イトウ"), given=("誠", "マコト"), birth_date=date(1990, 2, 2)
    )
    ito_son, _ = make_resident(
        flat_b,
        family=("伊藤", "イトウ"),
        given=("大", "ダイ"),
        relationship="子",
        is_head=False,
        birth_date=date(2015, 2, 2),
    )
    abroad_home = make_household(address="東和県桜ヶ丘市旭町8-8")
    lee, _ = make_resident(
        abroad_home,
        family=("李", "リ"),
        given=("明", "ミン"),
        latin_name="LI MING",
        nationality="中国",
        residence_status="技術・人文知識・国際業務",
        residence_period="3年",
        residence_expiry=TODAY + timedelta(days=60),
        birth_date=date(1992, 9, 9),
    )
    kato_home = make_household(address="東和県桜ヶ丘市旭町9-9")
    kato, _ = make_resident(
        kato_home, family=("加藤", "カトウ"), given=("茂", "シゲル"), birth_date=date(1960, 5, 5)
    )
    residents = {
        "kato": kato,
        "head": head, "wife": wife, "son": son, "single": single, "sato": sato, "ito": ito,
        "ito_son": ito_son, "lee": lee,
    }  # fmt: skip
    for resident in residents.values():
        resident.revisions.update(valid_from=date(2015, 6, 1))
    households = {"home": home, "single": single_home, "flat_a": flat_a, "flat_b": flat_b}
    author, reviewer = make_staff("register"), make_staff("register")
    notified = submit_move(
        "move_out_planned",
        {
            "resident_numbers": [kato.resident_number],
            "destination_address": "北陽県北陽市本町2-2",
            "planned_on": D.isoformat(),
            "effective_on": (D - timedelta(days=1)).isoformat(),
            "notified_on": (D - timedelta(days=1)).isoformat(),
        },
        author=author,
    )
    confirm_move(notified.pk, reviewer=reviewer)
    return {"n": {k: r.resident_number for k, r in residents.items()}, "h": households}


def child(**extra) -> dict:
    return {
        "household_number": "",
        "family_name": "田中",
        "given_name": "陽菜",
        "family_name_kana": "タナカ",
        "given_name_kana": "ヒナ",
        "birth_date": D.isoformat(),
        "sex": "F",
        "relationship": "子",
    } | extra


def mixed_batch(city) -> list[tuple[str, dict]]:
    """Every kind in one batch, each valid when entered, several touching the same household, in an
    order where later moves depend on earlier ones (and one that an earlier move makes impossible)."""
    n, h = city["n"], city["h"]
    planned = (D + timedelta(days=7)).isoformat()
    return [
        ("move_within", {"resident_numbers": [n["single"]], "address": "東和県桜ヶ丘市本町2-2"}),
        ("death", {"resident_number": n["head"], "new_head": n["wife"], "relationships": {n["son"]: "子"}}),
        # Entered as part of a household (a new one, the head staying); after the death it is the whole
        # household: no new household, so applied in the batch.
        ("move_within", {
            "resident_numbers": [n["wife"], n["son"]], "address": "東和県桜ヶ丘市東町7-7",
            "new_head": n["wife"],
        }),
        ("death", {"resident_number": n["head"], "new_head": n["wife"]}),  # refused: no longer a resident
        # One by one (it adds a resident): born at the address the household has just moved to.
        ("birth", child(household_number=h["home"].household_number)),
        ("name_change", {
            "resident_number": n["wife"], "family_name": "山本", "given_name": "花子",
            "family_name_kana": "ヤマモト", "given_name_kana": "ハナコ", "keep_former_surname": "1",
        }),
        ("head_change", {
            "household_number": h["home"].household_number, "new_head": n["son"],
            "relationships": {n["wife"]: "母"},
        }),
        ("household_merge", {
            "household_number": h["flat_a"].household_number,
            "into_household_number": h["flat_b"].household_number,
            "relationships": {n["sato"]: "同居人"},
        }),
        ("move_out_planned", {
            "resident_numbers": [n["ito"]], "destination_address": "西海県西海市1-1", "planned_on": planned,
        }),
        ("move_out_confirmed", {"resident_numbers": [n["kato"]], "new_municipality": "北陽市"}),
        ("residence_renewal", {
            "resident_number": n["lee"], "residence_status": "技術・人文知識・国際業務",
            "residence_period": "5年", "residence_expiry": (TODAY + timedelta(days=5 * 365)).isoformat(),
        }),
        ("ex_officio_correction", {
            "resident_number": n["single"], "reason": "通称の記載漏れ", "changes": {"alias": "スズキ"},
        }),
        ("move_within", {"resident_numbers": [n["single"]], "address": "東和県桜ヶ丘市本町3-3"}),
        ("household_split", {"resident_numbers": [n["ito_son"]], "new_head": n["ito_son"]}),
        ("ex_officio_deletion", {"resident_number": n["lee"], "reason": "実態調査により居住の実態なし"}),
    ]  # fmt: skip


def submit_all(batch, author) -> list[int]:
    return [submit_move(kind, DAY | data, author=author).pk for kind, data in batch]


def one_by_one(move_ids, reviewer):
    """The reference: each move confirmed on its own (the reviewer's own moves first, as a batch
    refuses them before it starts), the consumers run once at the end."""
    own = set(Move.objects.filter(pk__in=move_ids, author=reviewer).values_list("pk", flat=True))
    confirmed, refused = [], {}
    for move_id in [m for m in move_ids if m in own] + [m for m in move_ids if m not in own]:
        try:
            confirm_move(move_id, reviewer=reviewer, run_consumers=False)
        except ProblemList as exc:
            refused[move_id] = exc.as_dicts()
        except Problem as problem:
            refused[move_id] = [problem.as_dict()]
        else:
            confirmed.append(move_id)
    process_events()
    return confirmed, refused


class Rollback(Exception):
    pass


def outcome(city, batch, confirm, clerks, *, own: set[int] = frozenset()) -> dict:
    """Enter the batch, confirm it with ``confirm``, describe everything it left; then roll back."""
    seen = {}
    try:
        with transaction.atomic():
            audit_mark = AuditChainHead.objects.get(pk=1).last_id
            ids = [
                submit_move(kind, DAY | data, author=clerks[1] if i in own else clerks[0]).pk
                for i, (kind, data) in enumerate(batch)
            ]
            audit_after_entry = AuditChainHead.objects.get(pk=1).last_id
            confirmed, refused = confirm(ids, clerks[1])
            seen = describe(ids, confirmed, refused, audit_mark, audit_after_entry)
            assert verify_chain().ok
            raise Rollback
    except Rollback:
        pass
    return seen


def bulk(chunk=500):
    def confirm(ids, reviewer):
        result = confirm_moves(ids, reviewer=reviewer, chunk=chunk)
        return result.confirmed, result.refused

    return confirm


def describe(ids, confirmed, refused, audit_mark, audit_after_entry) -> dict:
    """Everything the batch left, with database ids replaced by what a user sees (numbers, positions)."""
    position = {move_id: i for i, move_id in enumerate(ids)}
    resident_number = dict(Resident.objects.values_list("pk", "resident_number"))
    household_number = dict(Household.objects.values_list("pk", "household_number"))
    integrated = dict(Person.objects.values_list("pk", "integrated_number"))
    event_position = {
        pk: i for i, pk in enumerate(RegisterEvent.objects.filter(move__in=ids).values_list("pk", flat=True))
    }

    def state(record) -> dict:
        items = {name: getattr(record, name) for name in RECORD_FIELDS}
        return items | {"household": household_number[record.household_id]}

    residents = {
        r.resident_number: state(r) | {"keys": (r.kana_key, r.kanji_key, r.address_key)}
        for r in Resident.objects.all()
    }
    households = {
        number: [(r.resident.resident_number, r.is_head) for r in household_as_of(Household(pk=pk), TODAY)]
        for pk, number in household_number.items()
    }
    revisions = [
        (r.resident.resident_number, r.seq, r.valid_from, position[r.move_id], state(r))
        for r in ResidentRevision.objects.filter(move__in=ids).order_by("id")
    ]
    events = [
        (e.kind, e.resident_number, e.effective_on, e.payload, position[e.move_id])
        for e in RegisterEvent.objects.filter(move__in=ids).order_by("id")
    ]
    moves = [
        (m.kind, m.status, m.reviewer_id, sorted(m.resident_numbers))
        for m in sorted(Move.objects.filter(pk__in=ids), key=lambda m: position[m.pk])
    ]
    persons = {
        p.integrated_number: (p.status, p.status_date, p.family_name, p.given_name, p.address, p.kana_key)
        for p in Person.objects.all()
    }

    def detail(event) -> dict:
        detail = dict(event.detail)
        if "move" in detail:
            detail["move"] = position[detail["move"]]
        if "events" in detail:
            detail["events"] = [event_position[pk] for pk in detail["events"]]
        detail.pop("key_id", None)  # the vault's first data key is named at random
        return detail

    def subjects(event) -> list:
        names = integrated if event.object_type in {"person", "history_check"} else resident_number
        return sorted(names[pk] for pk in event.subjects)

    audit = [
        (e.action, e.outcome, e.object_type, e.purpose, e.actor_username, subjects(e), detail(e))
        for e in AuditEvent.objects.filter(id__gt=audit_after_entry).order_by("id")
    ]
    return {
        "confirmed": [position[m] for m in confirmed],
        "refused": {position[m]: problems for m, problems in refused.items()},
        "residents": residents,
        "households": households,
        "revisions": revisions,
        "events": events,
        "moves": moves,
        "persons": persons,
        "audit": audit,
        "audit_entries": audit_after_entry - audit_mark,
    }


def assert_same(bulk_seen: dict, single_seen: dict) -> None:
    assert bulk_seen.keys() == single_seen.keys()
    for key in bulk_seen:
        assert bulk_seen[key] == single_seen[key], key


# The comparisons ---------------------------------------------------------------------------------------


def test_a_mixed_batch_leaves_the_register_as_one_by_one_would(city, clerks):
    batch = mixed_batch(city)
    by_bulk = outcome(city, batch, bulk(), clerks)
    by_single = outcome(city, batch, one_by_one, clerks)
    assert_same(by_bulk, by_single)
    # And what that is, as the clerk sees it: everything applied but the second death.
    assert by_bulk["confirmed"] == [i for i in range(len(batch)) if i != 3]
    assert [p["code"] for p in by_bulk["refused"][3]] == ["not_resident"]
    assert "は現在住民ではありません" in by_bulk["refused"][3][0]["message_ja"]
    n, home = city["n"], city["h"]["home"].household_number
    residents = by_bulk["residents"]
    wife = residents[n["wife"]]
    assert (wife["family_name"], wife["former_surname"], wife["relationship"]) == ("山本", "田中", "母")
    assert (wife["address"], wife["household"]) == (
        "東和県桜ヶ丘市東町7-7",
        home,
    )  # whole household: same one
    born = [r for r in residents.values() if r["given_name"] == "陽菜"]
    assert born[0]["address"] == "東和県桜ヶ丘市東町7-7"  # the birth saw the move before it
    assert by_bulk["households"][home][0] == (n["son"], True)
    assert residents[n["sato"]]["household"] == city["h"]["flat_b"].household_number
    assert residents[n["ito_son"]]["household"] not in {h.household_number for h in city["h"].values()}
    assert (residents[n["lee"]]["status"], residents[n["kato"]]["status"]) == ("deleted", "moved_out")
    assert residents[n["single"]]["address"] == "東和県桜ヶ丘市本町3-3"
    assert residents[n["single"]]["alias"] == "スズキ"
    kinds = [e[0] for e in by_bulk["events"]]
    assert kinds.count("moved_within") == 4 and {"born", "died", "deleted", "moved_out"} <= set(kinds)
    assert len(by_bulk["audit"]) > len(batch)  # one per confirmed move, plus the consumers'


def test_small_chunks_give_the_same_result(city, clerks):
    """Moves of one household split over chunks (two moves a chunk) see each other through the database."""
    batch = mixed_batch(city)
    assert_same(outcome(city, batch, bulk(chunk=2), clerks), outcome(city, batch, one_by_one, clerks))


def test_two_moves_of_one_household_in_a_batch_see_each_other(city, clerks):
    n, home = city["n"], city["h"]["home"].household_number
    batch = [
        ("death", {"resident_number": n["head"], "new_head": n["wife"]}),
        # Entered while the head was alive (part of the household, forming a new one); confirmed after
        # the death it moves the whole household.
        ("move_within", {
            "resident_numbers": [n["wife"], n["son"]], "address": "東和県桜ヶ丘市東町7-7",
            "new_head": n["wife"],
        }),
        ("head_change", {"household_number": home, "new_head": n["son"], "relationships": {n["wife"]: "母"}}),
        ("move_within", {
            "resident_numbers": [n["wife"], n["son"]], "address": "東和県桜ヶ丘市西町1-1",
            "new_head": n["son"],
        }),
    ]  # fmt: skip
    seen = outcome(city, batch, bulk(), clerks)
    assert_same(seen, outcome(city, batch, one_by_one, clerks))
    assert seen["confirmed"] == [0, 1, 2, 3] and not seen["refused"]
    revisions = [(number, seq) for number, seq, *_ in seen["revisions"] if number == n["son"]]
    assert revisions == [(n["son"], 2), (n["son"], 3), (n["son"], 4)]
    assert seen["residents"][n["son"]]["address"] == "東和県桜ヶ丘市西町1-1"
    assert seen["households"][home] == [(n["son"], True), (n["wife"], False)]
    moved = [e for e in seen["events"] if e[0] == "moved_within" and e[1] == n["son"]]
    # Each event carries the resident as that move left them, not as the batch ended.
    assert [e[3]["address"] for e in moved] == ["東和県桜ヶ丘市東町7-7", "東和県桜ヶ丘市西町1-1"]
    assert [e[3]["is_head"] for e in moved] == [False, True]
    assert {e[3]["household_number"] for e in moved} == {home}


def test_a_refused_move_in_the_middle_changes_nothing_and_the_rest_apply(city, clerks):
    n = city["n"]
    batch = [
        ("move_within", {"resident_numbers": [n["single"]], "address": "東和県桜ヶ丘市本町2-2"}),
        (
            "move_within",
            {"resident_numbers": [n["single"]], "address": "東和県桜ヶ丘市本町2-2"},
        ),  # same_address
        ("death", {"resident_number": n["sato"]}),
    ]
    seen = outcome(city, batch, bulk(), clerks)
    assert_same(seen, outcome(city, batch, one_by_one, clerks))
    assert seen["confirmed"] == [0, 2]
    assert seen["refused"] == {
        1: [
            {
                "code": "same_address",
                "field": "address",
                "message_ja": "新住所が現住所と同じです。",
                "message_en": "The new address is the current address.",
            }
        ]
    }
    assert seen["moves"][1][1] == "pending"  # still in the queue, for a rejection or a correction
    assert [r[0] for r in seen["revisions"]] == [n["single"], n["sato"]]
    assert [(e[0], e[4]) for e in seen["events"]] == [("moved_within", 0), ("died", 2)]


def test_the_author_cannot_confirm_their_own_moves_in_a_batch(city, clerks):
    n = city["n"]
    batch = [
        ("death", {"resident_number": n["son"]}),
        ("move_within", {"resident_numbers": [n["single"]], "address": "東和県桜ヶ丘市本町2-2"}),
    ]
    seen = outcome(city, batch, bulk(), clerks, own={1})
    assert_same(seen, outcome(city, batch, one_by_one, clerks, own={1}))
    assert seen["confirmed"] == [0]
    assert [p["code"] for p in seen["refused"][1]] == ["four_eyes"]
    assert seen["refused"][1][0]["message_ja"].startswith("自分で入力した異動は確認できません")
    assert seen["moves"][1][1] == "pending"
    assert seen["residents"][n["single"]]["address"] == "東和県桜ヶ丘市本町1-1"
    denied = [a for a in seen["audit"] if a[0] == "denied"]
    assert denied and denied[0][6] == {"move": 1, "reason": "four_eyes"}


def test_a_move_listed_twice_is_confirmed_once(city, clerks):
    move = submit_move("death", DAY | {"resident_number": city["n"]["son"]}, author=clerks[0])
    result = confirm_moves([move.pk, move.pk], reviewer=clerks[1])
    assert result.confirmed == [move.pk]
    assert [p["code"] for p in result.refused[move.pk]] == ["not_pending"]
    assert RegisterEvent.objects.filter(move=move).count() == 1


def test_a_batch_reads_and_writes_per_chunk_not_per_move(clerks):
    """The bulk path is the one taken: 35 moves cost the statements 10 do (reads, writes, consumers)."""
    singles = []
    for i in range(50):
        household = make_household(address=f"東和県桜ヶ丘市緑町{i}番")
        singles.append(make_resident(household, given=(f"太郎{i}", "タロウ"))[0].resident_number)

    def statements(numbers) -> int:
        ids = [
            submit_move(
                "move_within",
                DAY | {"resident_numbers": [n], "address": "東和県桜ヶ丘市本町9-9"},
                author=clerks[0],
            ).pk
            for n in numbers
        ]
        with CaptureQueriesContext(connection) as queries:
            result = confirm_moves(ids, reviewer=clerks[1])
        assert result.confirmed == ids
        return len(queries)

    statements(singles[:5])  # the first batch also creates the consumers' offsets
    assert statements(singles[5:15]) == statements(singles[15:])
    assert Resident.objects.filter(address="東和県桜ヶ丘市本町9-9").count() == 50
    assert RegisterEvent.objects.filter(kind="moved_within").count() == 50


# The audit trail -------------------------------------------------------------------------------------


def test_the_audit_chain_verifies_after_a_bulk_batch(city, clerks):
    ids = submit_all(mixed_batch(city), clerks[0])
    before = AuditChainHead.objects.get(pk=1).last_id
    confirm_moves(ids, reviewer=clerks[1])
    assert verify_chain().ok
    confirmations = AuditEvent.objects.filter(id__gt=before, object_type="resident", action="change")
    assert confirmations.count() == Move.objects.filter(pk__in=ids, status="confirmed").count()
    for event in confirmations:
        move = Move.objects.get(pk=event.detail["move"])
        touched = Resident.objects.filter(revisions__move=move).distinct().values_list("pk", flat=True)
        assert event.subjects == sorted(touched)  # every resident the move changed, and no one else


def test_record_many_continues_the_chain_as_record_would(db):
    record("view", purpose="前", object_type="resident", subjects=[3, 1])
    written = record_many(
        [event_values("change", purpose=f"一括 {i}", object_type="resident", subjects=[i]) for i in range(3)]
    )
    record("view", purpose="後", object_type="resident")
    assert written == 3
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.purpose for e in events[-5:]] == ["前", "一括 0", "一括 1", "一括 2", "後"]
    assert [e.id for e in events] == list(range(1, len(events) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(events))
    assert verify_chain().ok
    assert record_many([]) == 0


def test_events_written_by_record_many_stay_append_only(db):
    record_many([event_values("change", purpose="一括", subjects=[1])])
    event = AuditEvent.objects.get(purpose="一括")
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(purpose="改ざん")
    with pytest.raises(PermissionError):
        event.delete()
    event.purpose = "改ざん"
    with pytest.raises(PermissionError):
        event.save()
