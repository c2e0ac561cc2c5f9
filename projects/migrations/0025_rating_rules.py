"""Administrators unlock accounts: they see django-axes's records of failed logins and delete
them (deleting a user's access attempt lifts the lockout), which only superusers could before.

The new rating rules (a source link for grades A and B, a justification and no grade for "not
applicable") apply on write, in the model and every channel: stored ratings are not touched.
"""

from django.db import migrations

# View and delete: an attempt is never added or edited by hand.
UNLOCK = [
    "view_accessattempt",
    "delete_accessattempt",
    "view_accessfailurelog",
    "delete_accessfailurelog",
    "view_accesslog",
]


def administrators_unlock(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    config = apps.get_app_config("axes")
    config.models_module = True  # a migration's app stub; create_permissions asks for it
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name="administrator")
    administrator.permissions.add(
        *Permission.objects.filter(content_type__app_label="axes", codename__in=UNLOCK)
    )


def administrators_do_not_unlock(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for group in Group.objects.filter(name="administrator"):
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="axes", codename__in=UNLOCK)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0023_draft_facts"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("axes", "0010_accessattemptexpiration"),
    ]

    operations = [migrations.RunPython(administrators_unlock, administrators_do_not_unlock)]
