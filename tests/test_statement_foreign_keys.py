"""The foreign keys of the vaccination records and the clinic file's import rows stay enforced by the
database on both databases: SQLite by its own foreign keys (deferred: checked at COMMIT), PostgreSQL
by statement-level triggers (sesshu/core/statement_foreign_keys.py, migration immunization 0010:
checked at the end of each statement). Either way a transaction that writes a reference to a missing
row, or removes a row still referenced, fails whole, and nothing of it is written.

The tests commit for real (``transaction=True``): SQLite checks its keys only then, and the concurrency
tests need two connections. The migrations' masters (vaccines) are restored first.
"""

import re
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import (
    IntegrityError,
    NotSupportedError,
    OperationalError,
    connection,
    transaction,
)
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from sesshu.core.statement_foreign_keys import row_level_constraints
from sesshu.immunization.models import (
    Clinic,
    Doctor,
    ImportDose,
    ImportRow,
    Lot,
    Maker,
    Product,
    RecordSource,
    SourceFile,
    VaccinationRecord,
    Vaccine,
)

from .factories import make_household, make_resident, make_staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

MIGRATION = ("immunization", "0010_statement_level_foreign_keys")
BEFORE = ("immunization", "0009_record_and_import_row_indexes_for_the_clinic_file")
RECORDS = VaccinationRecord._meta.db_table
IMPORT_ROWS = ImportRow._meta.db_table
# Every foreign key of the two tables: the records' converted by 0010, the import rows' by 0011 (with
# the row's dose part, added there).
CONVERTED = {
    RECORDS: {
        "person_id",
        "vaccine_id",
        "product_id",
        "lot_id",
        "clinic_id",
        "screening_doctor_id",
        "vaccinating_doctor_id",
        "source_file_id",
        "registered_by_id",
        "superseded_by_id",
    },
    IMPORT_ROWS: {"source_file_id", "person_id", "record_id", "decided_by_id", "dose_id"},
}
MISSING = 987_654_321  # no row has this id


def postgresql() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def world():
    """Masters, a clerk, a person and a clinic file, committed."""
    clerk = make_staff("clerk")
    _, person = make_resident(make_household())
    maker = Maker.objects.create(code="BIKEN", name="阪大微生物病研究会")
    product = Product.objects.create(
        vaccine_id="JE", maker=maker, code="P-JE", name="ジェービックV", standard_volume_ml=Decimal("0.5")
    )
    lot = Lot.objects.create(product=product, lot_number="JE001", expires_on=date(2030, 3, 31))
    spare_lot = Lot.objects.create(product=product, lot_number="JE002", expires_on=date(2030, 3, 31))
    clinic = Clinic.objects.create(
        code="9900000001", name="桜ヶ丘こどもクリニック", contract_from=date(2000, 4, 1)
    )
    doctor = Doctor.objects.create(name="接種 一郎", clinic=clinic)
    source = SourceFile.objects.create(
        kind="clinic_csv", file_name="2025-04.csv", sha256="0" * 64, size_bytes=1, uploaded_by=clerk
    )
    return SimpleNamespace(
        clerk=clerk,
        person=person,
        product=product,
        lot=lot,
        spare_lot=spare_lot,
        clinic=clinic,
        doctor=doctor,
        source=source,
    )


def full_record(world, day: int = 0, **values) -> dict:
    """{attname: value} of a record with every foreign key set (the self reference aside)."""
    return {
        "person_id": world.person.pk,
        "vaccine_id": "JE",
        "dose_number": 1,
        "vaccinated_on": date(2025, 4, 1) + timedelta(days=day),
        "product_id": world.product.pk,
        "lot_id": world.lot.pk,
        "clinic_id": world.clinic.pk,
        "screening_doctor_id": world.doctor.pk,
        "vaccinating_doctor_id": world.doctor.pk,
        "source": RecordSource.CLINIC_FILE,
        "source_file_id": world.source.pk,
        "source_row": 2 + day,
        "registered_by_id": world.clerk.pk,
        **values,
    }


