from axes.apps import AppConfig as AxesConfig
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.apps import DefaultConfig as TOTPConfig
from django_tasks_db.apps import TasksAppConfig as TasksDatabaseConfig


class ProjectsConfig(AppConfig):
    default = True

    name = "projects"
    verbose_name = _("Space-resource projects")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from projects import checks  # noqa: F401 (registers the deployment checks)
        from projects.api import cors  # noqa: F401 (answers django-cors-headers' signal)
        from projects.audit import register_audited_models
        from projects.freshness import site_changed

        register_audited_models()

        def changed(sender, **kwargs):
            site_changed()

        # What the public sees, or what decides who may read it (keys): each save or deletion
        # moves the site generation, and with it every cached page and API response.
        for name in ("Project", "Operator", "Methodology", "Criterion", "Publication", "ApiKey"):
            model = self.get_model(name)
            post_save.connect(changed, sender=model, dispatch_uid=f"site-changed-save-{name}", weak=False)
            post_delete.connect(changed, sender=model, dispatch_uid=f"site-changed-delete-{name}", weak=False)

        def published(sender, created=False, **kwargs):
            if created:  # a publication or withdrawal, through whatever channel: new figures
                from projects.services.uncertainty import uncertainty_request

                uncertainty_request("publication")

        post_save.connect(
            published,
            sender=self.get_model("Publication"),
            dispatch_uid="uncertainty-after-publication",
            weak=False,
        )


class SdgscoreAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin, with sdgscore's admin site (optional TOTP) as the default site."""

    default = False
    default_site = "projects.admin_site.SdgscoreAdminSite"


# Other apps' admin sections under names an analyst reads, in both languages (Django's documented
# way to rename an app: subclass its config and list the subclass in INSTALLED_APPS).


class LockoutsConfig(AxesConfig):
    default = False
    verbose_name = _("Login lockouts")


class AuthenticatorsConfig(TOTPConfig):
    default = False
    verbose_name = _("Two-factor authentication")

    def ready(self):
        super().ready()
        # django-otp names the model with plain strings, out of any catalogue's reach; lazy
        # translations read the same in English, so no migration sees a change.
        meta = self.get_model("TOTPDevice")._meta
        meta.verbose_name = _("authenticator app")
        meta.verbose_name_plural = _("authenticator apps")


class BackgroundTasksConfig(TasksDatabaseConfig):
    default = False
    verbose_name = _("Background tasks")
