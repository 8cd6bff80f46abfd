"""The daily register feed: export and import round-trip, encodings, all-or-nothing, reruns, refusals."""

import csv
import io
import itertools
from datetime import date, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sesshu.addressee.models import Person
from sesshu.audit.models import AuditEvent
from sesshu.audit.services import verify_chain
from sesshu.immunization.models import MoveInHistoryCheck
from sesshu.residents import feed
from sesshu.residents.feed import COLUMNS, PURPOSE_EXPORT, PURPOSE_IMPORT, export_feed, import_feed
from sesshu.residents.history import state_of
from sesshu.residents.models import (
    Household,
    Move,
    RegisterEvent,
    Resident,
    ResidentRevision,
)
from sesshu.residents.moves import confirm_move, event_payload, submit_move

from .factories import make_staff

pytestmark = pytest.mark.django_db
TODAY = timezone.localdate()
ARRIVED = TODAY - timedelta(days=20)
LATER = TODAY - timedelta(days=5)
_numbers = itertools.count(1)


# Building a register through moves, and feed files by hand ---------------------------------------------


@pytest.fixture
def register(db):
    """A household that moved in, had a child, moved within the city, lost a member and renamed one.

    Made through the four-eyes moves, so every change has its event in the outbox. The consumers do not
    run (nothing commits inside a test), so the addressee side stays empty.
    """
    author, reviewer = make_staff("register"), make_staff("register")

    def confirm(kind, on, **data):
        move = submit_move(
            kind, data | {"effective_on": on.isoformat(), "notified_on": on.isoformat()}, author=author
        )
        return confirm_move(move.pk, reviewer=reviewer)

    member = {"sex": "M", "relationship": "世帯主", "is_head": "1"}
    confirm(
        "move_in",
        ARRIVED,
        address="東和県桜ヶ丘市若葉台2丁目1番1号",
        postal_code="359-0003",
        previous_address="北陽県北陽市本町1-1",
        certificate_issuer="北陽市",
        members=[
            member
            | {
                "family_name": "𠮷田",
                "given_name": "太郎",
                "family_name_kana": "よしだ",
                "given_name_kana": "タロウ",
                "birth_date": "1990-05-05",
                "latin_name": "",
            },
            member
            | {
                "family_name": "𠮷田",
                "given_name": "桜",
                "family_name_kana": "ヨシダ",
                "given_name_kana": "サクラ",
                "birth_date": "1991-07-07",
                "sex": "F",
                "relationship": "妻",
                "is_head": "",
            },
            member
            | {
                "family_name": "NGUYEN",
                "given_name": "AN",
                "family_name_kana": "グエン",
                "given_name_kana": "アン",
                "birth_date": "1960-01-02",
                "relationship": "同居人",
                "is_head": "",
                "nationality": "ベトナム",
                "residence_status": "永住者",
            },
        ],
    )
    household = Resident.objects.get(given_name="太郎").household.household_number
    confirm(
        "birth",
        LATER,
        household_number=household,
        family_name="𠮷田",
        given_name="翔",
        family_name_kana="ヨシダ",
        given_name_kana="ショウ",
        birth_date=LATER.isoformat(),
        sex="M",
        relationship="子",
    )
    numbers = {r.given_name: r.resident_number for r in Resident.objects.all()}
    confirm(
        "move_within", LATER, resident_numbers=list(numbers.values()), address="東和県桜ヶ丘市緑町1丁目1番1号"
    )
    confirm("death", TODAY - timedelta(days=1), resident_number=numbers["AN"])
    confirm(
        "name_change",
        TODAY - timedelta(days=1),
        resident_number=numbers["桜"],
        family_name="鈴木",
        given_name="桜",
        family_name_kana="スズキ",
        given_name_kana="サクラ",
        keep_former_surname="1",
    )
    return numbers