def raw_insert(values: dict) -> None:
    """INSERT one record in plain SQL (unset fields take their defaults, as bulk inserts do)."""
    now, columns, params = timezone.now(), [], []
    for f in VaccinationRecord._meta.concrete_fields:
        if f.primary_key:
            continue
        if f.attname in values:
            value = values[f.attname]
        elif getattr(f, "auto_now_add", False):
            value = now
        elif f.has_default():
            value = f.get_default()
        else:
            value = None if f.null else ""
        columns.append(connection.ops.quote_name(f.column))
        params.append(f.get_db_prep_save(value, connection))
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {RECORDS} ({', '.join(columns)}) VALUES ({marks})", params)  # noqa: S608


def run(sql: str, params=()) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def import_row(world, number: int, **values) -> ImportRow:
    dose = ImportDose.objects.create(source_file=world.source, values={"vaccine": "JE"})
    return ImportRow.objects.create(
        source_file=world.source, row_number=number, dose=dose, status="matched", **values
    )


def assert_refused(error, constraint_column: str | None = None) -> None:
    """PostgreSQL: the statement-level check's foreign_key_violation, as PostgreSQL words its own;
    SQLite: its own foreign key error at COMMIT."""
    if postgresql():
        import psycopg

        cause = error.__cause__
        assert isinstance(cause, psycopg.errors.ForeignKeyViolation), repr(cause)
        assert cause.sqlstate == "23503"
        assert re.search(r'violates foreign key constraint "\w+"', str(error))
        if constraint_column:  # Django's name for the constraint: table, column (maybe cut short), hash
            assert f"_{constraint_column.removesuffix('_id')}" in cause.diag.constraint_name
    else:
        assert "FOREIGN KEY constraint failed" in str(error)


# What is refused, on both databases ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value"),
    [("lot_id", MISSING), ("person_id", MISSING), ("vaccine_id", "NOPE"), ("registered_by_id", MISSING)],
)
@pytest.mark.parametrize("how", ["sql", "orm"])
def test_a_record_pointing_to_a_missing_row_is_refused_and_nothing_is_written(world, column, value, how):
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        values = full_record(world, **{column: value})
        if how == "sql":
            raw_insert(values)
        else:
            VaccinationRecord.objects.create(**values)
    assert_refused(refused.value, column)
    if postgresql():
        table = {"lot_id": "immunization_lot", "person_id": "addressee_person"}.get(column)
        if table:
            assert f'Key ({column})=({value}) is not present in table "{table}".' in str(refused.value)
    assert not VaccinationRecord.objects.exists()
    raw_insert(full_record(world))  # the same with every key present is accepted
    assert VaccinationRecord.objects.get().lot_id == world.lot.pk


def test_one_bad_row_fails_a_whole_insert_select(world):
    for day in range(30):
        raw_insert(full_record(world, day=day))
    last = VaccinationRecord.objects.order_by("pk").last().pk
    fields = [f for f in VaccinationRecord._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)

    def select(bad_lot: int) -> str:
        # The 30 records again as 予診のみ rows of other lines (not doses: no duplicate dose), the
        # last one's lot replaced by ``bad_lot``.
        out = []
        for f in fields:
            if f.column == "lot_id":
                out.append(f"CASE WHEN id = {last} THEN {bad_lot} ELSE lot_id END")
            elif f.column == "screening_only":
                out.append("1 = 1")
            elif f.column == "source_row":
                out.append(f"source_row + 100 * {2 if bad_lot == MISSING else 3}")
            else:
                out.append(connection.ops.quote_name(f.column))
        return f"INSERT INTO {RECORDS} ({columns}) SELECT {', '.join(out)} FROM {RECORDS}"  # noqa: S608

    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        run(select(MISSING))
    assert_refused(refused.value, "lot_id")
    assert VaccinationRecord.objects.count() == 30
    with transaction.atomic():
        run(select(world.spare_lot.pk))
    assert VaccinationRecord.objects.count() == 60
    assert VaccinationRecord.objects.filter(lot=world.spare_lot).count() == 1


