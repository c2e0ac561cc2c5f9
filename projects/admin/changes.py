"""The editorial log in the admin: every change with its actor, channel and old → new value.

Staff read it per project (the project page links to its timeline) or whole; nobody edits it.
Reviewers and administrators also read django-auditlog's log of everything else (API keys, method
versions): their groups hold its view permission (migration 0022)."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from projects.models import Change

VALUE_PREVIEW = 120


def _value(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        value = ", ".join(f"{key}: {item}" for key, item in value.items() if item not in ("", None, False))
    text = str(value)
    return text if len(text) <= VALUE_PREVIEW else text[: VALUE_PREVIEW - 1] + "…"


@admin.register(Change)
class ChangeAdmin(admin.ModelAdmin):
    list_display = [
        "at",
        "project",
        "operator",
        "kind",
        "subject",
        "before",
        "after",
        "actor_name",
        "channel",
    ]
    list_filter = ["kind", "channel"]
    search_fields = ["project__slug", "project__name", "operator__name", "actor_name", "subject"]
    list_select_related = ["project", "operator"]
    date_hierarchy = "at"
    list_per_page = 100

    class Media:
        css = {"all": ["projects/admin.css"]}  # breadcrumb links told apart by more than colour

    @admin.display(description=_("before"))
    def before(self, change):
        return _value(change.old)

    @admin.display(description=_("after"))
    def after(self, change):
        if change.kind in (Change.Kind.PUBLICATION, Change.Kind.WITHDRAWAL) and change.new:
            return format_html("<em>{}</em>", _value(change.new.get("note")))
        return _value(change.new)

    # Every staff member reads the log of what they work on; nobody writes it.
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