def row(**values) -> dict:
    """A valid moved_in row for a new resident (each call a new event id and resident number)."""
    n = next(_numbers)
    base = {name: "" for name in COLUMNS} | {
        "event_id": f"{TODAY:%Y%m%d}-{n:06d}",
        "event_kind": "moved_in",
        "effective_on": LATER.isoformat(),
        "resident_number": f"{5 * 10**9 + n}",
        "household_number": f"{8 * 10**9 + n}",
        "relationship": "世帯主",
        "is_head": "1",
        "family_name": "山田",
        "given_name": "花子",
        "family_name_kana": "ヤマダ",
        "given_name_kana": "ハナコ",
        "birth_date": "1985-03-03",
        "sex": "F",
        "became_resident_on": LATER.isoformat(),
        "became_resident_reason": "転入",
        "address": "東和県桜ヶ丘市本町1丁目2番3号",
        "address_since": LATER.isoformat(),
        "address_reason": "転入",
        "previous_address": "北陽県北陽市本町1-1",
        "status": "resident",
    }
    for flag in ("national_health_insurance", "national_pension", "child_allowance", "long_term_care"):
        base[flag] = "0"
    base |= {"late_elderly_medical": "0", "support_measure": "0"}
    return base | values


def csv_bytes(rows: list[dict], *, encoding: str = "utf-8", columns=COLUMNS, newline="\r\n") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=newline)
    writer.writerow(columns)
    for r in rows:
        writer.writerow([r.get(c, "") for c in columns])
    return out.getvalue().encode(encoding)


def counts() -> tuple[int, int, int, int]:
    return (
        Resident.objects.count(),
        RegisterEvent.objects.count(),
        ResidentRevision.objects.count(),
        Household.objects.count(),
    )


def snapshot() -> dict[str, dict]:
    """Every resident's register items and identity, keyed by 宛名番号."""
    return {
        r.resident_number: state_of(r)
        | {"household_id": r.household.household_number, "juminhyo_code": r.juminhyo_code}
        for r in Resident.objects.select_related("household")
    }


def wipe_register() -> None:
    RegisterEvent.objects.all().delete()
    ResidentRevision.objects.all().delete()
    Resident.objects.all().delete()
    Household.objects.all().delete()
    Move.objects.all().delete()


# The layout --------------------------------------------------------------------------------------------


def test_the_layout_is_the_event_payload_after_three_event_columns(register):
    resident = Resident.objects.first()
    assert COLUMNS[:3] == ["event_id", "event_kind", "effective_on"]
    assert set(COLUMNS[3:]) == set(event_payload(resident))
    assert len(COLUMNS) == len(set(COLUMNS))


def test_export_then_import_into_an_empty_register_round_trips(register):
    before = snapshot()
    events_before = [
        (e.kind, e.resident_number, e.effective_on, e.payload) for e in RegisterEvent.objects.all()
    ]
    exported = export_feed(since_event_id=0)
    assert exported.events == len(events_before) == 10
    wipe_register()

    report = import_feed(exported, source="kikan-a", filename="feed.csv")

    assert report.ok, report.errors
    assert (report.rows, report.imported, report.skipped, report.encoding) == (10, 10, 0, "utf-8")
    assert snapshot() == before
    after = [(e.kind, e.resident_number, e.effective_on, e.payload) for e in RegisterEvent.objects.all()]
    assert after == events_before
    assert set(RegisterEvent.objects.values_list("source", flat=True)) == {"kikan-a"}
    sakura = Resident.objects.get(given_name="桜")
    assert [r.valid_from for r in sakura.revisions.order_by("seq")] == [
        ARRIVED,
        LATER,
        TODAY - timedelta(days=1),
    ]
    assert sakura.former_surname == "𠮷田"


