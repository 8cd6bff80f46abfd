"""The My Number vault: envelope encryption, blind index, key rotation and the `mynumber check` command.

Every number here is made from a counter and mynumber_check_digit: valid in form, nobody's on purpose.
Each test gets its own key files in tmp_path, so nothing depends on the machine's var/keys.
"""

import base64
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.exceptions import InvalidTag
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction

from sesshu.addressee import keys, vault
from sesshu.addressee.models_vault import DataKey, IdentityCheck, MyNumberRecord
from sesshu.audit.models import Action, AuditEvent
from sesshu.core.numbers import mynumber_check_digit
from sesshu.core.problems import Problem

from .factories import make_household, make_resident, make_staff

ROOT = Path(__file__).resolve().parent.parent
# The `sesshu` console script's entry point, run by this interpreter.
CLI = [sys.executable, "-c", "import sys; from sesshu.cli import main; sys.exit(main())", "mynumber", "check"]


def number(n: int) -> str:
    body = f"{n:011d}"
    return body + str(mynumber_check_digit(body))


def spellings(digits: str) -> list[str]:
    """The ways a number could sit in a column in the clear: plain, grouped 4-4-4, full-width."""
    groups = [digits[0:4], digits[4:8], digits[8:12]]
    wide = digits.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    return [digits, " ".join(groups), "-".join(groups), wide]


def wrong_check_digit(digits: str) -> str:
    return digits[:11] + str((int(digits[11]) + 1) % 10)


@pytest.fixture
def vault_keys(tmp_path, settings):
    """A master key "m1" and a blind-index key in 0600 files, configured for this test only."""
    key_dir = tmp_path / "keys"
    master = keys.generate_key_file(key_dir / "m1.key")
    blind = keys.generate_key_file(key_dir / "blind.key")
    settings.SESSHU_MASTER_KEYS = {"m1": str(master)}
    settings.SESSHU_ACTIVE_MASTER_KEY = "m1"
    settings.SESSHU_BLIND_INDEX_KEY_FILE = str(blind)
    return SimpleNamespace(dir=key_dir, master=master, blind=blind, settings=settings)


@pytest.fixture
def persons(db):
    household = make_household()
    made = []
    for i, given in enumerate(["一郎", "二郎", "三郎", "四郎", "五郎", "六郎"]):
        _, person = make_resident(household, given=(given, "タロウ"), is_head=i == 0)
        made.append(person)
    return made


@pytest.fixture
def stored(vault_keys, persons):
    """Each person with a number: {person: digits}."""
    numbers = {person: number(1000 + i * 7) for i, person in enumerate(persons)}
    for person, digits in numbers.items():
        vault.store_number(person, digits)
    return numbers


def record_of(person) -> MyNumberRecord:
    return MyNumberRecord.objects.select_related("data_key").get(person=person)


# Round trip ---------------------------------------------------------------------------------------------


def test_round_trip(vault_keys, persons):
    person = persons[0]
    digits = number(4242)
    record = vault.store_number(person, digits)
    assert len(bytes(record.nonce)) == 12
    assert record.data_key.active and record.data_key.master_key_id == "m1"
    assert record.identity_check == IdentityCheck.JUKI_NET
    assert vault.decrypt_number(record_of(person)) == digits
    # The first data key was made on first use, and that is an audit event (key id, no number).
    event = AuditEvent.objects.get(action=Action.SYSTEM, object_type="vault")
    assert event.detail["operation"] == "first_data_key" and event.detail["key_id"] == record.data_key_id


def test_full_width_and_separators_are_the_same_number(vault_keys, persons):
    digits = number(77)
    wide = spellings(digits)[3]
    record = vault.store_number(persons[0], f"{wide[:4]}－{wide[4:8]} {wide[8:]}")
    assert vault.decrypt_number(record_of(persons[0])) == digits
    assert record.blind_index == vault.blind_index(digits) == vault.blind_index(spellings(digits)[2])


def test_storing_again_replaces_the_number(vault_keys, persons):
    vault.store_number(persons[0], number(1))
    vault.store_number(persons[0], number(2))
    assert MyNumberRecord.objects.count() == 1
    assert vault.decrypt_number(record_of(persons[0])) == number(2)
    assert vault.find_person_by_number(number(1)) is None


