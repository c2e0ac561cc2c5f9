"""Project versions: a counter moved by every change to a project's facts or working ratings,
carried by the API's ETag and the admin form so that no write made from an older reading wins."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("projects", "0020_field_rules")]

    operations = [
        migrations.AddField(
            model_name="project",
            name="version",
            field=models.PositiveBigIntegerField(default=1, editable=False, verbose_name="version"),
        ),
    ]