@pytest.mark.parametrize(
    ("table", "key", "column"),
    [
        ("immunization_lot", "lot", "lot_id"),
        ("addressee_person", "person", "person_id"),
        ("immunization_vaccine", "vaccine", "vaccine_id"),
        ("accounts_staff", "clerk", "registered_by_id"),
        ("immunization_doctor", "doctor", "vaccinating_doctor_id"),
    ],
)
def test_deleting_a_row_a_record_points_to_is_refused(world, table, key, column):
    """Raw SQL, past Django's PROTECT: the database itself refuses."""
    raw_insert(full_record(world, screening_doctor_id=None))
    pk, pk_column = ("JE", "code") if key == "vaccine" else (getattr(world, key).pk, "id")
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        run(f"DELETE FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
    assert_refused(refused.value, column)
    if postgresql():
        assert f'is still referenced from table "{RECORDS}"' in str(refused.value)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        assert cursor.fetchone() == (1,)


def test_deleting_a_row_nothing_points_to_works(world):
    raw_insert(full_record(world))
    if postgresql():
        # Under REPEATABLE READ a statement that removes referenced keys is refused, referenced or not:
        # the check could not see rows committed after the transaction's snapshot (the module's docstring).
        with pytest.raises(NotSupportedError, match="READ COMMITTED"), transaction.atomic():
            run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            run("DELETE FROM immunization_lot WHERE id = %s", [world.spare_lot.pk])
        with transaction.atomic():  # removing nothing is no removal
            run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            run("DELETE FROM immunization_lot WHERE id = %s", [MISSING])
    with transaction.atomic():
        run("DELETE FROM immunization_lot WHERE id = %s", [world.spare_lot.pk])
    assert list(Lot.objects.values_list("pk", flat=True)) == [world.lot.pk]


def test_changing_a_referenced_key_is_refused_and_an_unreferenced_one_is_not(world):
    raw_insert(full_record(world))
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        run("UPDATE immunization_vaccine SET code = 'JE-X' WHERE code = 'JE'")
    assert_refused(refused.value, "vaccine_id")
    with transaction.atomic():
        run("UPDATE immunization_vaccine SET sort_order = sort_order + 1 WHERE code = 'JE'")  # not the key
        run("UPDATE immunization_vaccine SET code = 'MR-X' WHERE code = 'MR'")  # nothing points to MR
    assert VaccinationRecord.objects.get().vaccine_id == "JE"
    assert set(Vaccine.objects.filter(code__startswith="MR").values_list("code", flat=True)) == {"MR-X"}


@pytest.mark.parametrize(
    ("column", "value"),
    [("lot_id", MISSING), ("vaccine_id", "NOPE"), ("superseded_by_id", MISSING), ("source_file_id", MISSING)],
)
def test_pointing_a_record_to_a_missing_row_is_refused(world, column, value):
    raw_insert(full_record(world))
    record = VaccinationRecord.objects.get()
    changes = {column: value, **({"status": "superseded"} if column == "superseded_by_id" else {})}
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        VaccinationRecord.objects.filter(pk=record.pk).update(**changes)
    assert_refused(refused.value, column)
    record.refresh_from_db()
    assert (record.lot_id, record.vaccine_id, record.superseded_by_id) == (world.lot.pk, "JE", None)
    # Other updates of the same row go through (its keys, unchanged, are still there).
    VaccinationRecord.objects.filter(pk=record.pk).update(remarks="確認済", lot_id=world.spare_lot.pk)
    assert VaccinationRecord.objects.get().lot_id == world.spare_lot.pk


def test_empty_foreign_keys_are_fine(world):
    with transaction.atomic():
        VaccinationRecord.objects.create(
            person=world.person, vaccine_id="MR", dose_number=1, vaccinated_on=date(2021, 4, 10),
            source=RecordSource.MANUAL,
        )  # fmt: skip
        raw_insert(full_record(world, lot_id=None, product_id=None, clinic_id=None, registered_by_id=None))
    record = VaccinationRecord.objects.get(vaccine_id="MR")
    assert (record.lot_id, record.clinic_id, record.source_file_id, record.superseded_by_id) == (None,) * 4
    with transaction.atomic():
        VaccinationRecord.objects.update(lot=None, screening_doctor=None)
    assert not VaccinationRecord.objects.filter(lot__isnull=False).exists()


def test_import_rows_keys_are_checked_both_ways(world):
    raw_insert(full_record(world))
    record = VaccinationRecord.objects.get()
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        import_row(world, 2, person_id=MISSING)
    assert_refused(refused.value, "person_id")
    row = import_row(world, 2, person=world.person, record=record, decided_by=world.clerk)
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        ImportRow.objects.filter(pk=row.pk).update(record_id=MISSING)
    assert_refused(refused.value, "record_id")
    # The record the row became cannot go (nor the file, whose rows and records point to it).
    for table, pk in ((RECORDS, record.pk), ("immunization_sourcefile", world.source.pk)):
        with pytest.raises(IntegrityError), transaction.atomic():
            run(f"DELETE FROM {table} WHERE id = %s", [pk])  # noqa: S608
    assert ImportRow.objects.get().record_id == record.pk


# How it is built on PostgreSQL, and what SQLite keeps --------------------------------------------------


def foreign_key_columns(table: str) -> set[str]:
    """The columns of the table with a row-level (declared) foreign key constraint."""
    if postgresql():
        fields = VaccinationRecord._meta.concrete_fields + ImportRow._meta.concrete_fields
        return {f.column for f in fields if row_level_constraints(connection, table, f.column)}
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA foreign_key_list({table})")
        return {row[3] for row in cursor.fetchall()}


def statement_triggers() -> dict[tuple[str, str], list[str]]:
    """{(table, trigger kind): [the argument lists of the statement-level FK triggers]} (PostgreSQL)."""
    out: dict[tuple[str, str], list[str]] = {}
    if not postgresql():
        return out
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgname LIKE 'sesshu\\_fk\\_%' ORDER BY 1, 2"
        )
        for table, name, definition in cursor.fetchall():
            kind = name.split("_", 3)[3]  # sesshu_fk_<digest>_<kind>
            arguments = re.search(r"EXECUTE FUNCTION \w+\((.*)\)$", definition).group(1)
            out.setdefault((table, kind), []).append(arguments)
    return out