def test_counter_check_names_who_checked(vault_keys, persons):
    clerk, checker = make_staff("clerk"), make_staff("clerk")
    with pytest.raises(ValueError, match="identity_checked_by"):
        vault.store_number(
            persons[0], number(5), registered_by=clerk, identity_check=IdentityCheck.MYNUMBER_CARD
        )
    record = vault.store_number(
        persons[0],
        number(5),
        registered_by=clerk,
        identity_check=IdentityCheck.MYNUMBER_CARD,
        identity_checked_by=checker,
    )
    assert record.registered_by == clerk and record.identity_checked_by == checker


def test_invalid_numbers_are_refused_without_echo(vault_keys, persons):
    bad = wrong_check_digit(number(9))
    with pytest.raises(Problem) as caught:
        vault.store_number(persons[0], bad)
    assert caught.value.code == "mynumber_check_digit"
    assert bad not in str(caught.value) and bad not in caught.value.ja
    assert not MyNumberRecord.objects.exists()


def test_one_number_one_person(stored, persons):
    digits = stored[persons[0]]
    with pytest.raises(Problem) as caught:
        vault.store_number(persons[1], digits)
    assert caught.value.code == "mynumber_duplicate"
    assert digits not in json.dumps(caught.value.as_dict(), ensure_ascii=False)
    assert vault.decrypt_number(record_of(persons[1])) == stored[persons[1]]


# Tampering ----------------------------------------------------------------------------------------------


def _flip(blob) -> bytes:
    data = bytearray(bytes(blob))
    data[0] ^= 0x01
    return bytes(data)


@pytest.mark.parametrize("field", ["ciphertext", "nonce"])
def test_tampered_ciphertext_or_nonce_is_refused(stored, persons, field):
    person = persons[0]
    MyNumberRecord.objects.filter(person=person).update(**{field: _flip(getattr(record_of(person), field))})
    with pytest.raises(vault.VaultError) as caught:
        vault.decrypt_number(record_of(person))
    assert isinstance(caught.value.__cause__, InvalidTag)
    assert f"person #{person.pk}" in str(caught.value)
    assert stored[person] not in str(caught.value)


def test_ciphertext_moved_to_another_person_is_refused(stored, persons):
    """Associated data binds a ciphertext to its person: copying A's onto B does not give B A's number."""
    a, b = persons[0], persons[1]
    source = record_of(a)
    MyNumberRecord.objects.filter(person=b).update(
        ciphertext=bytes(source.ciphertext), nonce=bytes(source.nonce), data_key=source.data_key_id
    )
    with pytest.raises(vault.VaultError, match="copied from another person") as caught:
        vault.decrypt_number(record_of(b))
    assert isinstance(caught.value.__cause__, InvalidTag)
    assert vault.decrypt_number(record_of(a)) == stored[a]


def test_ciphertext_relabelled_with_another_key_is_refused(stored, persons):
    other = vault.create_data_key(activate=False)
    MyNumberRecord.objects.filter(person=persons[0]).update(data_key=other.key_id)
    with pytest.raises(vault.VaultError):
        vault.decrypt_number(record_of(persons[0]))


def test_wrong_master_key_is_refused(stored, persons, vault_keys):
    impostor = keys.generate_key_file(vault_keys.dir / "impostor.key")
    vault_keys.settings.SESSHU_MASTER_KEYS = {"m1": str(impostor)}
    with pytest.raises(vault.VaultError, match="does not unwrap data key") as caught:
        vault.decrypt_number(record_of(persons[0]))
    assert isinstance(caught.value.__cause__, InvalidTag)


def test_changed_wrapped_key_is_refused(stored, persons):
    data_key = DataKey.objects.get(active=True)
    DataKey.objects.filter(pk=data_key.pk).update(wrapped_key=_flip(data_key.wrapped_key))
    with pytest.raises(vault.VaultError, match="does not unwrap"):
        vault.decrypt_number(record_of(persons[0]))


def test_master_key_missing_from_settings(stored, persons, vault_keys):
    vault_keys.settings.SESSHU_MASTER_KEYS = {}
    with pytest.raises(keys.KeyConfigError, match="Master key m1 is not configured"):
        vault.decrypt_number(record_of(persons[0]))


# Rotation, retirement, re-wrapping ----------------------------------------------------------------------


