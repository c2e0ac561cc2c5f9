"""Interchange files in the admin: import with a dry-run preview, and export of a selection.

The import runs projects_import twice, the code path of ``manage.py import_projects``: first as a
dry run (everything written, reported from the editorial log, then rolled back), then, when the
analyst confirms, for real with ``expected_state`` from the dry run, so that what is applied is
exactly what was previewed. The confirm form carries the file back (compact JSON, ASCII only,
so no browser rewrites it) with a signed digest of it and of the state the preview started
from: a changed file, another user's preview, or projects changed meanwhile are refused, and a
fresh preview is shown. The import's changes are the uploader's (channel "import", in the
Change log) and only ever drafts: nothing is published here.
"""

import hashlib
import json
import re
from functools import partial

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from projects.interchange.csv_export import score_rows
from projects.interchange.exporter import projects_export
from projects.interchange.importer import (
    InterchangeError,
    StaleImport,
    card_text,
    interchange_loads,
    project_label,
    projects_import,
    rating_evidence_revised,
    rating_text,
    value_text,
)

SIGNING_SALT = "sdgscore.admin.import-preview"
PREVIEW_MAX_AGE = 60 * 60  # seconds a preview may be confirmed in
POST_OVERHEAD = 16 * 1024  # the confirm form's other fields, within DATA_UPLOAD_MAX_MEMORY_SIZE
VALUE_PREVIEW = 200


