"""Draft facts: a published project's changed facts, and a public operator's changes, wait in
pending_facts for a reviewer's publication; former slugs redirect to the project."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("projects", "0022_provenance")]

    operations = [
        migrations.AddField(
            model_name="operator",
            name="pending_facts",
            field=models.JSONField(blank=True, default=dict, editable=False, verbose_name="unpublished changes"),
        ),
        migrations.AddField(
            model_name="project",
            name="pending_facts",
            field=models.JSONField(
                blank=True, default=dict, editable=False, verbose_name="unpublished changes of facts"
            ),
        ),
        migrations.CreateModel(
            name="SlugRedirect",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("old_slug", models.SlugField(max_length=100, unique=True, verbose_name="former slug")),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "project",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="former_slugs",
                        to="projects.project",
                        verbose_name="project",
                    ),
                ),
            ],
            options={"verbose_name": "former slug", "verbose_name_plural": "former slugs"},
        ),
    ]