def test_cp932_and_utf8_with_bom_both_import(db):
    shift_jis = row(family_name="髙橋", family_name_kana="たかはし", given_name_kana="ﾊﾅｺ")
    with_bom = row(family_name="渡邊")
    report_sjis = import_feed(csv_bytes([shift_jis], encoding="cp932"), source="kikan-a", filename="a.csv")
    report_bom = import_feed(
        b"\xef\xbb\xbf" + csv_bytes([with_bom], newline="\n"), source="kikan-a", filename="b.csv"
    )
    assert (report_sjis.ok, report_sjis.encoding, report_sjis.imported) == (True, "cp932", 1)
    assert (report_bom.ok, report_bom.encoding, report_bom.imported) == (True, "utf-8-sig", 1)
    takahashi = Resident.objects.get(resident_number=shift_jis["resident_number"])
    # Hiragana and half-width readings are stored as full-width katakana.
    assert (takahashi.family_name, takahashi.family_name_kana, takahashi.given_name_kana) == (
        "髙橋",
        "タカハシ",
        "ハナコ",
    )
    assert Resident.objects.get(resident_number=with_bom["resident_number"]).family_name == "渡邊"


# All or nothing ---------------------------------------------------------------------------------------


def test_one_bad_row_among_good_ones_imports_nothing_and_names_the_row_and_column(db):
    rows = [row(), row(birth_date="2025-02-30"), row(), row(sex="X", family_name_kana="Yamada")]
    report = import_feed(csv_bytes(rows), source="kikan-a", filename="feed.csv")
    assert not report.ok
    assert counts() == (0, 0, 0, 0)
    found = {(e.row, e.column, e.code) for e in report.errors}
    assert found == {
        (3, "birth_date", "impossible_date"),
        (5, "sex", "invalid_choice"),
        (5, "family_name_kana", "not_kana"),
    }
    birth = next(e for e in report.errors if e.column == "birth_date")
    assert "生年月日" in birth.message_ja and "存在しません" in birth.message_ja
    assert "birth_date" in birth.message_en
    assert report.imported == 0


def test_rules_between_cells_are_checked(db):
    rows = [
        row(birth_date=(LATER + timedelta(days=1)).isoformat()),
        row(event_kind="moved_out", status="moved_out"),
        row(event_kind="died", status="resident", left_on=LATER.isoformat()),
        row(effective_on=(TODAY + timedelta(days=1)).isoformat()),
        row(event_kind="born", birth_date="2020-01-01"),
        row(resident_number="12345678901234", household_number="１２３"),
        row(juminhyo_code="12345"),
    ]
    report = import_feed(csv_bytes(rows), source="kikan-a", filename="feed.csv")
    found = {(e.row, e.column, e.code) for e in report.errors}
    assert {
        (2, "birth_date", "born_after_effective"),
        (3, "left_on", "left_on_required"),
        (4, "status", "status_mismatch"),
        (5, "effective_on", "future_date"),
        (6, "effective_on", "birth_date_mismatch"),
        (7, "resident_number", "invalid_number"),
        (7, "household_number", "invalid_number"),
        (8, "juminhyo_code", "invalid_number"),
    } <= found
    assert counts() == (0, 0, 0, 0)


def test_errors_are_capped_but_counted(db, monkeypatch):
    monkeypatch.setattr(feed, "MAX_REPORTED_ERRORS", 5)
    report = import_feed(csv_bytes([row(sex="X") for _ in range(8)]), source="kikan-a", filename="f.csv")
    assert (len(report.errors), report.error_count) == (5, 8)


def test_importing_the_same_file_twice_adds_nothing_the_second_time(db):
    first, second = row(), row()
    again = row(resident_number=first["resident_number"], household_number=first["household_number"])
    again |= {
        "event_kind": "moved_within",
        "effective_on": TODAY.isoformat(),
        "address": "東和県桜ヶ丘市本町2丁目1番1号",
    }
    data = csv_bytes([first, second, again])
    assert import_feed(data, source="kikan-a", filename="feed.csv").imported == 3
    before = counts()
    report = import_feed(data, source="kikan-a", filename="feed.csv")
    assert (report.ok, report.imported, report.skipped) == (True, 0, 3)
    assert counts() == before == (2, 3, 3, 2)
    # Overlapping files (yesterday's events sent again with today's) add only what is new.
    third = row()
    overlap = import_feed(csv_bytes([again, third]), source="kikan-a", filename="next.csv")
    assert (overlap.imported, overlap.skipped) == (1, 1)


