"""Certificates: the issuance register (VaccinationCertificate) and passport data kept with it."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("addressee", "0004_protection_and_non_residents"),
        ("immunization", "0006_records"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="VaccinationCertificate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("certificate_id", models.CharField(max_length=24, unique=True, verbose_name="証明書ID")),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("completion", "予防接種済証"),
                            ("domestic", "接種証明書（日本国内用）"),
                            ("overseas", "接種証明書（海外用）"),
                        ],
                        max_length=12,
                    ),
                ),
                ("issued_at", models.DateTimeField(verbose_name="証明書発行年月日")),
                ("contents", models.JSONField(default=dict)),
                ("key_id", models.CharField(blank=True, max_length=64, verbose_name="署名鍵")),
                ("jws", models.TextField(blank=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                ("revocation_reason", models.TextField(blank=True, verbose_name="失効理由")),
                (
                    "issued_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="certificates",
                        to="addressee.person",
                    ),
                ),
                (
                    "records",
                    models.ManyToManyField(related_name="certificates", to="immunization.vaccinationrecord"),
                ),
                (
                    "revoked_by",
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
                "verbose_name": "接種証明書 (vaccination certificate)",
                "ordering": ["-issued_at", "-id"],
                "permissions": [
                    ("issue_certificate", "Can issue vaccination certificates (予防接種済証・接種証明書)"),
                    ("revoke_certificate", "Can revoke a vaccination certificate"),
                ],
                "indexes": [models.Index(fields=["person", "issued_at"], name="certificate_person_issued")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("revoked_at__isnull", True),
                            models.Q(("revocation_reason", ""), _negated=True),
                            _connector="OR",
                        ),
                        name="certificate_revocation_reason",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="CertificatePassport",
            fields=[
                (
                    "certificate",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="passport",
                        serialize=False,
                        to="immunization.vaccinationcertificate",
                    ),
                ),
                ("family_name_latin", models.CharField(max_length=60, verbose_name="ローマ字氏名（姓）")),
                (
                    "given_name_latin",
                    models.CharField(blank=True, max_length=60, verbose_name="ローマ字氏名（名）"),
                ),
                ("nationality", models.CharField(max_length=3, verbose_name="国籍")),
                ("passport_number", models.CharField(max_length=20, verbose_name="旅券番号")),
                (
                    "other_names",
                    models.CharField(blank=True, max_length=100, verbose_name="旧姓・別姓・別名"),
                ),
            ],
        ),
    ]
