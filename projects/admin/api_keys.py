"""API keys in the admin: issued here, shown once, revoked at once."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from projects.models import ApiKey
from projects.models.api_keys import key_digest


@admin.register(ApiKey)
class ApiKeyAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    show_auditlog_history_link = True  # each object's changes, field by field, with who and when

    class Media:
        css = {"all": ["projects/admin.css"]}  # breadcrumb links told apart by more than colour

    list_display = [
        "name",
        "key_prefix",
        "owner",
        "scope",
        "throttle_rate",
        "expires_at",
        "revoked_at",
        "last_used_at",
    ]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix"]
    fields = [
        "name",
        "owner",
        "scope",
        "throttle_rate",
        "expires_at",
        "allowed_origins",
        "key_prefix",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    readonly_fields = ["key_prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]
    list_select_related = ["owner"]

    def get_readonly_fields(self, request, obj=None):
        # The owner is chosen once, when the key is issued: what it wrote stays theirs.
        return [*self.readonly_fields, "owner"] if obj is not None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "owner":
            kwargs["queryset"] = get_user_model().objects.filter(is_active=True, is_staff=True)
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description=_("key"))
    def key_prefix(self, api_key):
        return f"sdg_{api_key.prefix}_…" if api_key.prefix else "—"

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        # The full key exists only in this request: stored hashed, shown once by response_add.
        issued, key = ApiKey.issue(
            name=obj.name,
            scope=obj.scope,
            throttle_rate=obj.throttle_rate,
            expires_at=obj.expires_at,
            owner=obj.owner,
            created_by=request.user,
        )
        obj.pk, obj.prefix, obj.key_hash = issued.pk, issued.prefix, issued.key_hash
        obj._state.adding = False
        request._issued_api_key = key

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_issued_api_key", None)
        if key is None or key_digest(key) != obj.key_hash:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "api_key": obj,
            "key": key,
            "opts": self.opts,
            "title": _("API key issued"),
        }
        response = TemplateResponse(request, "admin/projects/apikey/issued.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Revoke the selected keys (takes effect at once)"))
    def revoke(self, request, queryset):
        count = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            api_key.revoke()
            count += 1
        self.message_user(
            request, ngettext("%d key revoked.", "%d keys revoked.", count) % count, messages.SUCCESS
        )

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead, so that the record of who had access stays
