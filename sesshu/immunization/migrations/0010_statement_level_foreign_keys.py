"""The foreign keys of the vaccination records are checked once per statement instead of once per row
on PostgreSQL: each constraint is replaced by statement-level triggers (sesshu/core/
statement_foreign_keys.py, docs/decisions.md). A clinic file of 100,000 rows spent about a third of
its import in a million single-row checks. SQLite keeps its own foreign keys. (The import rows' keys
follow in 0011, with the row's new dose part.)"""

from django.conf import settings
from django.db import migrations

from sesshu.core.statement_foreign_keys import StatementLevelForeignKeys


class Migration(migrations.Migration):
    dependencies = [
        ("addressee", "0004_protection_and_non_residents"),
        ("immunization", "0009_record_and_import_row_indexes_for_the_clinic_file"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        StatementLevelForeignKeys(
            "vaccinationrecord",
            fields=[
                "person",
                "vaccine",
                "product",
                "lot",
                "clinic",
                "screening_doctor",
                "vaccinating_doctor",
                "source_file",
                "registered_by",
                "superseded_by",
            ],
        ),
    ]
