import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("immunization", "0004_schedule"),
        ("addressee", "0004_protection_and_non_residents"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="TicketCounter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("last_serial", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="ExtractionBatch",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "purpose",
                    models.CharField(
                        choices=[
                            ("notice", "予防接種のお知らせ（接種券・予診票）"),
                            ("reminder", "勧奨通知"),
                        ],
                        max_length=10,
                    ),
                ),
                (
                    "period_kind",
                    models.CharField(choices=[("fiscal_year", "年度"), ("month", "月")], max_length=12),
                ),
                ("period_start", models.DateField(verbose_name="対象期間（開始）")),
                ("period_end", models.DateField(verbose_name="対象期間（終了）")),
                ("series", models.JSONField(default=list)),
                ("key", models.CharField(max_length=300, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "対象者抽出 (extraction batch)",
                "ordering": ["-created_at", "-id"],
                "permissions": [("export_notices", "通知の出力 (print and export notices)")],
            },
        ),
        migrations.CreateModel(
            name="ExtractionRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("number", models.PositiveIntegerField()),
                ("as_of", models.DateField(verbose_name="基準日")),
                ("rules_version", models.CharField(blank=True, max_length=100)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("queued", "待機中"),
                            ("running", "実行中"),
                            ("interrupted", "中断"),
                            ("done", "完了"),
                            ("failed", "失敗（取り消し済み）"),
                            ("rolled_back", "取り消し"),
                        ],
                        default="queued",
                        max_length=12,
                    ),
                ),
                ("persons_total", models.PositiveIntegerField(blank=True, null=True)),
                ("persons_checked", models.PositiveIntegerField(default=0)),
                ("candidates", models.PositiveIntegerField(blank=True, null=True)),
                ("written", models.PositiveIntegerField(default=0)),
                ("error", models.TextField(blank=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("started_at", models.DateTimeField(blank=True, null=True)),
                ("heartbeat_at", models.DateTimeField(blank=True, null=True)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                (
                    "batch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="runs",
                        to="immunization.extractionbatch",
                    ),
                ),
                (
                    "started_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["batch", "number"],
            },
        ),
        migrations.CreateModel(
            name="Notice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("notice", "予防接種のお知らせ（接種券・予診票）"),
                            ("reminder", "勧奨通知"),
                        ],
                        max_length=10,
                    ),
                ),
                ("series", models.CharField(max_length=20, verbose_name="シリーズ")),
                ("dose_number", models.PositiveSmallIntegerField(verbose_name="接種回")),
                ("ticket_number", models.CharField(max_length=16, unique=True, verbose_name="接種券番号")),
                (
                    "status",
                    models.CharField(
                        choices=[("issued", "発行"), ("voided", "無効（再発行済み）")],
                        default="issued",
                        max_length=10,
                    ),
                ),
                ("reason", models.CharField(blank=True, max_length=20)),
                ("age", models.PositiveSmallIntegerField(verbose_name="対象期間末日の年齢")),
                ("earliest", models.DateField(blank=True, null=True)),
                ("recommended_from", models.DateField(blank=True, null=True)),
                ("recommended_until", models.DateField(blank=True, null=True)),
                ("deadline", models.DateField(blank=True, null=True)),
                (
                    "mail_to",
                    models.CharField(
                        choices=[
                            ("home", "住所"),
                            ("alternative", "送付先（支援措置）"),
                            ("held", "送付保留（支援措置・送付先未登録）"),
                        ],
                        max_length=12,
                    ),
                ),
                ("addressee_name", models.CharField(max_length=100)),
                ("addressee_kana", models.CharField(blank=True, max_length=200)),
                ("postal_code", models.CharField(blank=True, max_length=8)),
                ("address", models.CharField(blank=True, max_length=200)),
                ("issued_at", models.DateTimeField()),
                ("reissue_reason", models.CharField(blank=True, max_length=200, verbose_name="再発行の理由")),
                ("voided_at", models.DateTimeField(blank=True, null=True)),
                (
                    "batch",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notices",
                        to="immunization.extractionbatch",
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notices",
                        to="addressee.person",
                    ),
                ),
                (
                    "reissue_of",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="reissued_as",
                        to="immunization.notice",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="notices",
                        to="immunization.extractionrun",
                    ),
                ),
                (
                    "voided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "通知 (notice)",
            },
        ),
        migrations.AddConstraint(
            model_name="extractionrun",
            constraint=models.UniqueConstraint(fields=("batch", "number"), name="extraction_run_number"),
        ),
        migrations.AddIndex(
            model_name="notice",
            index=models.Index(fields=["person", "issued_at"], name="immunizatio_person__0ea5eb_idx"),
        ),
        migrations.AddIndex(
            model_name="notice",
            index=models.Index(fields=["batch", "series", "age"], name="immunizatio_batch_i_249135_idx"),
        ),
        migrations.AddIndex(
            model_name="notice",
            index=models.Index(fields=["run"], name="immunizatio_run_id_6ee714_idx"),
        ),
        migrations.AddConstraint(
            model_name="notice",
            constraint=models.UniqueConstraint(
                condition=models.Q(("reissue_of__isnull", True)),
                fields=("batch", "person", "series"),
                name="notice_once_per_batch",
            ),
        ),
    ]
