from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest


def date_the_last_changes(apps, schema_editor):
    """Each project's last change a write key could see: its public date, or its working card's
    if newer (a rating changed since)."""
    Project = apps.get_model("projects", "Project")
    ScoreCard = apps.get_model("projects", "ScoreCard")
    working = ScoreCard.objects.filter(pk=OuterRef("current_score_id")).values("computed_at")[:1]
    Project.objects.update(changed_at=Greatest(F("updated_at"), Coalesce(Subquery(working), F("updated_at"))))


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0026_review_workflow"),
    ]

    operations = [
        migrations.AddField(
            model_name="project",
            name="changed_at",
            field=models.DateTimeField(auto_now=True, verbose_name="changed"),
        ),
        migrations.RunPython(date_the_last_changes, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="project",
            index=models.Index(fields=["changed_at", "id"], name="project_changed_order"),
        ),
    ]
