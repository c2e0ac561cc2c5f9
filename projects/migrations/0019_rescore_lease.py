from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("projects", "0018_assessment_project_index")]

    operations = []
