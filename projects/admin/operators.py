"""Operators in the admin."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from projects.models import Operator


@admin.register(Operator)
class OperatorAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    show_auditlog_history_link = True  # each object's changes, field by field, with who and when
    list_display = ["name", "country", "kind", "project_count"]
    list_filter = ["kind", "country"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(project_count=Count("projects"))

    @admin.display(description=_("projects"), ordering="project_count")
    def project_count(self, operator):
        return operator.project_count
