"""Methodology versions in the admin: drafts are editable, published versions read-only."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from projects.models import Criterion, Methodology


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
