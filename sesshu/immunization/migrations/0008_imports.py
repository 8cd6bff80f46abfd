"""Imports: the rows of a clinic's monthly file between preview and commit (ImportRow)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("addressee", "0004_protection_and_non_residents"),
        ("immunization", "0007_certificates"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ImportRow",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("row_number", models.PositiveIntegerField()),
                ("values", models.JSONField(default=dict)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("matched", "照合済"),
                            ("doubt", "要確認"),
                            ("error", "エラー"),
                            ("duplicate", "登録済（重複）"),
                            ("imported", "取込済"),
                            ("rejected", "取込まない"),
                        ],
                        max_length=10,
                    ),
                ),
                ("problems", models.JSONField(blank=True, default=list)),
                ("candidates", models.JSONField(blank=True, default=list)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="addressee.person",
                    ),
                ),
                (
                    "record",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="immunization.vaccinationrecord",
                    ),
                ),
                (
                    "source_file",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="import_rows",
                        to="immunization.sourcefile",
                    ),
                ),
            ],
            options={
                "ordering": ["source_file", "row_number"],
                "indexes": [models.Index(fields=["status"], name="immunizatio_status_225a47_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("source_file", "row_number"), name="import_row_unique")
                ],
            },
        ),
    ]
