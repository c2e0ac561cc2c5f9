"""Provenance: the editorial log (Change), API key owners, publication kinds and the reviewer's
name, and who drafted a method version.

Existing API keys are given their creator as owner; a key without a known creator is revoked
(its writes could be attributed to nobody)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone


def keys_get_owners(apps, schema_editor):
    ApiKey = apps.get_model("projects", "ApiKey")
    for key in ApiKey.objects.filter(owner__isnull=True):
        if key.created_by_id is not None:
            key.owner_id = key.created_by_id
        elif key.revoked_at is None:
            key.revoked_at = timezone.now()
        key.save(update_fields=["owner", "revoked_at"])


def reviewers_read_the_audit_log(apps, schema_editor):
    """Reviewers and administrators read django-auditlog's log (it was superusers' only)."""
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("auditlog")
    config.models_module = True  # a migration's app stub; create_permissions asks for it
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    view = Permission.objects.filter(content_type__app_label="auditlog", codename="view_logentry")
    for group in Group.objects.filter(name__in=["reviewer", "administrator"]):
        group.permissions.add(*view)


def publications_name_reviewers(apps, schema_editor):
    Publication = apps.get_model("projects", "Publication")
    for publication in Publication.objects.filter(published_by__isnull=False).select_related("published_by"):
        publication.published_by_name = publication.published_by.username
        publication.save(update_fields=["published_by_name"])


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0021_project_version"),
        ("auditlog", "0017_add_actor_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Change",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("created", "project created"),
                            ("fact", "fact changed"),
                            ("rating", "rating changed"),
                            ("operator", "operator changed"),
                            ("publication", "published"),
                            ("withdrawal", "withdrawn"),
                            ("republication", "republished under a new method"),
                        ],
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                (
                    "subject",
                    models.CharField(
                        blank=True,
                        help_text="The field or the criterion code.",
                        max_length=100,
                        verbose_name="subject",
                    ),
                ),
                ("old", models.JSONField(blank=True, null=True, verbose_name="before")),
                ("new", models.JSONField(blank=True, null=True, verbose_name="after")),
                ("actor_name", models.CharField(max_length=150, verbose_name="actor's name")),
                (
                    "channel",
                    models.CharField(
                        choices=[
                            ("admin", "admin"),
                            ("api", "API"),
                            ("import", "import"),
                            ("task", "task"),
                            ("shell", "shell"),
                        ],
                        max_length=10,
                        verbose_name="channel",
                    ),
                ),
                (
                    "at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="when"
                    ),
                ),
                (
                    "actor",
                    models.ForeignKey(
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="actor",
                    ),
                ),
                (
                    "api_key",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="projects.apikey",
                        verbose_name="API key",
                    ),
                ),
                (
                    "operator",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="change_log",
                        to="projects.operator",
                        verbose_name="operator",
                    ),
                ),
                (
                    "project",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="change_log",
                        to="projects.project",
                        verbose_name="project",
                    ),
                ),
                (
                    "publication",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="projects.publication",
                        verbose_name="publication",
                    ),
                ),
            ],
            options={
                "verbose_name": "change",
                "verbose_name_plural": "changes",
                "ordering": ["-id"],
                "indexes": [models.Index(fields=["project", "id"], name="change_project_order")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            (
                                "kind__in",
                                [
                                    "created",
                                    "fact",
                                    "rating",
                                    "operator",
                                    "publication",
                                    "withdrawal",
                                    "republication",
                                ],
                            )
                        ),
                        name="change_kind_known",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("channel__in", ["admin", "api", "import", "task", "shell"])),
                        name="change_channel_known",
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="apikey",
            name="owner",
            field=models.ForeignKey(
                help_text="The staff member the key acts for: its writes are recorded as theirs.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="api_keys",
                to=settings.AUTH_USER_MODEL,
                verbose_name="owner",
            ),
        ),
        migrations.RunPython(keys_get_owners, migrations.RunPython.noop),
        migrations.AddField(
            model_name="publication",
            name="kind",
            field=models.CharField(
                choices=[
                    ("publication", "publication"),
                    ("withdrawal", "withdrawal"),
                    ("republication", "automatic republication under a new method"),
                ],
                db_index=True,
                db_default="publication",
                max_length=15,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="publication",
            name="published_by_name",
            field=models.CharField(blank=True, db_default="", max_length=150, verbose_name="published by (name)"),
        ),
        migrations.RunPython(publications_name_reviewers, migrations.RunPython.noop),
        migrations.RunPython(reviewers_read_the_audit_log, migrations.RunPython.noop),
        migrations.AddField(
            model_name="methodology",
            name="released_by",
            field=models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="released by"),
        ),
        migrations.AddField(
            model_name="methodology",
            name="drafted_by",
            field=models.ForeignKey(
                blank=True,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="drafted by",
            ),
        ),
    ]
