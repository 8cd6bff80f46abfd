"""Every kind of move, its rules, four-eyes confirmation, history and the events it publishes."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from sesshu.addressee.models import BusinessNumber, Person
from sesshu.audit.models import AuditEvent
from sesshu.audit.services import verify_chain
from sesshu.core.problems import Problem, ProblemList
from sesshu.immunization.models import MoveInHistoryCheck
from sesshu.residents.history import household_as_of, resident_as_of
from sesshu.residents.models import Household, Move, RegisterEvent, Resident
from sesshu.residents.moves import confirm_move, reject_move, submit_move

from .factories import make_household, make_resident, make_staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
D = TODAY - timedelta(days=3)


@pytest.fixture
def clerks(db):
    return make_staff("register"), make_staff("register")


@pytest.fixture
def run(clerks, django_capture_on_commit_callbacks):
    """Enter a move as one clerk and confirm it as the other; consumers run as after a real commit."""

    def do(kind, **data):
        data.setdefault("effective_on", D.isoformat())
        data.setdefault("notified_on", D.isoformat())
        move = submit_move(kind, data, author=clerks[0])
        with django_capture_on_commit_callbacks(execute=True):
            return confirm_move(move.pk, reviewer=clerks[1])

    return do


def codes(excinfo) -> list[str]:
    exc = excinfo.value
    return [p.code for p in exc.problems] if isinstance(exc, ProblemList) else [exc.code]


def refused(kind, author, **data):
    data.setdefault("effective_on", D.isoformat())
    data.setdefault("notified_on", D.isoformat())
    with pytest.raises((ProblemList, Problem)) as excinfo:
        submit_move(kind, data, author=author)
    return codes(excinfo)


@pytest.fixture
def home(db):
    """A household of three living at 緑町3丁目2番5号 since 2015."""
    household = make_household()
    head, _ = make_resident(household, given=("一郎", "イチロウ"), birth_date=date(1980, 1, 5))
    wife, _ = make_resident(
        household,
        given=("花子", "ハナコ"),
        sex="F",
        relationship="妻",
        is_head=False,
        birth_date=date(1982, 3, 3),
    )
    son, _ = make_resident(
        household, given=("翔太", "ショウタ"), relationship="子", is_head=False, birth_date=date(2015, 6, 1)
    )
    for r in (head, wife, son):  # their history starts in 2015, not at birth (the factory's default)
        r.revisions.update(valid_from=date(2015, 6, 1))
    return {"household": household, "head": head, "wife": wife, "son": son}


def person(**extra):
    return {
        "family_name": "山田",
        "given_name": "太郎",
        "family_name_kana": "やまだ",
        "given_name_kana": "タロウ",
        "birth_date": "1990-05-05",
        "sex": "M",
        "relationship": "世帯主",
        "is_head": "1",
    } | extra


def move_in_data(**extra):
    return {
        "address": "東和県桜ヶ丘市若葉台2丁目1番1号",
        "postal_code": "359-0003",
        "previous_address": "北陽県北陽市本町1-1",
        "certificate_issuer": "北陽市",
        "members": [
            person(),
            person(
                given_name="桜",
                given_name_kana="サクラ",
                sex="F",
                relationship="妻",
                is_head="",
                birth_date="1991-07-07",
            ),
        ],
    } | extra


# Four-eyes ------------------------------------------------------------------------------------------


def test_a_move_waits_until_a_second_person_confirms_it(clerks):
    move = submit_move(
        "move_in", move_in_data(effective_on=D.isoformat(), notified_on=D.isoformat()), author=clerks[0]
    )
    assert move.status == "pending"
    assert not Resident.objects.filter(family_name="山田").exists()
    with pytest.raises(Problem) as excinfo:
        confirm_move(move.pk, reviewer=clerks[0])
    assert excinfo.value.code == "four_eyes"
    assert "自分で入力した異動は確認できません" in excinfo.value.ja
    assert AuditEvent.objects.filter(action="denied", detail__reason="four_eyes").exists()
    confirm_move(move.pk, reviewer=clerks[1])
    assert Resident.objects.filter(family_name="山田").count() == 2


def test_a_rejection_needs_a_reason_and_changes_nothing(clerks, home):
    move = submit_move(
        "death",
        {
            "resident_number": home["son"].resident_number,
            "effective_on": D.isoformat(),
            "notified_on": D.isoformat(),
        },
        author=clerks[0],
    )
    with pytest.raises(ProblemList):
        reject_move(move.pk, reviewer=clerks[1], reason=" ")
    reject_move(move.pk, reviewer=clerks[1], reason="届出人の確認が取れていない")
    move.refresh_from_db()
    assert (move.status, move.rejection_reason) == ("rejected", "届出人の確認が取れていない")
    assert Resident.objects.get(pk=home["son"].pk).status == "resident"
    with pytest.raises(Problem) as excinfo:
        confirm_move(move.pk, reviewer=clerks[1])
    assert excinfo.value.code == "not_pending"


def test_a_move_is_checked_again_when_confirmed(clerks, home, run):
    first = submit_move(
        "death",
        {
            "resident_number": home["son"].resident_number,
            "effective_on": D.isoformat(),
            "notified_on": D.isoformat(),
        },
        author=clerks[0],
    )
    run("death", resident_number=home["son"].resident_number)  # the same death, entered twice
    with pytest.raises(ProblemList) as excinfo:
        confirm_move(first.pk, reviewer=clerks[1])
    assert codes(excinfo) == ["not_resident"]


# Move-in ----------------------------------------------------------------------------------------------


def test_move_in_creates_a_household_with_history_events_and_an_addressee(run):
    move = run("move_in", **move_in_data())
    taro = Resident.objects.get(given_name="太郎", family_name="山田")
    assert taro.family_name_kana == "ヤマダ"  # hiragana input stored as katakana
    assert (taro.is_head, taro.relationship, taro.became_resident_reason, taro.previous_address) == (
        True,
        "世帯主",
        "転入",
        "北陽県北陽市本町1-1",
    )
    assert taro.household.members.count() == 2
    assert [r.valid_from for r in taro.revisions.all()] == [D]
    events = RegisterEvent.objects.filter(move=move)
    assert sorted(e.kind for e in events) == ["moved_in", "moved_in"]
    # The consumers ran: the addressee knows them, and the health centre has a history check to do.
    person = Person.objects.get(business_numbers__number=taro.resident_number)
    assert (person.full_name, person.status, person.address) == ("山田 太郎", "resident", taro.address)
    assert MoveInHistoryCheck.objects.filter(person=person, moved_in_on=D).exists()


def test_move_in_of_someone_already_resident_is_refused(clerks, home):
    data = move_in_data(
        members=[
            person(
                family_name="田中",
                given_name="一郎",
                family_name_kana="タナカ",
                given_name_kana="イチロウ",
                birth_date="1980-01-05",
            )
        ]
    )
    assert refused("move_in", clerks[0], **data) == ["already_resident"]


def test_move_in_needs_exactly_one_head_for_a_new_household(clerks):
    assert refused("move_in", clerks[0], **move_in_data(members=[person(is_head="")])) == ["no_head"]


def test_move_in_rules_on_dates(clerks):
    tomorrow = (TODAY + timedelta(days=1)).isoformat()
    assert "future_date" in refused(
        "move_in", clerks[0], **move_in_data(effective_on=tomorrow, notified_on=tomorrow)
    )
    late = (TODAY - timedelta(days=30)).isoformat()
    assert refused(
        "move_in", clerks[0], **move_in_data(effective_on=late, notified_on=TODAY.isoformat())
    ) == ["late_notification"]
    move = submit_move(
        "move_in",
        move_in_data(effective_on=late, notified_on=TODAY.isoformat(), late_reason="入院のため"),
        author=clerks[0],
    )
    assert move.status == "pending"
    assert refused("move_in", clerks[0], **move_in_data(notified_on=(D - timedelta(days=1)).isoformat())) == [
        "notified_before_move"
    ]


def test_move_in_reports_every_bad_field_in_japanese(clerks):
    data = move_in_data(
        members=[person(family_name="", given_name_kana="Taro", birth_date="令和7年2月30日", sex="X")]
    )
    problems = refused("move_in", clerks[0], **data)
    assert set(problems) >= {"required", "not_kana", "impossible_date", "invalid_choice"}


def test_a_foreign_resident_needs_a_status_of_residence(clerks, run):
    foreigner = person(
        family_name="NGUYEN",
        given_name="AN",
        family_name_kana="グエン",
        given_name_kana="アン",
        nationality="ベトナム",
    )
    assert "required" in refused("move_in", clerks[0], **move_in_data(members=[foreigner]))
    expired = foreigner | {
        "residence_status": "留学",
        "residence_expiry": (D - timedelta(days=1)).isoformat(),
    }
    assert refused("move_in", clerks[0], **move_in_data(members=[expired])) == ["residence_expired"]
    ok = foreigner | {
        "residence_status": "留学",
        "residence_expiry": (TODAY + timedelta(days=400)).isoformat(),
    }
    run("move_in", **move_in_data(members=[ok]))
    assert Resident.objects.get(family_name="NGUYEN").became_foreign_resident_on == D


# Birth, death ----------------------------------------------------------------------------------------


def test_birth_adds_a_child_to_the_household(home, run):
    data = person(
        family_name="田中",
        given_name="陽菜",
        family_name_kana="タナカ",
        given_name_kana="ヒナ",
        sex="F",
        relationship="子",
        is_head="",
        birth_date=D.isoformat(),
    )
    move = run("birth", household_number=home["household"].household_number, **data)
    child = Resident.objects.get(given_name="陽菜")
    assert (child.household_id, child.address, child.became_resident_reason) == (
        home["household"].pk,
        home["head"].address,
        "出生",
    )
    assert RegisterEvent.objects.get(move=move).kind == "born"


def test_birth_date_must_be_the_date_of_the_move_and_not_in_the_future(clerks, home):
    data = person(relationship="子", is_head="", birth_date=(D - timedelta(days=1)).isoformat())
    assert "birth_date_mismatch" in refused(
        "birth", clerks[0], household_number=home["household"].household_number, **data
    )
    future = (TODAY + timedelta(days=2)).isoformat()
    assert "future_date" in refused(
        "birth",
        clerks[0],
        household_number=home["household"].household_number,
        effective_on=future,
        notified_on=future,
        **(data | {"birth_date": future}),
    )


def test_a_death_before_birth_is_refused(clerks, home):
    assert refused(
        "death",
        clerks[0],
        resident_number=home["son"].resident_number,
        effective_on="2014-01-01",
        notified_on="2014-01-01",
    ) == ["death_before_birth"]


def test_the_death_of_a_head_needs_a_new_head(clerks, home, run):
    assert refused("death", clerks[0], resident_number=home["head"].resident_number) == ["no_head"]
    move = run(
        "death",
        resident_number=home["head"].resident_number,
        new_head=home["wife"].resident_number,
        relationships={home["son"].resident_number: "子"},
    )
    wife = Resident.objects.get(pk=home["wife"].pk)
    assert (wife.is_head, wife.relationship) == (True, "世帯主")
    assert Resident.objects.get(pk=home["head"].pk).status == "deceased"
    assert sorted(RegisterEvent.objects.filter(move=move).values_list("kind", flat=True)) == [
        "died",
        "household_changed",
    ]
    assert Person.objects.get(business_numbers__number=home["head"].resident_number).status == "deceased"


def test_the_last_member_can_die_without_a_successor(home, run):
    for member in ("son", "wife"):
        run("death", resident_number=home[member].resident_number)
    run("death", resident_number=home["head"].resident_number)
    assert not Resident.objects.filter(household=home["household"], status="resident").exists()


# Within the city, out of the city --------------------------------------------------------------------


def test_move_within_changes_only_the_address(home, run, clerks):
    numbers = [home[m].resident_number for m in ("head", "wife", "son")]
    assert refused(
        "move_within",
        clerks[0],
        resident_numbers=numbers,
        address="東和県桜ヶ丘市本町1-1",
        family_name="佐藤",
    ) == ["move_within_changes_other_items"]
    assert refused("move_within", clerks[0], resident_numbers=numbers, address=home["head"].address) == [
        "same_address"
    ]
    run(
        "move_within",
        resident_numbers=numbers,
        address="東和県桜ヶ丘市本町1丁目1番1号",
        postal_code="359-0009",
    )
    head = Resident.objects.get(pk=home["head"].pk)
    assert (head.address, head.address_reason, head.address_since, head.household_id) == (
        "東和県桜ヶ丘市本町1丁目1番1号",
        "転居",
        D,
        home["household"].pk,
    )
    assert head.family_name == "田中" and head.revisions.count() == 2
    assert (
        Person.objects.get(business_numbers__number=head.resident_number).address
        == "東和県桜ヶ丘市本町1丁目1番1号"
    )


def test_part_of_a_household_moving_within_the_city_forms_a_new_household(home, run, clerks):
    son = home["son"].resident_number
    assert refused(
        "move_within",
        clerks[0],
        resident_numbers=[home["head"].resident_number],
        address="東和県桜ヶ丘市本町9-9",
    ) == ["no_head"]
    run("move_within", resident_numbers=[son], address="東和県桜ヶ丘市本町9-9", new_head=son)
    moved = Resident.objects.get(resident_number=son)
    assert moved.household_id != home["household"].pk
    assert (moved.is_head, moved.relationship) == (True, "世帯主")


def test_move_out_is_notified_then_confirmed(home, run, clerks):
    son = home["son"].resident_number
    far = (D + timedelta(days=30)).isoformat()
    assert refused(
        "move_out_planned",
        clerks[0],
        resident_numbers=[son],
        destination_address="西海県西海市1-1",
        planned_on=far,
    ) == ["planned_too_far"]
    assert refused("move_out_confirmed", clerks[0], resident_numbers=[son], new_municipality="西海市") == [
        "no_move_out_notified"
    ]
    planned = (D + timedelta(days=7)).isoformat()
    run("move_out_planned", resident_numbers=[son], destination_address="西海県西海市1-1", planned_on=planned)
    assert Resident.objects.get(resident_number=son).move_out_planned_on.isoformat() == planned
    run(
        "move_out_confirmed",
        resident_numbers=[son],
        new_municipality="西海市",
        effective_on=TODAY.isoformat(),
        notified_on=TODAY.isoformat(),
    )
    gone = Resident.objects.get(resident_number=son)
    assert (gone.status, gone.left_on, gone.left_reason) == ("moved_out", TODAY, "転出")
    person = Person.objects.get(business_numbers__number=son)
    assert (person.status, person.address) == ("moved_out", "西海県西海市1-1")


# Households -------------------------------------------------------------------------------------------


def test_head_change(home, run, clerks):
    household = home["household"].household_number
    assert refused(
        "head_change", clerks[0], household_number=household, new_head=home["head"].resident_number
    ) == ["same_head"]
    run(
        "head_change",
        household_number=household,
        new_head=home["wife"].resident_number,
        relationships={home["head"].resident_number: "夫"},
    )
    head = Resident.objects.get(pk=home["head"].pk)
    assert (head.is_head, head.relationship) == (False, "夫")
    assert Resident.objects.get(pk=home["wife"].pk).is_head


def test_household_split_and_merge(home, run, clerks):
    son = home["son"].resident_number
    assert refused("household_split", clerks[0], resident_numbers=[son]) == ["no_head"]
    everyone = [home[m].resident_number for m in ("head", "wife", "son")]
    assert refused("household_split", clerks[0], resident_numbers=everyone, new_head=son) == [
        "split_everyone"
    ]
    run("household_split", resident_numbers=[son], new_head=son)
    split = Resident.objects.get(resident_number=son)
    assert split.household_id != home["household"].pk and split.is_head
    assert split.address == home["head"].address  # same home, own household
    run(
        "household_merge",
        household_number=split.household.household_number,
        into_household_number=home["household"].household_number,
        relationships={son: "子"},
    )
    merged = Resident.objects.get(resident_number=son)
    assert (merged.household_id, merged.is_head, merged.relationship) == (home["household"].pk, False, "子")


def test_households_at_different_addresses_cannot_merge(home, clerks):
    other = make_household(address="東和県桜ヶ丘市本町5-5")
    make_resident(other, family=("佐藤", "サトウ"), given=("健", "ケン"), birth_date=date(1970, 1, 1))
    assert refused(
        "household_merge",
        clerks[0],
        household_number=other.household_number,
        into_household_number=home["household"].household_number,
    ) == ["different_address"]


# Names, corrections, deletions, foreign residents ----------------------------------------------------


def test_name_change_keeps_the_former_surname_on_request(home, run):
    move = run(
        "name_change",
        resident_number=home["wife"].resident_number,
        family_name="鈴木",
        given_name="花子",
        family_name_kana="スズキ",
        given_name_kana="ハナコ",
        keep_former_surname="1",
    )
    wife = Resident.objects.get(pk=home["wife"].pk)
    assert (wife.family_name, wife.former_surname) == ("鈴木", "田中")
    assert RegisterEvent.objects.get(move=move).kind == "renamed"
    assert Person.objects.get(business_numbers__number=wife.resident_number).family_name_kana == "スズキ"


def test_ex_officio_correction_needs_a_reason_and_touches_only_correctable_items(home, run, clerks):
    son = home["son"].resident_number
    assert "required" in refused(
        "ex_officio_correction", clerks[0], resident_number=son, changes={"given_name": "翔大"}
    )
    assert "not_correctable" in refused(
        "ex_officio_correction", clerks[0], resident_number=son, reason="誤記", changes={"status": "deceased"}
    )
    assert refused(
        "ex_officio_correction", clerks[0], resident_number=son, reason="誤記", changes={"given_name": "翔太"}
    ) == ["nothing_changes"]
    run(
        "ex_officio_correction",
        resident_number=son,
        reason="入力誤り",
        changes={"given_name": "翔大", "birth_date": "2015-06-02"},
    )
    fixed = Resident.objects.get(resident_number=son)
    assert (fixed.given_name, fixed.birth_date) == ("翔大", date(2015, 6, 2))
    assert "職権修正" in fixed.remarks and "入力誤り" in fixed.remarks


def test_ex_officio_entry_and_deletion(run, clerks):
    assert "required" in refused("ex_officio_entry", clerks[0], **move_in_data())
    run("ex_officio_entry", reason="戸籍の記載による", **move_in_data(members=[person()]))
    taro = Resident.objects.get(family_name="山田")
    assert taro.became_resident_reason == "職権記載"
    run(
        "ex_officio_deletion",
        resident_number=taro.resident_number,
        reason="実態調査により居住の事実なし",
        effective_on=TODAY.isoformat(),
        notified_on=TODAY.isoformat(),
    )
    taro.refresh_from_db()
    assert (taro.status, taro.left_reason) == ("deleted", "職権消除")
    assert RegisterEvent.objects.filter(resident_number=taro.resident_number, kind="deleted").exists()


@pytest.fixture
def foreigner(db):
    household = make_household(address="東和県桜ヶ丘市本町2-2")
    resident, _ = make_resident(
        household,
        family=("SILVA", "シルバ"),
        given=("ANA", "アナ"),
        birth_date=date(1995, 1, 1),
        nationality="ブラジル",
        residence_status="定住者",
        residence_expiry=TODAY + timedelta(days=30),
    )
    resident.revisions.update(valid_from=date(2020, 1, 1))
    return resident


def test_residence_renewal_and_expiry(foreigner, run, clerks, home):
    number = foreigner.resident_number
    assert refused(
        "residence_renewal",
        clerks[0],
        resident_number=home["son"].resident_number,
        residence_status="定住者",
        residence_expiry="2030-01-01",
    ) == ["not_foreign"]
    assert refused("residence_expiry", clerks[0], resident_number=number) == ["not_expired"]
    assert refused(
        "residence_renewal",
        clerks[0],
        resident_number=number,
        residence_status="定住者",
        residence_expiry=TODAY.isoformat(),
    ) == ["expiry_not_later"]
    run(
        "residence_renewal",
        resident_number=number,
        residence_status="永住者",
        residence_expiry=(TODAY + timedelta(days=3650)).isoformat(),
    )
    assert Resident.objects.get(resident_number=number).residence_status == "永住者"


def test_an_expired_stay_ends_residence(foreigner, run):
    foreigner.residence_expiry = D - timedelta(days=10)
    foreigner.save()
    run("residence_expiry", resident_number=foreigner.resident_number)
    foreigner.refresh_from_db()
    assert (foreigner.status, foreigner.left_reason) == ("deleted", "在留期間満了")


# History ---------------------------------------------------------------------------------------------


def test_any_person_and_household_can_be_read_as_of_an_earlier_date(home, run):
    run(
        "move_within",
        resident_numbers=[home[m].resident_number for m in ("head", "wife", "son")],
        address="東和県桜ヶ丘市本町1-1",
        effective_on=D.isoformat(),
    )
    later = D + timedelta(days=1)
    run(
        "death",
        resident_number=home["son"].resident_number,
        effective_on=later.isoformat(),
        notified_on=later.isoformat(),
    )
    son = Resident.objects.get(pk=home["son"].pk)
    assert resident_as_of(son, D - timedelta(days=1)).address == "東和県桜ヶ丘市緑町3丁目2番5号"
    assert resident_as_of(son, D).address == "東和県桜ヶ丘市本町1-1"
    assert resident_as_of(son, later).status == "deceased"
    assert resident_as_of(son, date(2010, 1, 1)) is None
    household = Household.objects.get(pk=home["household"].pk)
    assert [r.given_name for r in household_as_of(household, D)] == ["一郎", "花子", "翔太"]
    assert [r.given_name for r in household_as_of(household, later)] == ["一郎", "花子"]
    # nothing was overwritten: every state is still there
    assert son.revisions.count() == 3


def test_a_move_dated_before_the_last_change_is_refused(home, run, clerks):
    run(
        "move_within",
        resident_numbers=[home[m].resident_number for m in ("head", "wife", "son")],
        address="東和県桜ヶ丘市本町1-1",
    )
    earlier = (D - timedelta(days=1)).isoformat()
    assert refused(
        "death",
        clerks[0],
        resident_number=home["son"].resident_number,
        effective_on=earlier,
        notified_on=earlier,
    ) == ["before_last_move"]


def test_every_step_is_audited_and_the_chain_holds(home, run):
    run("death", resident_number=home["son"].resident_number)
    actions = list(AuditEvent.objects.values_list("action", "object_type"))
    assert ("create", "move") in actions  # entered
    assert ("change", "resident") in actions  # confirmed
    assert ("change", "person") in actions  # the addressee consumer
    assert verify_chain().ok


def test_events_are_consumed_once(home, run):
    from sesshu.residents.outbox import lag, process_events

    run("death", resident_number=home["son"].resident_number)
    assert lag() == {"addressee": 0, "mynumber": 0, "immunization": 0}
    assert process_events() == {"addressee": 0, "mynumber": 0, "immunization": 0}
    assert BusinessNumber.objects.filter(number=home["son"].resident_number).count() == 1


def test_pending_moves_are_a_queue(clerks, home):
    submit_move(
        "death",
        {
            "resident_number": home["son"].resident_number,
            "effective_on": D.isoformat(),
            "notified_on": D.isoformat(),
        },
        author=clerks[0],
    )
    assert list(Move.objects.filter(status="pending").values_list("kind", flat=True)) == ["death"]


def test_a_batch_confirms_each_move_on_its_own(clerks, home, django_capture_on_commit_callbacks):
    from sesshu.residents.moves import confirm_moves

    day = {"effective_on": D.isoformat(), "notified_on": D.isoformat()}
    good = submit_move("death", {"resident_number": home["son"].resident_number, **day}, author=clerks[0])
    bad = submit_move("death", {"resident_number": home["wife"].resident_number, **day}, author=clerks[0])
    own = submit_move(
        "death",
        {"resident_number": home["head"].resident_number, "new_head": home["wife"].resident_number, **day},
        author=clerks[1],
    )
    Resident.objects.filter(pk=home["wife"].pk).update(status="moved_out")  # the second can no longer apply
    result = confirm_moves([good.pk, bad.pk, own.pk], reviewer=clerks[1])
    assert result.confirmed == [good.pk]
    assert [p["code"] for p in result.refused[bad.pk]] == ["not_resident"]
    assert [p["code"] for p in result.refused[own.pk]] == ["four_eyes"]
    assert Resident.objects.get(pk=home["son"].pk).status == "deceased"
    assert Move.objects.get(pk=bad.pk).status == "pending"
    assert Person.objects.get(business_numbers__number=home["son"].resident_number).status == "deceased"
