"""Methodology versions in the admin: drafts are editable, published versions read-only."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from projects.models import Criterion, Methodology, RescoreJob
from projects.services.methodology import MethodRefused, methodology_publish


class CriterionInline(admin.StackedInline):
    model = Criterion
    extra = 0
    fields = [
        ("code", "dimension", "weight", "position"),
        "references",
        ("name_en", "name_ja"),
        ("description_en", "description_ja"),
        ("levels_en", "levels_ja"),
    ]

    def has_change_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)


@admin.register(Methodology)
class MethodologyAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    show_auditlog_history_link = True  # each object's changes, field by field, with who and when
    list_display = ["version", "title_display", "state", "published_at", "criterion_count"]
    readonly_fields = ["state", "published_at", "created_at"]
    inlines = [CriterionInline]
    actions = ["publish"]

    def has_publish_permission(self, request):
        return request.user.has_perm("projects.publish_methodology")

    @admin.action(
        description=_("Publish the selected draft version (every project is then rescored)"),
        permissions=["publish"],
    )
    def publish(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Select exactly one draft version to publish."), messages.ERROR)
            return
        methodology = queryset.get()
        try:
            job = methodology_publish(methodology=methodology)
        except MethodRefused as refused:
            self.message_user(request, str(refused), messages.ERROR)
            return
        url = reverse("admin:projects_rescorejob_change", args=[job.pk])
        self.message_user(
            request,
            format_html(
                _(
                    "Method {} is published. {} projects are being rescored by the task workers: "
                    '<a href="{}">follow the job</a>.'
                ),
                methodology.version,
                job.total,
                url,
            ),
            messages.SUCCESS,
        )

    @admin.display(description=_("title"))
    def title_display(self, methodology):
        return methodology.title()

    @admin.display(description=_("criteria"))
    def criterion_count(self, methodology):
        return methodology.criteria.count()

    def has_change_permission(self, request, obj=None):
        # A published version never changes: it opens read-only.
        return (obj is None or not obj.is_published) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)


@admin.register(RescoreJob)
class RescoreJobAdmin(admin.ModelAdmin):
    """Rescoring jobs, read-only, with their progress (the list refreshes itself while one runs)."""

    list_display = ["__str__", "state", "progress", "changed", "republished", "created_at", "finished_at"]
    list_filter = ["state", "methodology"]
    readonly_fields = [
        "methodology",
        "state",
        "progress",
        "total",
        "done",
        "changed",
        "republished",
        "chunks",
        "chunks_done",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "error",
    ]
    fields = readonly_fields
    change_list_template = "admin/projects/rescorejob/change_list.html"
    change_form_template = "admin/projects/rescorejob/change_form.html"

    @admin.display(description=_("progress"))
    def progress(self, job):
        return format_html(
            '<progress max="{}" value="{}">{} %</progress> {} / {} ({} %)',
            job.total or 1,
            job.done,
            job.percent,
            job.done,
            job.total,
            job.percent,
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        running = RescoreJob.objects.filter(
            state__in=[RescoreJob.State.QUEUED, RescoreJob.State.RUNNING]
        ).exists()
        return super().changelist_view(request, {**(extra_context or {}), "refresh": running})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        running = RescoreJob.objects.filter(
            pk=object_id, state__in=[RescoreJob.State.QUEUED, RescoreJob.State.RUNNING]
        ).exists()
        return super().change_view(
            request, object_id, form_url, {**(extra_context or {}), "refresh": running}
        )
