"""Methodology versions in the admin: drafts are editable, published versions read-only.

A new version starts as a copy of a released one ("New draft from this version"), is checked
whenever it is saved (parameters and criteria, by the rules of projects.services.methodology),
and is released from a preview of the grades it would change, by an administrator other than
its drafter. Drafts can be deleted with their criteria; released versions never."""

import json

from auditlog.mixins import AuditlogHistoryAdminMixin
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from projects.methodology.rules import LANGUAGES, LEVEL_COUNT, criteria_problems, parameter_problems
from projects.models import Criterion, Methodology, RescoreJob
from projects.models.jobs import RescoreChunk
from projects.selectors import methodology_current
from projects.services.methodology import (
    COPIED_CRITERION_FIELDS,
    MethodRefused,
    methodology_delete,
    methodology_draft_from,
    methodology_problems,
    methodology_publish,
    release_preview,
    release_refusal,
    version_key,
    version_problem,
)

LEVELS_TEMPLATE = "admin/projects/methodology/level_texts_widget.html"


class LevelTextsWidget(forms.MultiWidget):
    """The five level texts of a criterion in one language, one labelled box per level."""

    template_name = LEVELS_TEMPLATE

    def __init__(self, language: str = "", attrs=None):
        self.language = language  # in each box's label: "Level 0 (English)"
        super().__init__([forms.Textarea(attrs={"rows": 2, "cols": 60}) for _ in range(LEVEL_COUNT)], attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        field_id = (attrs or {}).get("id")
        if field_id and (attrs or {}).get("aria-invalid"):  # each box points at the field's errors
            for subwidget in context["widget"]["subwidgets"]:
                subwidget["attrs"]["aria-describedby"] = f"{field_id}_error"
        return {**context, "language": self.language}

    def decompress(self, value):
        if isinstance(value, str):  # a JSONField's stored form
            try:
                value = json.loads(value)
            except ValueError:
                value = None
        if isinstance(value, list):
            return [*value, *[""] * LEVEL_COUNT][:LEVEL_COUNT]
        return [""] * LEVEL_COUNT


class LevelTextsField(forms.MultiValueField):
    """Level texts 0–4 as five required texts, stored as the list the model keeps."""

    def __init__(self, *, language: str, **kwargs):
        fields = [forms.CharField(strip=True) for _ in range(LEVEL_COUNT)]
        name = LANGUAGES[language]
        super().__init__(
            fields,
            widget=LevelTextsWidget(language=_(name)),
            label=capfirst(Criterion._meta.get_field(f"levels_{language}").verbose_name),
            require_all_fields=True,
            **kwargs,
        )

    def compress(self, data_list):
        return list(data_list) if data_list else []


class CriterionForm(forms.ModelForm):
    levels_en = LevelTextsField(language="en")
    levels_ja = LevelTextsField(language="ja")

    class Meta:
        model = Criterion
        fields = COPIED_CRITERION_FIELDS  # what a criterion is, as a new draft copies it


def _criterion_values(form) -> dict:
    data = form.cleaned_data
    return {name: data.get(name) for name in ("code", "dimension", "weight", "name_en", "name_ja")} | {
        "levels_en": data.get("levels_en"),
        "levels_ja": data.get("levels_ja"),
    }


class CriterionFormSet(BaseInlineFormSet):
    """The draft's criteria checked together with its parameters, as the release will: every
    dimension has criteria, codes are unique, the engine accepts the method."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return  # each criterion's own errors first
        parameters = self.instance.parameters
        if parameter_problems(parameters, version=self.instance.version):
            return  # shown on the parameters field
        kept = [
            _criterion_values(form)
            for form in self.forms
            if form.cleaned_data and not self._should_delete_form(form)
        ]
        problems = criteria_problems(kept, parameters, version=self.instance.version)
        if problems:
            raise ValidationError(problems)


class CriterionInline(admin.StackedInline):
    model = Criterion
    form = CriterionForm
    formset = CriterionFormSet
    extra = 0

    def get_fieldsets(self, request, obj=None):
        levels = (
            ("level_texts_en", "level_texts_ja") if obj and obj.is_published else ("levels_en", "levels_ja")
        )
        return [
            (
                None,
                {
                    "fields": [
                        ("code", "dimension", "weight", "position"),
                        "references",
                        ("name_en", "name_ja"),
                    ]
                },
            ),
            (
                _("Description and level texts"),
                {"classes": ["collapse"], "fields": [("description_en", "description_ja"), levels]},
            ),
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_published:  # a released method reads as text
            return [name for _title, options in self.get_fieldsets(request, obj) for name in _flat(options)]
        return []

    @admin.display(description=_("level texts 0–4 (English)"))
    def level_texts_en(self, criterion):
        return _levels_html(criterion.levels_en)

    @admin.display(description=_("level texts 0–4 (Japanese)"))
    def level_texts_ja(self, criterion):
        return _levels_html(criterion.levels_ja)

    def has_change_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_change_permission(request, obj)

    def has_add_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_add_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)


def _flat(options: dict) -> list[str]:
    return [name for line in options["fields"] for name in (line if isinstance(line, tuple) else (line,))]


def _levels_html(levels) -> str:
    return format_html(
        '<ol start="0">{}</ol>', format_html_join("", "<li>{}</li>", ((text,) for text in levels or []))
    )


class ParametersField(forms.JSONField):
    """The parameters as indented JSON: readable, and errors point at a line."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class DraftForm(forms.Form):
    """The number of a new draft version copied from another."""

    version = forms.CharField(
        label=_("version of the new draft"),
        max_length=20,
        help_text=_(
            "Numbers separated by dots, after the source and every released version, e.g. 1.1 or 2.0."
        ),
    )

    def __init__(self, *args, source: Methodology, **kwargs):
        super().__init__(*args, **kwargs)
        self.source = source

    def clean_version(self):
        version = self.cleaned_data["version"].strip()
        problem = version_problem(version, source=self.source)
        if problem:
            raise ValidationError(problem)
        return version


def next_version(source: Methodology) -> str:
    """A suggestion for a draft's number: the next minor version after every existing one."""
    versions = [source.version, *Methodology.objects.values_list("version", flat=True)]
    latest = max(
        (version for version in versions if all(part.isdigit() for part in version.split("."))),
        key=version_key,
        default="1.0",
    )
    major, _dot, minor = latest.partition(".")
    return f"{major}.{int(minor.split('.')[0] or 0) + 1}"


@admin.register(Methodology)
class MethodologyAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    show_auditlog_history_link = True  # each object's changes, field by field, with who and when
    list_display = ["version", "title_display", "state", "published_at", "drafted_by", "criterion_count"]
    readonly_fields = ["state", "published_at", "drafted_by", "released_by", "created_at"]
    inlines = [CriterionInline]
    actions = ["publish"]
    change_form_template = "admin/projects/methodology/change_form.html"

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "parameters":
            kwargs["form_class"] = ParametersField
            kwargs["widget"] = forms.Textarea(attrs={"rows": 30, "cols": 100, "class": "vLargeTextField"})
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        """A new version starts from the current method's parameters, not from nothing."""
        initial = super().get_changeform_initial_data(request)
        current = methodology_current()
        if current is not None and "parameters" not in initial:
            initial["parameters"] = current.parameters
        return initial

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("drafted_by")
            .annotate(criteria_count=Count("criteria"))
        )

    def get_urls(self):
        custom = [
            path(
                "<int:object_id>/draft/",
                self.admin_site.admin_view(self.draft_view),
                name="projects_methodology_draft",
            ),
            path(
                "<int:object_id>/release/",
                self.admin_site.admin_view(self.release_view),
                name="projects_methodology_release",
            ),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        methodology = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if methodology is not None:
            if self.has_add_permission(request):
                context["draft_url"] = reverse("admin:projects_methodology_draft", args=[methodology.pk])
            if not methodology.is_published:
                context["release_url"] = reverse("admin:projects_methodology_release", args=[methodology.pk])
        return super().change_view(request, object_id, form_url, context)

    def _page(self, request, methodology, title: str, **context):
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": methodology,
            "title": title,
            "has_view_permission": self.has_view_permission(request, methodology),
            **context,
        }

    def draft_view(self, request, object_id):
        """A new draft from this version: its number is asked for; everything else is copied."""
        source = self.get_object(request, str(object_id))
        if source is None:
            raise Http404
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = DraftForm(request.POST or None, source=source, initial={"version": next_version(source)})
        if form.is_valid():
            try:
                draft = methodology_draft_from(source=source, version=form.cleaned_data["version"])
            except MethodRefused as refused:
                form.add_error("version", str(refused))
            else:
                self.message_user(
                    request,
                    gettext(
                        "Draft %(draft)s is a copy of method %(source)s with its %(count)d criteria: "
                        "edit it, then preview its release."
                    )
                    % {"draft": draft.version, "source": source.version, "count": draft.criteria.count()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:projects_methodology_change", args=[draft.pk]))
        return TemplateResponse(
            request,
            "admin/projects/methodology/draft.html",
            self._page(
                request,
                source,
                gettext("New draft from method %(version)s") % {"version": source.version},
                form=form,
                criteria=source.criteria.count(),
            ),
        )

    def release_view(self, request, object_id):
        """The grades a release would change, then the release itself (for an administrator
        other than the drafter; the refusal is shown instead of the button)."""
        methodology = self.get_object(request, str(object_id))
        if methodology is None:
            raise Http404
        if not self.has_view_or_change_permission(request, methodology):
            raise PermissionDenied
        if request.method == "POST":
            if not self.has_publish_permission(request):
                raise PermissionDenied
            try:
                job = methodology_publish(methodology=methodology)
            except MethodRefused as refused:
                self.message_user(request, str(refused), messages.ERROR)
            else:
                self._released(request, methodology, job)
                return HttpResponseRedirect(reverse("admin:projects_rescorejob_change", args=[job.pk]))
        refusal = release_refusal(methodology=methodology, user=request.user)
        scorable = not methodology.is_published and not methodology_problems(methodology)
        preview = release_preview(methodology=methodology) if scorable else None
        return TemplateResponse(
            request,
            "admin/projects/methodology/release.html",
            self._page(
                request,
                methodology,
                gettext("Release method %(version)s: what it changes") % {"version": methodology.version},
                preview=preview,
                refusal=refusal,
                current=methodology_current(),
            ),
        )

    def has_publish_permission(self, request):
        return request.user.has_perm("projects.publish_methodology")

    def _released(self, request, methodology, job):
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
        self._released(request, methodology, job)

    @admin.display(description=_("title"))
    def title_display(self, methodology):
        return methodology.title()

    @admin.display(description=_("criteria"), ordering="criteria_count")
    def criterion_count(self, methodology):
        return methodology.criteria_count

    def has_change_permission(self, request, obj=None):
        # A published version never changes: it opens read-only.
        return (obj is None or not obj.is_published) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_published) and super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs, request):
        """A draft goes with its criteria (they would protect it from a plain delete); a released
        version is listed as protected, so it never goes."""
        objs = list(objs)
        criteria = Criterion.objects.filter(methodology__in=[obj.pk for obj in objs])
        nested, counts, perms_needed, protected = super().get_deleted_objects(criteria, request)
        protected = list(protected) + [
            gettext("%(method)s is released; a released method is never deleted.") % {"method": obj}
            for obj in objs
            if obj.is_published
        ]
        counts = {self.opts.verbose_name_plural: len(objs), **counts}
        return [*(str(obj) for obj in objs), nested], counts, perms_needed, protected

    def delete_model(self, request, obj):
        methodology_delete(methodology=obj)

    def delete_queryset(self, request, queryset):
        for methodology in queryset:
            methodology_delete(methodology=methodology)


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
