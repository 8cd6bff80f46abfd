"""Records: the full record items, masters (makers, products, lots, clinics with fees, doctors),
source files, versions and four-eyes changes."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("addressee", "0004_protection_and_non_residents"),
        ("immunization", "0005_notices"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Lot",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("lot_number", models.CharField(max_length=30, verbose_name="Lot")),
                ("expires_on", models.DateField(verbose_name="有効期限")),
            ],
            options={
                "ordering": ["product", "expires_on"],
            },
        ),
        migrations.CreateModel(
            name="Maker",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=20, unique=True)),
                ("name", models.CharField(max_length=100, verbose_name="ワクチンメーカー")),
            ],
            options={
                "ordering": ["code"],
            },
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="antibody_test",
            field=models.CharField(blank=True, max_length=200, verbose_name="抗体価検査"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="billing_month",
            field=models.DateField(blank=True, null=True, verbose_name="請求年月"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="delivery",
            field=models.CharField(
                choices=[("individual", "個別"), ("group", "集団")],
                default="individual",
                max_length=12,
                verbose_name="実施区分",
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="detailed_exam_result",
            field=models.CharField(blank=True, max_length=200, verbose_name="精密検査結果"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="doctor_decision",
            field=models.CharField(
                blank=True,
                choices=[("give", "接種可"), ("defer", "見合わせ"), ("refuse", "接種不可")],
                max_length=10,
                verbose_name="医師の判断",
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="double_redness_long_mm",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="二重発赤 反応長径"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="double_redness_short_mm",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="二重発赤 反応短径"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="fee_yen",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="委託料（円）"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="findings",
            field=models.TextField(blank=True, verbose_name="所見"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="flag_note",
            field=models.TextField(blank=True, verbose_name="確認メモ"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="flag_reasons",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="flagged",
            field=models.BooleanField(default=False, verbose_name="間違い接種の疑い"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="induration_long_mm",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="硬結 反応長径"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="induration_short_mm",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="硬結 反応短径"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="insurance_category",
            field=models.CharField(blank=True, max_length=20, verbose_name="受診時国保区分"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="legal_category",
            field=models.CharField(
                choices=[
                    ("routine", "定期"),
                    ("temporary", "臨時"),
                    ("specific", "特定接種"),
                    ("resident", "住民接種"),
                    ("voluntary", "任意"),
                ],
                default="routine",
                max_length=12,
                verbose_name="法定区分",
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="maker_name",
            field=models.CharField(blank=True, max_length=100, verbose_name="ワクチンメーカー"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="not_vaccinated_reason",
            field=models.CharField(blank=True, max_length=200, verbose_name="未接種理由"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="payment",
            field=models.CharField(
                choices=[("public", "公費"), ("partial", "一部自己負担"), ("self", "自費")],
                default="public",
                max_length=10,
                verbose_name="公費自費区分",
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="previous_vaccine_check",
            field=models.CharField(blank=True, max_length=100, verbose_name="HPV過去ワクチン確認結果"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="product_name",
            field=models.CharField(blank=True, max_length=100, verbose_name="ワクチン名"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="reaction_judgement",
            field=models.CharField(blank=True, max_length=50, verbose_name="判定"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="redness_long_mm",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="発赤 反応長径"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="redness_short_mm",
            field=models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="発赤 反応短径"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="registered_branch",
            field=models.CharField(blank=True, max_length=50, verbose_name="登録支所"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="registered_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="remarks",
            field=models.TextField(blank=True, verbose_name="特記事項"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="screening_doctor_name",
            field=models.CharField(blank=True, max_length=50, verbose_name="問診医"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="screening_only",
            field=models.BooleanField(default=False, verbose_name="予診のみ"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="source_row",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="status",
            field=models.CharField(
                choices=[("active", "有効"), ("superseded", "重複（他の記録に統合）"), ("deleted", "削除")],
                default="active",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="superseded_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.vaccinationrecord",
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="ticket_number",
            field=models.CharField(blank=True, db_index=True, max_length=30, verbose_name="接種券番号"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="updated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="vaccinating_doctor_name",
            field=models.CharField(blank=True, max_length=50, verbose_name="接種医"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="venue",
            field=models.CharField(blank=True, max_length=100, verbose_name="接種会場"),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="version",
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="volume_ml",
            field=models.DecimalField(
                blank=True, decimal_places=2, max_digits=5, null=True, verbose_name="接種量 (mL)"
            ),
        ),
        migrations.AlterField(
            model_name="vaccinationrecord",
            name="source",
            field=models.CharField(
                choices=[
                    ("synthetic", "合成データ"),
                    ("manual", "手入力"),
                    ("clinic_file", "医療機関ファイル"),
                    ("fhir", "FHIR"),
                    ("migration", "移行データ"),
                ],
                max_length=20,
            ),
        ),
        migrations.CreateModel(
            name="Clinic",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=10, unique=True, verbose_name="医療機関コード")),
                ("name", models.CharField(max_length=100, verbose_name="医療機関名")),
                (
                    "name_kana",
                    models.CharField(blank=True, max_length=200, verbose_name="医療機関名（カナ）"),
                ),
                ("address", models.CharField(blank=True, max_length=200, verbose_name="所在地")),
                ("contract_from", models.DateField(verbose_name="契約開始日")),
                ("contract_to", models.DateField(blank=True, null=True, verbose_name="契約終了日")),
            ],
            options={
                "ordering": ["code"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("contract_to__isnull", True),
                            ("contract_to__gte", models.F("contract_from")),
                            _connector="OR",
                        ),
                        name="clinic_contract_period",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="clinic",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="records",
                to="immunization.clinic",
            ),
        ),
        migrations.CreateModel(
            name="ClinicFee",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("dose_number", models.PositiveSmallIntegerField(default=0, verbose_name="接種回 (0=全回)")),
                ("fee_yen", models.PositiveIntegerField(verbose_name="委託料（円）")),
                ("valid_from", models.DateField(verbose_name="適用開始日")),
                (
                    "clinic",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="fees",
                        to="immunization.clinic",
                    ),
                ),
                (
                    "vaccine",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="immunization.vaccine",
                    ),
                ),
            ],
            options={
                "ordering": ["clinic", "vaccine", "dose_number", "valid_from"],
            },
        ),
        migrations.CreateModel(
            name="Doctor",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50, verbose_name="医師名")),
                ("name_kana", models.CharField(blank=True, max_length=100, verbose_name="医師名（カナ）")),
                ("active", models.BooleanField(default=True)),
                (
                    "clinic",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="doctors",
                        to="immunization.clinic",
                    ),
                ),
            ],
            options={
                "ordering": ["clinic", "name_kana", "name"],
            },
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="screening_doctor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.doctor",
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="vaccinating_doctor",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.doctor",
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="lot",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.lot",
            ),
        ),
        migrations.CreateModel(
            name="Product",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("code", models.CharField(max_length=30, unique=True)),
                ("name", models.CharField(max_length=100, verbose_name="販売名")),
                ("hot_code", models.CharField(blank=True, max_length=13, verbose_name="HOTコード")),
                (
                    "standard_volume_ml",
                    models.DecimalField(
                        blank=True, decimal_places=2, max_digits=5, null=True, verbose_name="標準接種量 (mL)"
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                (
                    "maker",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="products",
                        to="immunization.maker",
                    ),
                ),
                (
                    "vaccine",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="products",
                        to="immunization.vaccine",
                    ),
                ),
            ],
            options={
                "ordering": ["vaccine__sort_order", "code"],
            },
        ),
        migrations.AddField(
            model_name="lot",
            name="product",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="lots", to="immunization.product"
            ),
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="product",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="immunization.product",
            ),
        ),
        migrations.CreateModel(
            name="RecordChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("kind", models.CharField(choices=[("correct", "訂正"), ("delete", "削除")], max_length=10)),
                ("proposed", models.JSONField(default=dict)),
                ("reason", models.TextField(verbose_name="理由")),
                ("based_on", models.PositiveIntegerField()),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "確認待ち"),
                            ("confirmed", "確認済"),
                            ("rejected", "差戻し"),
                            ("withdrawn", "取下げ"),
                        ],
                        default="pending",
                        max_length=10,
                    ),
                ),
                ("proposed_at", models.DateTimeField(auto_now_add=True)),
                ("decided_at", models.DateTimeField(blank=True, null=True)),
                ("rejection_reason", models.TextField(blank=True, verbose_name="差戻し理由")),
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
                    "proposed_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "record",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="changes",
                        to="immunization.vaccinationrecord",
                    ),
                ),
            ],
            options={
                "ordering": ["proposed_at", "pk"],
                "permissions": [
                    ("confirm_recordchange", "Can confirm a correction or deletion of a vaccination record")
                ],
            },
        ),
        migrations.CreateModel(
            name="RecordVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField()),
                ("status", models.CharField(max_length=12)),
                ("data", models.JSONField()),
                ("replaced_at", models.DateTimeField(auto_now_add=True)),
                (
                    "change",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="immunization.recordchange",
                    ),
                ),
                (
                    "record",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="versions",
                        to="immunization.vaccinationrecord",
                    ),
                ),
            ],
            options={
                "ordering": ["record", "version"],
            },
        ),
        migrations.CreateModel(
            name="SourceFile",
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
                        choices=[("clinic_csv", "医療機関CSV"), ("fhir_bundle", "FHIR Bundle")], max_length=20
                    ),
                ),
                ("file_name", models.CharField(max_length=255)),
                ("sha256", models.CharField(max_length=64, unique=True)),
                ("size_bytes", models.PositiveBigIntegerField()),
                ("encoding", models.CharField(blank=True, max_length=20)),
                ("billing_month", models.DateField(blank=True, null=True, verbose_name="請求年月")),
                ("row_count", models.PositiveIntegerField(default=0)),
                (
                    "status",
                    models.CharField(
                        choices=[("preview", "確認中"), ("committed", "取込済"), ("rejected", "取消")],
                        default="preview",
                        max_length=10,
                    ),
                ),
                ("uploaded_at", models.DateTimeField(auto_now_add=True)),
                ("committed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "clinic",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="immunization.clinic",
                    ),
                ),
                (
                    "uploaded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="vaccinationrecord",
            name="source_file",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="records",
                to="immunization.sourcefile",
            ),
        ),
        migrations.AddConstraint(
            model_name="vaccinationrecord",
            constraint=models.UniqueConstraint(
                condition=models.Q(("screening_only", False), ("status", "active")),
                fields=("person", "vaccine", "vaccinated_on"),
                name="vaccination_dose_identity",
            ),
        ),
        migrations.AddConstraint(
            model_name="vaccinationrecord",
            constraint=models.UniqueConstraint(
                condition=models.Q(("source_file__isnull", False)),
                fields=("source_file", "source_row"),
                name="vaccination_source_row_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="vaccinationrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("volume_ml__isnull", True), ("volume_ml__gt", 0), _connector="OR"),
                name="vaccination_volume_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="vaccinationrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("dose_number__gte", 1)), name="vaccination_dose_number_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="vaccinationrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("status", "superseded"), ("superseded_by__isnull", True), _connector="OR"
                ),
                name="vaccination_superseded_by_only_when_superseded",
            ),
        ),
        migrations.AddConstraint(
            model_name="clinicfee",
            constraint=models.UniqueConstraint(
                fields=("clinic", "vaccine", "dose_number", "valid_from"), name="clinic_fee_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="product",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("standard_volume_ml__isnull", True), ("standard_volume_ml__gt", 0), _connector="OR"
                ),
                name="product_volume_positive",
            ),
        ),
        migrations.AddIndex(
            model_name="lot",
            index=models.Index(fields=["lot_number"], name="immunizatio_lot_num_b64372_idx"),
        ),
        migrations.AddConstraint(
            model_name="lot",
            constraint=models.UniqueConstraint(fields=("product", "lot_number"), name="lot_unique"),
        ),
        migrations.AddConstraint(
            model_name="recordchange",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("record",),
                name="record_change_one_pending",
            ),
        ),
        migrations.AddConstraint(
            model_name="recordchange",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "rejected"), _negated=True),
                    models.Q(("rejection_reason", ""), _negated=True),
                    _connector="OR",
                ),
                name="record_change_rejection_reason",
            ),
        ),
        migrations.AddConstraint(
            model_name="recordversion",
            constraint=models.UniqueConstraint(fields=("record", "version"), name="record_version_unique"),
        ),
    ]
