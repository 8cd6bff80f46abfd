"""A clinic file's rows keep their own part (who) and point to their dose part, stored once per file
(ImportDose): a 100,000-row file has a few thousand distinct dose parts, and each row used to carry
its own copy (about 700 bytes of JSON a row, written at the upload and again at the commit).

Rows already stored are split the same way: the who keys stay with the row, the rest of its values
goes to one ImportDose per distinct dose part of its file."""

import json

import django.db.models.deletion
from django.db import migrations, models

WHO = ("ticket_number", "name_kana", "name", "address", "sex", "birth_date")


def split_rows(apps, schema_editor):
    ImportRow = apps.get_model("immunization", "ImportRow")
    ImportDose = apps.get_model("immunization", "ImportDose")
    doses: dict[tuple[int, str], int] = {}
    for row in ImportRow.objects.order_by("source_file_id", "row_number").iterator(chunk_size=2000):
        values = row.who or {}
        dose = {k: v for k, v in values.items() if k not in WHO}
        key = (row.source_file_id, json.dumps(dose, sort_keys=True))
        if key not in doses:
            doses[key] = ImportDose.objects.create(source_file_id=row.source_file_id, values=dose).pk
        row.who = {k: values[k] for k in WHO if k in values}
        row.dose_id = doses[key]
        row.save(update_fields=["who", "dose"])


def merge_rows(apps, schema_editor):
    ImportRow = apps.get_model("immunization", "ImportRow")
    ImportDose = apps.get_model("immunization", "ImportDose")
    values = dict(ImportDose.objects.values_list("pk", "values"))
    for row in ImportRow.objects.iterator(chunk_size=2000):
        row.who = {**(row.who or {}), **values.get(row.dose_id, {})}
        row.save(update_fields=["who"])


class Migration(migrations.Migration):
    dependencies = [
        ("immunization", "0010_statement_level_foreign_keys"),
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
    ]
