"""Administrators manage webhook subscriptions and redeliver deliveries in the admin (the
roles of 0006 were given the permissions of the models that existed then)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSIONS = [
    *(f"{action}_webhooksubscription" for action in ("view", "add", "change", "delete")),
    "view_webhookdelivery",
    "change_webhookdelivery",  # redeliver
    "view_webhookattempt",
    "view_webhookevent",
]


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name="administrator")
    administrator.permissions.add(
        *Permission.objects.filter(content_type__app_label="projects", codename__in=PERMISSIONS)
    )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="projects", codename__in=PERMISSIONS)
        )


class Migration(migrations.Migration):
    dependencies = [("projects", "0038_webhook_deliveries")]
    operations = [migrations.RunPython(grant, revoke)]
