"""Install scoring method 1.0 from its data file (projects/methodology/1.0.json), published."""

import datetime

from django.db import migrations

from projects.methodology import method_file_data, method_install

VERSION = "1.0"
# Fixed, so that every database holds the same method record.
PUBLISHED_AT = datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc)


def install(apps, schema_editor):
    Methodology = apps.get_model("projects", "Methodology")
    if Methodology.objects.filter(version=VERSION).exists():
        return
    method_install(
        method_file_data(VERSION),
        methodology_model=Methodology,
        criterion_model=apps.get_model("projects", "Criterion"),
        state="published",
        published_at=PUBLISHED_AT,
    )


def uninstall(apps, schema_editor):
    Methodology = apps.get_model("projects", "Methodology")
    Criterion = apps.get_model("projects", "Criterion")
    Criterion.objects.filter(methodology__version=VERSION).delete()
    Methodology.objects.filter(version=VERSION).delete()


class Migration(migrations.Migration):
    dependencies = [("projects", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
