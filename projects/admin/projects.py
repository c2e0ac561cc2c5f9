"""Projects in the admin: facts, ratings grouped by dimension, and the read-only score card."""

from auditlog.mixins import AuditlogHistoryAdminMixin
from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from projects.changes import change_line
from projects.models import Project
from projects.models.publications import MAX_NOTE
from projects.services.publication import (
    PreviewOutdated,
    PublicationRefused,
    draft_changes,
    draft_digest,
    project_publish,
    project_withdraw,
    review_refusal,
)
from projects.validators import validate_text

from .forms import NamedAutocompleteSelect, ProjectForm
from .interchange import export_csv, export_json, interchange_urls
from .rating_sheet import rating_sheet_url, rating_sheet_view, ratings_summary_html
from .review import (
    ReviewFilter,
    UnpublishedChangesFilter,
    draft_card,
    published_card,
    review_urls,
    standing,
    status_context,
    with_standing,
)
from .review_diff import review_diff
from .score_card import draft_html, publications_html, score_card_html, score_history_html


class PublicationForm(forms.Form):
    note = forms.CharField(
        label=_("Note"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        max_length=MAX_NOTE,
        validators=[validate_text],
        help_text=_("Why this is published: shown with the change on the public page and in the API."),
    )


HISTORY_ROWS = 20


@admin.register(Project)
class ProjectAdmin(AuditlogHistoryAdminMixin, admin.ModelAdmin):
    # Each object's changes field by field stay at <id>/auditlog/ (not a list column: the list fits 1366 px).
    show_auditlog_history_link = False
    form = ProjectForm
    list_display = [
        "name",
        "operator",
        "target_body",  # phase and origin: filters, not columns (the list fits 1366 px)
        standing,
        published_card,
        draft_card,
        "debris_level",
        "equity_level",
    ]
    list_select_related = ["operator", "current_score", "published_score"]
    change_form_template = "admin/projects/project/change_form.html"

    class Media:
        css = {"all": ["projects/admin.css", "projects/review.css"]}  # ratings summary; status, list
        js = ["projects/autocomplete_names.js"]  # the operator's autocomplete box gets a name

    list_filter = [
        "target_body",
        "phase",
        "state",
        ReviewFilter,
        UnpublishedChangesFilter,
        "current_score__grade",
        "current_score__status",
        "operator__country",
        "origin",
    ]
    search_fields = ["name", "slug", "summary", "operator__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["operator"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "operator":
            kwargs["widget"] = NamedAutocompleteSelect(
                db_field, self.admin_site, placeholder=_("Choose an operator"), using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    # Publication goes through the publish action (reviewers, four eyes), never the form.
    readonly_fields = [
        "ratings_summary",
        "state",
        "draft_and_published",
        "publications",
        "score_card",
        "score_history",
        "published_at",
        "created_at",
        "updated_at",
    ]
    actions = ["publish", "withdraw", export_json, export_csv]

    def has_delete_permission(self, request, obj=None):
        # Published once, part of the public record: withdrawn, never deleted (Project.delete).
        if obj is not None and obj.publication_id is not None:
            return False
        return super().has_delete_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # a bulk delete would skip the rule above
        return actions

    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "operator",
                    ("target_body", "phase", "launch_year"),
                    "resources",
                    "summary",
                    "summary_ja",
                    "links",
                    "origin",
                    ("loaded_version", "changes_seen"),  # hidden: see ProjectForm
                ]
            },
        ),
        (_("Ratings"), {"fields": ["ratings_summary"]}),
        (
            _("Publication"),
            {
                "fields": [
                    ("state", "published_at"),
                    "draft_and_published",
                    "publications",
                    ("created_at", "updated_at"),
                ]
            },
        ),
        (
            _("Working score card (computed from the ratings below, published or not)"),
            {"fields": ["score_card", "score_history"]},
        ),
    ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and obj.pk:
            context["status"] = status_context(request, obj)  # first on the page
        return super().render_change_form(request, context, add, change, form_url, obj)

    # The status line links the public page (admin/review.py public_url); no second button.
    view_on_site = False

    def get_queryset(self, request):
        return with_standing(super().get_queryset(request))  # the list's standing, no query per row

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        request.sdgscore_saving_project = request.method == "POST" and object_id is not None
        return super().changeform_view(request, object_id, form_url, extra_context)

    def get_object(self, request, object_id, from_field=None):
        """The draft: the published facts with the pending changes over them. For a save, read
        under a lock on its row, held until the save commits (the change form runs in one
        transaction): the version ProjectForm checks is then the version the save changes, and
        of two saves from one page only the first passes."""
        project = super().get_object(request, object_id, from_field)
        if project is not None and getattr(request, "sdgscore_saving_project", False):
            locked = (
                Project.objects.select_for_update()
                .filter(pk=project.pk)
                .values_list("version", flat=True)
                .first()
            )
            if locked != project.version:  # changed between the two reads: read it again
                project = super().get_object(request, object_id, from_field)
        return project.apply_pending() if project is not None else None

    def response_add(self, request, obj, post_url_continue=None):
        """A new project is rated next: plain "Save" opens its rating sheet."""
        if any(key in request.POST for key in ("_continue", "_addanother", "_popup")):
            return super().response_add(request, obj, post_url_continue)
        self.message_user(request, _("“%(name)s” was added: rate it now.") % {"name": obj.name})
        return HttpResponseRedirect(rating_sheet_url(obj))

    @admin.display(description=_("ratings"))
    def ratings_summary(self, project):
        return ratings_summary_html(project)

    @admin.display(description=_("score card"))
    def score_card(self, project):
        return score_card_html(project.current_score.card if project.current_score else None)

    @admin.display(description=_("draft and published"))
    def draft_and_published(self, project):
        if not project.pk:
            return "—"
        project = Project.objects.select_related(
            "current_score__methodology", "published_score__methodology", "publication"
        ).get(pk=project.pk)
        return draft_html(project, draft_changes(project))

    @admin.display(description=_("publications"))
    def publications(self, project):
        if not project.pk:
            return "—"
        return publications_html(project.publications.select_related("published_by").order_by("-number"))

    @admin.display(description=_("score history"))
    def score_history(self, project):
        if not project.pk:
            return "—"
        cards = project.score_history.select_related("methodology")[:HISTORY_ROWS]
        return score_history_html(cards)

    @admin.display(description=_("grade"), ordering="current_score__grade")
    def grade(self, project):
        return (project.current_score and project.current_score.grade) or "—"

    @admin.display(description=_("net score"), ordering="current_score__net_score")
    def net_score(self, project):
        value = project.current_score and project.current_score.net_score
        return "—" if value is None else f"{value:.1f}"

    @admin.display(description=_("status"), ordering="current_score__status")
    def status(self, project):
        return project.current_score.get_status_display() if project.current_score else "—"

    @admin.display(description=_("debris risk"), ordering="current_score__debris")
    def debris_level(self, project):
        return self._level(project, "debris")

    @admin.display(description=_("equity risk"), ordering="current_score__equity")
    def equity_level(self, project):
        return self._level(project, "equity")

    @staticmethod
    def _level(project, dimension):
        card = project.current_score
        if card is None:
            return "—"
        level = getattr(card, f"get_{dimension}_level_display")() or "—"  # in the active language
        return f"{level} ⚠" if getattr(card, f"{dimension}_severe") else level

    def has_publish_permission(self, request):
        return request.user.has_perm("projects.publish_project")

    @admin.action(description=_("Publish the selected projects…"), permissions=["publish"])
    def publish(self, request, queryset):
        """A page showing what each project's publication would change, asking for the note."""
        return self.publish_view(request, list(queryset.order_by("name")))

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "<int:object_id>/publish/",
                self.admin_site.admin_view(self.publish_one_view),
                name="projects_project_publish",
            ),
            path(
                "<int:object_id>/ratings/",
                self.admin_site.admin_view(self.rating_sheet_view),
                name="projects_project_ratings",
            ),
        ]
        return custom + interchange_urls(self) + review_urls(self) + urls

    def rating_sheet_view(self, request, object_id):
        return rating_sheet_view(self, request, object_id)

    def publish_one_view(self, request, object_id):
        project = self.get_object(request, str(object_id))
        if project is None:
            raise Http404
        if not self.has_publish_permission(request):
            raise PermissionDenied
        return self.publish_view(request, [project])

    def publish_view(self, request, projects):
        """Preview (each project's change, with a digest of its draft), then publish with a note
        exactly what was previewed: a project whose draft moved meanwhile is shown again."""
        form = PublicationForm(request.POST if "note" in request.POST else None)
        outdated = []
        if form.is_bound and form.is_valid():
            count = 0
            for project in projects:
                try:
                    project_publish(
                        project=project,
                        note=form.cleaned_data["note"],
                        digest=request.POST.get(f"digest-{project.pk}", "-"),
                    )
                    count += 1
                except PreviewOutdated as refused:
                    outdated.append(project)
                    self.message_user(request, str(refused), messages.ERROR)
                except PublicationRefused as refused:
                    self.message_user(request, str(refused), messages.ERROR)
            self.message_user(
                request,
                ngettext("%d project published.", "%d projects published.", count) % count,
                messages.SUCCESS if count else messages.WARNING,
            )
            if not outdated:
                return HttpResponseRedirect(reverse("admin:projects_project_changelist"))
            projects, form = outdated, PublicationForm(initial={"note": form.cleaned_data["note"]})
        rows = []
        for project in Project.objects.filter(pk__in=[p.pk for p in projects]).select_related(
            "current_score__methodology", "published_score__methodology", "publication"
        ):
            changes = draft_changes(project)
            refusal = None
            if changes is None:
                refusal = _("Nothing changed since its last publication.")
            else:
                refusal = review_refusal(project=project, user=request.user)
            rows.append(
                {
                    "project": project,
                    "line": change_line(changes) if changes else "",
                    "draft": draft_html(project, changes, list_changes=False),  # the diff lists them
                    "refusal": refusal,
                    "digest": draft_digest(project),
                    "diff": review_diff(project) if changes is not None else None,
                }
            )
        return self._review_page(request, projects, rows, form, action="publish", title=_("Publish"))

    def _review_page(self, request, projects, rows, form, *, action, title):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "rows": rows,
            "form": form,
            "selected": [project.pk for project in projects],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "single": len(projects) == 1 and "action" not in request.POST,
        }
        return TemplateResponse(request, f"admin/projects/project/{action}.html", context)

    @admin.action(description=_("Withdraw the selected projects from publication…"), permissions=["publish"])
    def withdraw(self, request, queryset):
        """A confirmation page asking for the note; each withdrawal is a publication of its own."""
        projects = list(queryset.order_by("name"))
        form = PublicationForm(request.POST if "note" in request.POST else None)
        if form.is_bound and form.is_valid():
            count = 0
            for project in projects:
                try:
                    project_withdraw(project=project, note=form.cleaned_data["note"])
                    count += 1
                except PublicationRefused as refused:
                    self.message_user(request, str(refused), messages.ERROR)
            self.message_user(
                request,
                ngettext("%d project withdrawn.", "%d projects withdrawn.", count) % count,
                messages.SUCCESS if count else messages.WARNING,
            )
            return HttpResponseRedirect(reverse("admin:projects_project_changelist"))
        rows = [
            {
                "project": project,
                "refusal": (
                    _("It is not published.")
                    if not project.is_published
                    else review_refusal(project=project, user=request.user)
                ),
            }
            for project in projects
        ]
        return self._review_page(request, projects, rows, form, action="withdraw", title=_("Withdraw"))
