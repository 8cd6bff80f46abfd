from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("immunization", "0005_notices")]

    operations: list = []