def test_rows_out_of_date_order_are_refused(db):
    first = row(effective_on=LATER.isoformat())
    earlier = row(
        resident_number=first["resident_number"],
        household_number=first["household_number"],
        event_kind="corrected",
        effective_on=(LATER - timedelta(days=1)).isoformat(),
    )
    report = import_feed(csv_bytes([first, earlier]), source="kikan-a", filename="feed.csv")
    assert [(e.row, e.column, e.code) for e in report.errors] == [(3, "effective_on", "out_of_order")]
    assert counts() == (0, 0, 0, 0)
    # Against the register too: a later file cannot go back before what is recorded.
    assert import_feed(csv_bytes([first]), source="kikan-a", filename="1.csv").ok
    report = import_feed(csv_bytes([earlier]), source="kikan-a", filename="2.csv")
    assert [e.code for e in report.errors] == ["out_of_order"]


def test_a_juminhyo_code_cannot_move_to_another_resident(db):
    owner = row(juminhyo_code="12345678901")
    assert import_feed(csv_bytes([owner]), source="kikan-a", filename="1.csv").ok
    report = import_feed(csv_bytes([row(juminhyo_code="12345678901")]), source="kikan-a", filename="2.csv")
    assert [(e.column, e.code) for e in report.errors] == [("juminhyo_code", "juminhyo_code_taken")]


def test_a_write_the_database_refuses_leaves_nothing_behind(db, monkeypatch):
    data = csv_bytes([row(), row()])
    assert import_feed(data, source="kikan-a", filename="feed.csv").imported == 2
    before = counts()
    # As if a second import of the same file ran at the same time and had not seen the first one's events.
    monkeypatch.setattr(feed, "_already_imported", lambda rows, source: set())
    report = import_feed(data, source="kikan-a", filename="feed.csv")
    assert [e.code for e in report.errors] == ["database_refused"]
    assert (report.imported, counts()) == (0, before)
    assert AuditEvent.objects.filter(purpose=PURPOSE_IMPORT, outcome="failed").count() == 1


# File-level refusals ------------------------------------------------------------------------------------


def test_unknown_or_missing_columns_are_file_level_errors(db):
    extra = import_feed(
        csv_bytes([row()], columns=[*COLUMNS, "my_number"]), source="kikan-a", filename="f.csv"
    )
    assert [(e.row, e.column, e.code) for e in extra.errors] == [(None, None, "unknown_columns")]
    assert "my_number" in extra.errors[0].message_ja
    missing = import_feed(
        csv_bytes([row()], columns=[c for c in COLUMNS if c != "birth_date"]),
        source="kikan-a",
        filename="f.csv",
    )
    assert [e.code for e in missing.errors] == ["missing_columns"]
    assert "birth_date" in missing.errors[0].message_ja and "birth_date" in missing.errors[0].message_en
    assert counts() == (0, 0, 0, 0)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty_file"),
        (b"\xef\xbb\xbf\r\n", "empty_file"),
        (bytes(range(1, 256)) * 2 + b"\x00", "binary_file"),
        (",".join(COLUMNS).encode("utf-16"), "unsupported_encoding"),  # with its BOM
        (",".join(COLUMNS).encode("utf-16-le"), "binary_file"),  # without: NUL bytes
        (b"event_id,\x81\x20\xff\xfe", "unknown_encoding"),  # neither UTF-8 nor CP932
        (b"event_id\x07,event_kind\r\n", "binary_file"),
        (b'event_id,"unclosed\r\n', "malformed_csv"),
    ],
)
def test_files_that_are_not_text_in_utf8_or_cp932_are_refused(db, data, code):
    report = import_feed(data, source="kikan-a", filename="bad.bin")
    assert [e.code for e in report.errors] == [code]
    assert report.errors[0].message_ja and report.errors[0].message_en
    assert counts() == (0, 0, 0, 0)


def test_a_header_only_file_is_nothing_to_do(db):
    report = import_feed(csv_bytes([]), source="kikan-a", filename="empty-day.csv")
    assert (report.ok, report.rows, report.imported) == (True, 0, 0)


