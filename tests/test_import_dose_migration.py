"""Migration immunization 0011 splits the clinic-file rows kept before it: each row keeps its who part
and points to its dose part, one per distinct dose part of its file; going back merges them again.
A city upgrading with files in preview must find them as they were (same values, same statuses)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from sesshu.immunization.models import ImportDose, ImportRow

from .factories import make_staff

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

BEFORE = ("immunization", "0010_statement_level_foreign_keys")
AFTER = ("immunization", "0011_import_dose_parts")
WHO = {"ticket_number": "", "name_kana": "タナカ ショウタ", "name": "田中 翔太", "address": "", "sex": "M"}
JE = {
    "vaccine": "JE",
    "vaccinated_on": "2023-06-01",
    "dose_number": 1,
    "lot_number": "JE001",
    "fee_yen": 8250,
}
MR = {"vaccine": "MR", "vaccinated_on": "2023-06-02", "dose_number": 2, "lot_number": "", "fee_yen": None}


def migrate(target) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor


def test_rows_kept_before_are_split_into_who_and_shared_dose_parts_and_merged_back():
    clerk = make_staff("clerk")
    executor = migrate(BEFORE)
    try:
        old = executor.loader.project_state(BEFORE).apps
        SourceFile = old.get_model("immunization", "SourceFile")
        OldRow = old.get_model("immunization", "ImportRow")
        files = [
            SourceFile.objects.create(
                kind="clinic_csv",
                file_name=f"{n}.csv",
                sha256=str(n) * 64,
                size_bytes=1,
                uploaded_by_id=clerk.pk,
            )
            for n in (1, 2)
        ]
        sent = {  # (file, line) → what the row said, both parts in one JSON as before 0011
            (files[0].pk, 2): {**WHO, "birth_date": "2020-04-01", **JE},
            (files[0].pk, 3): {**WHO, "name": "田中 花", "birth_date": "2019-05-05", **JE},
            (files[0].pk, 4): {**WHO, "birth_date": None, **MR},
            (files[1].pk, 2): {**WHO, "birth_date": "2020-04-01", **JE},
        }
        for (file_id, line), values in sent.items():
            OldRow.objects.create(
                source_file_id=file_id,
                row_number=line,
                values=values,
                status="matched" if line < 4 else "error",
            )
        migrate(AFTER)

        rows = {(r.source_file_id, r.row_number): r for r in ImportRow.objects.all()}
        assert {key: row.values for key, row in rows.items()} == sent
        assert rows[(files[0].pk, 2)].who == {**WHO, "birth_date": "2020-04-01"}
        assert rows[(files[0].pk, 4)].status == "error"
        # One dose part per distinct dose part of a file: rows 2 and 3 of the first file share JE.
        assert rows[(files[0].pk, 2)].dose_id == rows[(files[0].pk, 3)].dose_id
        assert rows[(files[0].pk, 2)].dose_id != rows[(files[1].pk, 2)].dose_id
        assert ImportDose.objects.count() == 3
        assert ImportDose.objects.get(pk=rows[(files[0].pk, 4)].dose_id).values == MR

        executor = migrate(BEFORE)
        old = executor.loader.project_state(BEFORE).apps
        merged = old.get_model("immunization", "ImportRow").objects.all()
        assert {(r.source_file_id, r.row_number): r.values for r in merged} == sent
    finally:
        migrate(AFTER)
