"""Operators in the admin: edited here only, and published by a reviewer once public."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django import forms
from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from projects.models import Operator
from projects.services.publication import PublicationRefused, operator_publish
from projects.validators import validate_text


class OperatorPublicationForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=2000,
        validators=[validate_text],
        help_text=_("Why these changes are published (kept in the change log)."),
    )


@admin.register(Operator)
class OperatorAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    show_auditlog_history_link = True  # each object's changes, field by field, with who and when
    list_display = ["name", "country", "kind", "project_count", "unpublished_changes"]
    list_filter = ["kind", "country"]
    search_fields = ["name"]
    # Explicit: the project count's GROUP BY drops Meta.ordering, and the project form's operator
    # search (autocomplete) lists through this queryset too.
    ordering = ["name"]
    actions = ["publish"]

    class Media:
        css = {"all": ["projects/admin.css"]}  # breadcrumb links told apart by more than colour

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(project_count=Count("projects"))

    def get_object(self, request, object_id, from_field=None):
        # The form edits the draft: the published values with the pending changes over them.
        operator = super().get_object(request, object_id, from_field)
        return operator.apply_pending() if operator is not None else None

    @admin.display(description=_("projects"), ordering="project_count")
    def project_count(self, operator):
        return operator.project_count

    @admin.display(description=_("unpublished changes"))
    def unpublished_changes(self, operator):
        return ", ".join(sorted(operator.pending_facts)) or "—"

    def has_publish_permission(self, request):
        return request.user.has_perm("projects.publish_project")

    @admin.action(description=_("Publish the selected operators' changes…"), permissions=["publish"])
    def publish(self, request, queryset):
        operators = [operator for operator in queryset.order_by("name") if operator.pending_facts]
        form = OperatorPublicationForm(request.POST if "note" in request.POST else None)
        if form.is_bound and form.is_valid():
            count = 0
            for operator in operators:
                try:
                    operator_publish(operator=operator, note=form.cleaned_data["note"])
                    count += 1
                except PublicationRefused as refused:
                    self.message_user(request, str(refused), messages.ERROR)
            self.message_user(
                request,
                ngettext("%d operator published.", "%d operators published.", count) % count,
                messages.SUCCESS if count else messages.WARNING,
            )
            return HttpResponseRedirect(reverse("admin:projects_operator_changelist"))
        rows = [
            {
                "operator": operator,
                "changes": [
                    (field, getattr(operator, field), value)
                    for field, value in sorted(operator.pending_facts.items())
                ],
            }
            for operator in operators
        ]
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Publish operators' changes"),
            "rows": rows,
            "form": form,
            "selected": [operator.pk for operator in queryset],
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/projects/operator/publish.html", context)