def assert_statement_level() -> None:
    triggers = statement_triggers()
    for table, columns in CONVERTED.items():
        if not postgresql():  # SQLite keeps its own foreign keys: the migration does nothing there
            assert columns <= foreign_key_columns(table)
            continue
        assert foreign_key_columns(table) & columns == set(), "a row-level constraint is back"
        for kind in ("child_insert", "child_update"):
            (arguments,) = triggers[(table, kind)]
            assert {c for c in columns if f"'{c}'" in arguments} == columns
    if postgresql():
        # Each referenced table has its delete and key-update triggers, naming the referencing table.
        parents = {
            "addressee_person": {RECORDS, IMPORT_ROWS},
            "accounts_staff": {RECORDS, IMPORT_ROWS},
            RECORDS: {RECORDS, IMPORT_ROWS},
            "immunization_sourcefile": {RECORDS, IMPORT_ROWS},
            "immunization_vaccine": {RECORDS},
            "immunization_product": {RECORDS},
            "immunization_lot": {RECORDS},
            "immunization_clinic": {RECORDS},
            "immunization_doctor": {RECORDS},
            "immunization_importdose": {IMPORT_ROWS},
        }
        for parent, children in parents.items():
            for kind in ("parent_delete", "parent_update"):
                named = {re.match(r"'(\w+)'", a).group(1) for a in triggers[(parent, kind)]}
                assert named == children, (parent, kind)


