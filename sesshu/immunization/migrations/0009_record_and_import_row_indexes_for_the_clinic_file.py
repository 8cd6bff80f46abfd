"""Fewer indexes on the record and import row tables (a clinic file of 100,000 rows writes each one
100,000 times, and the commit's status update again): only those reads use (person, file, id, the
review queue); the foreign keys nobody looks up by keep their constraint, without an index, and the
mostly empty ones get a partial index (nothing written for NULL)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("addressee", "0004_protection_and_non_residents"),
        ("immunization", "0008_imports"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="importrow",
            name="immunizatio_status_225a47_idx",
        ),
        migrations.AlterField(
            model_name="importrow",
            name="decided_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="importrow",
            name="person",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="addressee.person",
            ),
        ),
        migrations.AlterField(
            model_name="importrow",
            name="record",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.vaccinationrecord",
            ),
        ),
        migrations.AlterField(
            model_name="importrow",
            name="source_file",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="import_rows",
                to="immunization.sourcefile",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="clinic",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="records",
                to="immunization.clinic",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="lot",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.lot",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="person",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="vaccinations",
                to="addressee.person",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="product",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.product",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="registered_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="screening_doctor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.doctor",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="source_file",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="records",
                to="immunization.sourcefile",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="superseded_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.vaccinationrecord",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="ticket_number",
            field=models.CharField(blank=True, max_length=30, verbose_name="接種券番号"),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="vaccinating_doctor",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.doctor",
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="vaccine",
            field=models.ForeignKey(
                db_index=False, on_delete=django.db.models.deletion.PROTECT, to="immunization.vaccine"
            ),
        ),
        migrations.AddIndex(
            model_name="importrow",
            index=models.Index(
                condition=models.Q(("status", "doubt")),
                fields=["source_file", "row_number"],
                name="import_row_doubt",
            ),
        ),
        migrations.AddIndex(
            model_name="importrow",
            index=models.Index(
                condition=models.Q(("record__isnull", False)), fields=["record"], name="import_row_record"
            ),
        ),
        migrations.AddIndex(
            model_name="importrow",
            index=models.Index(
                condition=models.Q(("decided_by__isnull", False)),
                fields=["decided_by"],
                name="import_row_decided_by",
            ),
        ),
        migrations.AddIndex(
            model_name="vaccinationrecord",
            index=models.Index(
                condition=models.Q(("screening_doctor__isnull", False)),
                fields=["screening_doctor"],
                name="vaccination_screening_doctor",
            ),
        ),
        migrations.AddIndex(
            model_name="vaccinationrecord",
            index=models.Index(
                condition=models.Q(("vaccinating_doctor__isnull", False)),
                fields=["vaccinating_doctor"],
                name="vaccination_vaccinating_doctor",
            ),
        ),
        migrations.AddIndex(
            model_name="vaccinationrecord",
            index=models.Index(
                condition=models.Q(("superseded_by__isnull", False)),
                fields=["superseded_by"],
                name="vaccination_superseded_by",
            ),
        ),
    ]
