import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("projects", "0018_assessment_project_index")]

    operations = [
        migrations.AddField(
            model_name="rescorejob",
            name="watch_token",
            field=models.CharField(blank=True, editable=False, max_length=32, verbose_name="watchdog token"),
        ),
        migrations.AddField(
            model_name="rescorejob",
            name="watched_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last watchdog round"),
        ),
        migrations.CreateModel(
            name="RescoreChunk",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("first_id", models.BigIntegerField(verbose_name="first project id")),
                ("last_id", models.BigIntegerField(verbose_name="last project id")),
                (
                    "state",
                    models.CharField(
                        choices=[
                            ("queued", "Queued"),
                            ("running", "Running"),
                            ("done", "Done"),
                            ("failed", "Failed"),
                        ],
                        default="queued",
                        max_length=10,
                        verbose_name="state",
                    ),
                ),
                (
                    "attempts",
                    models.PositiveSmallIntegerField(
                        default=0, help_text="Times a worker took this chunk.", verbose_name="attempts"
                    ),
                ),
                (
                    "worker",
                    models.CharField(
                        blank=True, help_text="host:process id", max_length=100, verbose_name="worker"
                    ),
                ),
                ("claim", models.CharField(blank=True, editable=False, max_length=32, verbose_name="claim")),
                ("claimed_at", models.DateTimeField(blank=True, null=True, verbose_name="taken")),
                (
                    "heartbeat_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="last sign of life"),
                ),
                (
                    "lease_expires_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="lease expires"),
                ),
                ("task_id", models.CharField(blank=True, max_length=64, verbose_name="task")),
                ("projects", models.PositiveIntegerField(default=0, verbose_name="projects rescored")),
                ("changed", models.PositiveIntegerField(default=0, verbose_name="new score cards")),
                (
                    "republished",
                    models.PositiveIntegerField(default=0, verbose_name="publications under the new method"),
                ),
                ("error", models.TextField(blank=True, verbose_name="error")),
                ("finished_at", models.DateTimeField(blank=True, null=True, verbose_name="finished")),
                (
                    "job",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="chunk_rows",
                        to="projects.rescorejob",
                        verbose_name="job",
                    ),
                ),
            ],
            options={
                "verbose_name": "rescoring chunk",
                "verbose_name_plural": "rescoring chunks",
                "ordering": ["job", "first_id"],
                "indexes": [
                    models.Index(fields=["state", "lease_expires_at"], name="rescore_chunk_lease_idx")
                ],
                "constraints": [
                    models.UniqueConstraint(fields=("job", "first_id"), name="rescore_chunk_unique_range")
                ],
            },
        ),
    ]
