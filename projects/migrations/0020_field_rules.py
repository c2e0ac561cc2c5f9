from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("projects", "0019_rescore_lease")]

    operations = []