def assert_row_level() -> None:
    """The records' keys as Django makes them (0010 undone); the import rows' keys, converted by 0011,
    keep their triggers and with them the two functions."""
    for (table, kind), arguments in statement_triggers().items():
        if kind.startswith("child"):
            assert table != RECORDS, kind
        else:  # a parent's trigger names its referencing table first
            assert all(re.match(r"'(\w+)'", a).group(1) != RECORDS for a in arguments), (table, kind)
    assert CONVERTED[RECORDS] <= foreign_key_columns(RECORDS)
    if postgresql():
        assert foreign_key_columns(IMPORT_ROWS) & CONVERTED[IMPORT_ROWS] == set()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT bool_and(condeferrable AND condeferred) FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid = %s::regclass",
                [RECORDS],
            )
            assert cursor.fetchone() == (True,)  # as Django makes them: DEFERRABLE INITIALLY DEFERRED
            cursor.execute("SELECT count(*) FROM pg_proc WHERE proname LIKE 'sesshu\\_fk\\_check\\_%'")
            assert cursor.fetchone() == (2,)


def test_the_keys_are_checked_by_statement_triggers_on_postgresql_and_natively_on_sqlite():
    """Migrations that touch these columns later must not bring the row-level constraints back."""
    assert_statement_level()


def test_the_migration_goes_back_to_row_level_constraints_and_forward_again(world):
    executor = MigrationExecutor(connection)
    migration = executor.loader.get_migration(*MIGRATION)
    state = executor.loader.project_state(BEFORE, at_end=True)
    executor.unapply_migration(state, migration)
    try:
        assert_row_level()
        with pytest.raises(IntegrityError, match=r"(?i)foreign key"), transaction.atomic():
            raw_insert(full_record(world, lot_id=MISSING))  # refused at COMMIT now, on both
        assert not VaccinationRecord.objects.exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.apply_migration(state, migration)
    assert_statement_level()
    with pytest.raises(IntegrityError), transaction.atomic():
        raw_insert(full_record(world, lot_id=MISSING))
    assert MIGRATION in MigrationExecutor(connection).loader.applied_migrations


# Two connections at once -------------------------------------------------------------------------------


class Session(threading.Thread):
    """A second database connection, doing ``work`` in its own thread; ``error`` is what it raised."""

    def __init__(self, work):
        super().__init__(daemon=True)
        self.work, self.error, self.pid = work, None, None
        self.connected = threading.Event()

    def run(self):
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()" if postgresql() else "SELECT 0")
                self.pid = cursor.fetchone()[0]
            self.connected.set()
            self.work()
        except Exception as exc:
            self.error = exc
        finally:
            self.connected.set()
            connection.close()

    def begin(self) -> "Session":
        self.start()
        assert self.connected.wait(30)
        return self