def _vault_events() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=Action.SYSTEM, object_type="vault").order_by("id"))


def _assert_no_numbers(text: str, numbers) -> None:
    for digits in numbers:
        for spelled in spellings(digits):
            assert spelled not in text


def test_rotation_reencrypts_everything_then_old_keys_retire(stored, persons):
    old_key = DataKey.objects.get(active=True)
    saved = {p: (bytes(r.ciphertext), bytes(r.nonce)) for p in persons for r in [record_of(p)]}
    out = io.StringIO()
    call_command("keys", "rotate", "--batch-size", "4", "--no-progress", stdout=out, stderr=io.StringIO())

    new_key = DataKey.objects.get(active=True)
    assert new_key.key_id != old_key.key_id and re.fullmatch(
        r"dk-\d{4}-\d\d-\d\d-[0-9a-f]{4}", new_key.key_id
    )
    assert set(MyNumberRecord.objects.values_list("data_key_id", flat=True)) == {new_key.key_id}
    for person, digits in stored.items():
        record = record_of(person)
        assert vault.decrypt_number(record) == digits
        assert bytes(record.ciphertext) != saved[person][0] and bytes(record.nonce) != saved[person][1]
    assert f"{len(persons)}" in out.getvalue() and new_key.key_id in out.getvalue()

    call_command("keys", "retire-unused", stdout=io.StringIO())
    old_key.refresh_from_db()
    assert old_key.wrapped_key is None and old_key.retired_at is not None and not old_key.active
    new_key.refresh_from_db()
    assert new_key.wrapped_key and new_key.retired_at is None
    # A ciphertext from before the rotation (an old backup) can no longer be read: its key is gone.
    person = persons[0]
    MyNumberRecord.objects.filter(person=person).update(
        ciphertext=saved[person][0], nonce=saved[person][1], data_key=old_key.key_id
    )
    with pytest.raises(vault.VaultError, match="retired"):
        vault.decrypt_number(record_of(person))

    rotate, retire = _vault_events()[-2:]
    assert rotate.detail["operation"] == "rotate" and rotate.detail["reencrypted"] == len(persons)
    assert rotate.detail["records_by_key_before"] == {old_key.key_id: len(persons)}
    assert retire.detail == {"operation": "retire-unused", "retired": [old_key.key_id], "count": 1}
    _assert_no_numbers(json.dumps([e.detail for e in _vault_events()], ensure_ascii=False), stored.values())


def test_retire_unused_keeps_keys_in_use(stored):
    in_use = DataKey.objects.get(active=True)
    spare = vault.create_data_key(activate=False)
    vault.create_data_key(activate=True)  # the key in use is now inactive but still has every record
    assert vault.retire_unused_keys() == [spare.key_id]
    in_use.refresh_from_db()
    assert in_use.wrapped_key and in_use.retired_at is None


