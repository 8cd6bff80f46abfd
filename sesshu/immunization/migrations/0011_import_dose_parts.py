"""A clinic file's rows keep their own part (who) and point to their dose part, stored once per file
(ImportDose): a 100,000-row file has a few thousand distinct dose parts, and each row used to carry
its own copy (about 700 bytes of JSON a row, written at the upload and again at the commit).

Rows already stored are split the same way: the who keys stay with the row, the rest of its values
goes to one ImportDose per distinct dose part of its file.

The import rows' foreign keys, the new one included, are then checked once per statement on
PostgreSQL, as the records' are since 0010 (sesshu/core/statement_foreign_keys.py)."""

import json

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from sesshu.core.statement_foreign_keys import StatementLevelForeignKeys

WHO = ("ticket_number", "name_kana", "name", "address", "sex", "birth_date")


BATCH = 2000


def split_rows(apps, schema_editor):
    ImportRow = apps.get_model("immunization", "ImportRow")
    ImportDose = apps.get_model("immunization", "ImportDose")
    doses: dict[tuple[int, str], int] = {}
    batch = []
    for row in ImportRow.objects.order_by("source_file_id", "row_number").iterator(chunk_size=BATCH):
        values = row.who or {}
        dose = {k: v for k, v in values.items() if k not in WHO}
        key = (row.source_file_id, json.dumps(dose, sort_keys=True))
        if key not in doses:
            doses[key] = ImportDose.objects.create(source_file_id=row.source_file_id, values=dose).pk
        row.who = {k: values[k] for k in WHO if k in values}
        row.dose_id = doses[key]
        batch.append(row)
        if len(batch) == BATCH:
            ImportRow.objects.bulk_update(batch, ["who", "dose"])
            batch = []
    ImportRow.objects.bulk_update(batch, ["who", "dose"])


def merge_rows(apps, schema_editor):
    ImportRow = apps.get_model("immunization", "ImportRow")
    ImportDose = apps.get_model("immunization", "ImportDose")
    values = dict(ImportDose.objects.values_list("pk", "values"))
    batch = []
    for row in ImportRow.objects.iterator(chunk_size=BATCH):
        row.who = {**(row.who or {}), **values.get(row.dose_id, {})}
        batch.append(row)
        if len(batch) == BATCH:
            ImportRow.objects.bulk_update(batch, ["who"])
            batch = []
    ImportRow.objects.bulk_update(batch, ["who"])


class Migration(migrations.Migration):
    dependencies = [
        ("addressee", "0004_protection_and_non_residents"),
        ("immunization", "0010_statement_level_foreign_keys"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportDose",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("values", models.JSONField(default=dict)),
                (
                    "source_file",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="import_doses",
                        to="immunization.sourcefile",
                    ),
                ),
            ],
        ),
        migrations.RenameField(model_name="importrow", old_name="values", new_name="who"),
        migrations.AddField(
            model_name="importrow",
            name="dose",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rows",
                to="immunization.importdose",
            ),
        ),
        migrations.RunPython(split_rows, merge_rows, elidable=True),
        migrations.AlterField(
            model_name="importrow",
            name="dose",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="rows",
                to="immunization.importdose",
            ),
        ),
        StatementLevelForeignKeys(
            "importrow", fields=["source_file", "person", "record", "decided_by", "dose"]
        ),
    ]
