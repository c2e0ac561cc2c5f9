from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("projects", "0020_field_rules")]

    operations = []