def test_no_number_is_stored_under_a_retired_key(stored, persons):
    """A key read as active just before a rotation and retire-unused finished is not written to."""
    stale = DataKey.objects.get(active=True)  # read by a clerk's request that then stalls
    call_command("keys", "rotate", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    assert vault.retire_unused_keys() == [stale.key_id]
    with pytest.raises(vault.VaultError, match="retired meanwhile"):
        vault.store_number(persons[0], number(123_456), data_key=stale)
    assert vault.decrypt_number(record_of(persons[0])) == stored[persons[0]]
    assert record_of(persons[0]).data_key.active


def test_rotation_of_an_empty_vault(vault_keys, db):
    call_command("keys", "rotate", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    assert DataKey.objects.filter(active=True).count() == 1


def test_only_one_active_data_key(vault_keys, db):
    vault.create_data_key(activate=True)
    vault.create_data_key(activate=True)
    assert DataKey.objects.filter(active=True).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        DataKey.objects.update(active=True)


def test_rewrap_under_a_new_master_key_then_drop_the_old(stored, persons, vault_keys):
    vault.create_data_key(activate=True)  # two live data keys, both under m1
    vault.store_number(persons[0], stored[persons[0]])  # one record under each key
    m2 = keys.generate_key_file(vault_keys.dir / "m2.key")
    vault_keys.settings.SESSHU_MASTER_KEYS = {"m1": str(vault_keys.master), "m2": str(m2)}
    vault_keys.settings.SESSHU_ACTIVE_MASTER_KEY = "m2"
    call_command("keys", "rewrap", "--to", "m2", stdout=io.StringIO())
    assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {"m2"}
    assert _vault_events()[-1].detail["count"] == 2

    vault_keys.settings.SESSHU_MASTER_KEYS = {"m2": str(m2)}  # m1 is no longer needed at all
    os.remove(vault_keys.master)
    for person, digits in stored.items():
        assert vault.decrypt_number(record_of(person)) == digits
    assert vault.create_data_key(activate=True).master_key_id == "m2"


def test_rewrap_to_an_unknown_master_is_refused(stored):
    with pytest.raises(CommandError, match="not configured"):
        call_command("keys", "rewrap", "--to", "nowhere", stdout=io.StringIO())
    assert set(DataKey.objects.values_list("master_key_id", flat=True)) == {"m1"}


def test_status_shows_counts_never_numbers(stored, persons):
    out = io.StringIO()
    call_command("keys", "status", stdout=out)
    text = out.getvalue()
    key = DataKey.objects.get(active=True)
    assert key.key_id in text and "m1 (active): ok" in text and f"records / 件数: {len(persons)}" in text
    _assert_no_numbers(text, stored.values())
    assert _vault_events()[-1].detail["data_keys"] == {key.key_id: len(persons)}


def test_failed_key_operation_is_audited(stored, vault_keys):
    vault_keys.settings.SESSHU_MASTER_KEYS = {"m1": str(vault_keys.dir / "gone.key")}
    with pytest.raises(CommandError, match="does not exist"):
        call_command("keys", "rotate", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    event = _vault_events()[-1]
    assert event.outcome == "failed" and event.detail == {"operation": "rotate", "error": "KeyConfigError"}


# Blind index --------------------------------------------------------------------------------------------


def test_lookup_finds_exactly_the_person(stored, persons):
    for person, digits in stored.items():
        assert vault.find_person_by_number(digits) == person
        assert vault.find_person_by_number(spellings(digits)[3]) == person  # as typed in full width
    assert vault.find_person_by_number(number(999_999)) is None
    with pytest.raises(Problem):
        vault.find_person_by_number(wrong_check_digit(number(999_999)))


def test_lookup_is_one_query_and_decrypts_nothing(stored, persons, django_assert_num_queries, monkeypatch):
    monkeypatch.setattr(vault, "decrypt_number", lambda record: pytest.fail("lookup decrypted a record"))
    with django_assert_num_queries(1):
        assert vault.find_person_by_number(stored[persons[2]]) == persons[2]


def test_blind_index_is_keyed_and_not_the_number(vault_keys, db):
    import hashlib

    digits = number(31_415)
    index = vault.blind_index(digits)
    assert re.fullmatch(r"[0-9a-f]{64}", index)
    _assert_no_numbers(index, [digits])
    assert index != hashlib.sha256(digits.encode()).hexdigest()  # not a plain hash anyone could recompute
    assert vault.blind_index(number(31_416)) != index
    vault_keys.settings.SESSHU_BLIND_INDEX_KEY_FILE = str(keys.generate_key_file(vault_keys.dir / "b2.key"))
    assert vault.blind_index(digits) != index


def test_lookup_under_another_blind_index_key_finds_nothing(stored, persons, vault_keys):
    vault_keys.settings.SESSHU_BLIND_INDEX_KEY_FILE = str(keys.generate_key_file(vault_keys.dir / "b2.key"))
    assert vault.find_person_by_number(stored[persons[0]]) is None


def test_reindex_after_a_new_blind_index_key(stored, persons, vault_keys):
    vault_keys.settings.SESSHU_BLIND_INDEX_KEY_FILE = str(keys.generate_key_file(vault_keys.dir / "b2.key"))
    assert vault.find_person_by_number(stored[persons[0]]) is None
    call_command("keys", "reindex", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    for person, digits in stored.items():
        assert vault.find_person_by_number(digits) == person
    assert _vault_events()[-1].detail == {
        "operation": "reindex",
        "records": len(persons),
        "changed": len(persons),
    }
    assert vault.reindex_blind_index() == 0  # nothing left to change


# No plaintext anywhere ----------------------------------------------------------------------------------


def test_the_database_holds_no_number_in_the_clear(stored, persons):
    call_command("keys", "rotate", "--no-progress", stdout=io.StringIO(), stderr=io.StringIO())
    call_command("keys", "status", stdout=io.StringIO())
    needles = [s for digits in stored.values() for s in spellings(digits)]
    rows_seen = 0
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 (introspected)
            for row in cursor.fetchall():
                rows_seen += 1
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        blob = bytes(value)
                        # Bytes as stored, and as they would read if someone took them for text or base64.
                        texts = [blob.decode("latin-1"), blob.hex(), base64.b64encode(blob).decode()]
                    else:
                        texts = [str(value)]
                    for text in texts:
                        for needle in needles:
                            assert needle not in text, f"a number in the clear in table {table}"
    assert rows_seen > len(persons) * 2  # the dump did read the vault's and the persons' rows


def test_reprs_and_messages_never_show_the_number(stored, persons):
    record = record_of(persons[0])
    digits = stored[persons[0]]
    for text in (str(record), repr(record), repr(record.data_key), str(record.data_key)):
        _assert_no_numbers(text, [digits])
    assert repr(record) == f"<MyNumberRecord person={persons[0].pk} key={record.data_key_id}>"
    assert repr(keys.blind_index_key()) == "<secret>"
    assert "<secret>" in repr(keys.unwrap(record.data_key))


# Key files ----------------------------------------------------------------------------------------------


def test_missing_key_file_is_a_clear_error(vault_keys, db):
    vault_keys.settings.SESSHU_MASTER_KEYS = {"m1": str(vault_keys.dir / "missing.key")}
    with pytest.raises(keys.KeyConfigError, match=r"missing\.key does not exist"):
        vault.create_data_key(activate=True)
    errors = keys.check_vault_keys()
    assert [e.id for e in errors] == ["addressee.E001"] and "missing.key" in errors[0].msg


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not a key at all!", "is not base64"),
        (base64.b64encode(os.urandom(16)).decode(), "holds 16 bytes"),
        (base64.b64encode(os.urandom(33)).decode(), "holds 33 bytes"),
        ("", "holds 0 bytes"),
    ],
)
def test_malformed_key_file_is_a_clear_error(vault_keys, content, message):
    bad = vault_keys.dir / "bad.key"
    bad.write_text(content)
    bad.chmod(0o600)
    vault_keys.settings.SESSHU_BLIND_INDEX_KEY_FILE = str(bad)
    with pytest.raises(keys.KeyConfigError, match=message) as caught:
        vault.blind_index(number(1))
    assert content not in str(caught.value) or not content
    assert [e.id for e in keys.check_vault_keys()] == ["addressee.E003"]


def test_key_file_readable_by_others_is_refused(vault_keys):
    vault_keys.blind.chmod(0o644)
    with pytest.raises(keys.KeyConfigError, match="chmod 600"):
        vault.blind_index(number(1))


def test_master_key_from_the_environment(vault_keys, persons, monkeypatch):
    monkeypatch.setenv("SESSHU_MASTER_KEY_CITY_2027", base64.b64encode(os.urandom(32)).decode())
    vault_keys.settings.SESSHU_MASTER_KEYS = {"city-2027": ""}
    vault_keys.settings.SESSHU_ACTIVE_MASTER_KEY = "city-2027"
    vault.store_number(persons[0], number(8))
    assert vault.decrypt_number(record_of(persons[0])) == number(8)
    monkeypatch.delenv("SESSHU_MASTER_KEY_CITY_2027")
    keys.clear_caches()
    with pytest.raises(keys.KeyConfigError, match="SESSHU_MASTER_KEY_CITY_2027 is not set"):
        vault.decrypt_number(record_of(persons[0]))


def test_active_master_must_be_configured(vault_keys, db):
    vault_keys.settings.SESSHU_ACTIVE_MASTER_KEY = "m9"
    with pytest.raises(keys.KeyConfigError, match="m9 is not in SESSHU_MASTER_KEYS"):
        vault.create_data_key(activate=True)


def test_no_keys_configured_is_a_warning_until_used(settings, db):
    settings.SESSHU_MASTER_KEYS = {}
    settings.SESSHU_ACTIVE_MASTER_KEY = ""
    settings.SESSHU_BLIND_INDEX_KEY_FILE = ""
    assert [m.id for m in keys.check_vault_keys()] == ["addressee.W001"]
    with pytest.raises(keys.KeyConfigError, match="SESSHU_BLIND_INDEX_KEY_FILE"):
        vault.find_person_by_number(number(3))


def test_master_keys_from_the_environment_setting():
    assert keys.parse_master_keys(" city-2026:/etc/sesshu/keys/m1.key , city_2027 ") == {
        "city-2026": "/etc/sesshu/keys/m1.key",
        "city_2027": "",
    }
    for bad in ("a:/x,a:/y", "bad id:/x", ":/nothing"):
        with pytest.raises(keys.KeyConfigError, match="malformed or repeated"):
            keys.parse_master_keys(bad)


def test_ensure_demo_keys(tmp_path):
    made = keys.ensure_demo_keys(tmp_path)
    key_dir = tmp_path / "keys"
    files = sorted(key_dir.iterdir())
    assert [f.name for f in files] == ["blind-index.key", "master-demo-1.key"]
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files) and key_dir.stat().st_mode & 0o777 == 0o700
    contents = [f.read_text() for f in files]
    assert all(len(base64.b64decode(c)) == 32 for c in contents)
    assert keys.ensure_demo_keys(tmp_path) == made  # a second run keeps the keys it made
    assert [f.read_text() for f in files] == contents
    assert made.master_keys == {"demo-1": str(key_dir / "master-demo-1.key")}
    assert made.active_master_key == "demo-1" and made.blind_index_key_file == str(
        key_dir / "blind-index.key"
    )


def test_generate_never_overwrites(tmp_path):
    target = tmp_path / "k.key"
    call_command("keys", "generate", str(target), stdout=io.StringIO())
    assert target.stat().st_mode & 0o777 == 0o600 and len(base64.b64decode(target.read_text())) == 32
    before = target.read_text()
    with pytest.raises(CommandError, match="never overwritten"):
        call_command("keys", "generate", str(target), stdout=io.StringIO())
    assert target.read_text() == before


# mynumber check -----------------------------------------------------------------------------------------


def _check_lines() -> tuple[str, list[str]]:
    good, other = number(123), number(456)
    wide = spellings(other)[3]
    lines = [
        good,
        f"{good[:4]}-{good[4:8]}-{good[8:]}",
        wide,
        wrong_check_digit(good),
        good[:11],
        "1234abcd5678",
    ]
    expected = [
        "ok",
        "ok",
        "ok",
        "mynumber_check_digit: 個人番号の検査用数字（12桁目）が正しくありません。入力を確認してください。 "
        "(The My Number's check digit (the 12th digit) is wrong. Check the number as typed.)",
        "mynumber_length: 個人番号は12桁です（入力は11桁）。 (A My Number has 12 digits (this has 11).)",
        "mynumber_characters: 個人番号には数字以外の文字は使えません。 (A My Number has digits only.)",
    ]
    return "\n".join(lines) + "\n", expected


def test_mynumber_check_needs_no_database():
    """No `db` fixture: pytest-django refuses any database access here, so none can happen unnoticed."""
    text, expected = _check_lines()
    out = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        call_command("mynumber", "check", stdin=io.StringIO(text), stdout=out, stderr=io.StringIO())
    assert exited.value.code == 1
    assert out.getvalue().splitlines() == expected
    for line in text.splitlines():
        assert line not in out.getvalue()


def test_mynumber_check_all_ok_makes_no_queries(db, django_assert_num_queries):
    events = AuditEvent.objects.count()
    out = io.StringIO()
    with django_assert_num_queries(0):
        call_command("mynumber", "check", stdin=io.StringIO(f"{number(5)}\n{number(6)}\n"), stdout=out)
    assert out.getvalue().splitlines() == ["ok", "ok"]
    assert AuditEvent.objects.count() == events and not MyNumberRecord.objects.exists()


def test_mynumber_check_command_line_without_a_database():
    """The installed command, with a database address where nothing listens and no keys configured."""
    text, expected = _check_lines()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sesshu.settings.test",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:9/nothing",
    }
    done = subprocess.run(  # noqa: S603
        CLI,
        input=text,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines() == expected
    valid = subprocess.run(  # noqa: S603
        CLI,
        input=f"{number(5)}\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert (valid.returncode, valid.stdout) == (0, "ok\n"), valid.stderr
