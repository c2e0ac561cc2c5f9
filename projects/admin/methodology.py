"""Methodology versions in the admin: drafts are editable, published versions read-only."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from projects.models import Criterion, Methodology, RescoreJob
from projects.models.jobs import RescoreChunk
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


class StalledChunkInline(admin.TabularInline):
    """The chunks staff need to see: not done yet, or run more than once (a worker died)."""

    model = RescoreChunk
    verbose_name_plural = _("chunks not done, or run again")
    fields = readonly_fields = [
        "first_id",
        "last_id",
        "state",
        "stalled_display",
        "attempts",
        "worker",
        "claimed_at",
        "heartbeat_at",
        "lease_expires_at",
        "error",
    ]
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).exclude(state=RescoreChunk.State.DONE, attempts__lte=1)

    @admin.display(description=_("stalled"), boolean=True)
    def stalled_display(self, chunk):
        return chunk.stalled

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RescoreJob)
class RescoreJobAdmin(admin.ModelAdmin):
    """Rescoring jobs, read-only, with their progress (the list refreshes itself while one runs)
    and their stalled chunks (a worker that died: its chunk runs again, see docs/deploy.md)."""

    list_display = [
        "__str__",
        "state",
        "progress",
        "stalled",
        "changed",
        "republished",
        "created_at",
        "finished_at",
    ]
    inlines = [StalledChunkInline]
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
        "stalled",
        "requested_by",
        "created_at",
        "started_at",
        "finished_at",
        "error",
    ]
    fields = readonly_fields
    change_list_template = "admin/projects/rescorejob/change_list.html"
    change_form_template = "admin/projects/rescorejob/change_form.html"

    def get_queryset(self, request):
        stalled = Q(
            chunk_rows__state=RescoreChunk.State.RUNNING, chunk_rows__lease_expires_at__lt=timezone.now()
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                stalled_chunks=Count("chunk_rows", filter=stalled),
                reruns=Count("chunk_rows", filter=Q(chunk_rows__attempts__gt=1)),
            )
        )

    @admin.display(description=_("stalled chunks"))
    def stalled(self, job):
        # A stalled chunk's worker gave no sign of life for a lease: it will be run again.
        if not job.stalled_chunks and not job.reruns:
            return "–"
        return format_html("{} {} · {} {}", job.stalled_chunks, _("stalled"), job.reruns, _("run again"))

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