def test_a_file_over_the_size_limit_is_refused(db, monkeypatch):
    monkeypatch.setattr(feed, "MAX_FEED_BYTES", 1000)
    report = import_feed(csv_bytes([row(), row()]), source="kikan-a", filename="big.csv")
    assert [e.code for e in report.errors] == ["file_too_large"]


def test_private_use_characters_arrive_as_geta(db):
    report = import_feed(csv_bytes([row(given_name="花\ue000")]), source="kikan-a", filename="f.csv")
    assert (report.ok, report.replaced_characters) == (True, 1)
    assert Resident.objects.get().given_name == "花〓"


# Export ----------------------------------------------------------------------------------------------


def test_characters_outside_cp932_export_as_geta(register):
    exported = export_feed(since_event_id=0, encoding="cp932")
    text = exported.decode("cp932")
    assert "〓田" in text and "𠮷" not in text
    assert exported.replaced_characters == text.count("〓") > 0
    assert exported.encoding == "cp932"
    utf8 = export_feed(since_event_id=0).decode("utf-8")
    assert "𠮷田" in utf8 and utf8.startswith(",".join(COLUMNS) + "\r\n")


def test_export_since_an_event_or_a_day(register):
    ids = list(RegisterEvent.objects.values_list("id", flat=True))
    assert export_feed(since_event_id=ids[-3]).events == 2
    assert export_feed(since_date=TODAY).events == len(ids)  # recorded today, whatever their 異動日
    assert export_feed(since_date=TODAY + timedelta(days=1)).events == 0


# Consumers, audit ----------------------------------------------------------------------------------------


def test_consumers_run_after_the_import_commits(db, django_capture_on_commit_callbacks):
    arriving = row()
    with django_capture_on_commit_callbacks(execute=True):
        report = import_feed(csv_bytes([arriving]), source="kikan-a", filename="feed.csv")
    assert report.ok
    person = Person.objects.get(business_numbers__number=arriving["resident_number"])
    assert (person.family_name, person.given_name, person.status) == ("山田", "花子", "resident")
    assert MoveInHistoryCheck.objects.filter(person=person, moved_in_on=LATER).exists()


def test_imports_refusals_and_exports_are_audited_without_personal_data(db):
    good = row()
    report = import_feed(csv_bytes([good]), source="kikan-a", filename="feed.csv")
    refused = import_feed(csv_bytes([row(sex="X")]), source="kikan-a", filename="bad.csv")
    export_feed(since_event_id=0, encoding="cp932")
    imported, failed = AuditEvent.objects.filter(purpose=PURPOSE_IMPORT).order_by("id")
    resident = Resident.objects.get(resident_number=good["resident_number"])
    assert (imported.action, imported.outcome, imported.object_type) == ("create", "ok", "resident")
    assert imported.subjects == [resident.pk]
    assert imported.detail == {
        "file": "feed.csv",
        "sha256": report.sha256,
        "rows": 1,
        "imported": 1,
        "skipped": 0,
    }
    assert (failed.outcome, failed.detail["errors"], failed.detail["file"]) == ("failed", 1, "bad.csv")
    assert failed.subjects == [] and refused.error_count == 1
    exported = AuditEvent.objects.get(purpose=PURPOSE_EXPORT)
    assert (exported.action, exported.subjects) == ("export", [resident.pk])
    assert exported.detail["events"] == 1 and exported.detail["encoding"] == "cp932"
    for audit_event in (imported, failed, exported):
        assert "山田" not in str(audit_event.detail) and "花子" not in str(audit_event.criteria)
    assert verify_chain().ok


# The command ---------------------------------------------------------------------------------------------


