"""The three roles as groups: analyst (edits drafts), reviewer (also publishes), administrator."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDIT = ["operator", "project", "assessment"]
READ = ["methodology", "criterion", "scorecard"]


def roles(apps, schema_editor):
    # Permissions are normally created after migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def codenames(*names):
        return Permission.objects.filter(content_type__app_label="projects", codename__in=names)

    analyst = [f"{action}_{model}" for model in EDIT for action in ("view", "add", "change")]
    analyst += [f"view_{model}" for model in READ]
    Group.objects.get_or_create(name="analyst")[0].permissions.set(codenames(*analyst))
    Group.objects.get_or_create(name="reviewer")[0].permissions.set(codenames(*analyst, "publish_project"))
    administrator = Permission.objects.filter(content_type__app_label__in=["projects", "auth", "otp_totp"])
    Group.objects.get_or_create(name="administrator")[0].permissions.set(administrator)


def no_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["analyst", "reviewer", "administrator"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("projects", "0005_publish_permission"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("otp_totp", "0003_add_timestamps"),
    ]
    operations = [migrations.RunPython(roles, no_roles)]
