from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("immunization", "0006_records")]

    operations: list = []