def upload_limit() -> int:
    """The largest file the admin takes: the import's own limit, and what the confirm form can
    post back (bigger files go through ``manage.py import_projects``)."""
    return min(settings.IMPORT_MAX_BYTES, settings.DATA_UPLOAD_MAX_MEMORY_SIZE - POST_OVERHEAD)


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Interchange file (JSON)"),
        help_text=gettext_lazy(
            'A "sdgscore.projects/1" file, as export_projects or the "Export selected as JSON" action '
            "write it. Nothing is written until you confirm the preview."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".json,application/json"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = upload_limit()
        if upload.size > limit:
            raise forms.ValidationError(
                _(
                    "The file has %(size)s bytes; the admin takes up to %(limit)s. Import bigger files "
                    "with manage.py import_projects."
                )
                % {"size": upload.size, "limit": limit}
            )
        try:
            data = interchange_loads(upload.read())
        except InterchangeError as exc:
            raise forms.ValidationError(_("The file is %(problem)s") % {"problem": exc}) from None
        content = canonical(data)
        if len(content) > limit:
            raise forms.ValidationError(
                _(
                    "Written out for the preview the file has %(size)s bytes; the admin takes up to "
                    "%(limit)s. Import it with manage.py import_projects."
                )
                % {"size": len(content), "limit": limit}
            )
        return content


def canonical(data) -> str:
    """The document as compact ASCII JSON: what the confirm form posts back, byte for byte (no
    line breaks for a browser to rewrite, no characters an encoding could change)."""
    return json.dumps(data, ensure_ascii=True, separators=(",", ":"))


def content_digest(content: str) -> str:
    return hashlib.sha256(content.encode("ascii")).hexdigest()


def preview_token(*, content: str, state: str, user) -> str:
    return signing.dumps(
        {"digest": content_digest(content), "state": state, "user": user.pk}, salt=SIGNING_SALT
    )


class PreviewRefused(Exception):
    """The confirm form does not carry a preview this user may confirm."""


def previewed_state(request) -> tuple[str, str]:
    """The confirmed file and the state its preview started from; PreviewRefused otherwise."""
    content = request.POST.get("content", "")
    try:
        token = signing.loads(request.POST.get("token", ""), salt=SIGNING_SALT, max_age=PREVIEW_MAX_AGE)
    except signing.SignatureExpired:
        raise PreviewRefused(_("The preview is more than an hour old; upload the file again.")) from None
    except signing.BadSignature:
        raise PreviewRefused(_("The preview cannot be confirmed; upload the file again.")) from None
    if token.get("user") != request.user.pk:
        raise PreviewRefused(_("This preview was made by another user; upload the file yourself."))
    if not content.isascii() or content_digest(content) != token.get("digest"):
        raise PreviewRefused(_("The file differs from the one previewed; upload it again."))
    return content, token["state"]


# --- the report, ready for the template ------------------------------------------------------


ERROR_FIELD = re.compile(r"^([\w.\[\]-]+): (.*)$", re.DOTALL)
ERROR_PROJECT = re.compile(r"^projects\[(\d+)\]")


def errors_by_project(data, errors: list[str]) -> list[dict]:
    """The file's problems grouped by project ({"label", "problems": [{"field", "message"}]}),
    problems of the file as a whole first."""
    raw = data.get("projects") if isinstance(data, dict) else None
    raw = raw if isinstance(raw, list) else []
    groups: dict = {}
    for error in errors:
        label, rest = "", error
        found = ERROR_PROJECT.match(error)
        if found and int(found[1]) < len(raw):
            candidate = project_label(int(found[1]), raw[int(found[1])])
            if error.startswith(candidate + ": "):
                label, rest = candidate, error[len(candidate) + 2 :]
        field = ERROR_FIELD.match(rest)
        problem = {"field": field[1], "message": field[2]} if field else {"field": "", "message": rest}
        groups.setdefault(label, []).append(problem)
    return [
        {"label": label or _("The file"), "problems": problems}
        for label, problems in sorted(groups.items(), key=lambda item: (item[0] != "", _order(item[0])))
    ]


def _order(label: str) -> int:
    found = ERROR_PROJECT.match(label)
    return int(found[1]) if found else -1


OUTCOMES = {
    "created": gettext_lazy("new project"),
    "updated": gettext_lazy("changes"),
    "unchanged": gettext_lazy("no change"),
}


def report_rows(result) -> list[dict]:
    """Each project of the dry run as the preview shows it."""
    rows = []
    for entry in result.report:
        rows.append(
            {
                "index": entry.index,
                "slug": entry.slug,
                "name": entry.name,
                "outcome": entry.outcome,
                "outcome_label": OUTCOMES[entry.outcome],
                "facts": [
                    {
                        "field": fact["field"],
                        "old": value_text(fact["old"], limit=VALUE_PREVIEW),
                        "new": value_text(fact["new"], limit=VALUE_PREVIEW),
                    }
                    for fact in entry.facts
                ],
                "ratings": [
                    {
                        "criterion": item["criterion"],
                        "old": rating_text(item["old"]),
                        "new": rating_text(item["new"]),
                        "evidence_revised": rating_evidence_revised(item),
                    }
                    for item in entry.ratings
                ],
                "score": (
                    {"old": card_text(entry.score["old"]), "new": card_text(entry.score["new"])}
                    if entry.score
                    else None
                ),
            }
        )
    return rows


# --- the import page ---------------------------------------------------------------------------


def import_view(model_admin, request):
    """Upload → dry-run preview per project → confirm: the previewed changes, as drafts."""
    if not (model_admin.has_add_permission(request) and model_admin.has_change_permission(request)):
        raise PermissionDenied
    if request.method == "POST" and "confirm" in request.POST:
        return _confirm(model_admin, request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if form.is_bound and form.is_valid():
        return _preview(model_admin, request, form.cleaned_data["file"], form=form)
    return _page(model_admin, request, form=form)


def _preview(model_admin, request, content: str, *, form=None, stale=False):
    data = json.loads(content)
    try:
        result = projects_import(data, user=request.user, dry_run=True)
    except InterchangeError as exc:
        return _page(
            model_admin,
            request,
            form=form or ImportUploadForm(),
            errors=errors_by_project(data, exc.errors),
            error_count=len(exc.errors),
        )
    nothing = not (result.created or result.updated or result.new_operators)
    if stale and nothing:
        messages.warning(
            request,
            _(
                "Nothing in the file differs from the projects as they are now: "
                "it may have been imported already."
            ),
        )
    return _page(
        model_admin,
        request,
        form=form or ImportUploadForm(),
        result=result,
        rows=report_rows(result),
        nothing=nothing,
        content=content,
        token=preview_token(content=content, state=result.state, user=request.user),
    )


def _confirm(model_admin, request):
    try:
        content, state = previewed_state(request)
    except PreviewRefused as refused:
        messages.error(request, str(refused))
        return _page(model_admin, request, form=ImportUploadForm())
    try:
        result = projects_import(json.loads(content), user=request.user, expected_state=state)
    except StaleImport:
        messages.error(
            request,
            _(
                "Nothing was imported: the projects or operators in the file changed since your preview "
                "(someone edited them, or this preview was confirmed already). Here is the preview again."
            ),
        )
        return _preview(model_admin, request, content, stale=True)
    except InterchangeError:  # the file no longer passes (an operator it names changed, say)
        messages.error(request, _("Nothing was imported: the file no longer passes its checks."))
        return _preview(model_admin, request, content, stale=True)
    messages.success(
        request,
        _(
            "Imported as drafts, as your changes: %(created)s created, %(updated)s updated, %(unchanged)s "
            "unchanged. Nothing was published; a reviewer publishes them."
        )
        % {
            "created": len(result.created),
            "updated": len(result.updated),
            "unchanged": len(result.unchanged),
        },
    )
    return HttpResponseRedirect(reverse("admin:projects_project_changelist"))


def _page(model_admin, request, *, form, **context):
    opts = model_admin.model._meta
    return TemplateResponse(
        request,
        "admin/projects/project/import.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": opts,
            "title": _("Import projects"),
            "form": form,
            "limit": upload_limit(),
            **context,
        },
    )


def interchange_urls(model_admin) -> list:
    """The import page's address, for ProjectAdmin.get_urls."""
    view = model_admin.admin_site.admin_view(partial(import_view, model_admin))
    return [path("import/", view, name="projects_project_import")]


# --- export actions --------------------------------------------------------------------------------


def export_filename(extension: str, projects: list) -> str:
    """``sdgscore-hakuto-r-m2-20261120-0800.json`` for one project, ``sdgscore-14-projects-….csv``."""
    moment = timezone.localtime().strftime("%Y%m%d-%H%M")
    what = slugify(projects[0]) if len(projects) == 1 else f"{len(projects)}-projects"
    return f"sdgscore-{what or 'project'}-{moment}.{extension}"


@admin.action(description=gettext_lazy("Export selected as JSON (interchange file)"), permissions=["view"])
def export_json(model_admin, request, queryset):
    """The selected projects as an interchange file: working facts, ratings and cards, the file
    ``import_projects`` and the import page take back."""
    selected = list(queryset.order_by("slug").values_list("pk", "slug"))
    response = StreamingHttpResponse(
        projects_export(pks=[pk for pk, _slug in selected]), content_type="application/json; charset=utf-8"
    )
    name = export_filename("json", [slug for _pk, slug in selected])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@admin.action(description=gettext_lazy("Export selected as CSV (score cards)"), permissions=["view"])
def export_csv(model_admin, request, queryset):
    """The selected projects' draft facts and working score cards, one row a project (the API's
    CSV, with the state of each)."""
    response = StreamingHttpResponse(
        score_rows(queryset, working=True), content_type="text/csv; charset=utf-8"
    )
    name = export_filename("csv", list(queryset.order_by("slug").values_list("slug", flat=True)))
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
