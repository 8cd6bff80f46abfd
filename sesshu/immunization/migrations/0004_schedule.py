from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("immunization", "0003_moveinhistorycheck")]

    operations: list = []
