from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class ProjectsConfig(AppConfig):
    default = True

    name = "projects"
    verbose_name = _("Space-resource projects")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from projects.audit import register_audited_models

        register_audited_models()


class SdgscoreAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with sdgscore's admin site (optional TOTP) as the default site."""

    default = False
    default_site = "projects.admin_site.SdgscoreAdminSite"