def test_the_command_imports_exports_and_runs_the_consumers(db, tmp_path, capsys):
    path = tmp_path / "feed.csv"
    path.write_bytes(csv_bytes([row(), row()], encoding="cp932"))
    out = io.StringIO()
    call_command(
        "register", "import-feed", str(path), "--source", "kikan-a", "--operator", "batch", stdout=out
    )
    assert "取込 2 件" in out.getvalue() and "2 imported" in out.getvalue()
    assert AuditEvent.objects.get(purpose=PURPOSE_IMPORT).actor_username == "batch"

    target = tmp_path / "out.csv"
    call_command(
        "register",
        "export-feed",
        "--since-date",
        TODAY.isoformat(),
        "--encoding",
        "cp932",
        "--output",
        str(target),
    )
    assert target.read_bytes().decode("cp932").count("\r\n") == 3
    assert target.stat().st_mode & 0o777 == 0o600

    out = io.StringIO()
    call_command("register", "process-events", stdout=out)
    assert out.getvalue().splitlines() == ["addressee: 2", "mynumber: 2", "immunization: 2"]


def test_the_command_prints_the_errors_and_fails(db, tmp_path):
    path = tmp_path / "feed.csv"
    path.write_bytes(csv_bytes([row(), row(birth_date="1985-02-30")]))
    out = io.StringIO()
    with pytest.raises(CommandError) as excinfo:
        call_command("register", "import-feed", str(path), "--source", "kikan-a", stdout=out)
    assert "何も取り込んでいません" in str(excinfo.value) and "Nothing was imported" in str(excinfo.value)
    table = out.getvalue()
    assert "birth_date" in table and "impossible_date" in table and "存在しません" in table
    assert counts() == (0, 0, 0, 0)
    with pytest.raises(CommandError):
        call_command("register", "export-feed", "--since-date", "2025-13-01")


# Whatever arrives, the answer is a report -------------------------------------------------------------------

cells = st.one_of(
    st.text(alphabet=st.characters(categories=["L", "N", "P", "S", "Zs"]), max_size=30),  # plausible text
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30),  # anything, controls too
    st.sampled_from(
        ["", "0", "1", "M", "moved_out", "resident", "ｱｲｳ", "あいう", "𠮷", "〜", "\ue000", '"', "\r\n"]
    ),
)
date_like = st.one_of(
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
    st.tuples(st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99)).map(
        lambda t: f"{t[0]:04d}-{t[1]:02d}-{t[2]:02d}"
    ),
)
damage = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 2), st.sampled_from(COLUMNS), st.one_of(cells, date_like)),
    st.tuples(st.just("truncate"), st.integers(0, 2), st.integers(0, len(COLUMNS) - 1)),
    st.tuples(st.just("extend"), st.integers(0, 2), st.lists(cells, min_size=1, max_size=3)),
    st.tuples(st.just("header"), st.sampled_from(COLUMNS), cells),
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    changes=st.lists(damage, max_size=4),
    encoding=st.sampled_from(["utf-8", "cp932"]),
    junk=st.binary(max_size=64),
)
def test_random_and_malformed_rows_only_ever_produce_the_report(db, changes, encoding, junk):
    first = row()
    rows = [
        first,
        row(),
        row(
            resident_number=first["resident_number"],
            household_number=first["household_number"],
            event_kind="renamed",
            family_name="佐藤",
            family_name_kana="サトウ",
        ),
    ]
    header = list(COLUMNS)
    records = [[r[c] for c in COLUMNS] for r in rows]
    for change in changes:
        if change[0] == "set":
            _, i, column, value = change
            if COLUMNS.index(column) < len(records[i]):  # a truncated row may have lost that cell
                records[i][COLUMNS.index(column)] = value
        elif change[0] == "truncate":
            _, i, keep = change
            records[i] = records[i][:keep]
        elif change[0] == "extend":
            _, i, more = change
            records[i] += more
        else:
            _, column, name = change
            header[COLUMNS.index(column)] = name
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *records])
    text = out.getvalue()
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    if len(changes) == 3:  # now and then, bytes that are no CSV at all
        data = junk + data
    before = counts()

    report = import_feed(data, source="kikan-h", filename="random.csv")
    event("imported" if report.ok else f"refused: {report.errors[0].code}")

    if report.ok:
        assert report.imported + report.skipped == report.rows
        assert counts()[1] == before[1] + report.imported
    else:
        assert counts() == before
        assert report.imported == 0 and report.errors
        assert all(e.message_ja and e.message_en and e.code for e in report.errors)
