import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("immunization", "0003_moveinhistorycheck"),
        ("addressee", "0004_protection_and_non_residents"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LongTermCareException",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("series", models.CharField(max_length=20, verbose_name="対象の接種（シリーズ）")),
                ("reason", models.CharField(max_length=200, verbose_name="特別の事情（疾病名等）")),
                ("illness_from", models.DateField(verbose_name="特別の事情の開始日")),
                ("illness_until", models.DateField(verbose_name="特別の事情がなくなった日")),
                ("recorded_at", models.DateTimeField(auto_now_add=True, verbose_name="記録日時")),
                (
                    "person",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="long_term_care_exceptions",
                        to="addressee.person",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "長期療養特例 (long-term illness exception)",
                "indexes": [models.Index(fields=["person"], name="immunizatio_person__c3dfbb_idx")],
            },
        ),
    ]
