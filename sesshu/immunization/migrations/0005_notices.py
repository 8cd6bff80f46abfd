from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("immunization", "0004_schedule")]

    operations: list = []