def lock_awaited(session: Session) -> tuple[str, str]:
    """(lock mode, table) the session waits for (PostgreSQL), once it does."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT mode, relation::regclass::text FROM pg_locks WHERE pid = %s AND NOT granted",
                [session.pid],
            )
            row = cursor.fetchone()
        if row:
            return row
        assert session.is_alive(), session.error
        time.sleep(0.02)
    raise AssertionError("the session never waited")


def delete_lot(pk: int) -> None:
    with transaction.atomic():
        run("DELETE FROM immunization_lot WHERE id = %s", [pk])


def test_a_delete_waits_for_a_concurrent_insert_pointing_to_the_row_and_then_fails(world):
    inserted, finish = threading.Event(), threading.Event()

    def insert():
        with transaction.atomic():
            raw_insert(full_record(world, lot_id=world.spare_lot.pk))
            inserted.set()
            assert finish.wait(30)

    inserter = Session(insert).begin()
    assert inserted.wait(30)
    deleter = Session(lambda: delete_lot(world.spare_lot.pk)).begin()
    if postgresql():
        # The delete's check takes SHARE on the record table: it waits for the inserter to end.
        assert lock_awaited(deleter) == ("ShareLock", RECORDS)
        finish.set()
        inserter.join(30), deleter.join(30)
        assert inserter.error is None
        assert isinstance(deleter.error, IntegrityError)
        assert_refused(deleter.error, "lot_id")
    else:  # SQLite lets one connection write at a time: the delete is refused at once
        deleter.join(30)
        assert isinstance(deleter.error, OperationalError) and "locked" in str(deleter.error)
        finish.set()
        inserter.join(30)
        assert inserter.error is None
        with pytest.raises(IntegrityError) as refused:
            delete_lot(world.spare_lot.pk)
        assert_refused(refused.value)
    assert VaccinationRecord.objects.get().lot_id == world.spare_lot.pk
    assert Lot.objects.filter(pk=world.spare_lot.pk).exists()


def test_an_insert_after_a_concurrent_delete_of_the_row_fails(world):
    deleted, finish = threading.Event(), threading.Event()

    def delete():
        with transaction.atomic():
            # Nothing points to the lot yet: the delete passes its check.
            run("DELETE FROM immunization_lot WHERE id = %s", [world.spare_lot.pk])
            deleted.set()
            assert finish.wait(30)

    deleter = Session(delete).begin()
    assert deleted.wait(30)

    def insert():
        with transaction.atomic():
            raw_insert(full_record(world, lot_id=world.spare_lot.pk))

    inserter = Session(insert).begin()
    if postgresql():
        # The deleter holds SHARE on the record table until it ends: the insert waits, then checks.
        assert lock_awaited(inserter) == ("RowExclusiveLock", RECORDS)
        finish.set()
        deleter.join(30), inserter.join(30)
        assert deleter.error is None
        assert isinstance(inserter.error, IntegrityError)
        assert_refused(inserter.error, "lot_id")
    else:
        inserter.join(30)
        assert isinstance(inserter.error, OperationalError) and "locked" in str(inserter.error)
        finish.set()
        deleter.join(30)
        assert deleter.error is None
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            raw_insert(full_record(world, lot_id=world.spare_lot.pk))
        assert_refused(refused.value)
    assert not VaccinationRecord.objects.exists()
    assert not Lot.objects.filter(pk=world.spare_lot.pk).exists()


def test_an_old_snapshot_cannot_insert_a_pointer_to_a_row_deleted_since(world):
    """REPEATABLE READ on PostgreSQL: the insert's snapshot still shows the lot, so the check locks the
    rows it finds (FOR KEY SHARE) and PostgreSQL reports the concurrent delete as a serialization
    failure. SQLite lets nobody delete what an open transaction has read."""
    looked, finish = threading.Event(), threading.Event()

    def insert():
        with transaction.atomic():
            if postgresql():
                run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            assert Lot.objects.filter(pk=world.spare_lot.pk).exists()  # the snapshot is taken
            looked.set()
            assert finish.wait(30)
            raw_insert(full_record(world, lot_id=world.spare_lot.pk))

    inserter = Session(insert).begin()
    assert looked.wait(30)
    if postgresql():
        delete_lot(world.spare_lot.pk)
        finish.set()
        inserter.join(30)
        import psycopg

        assert isinstance(inserter.error, OperationalError)
        assert isinstance(inserter.error.__cause__, psycopg.errors.SerializationFailure)
        assert not Lot.objects.filter(pk=world.spare_lot.pk).exists()
        assert not VaccinationRecord.objects.exists()
    else:
        with pytest.raises(OperationalError, match="locked"):
            delete_lot(world.spare_lot.pk)
        finish.set()
        inserter.join(30)
        assert inserter.error is None
        assert VaccinationRecord.objects.get().lot_id == world.spare_lot.pk
