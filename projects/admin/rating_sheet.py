"""The rating sheet: every criterion of the current method on one admin page, saved at once.

One form per criterion (its level as radio buttons beside the full level texts, its evidence),
checked by the model's own rules (``Assessment.full_clean``, so ``rating_errors`` and the
validators are the only copy of them), and one save applying every changed rating in one
transaction through ``projects.services.ratings`` (one new score card; unchanged criteria keep
their assessor and log nothing). A save made from a sheet older than someone else's rating
change is refused, with everything typed kept on the page.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied
from django.db.models import Max
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext_lazy as _

from projects.models import Assessment, Change, Criterion, Project
from projects.selectors import criteria_of, methodology_current
from projects.services.ratings import (
    RatingEdit,
    RatingsOutdated,
    may_change_ratings,
    ratings_apply,
    ratings_digest,
)
from projects.validators import validate_link
from projects.vocabularies import Dimension, EvidenceGrade

from .forms import stale_form_message

NOT_ASSESSED = ""
NOT_APPLICABLE = "na"
RATED = {str(level) for level in range(5)} | {NOT_APPLICABLE}


def field_prefix(criterion: Criterion) -> str:
    """The prefix of a criterion's fields: its code, with a dot-free id (``S7_1-rating``)."""
    return criterion.code.replace(".", "_")


def _same_text(posted: str, stored: str) -> bool:
    """Browsers send a text box's line breaks as CRLF and the form strips the ends: the same
    text as stored is not a change."""
    return posted.replace("\r\n", "\n").strip() == (stored or "").replace("\r\n", "\n").strip()


class CriterionRatingForm(forms.ModelForm):
    """One criterion's rating. Validated only when changed; "not assessed" removes a stored
    rating. Every rule is the model's: its errors are shown beside the field they concern."""

    rating = forms.ChoiceField(label=_("rating"), required=False, widget=forms.RadioSelect)
    # The model's limit and link rule on a plain text field, as in the project form: a URL field
    # would complete a scheme-less address with https:// where the import and the API refuse it.
    source_url = Assessment._meta.get_field("source_url").formfield(
        form_class=forms.CharField, validators=[validate_link]
    )

    class Meta:
        model = Assessment
        fields = ["justification", "justification_ja", "evidence_grade", "source_url"]
        widgets = {
            "justification": forms.Textarea(attrs={"rows": 3, "cols": 30}),
            "justification_ja": forms.Textarea(attrs={"rows": 2, "cols": 30, "lang": "ja"}),
        }

    def __init__(self, *args, criterion: Criterion, **kwargs):
        self.criterion = criterion
        super().__init__(
            *args,
            prefix=field_prefix(criterion),
            empty_permitted=True,  # an unchanged criterion is not checked (old ratings stand as they are)
            use_required_attribute=False,
            **kwargs,
        )
        self.fields["rating"].choices = [
            *[(str(level), text) for level, text in enumerate(criterion.level_texts())],
            (NOT_APPLICABLE, _("not applicable")),
            (NOT_ASSESSED, _("not assessed")),
        ]
        self.fields["evidence_grade"].choices = [("", "—"), *EvidenceGrade.choices]
        self.fields["source_url"].widget.attrs.update({"type": "url", "inputmode": "url"})
        self.stored = self.instance.rating() if self.instance.pk else None
        if self.stored is not None:
            self.initial["rating"] = (
                NOT_APPLICABLE if self.instance.not_applicable else str(self.instance.level)
            )
        else:
            self.initial["rating"] = NOT_ASSESSED
        self.removes = False

    @property
    def is_risk(self) -> bool:
        return self.criterion.is_risk

    def _text(self, name: str) -> str:
        value = self.cleaned_data.get(name, "")
        if self.stored is not None and _same_text(value, self.stored[name]):
            return self.stored[name]
        return value.replace("\r\n", "\n")

    def clean_justification(self):
        return self._text("justification")

    def clean_justification_ja(self):
        return self._text("justification_ja")

    def clean_source_url(self):
        value = self.cleaned_data.get("source_url", "")
        if self.stored is not None and value.strip() == (self.stored["source_url"] or "").strip():
            return self.stored["source_url"]
        return value

    def clean(self):
        cleaned = super().clean()
        if "rating" in self.errors:  # an invalid choice: refused, never read as "not assessed"
            return cleaned
        rating = cleaned.get("rating", NOT_ASSESSED)
        if rating == NOT_ASSESSED:
            if self.instance.pk:
                self.removes = True  # the criterion becomes missing again
            else:
                self.add_error("rating", _("Choose a level, or “not applicable”."))
            return cleaned
        self.instance.not_applicable = rating == NOT_APPLICABLE
        self.instance.level = None if self.instance.not_applicable else int(rating)
        return cleaned

    def _post_clean(self):
        # A removal or a refused choice has nothing for the model to check.
        if self.removes or "rating" in self.errors:
            return
        super()._post_clean()

    def _update_errors(self, errors):
        """The model's errors beside this form's fields: the level is chosen in "rating", and an
        error about a field the form does not show is the form's own (shown once, at the top)."""
        if hasattr(errors, "error_dict"):
            # A field the form refused itself reached the model empty: what the model then says
            # of it ("grade B needs a source link" beside a refused link) would mislead.
            refused = {name for name in self.errors if name != NON_FIELD_ERRORS}
            mapped: dict[str, list] = {}
            for name, errors_of_field in errors.error_dict.items():
                if name in ("level", "not_applicable"):
                    target = "rating"
                else:
                    target = name if name in self.fields else NON_FIELD_ERRORS
                if target in refused:
                    continue
                shown = set(self.errors.get(target, [])) | {
                    message for error in mapped.get(target, []) for message in error
                }
                for error in errors_of_field:  # each message once, however many rules say it
                    if not set(error) <= shown:
                        mapped.setdefault(target, []).append(error)
                        shown |= set(error)
            if not mapped:
                return
            errors = forms.ValidationError(mapped)
        super()._update_errors(errors)

    def edit(self) -> RatingEdit | None:
        """What saving this form asks for, or None when nothing was changed."""
        if not self.has_changed():
            return None
        if self.removes:
            return RatingEdit(self.criterion, None)
        return RatingEdit(self.criterion, self.instance.rating())


class SheetForm(forms.Form):
    """What the sheet was loaded from: a save from an older reading of the ratings is refused."""

    loaded_ratings = forms.CharField(widget=forms.HiddenInput)
    changes_seen = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _dimension_names(methodology) -> dict[str, str]:
    """Each dimension's name in the request's language, from the method (the vocabulary's
    label when the method has none)."""
    language = (get_language() or "en")[:2]
    names = {value: str(label) for value, label in Dimension.choices}
    for dimension in methodology.parameters.get("dimensions", []):
        name = dimension.get("name", {})
        if name.get(language) or name.get("en"):
            names[dimension["key"]] = name.get(language) or name["en"]
    return names


def _sections(methodology, criteria, forms_):
    names = _dimension_names(methodology)
    sections: dict[str, dict] = {}
    for criterion, form in zip(criteria, forms_, strict=True):
        section = sections.setdefault(
            criterion.dimension,
            {
                "key": criterion.dimension,
                "name": names.get(criterion.dimension, criterion.dimension),
                "risk": criterion.is_risk,
                "rows": [],
            },
        )
        section["rows"].append(form)
    return list(sections.values())


def rating_sheet_view(model_admin, request, object_id):
    """GET: the sheet as stored. POST: check every changed criterion; save all of them at once
    or, on any error, none, showing the page again with what was posted."""
    project = model_admin.get_object(request, str(object_id))
    if project is None:
        return model_admin._get_obj_does_not_exist_redirect(request, model_admin.opts, str(object_id))
    if not model_admin.has_change_permission(request, project) or not may_change_ratings(request.user):
        raise PermissionDenied
    methodology = methodology_current()
    criteria = list(criteria_of(methodology)) if methodology else []
    stored = {
        assessment.criterion_id: assessment
        for assessment in Assessment.objects.filter(project=project, criterion__in=criteria)
    }
    data = request.POST if request.method == "POST" else None
    sheet = SheetForm(data, initial=_loaded(project, methodology) if data is None and methodology else None)
    forms_ = [
        CriterionRatingForm(
            data,
            criterion=criterion,
            instance=stored.get(criterion.pk) or Assessment(project=project, criterion=criterion),
        )
        for criterion in criteria
    ]
    if data is not None and methodology is not None:
        valid = [form.is_valid() for form in forms_]  # every form, so that every error shows
        if sheet.is_valid() and all(valid):
            edits = [edit for form in forms_ if (edit := form.edit()) is not None]
            try:
                changed = ratings_apply(
                    project=project,
                    methodology=methodology,
                    edits=edits,
                    loaded_digest=sheet.cleaned_data["loaded_ratings"],
                    user=request.user,
                )
            except RatingsOutdated:
                sheet.add_error(None, stale_form_message(project, sheet.cleaned_data.get("changes_seen")))
            else:
                if changed:
                    message = ngettext(
                        "%(count)d rating of “%(project)s” saved: %(codes)s.",
                        "%(count)d ratings of “%(project)s” saved: %(codes)s.",
                        len(changed),
                    ) % {"count": len(changed), "project": project.name, "codes": ", ".join(changed)}
                    model_admin.message_user(request, message, messages.SUCCESS)
                else:
                    model_admin.message_user(request, _("No rating changed."), messages.INFO)
                if "_continue" in request.POST:
                    return HttpResponseRedirect(request.path)
                return HttpResponseRedirect(reverse("admin:projects_project_change", args=[project.pk]))
    with_errors = [form for form in forms_ if form.errors]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "original": project,
        "title": _("Rating sheet: %(project)s") % {"project": project.name},
        "methodology": methodology,
        "sheet": sheet,
        "sections": _sections(methodology, criteria, forms_) if methodology else [],
        "with_errors": with_errors,
        "rated": len(stored),
        "criteria_count": len(criteria),
        "has_view_permission": model_admin.has_view_permission(request, project),
    }
    return TemplateResponse(request, "admin/projects/project/rating_sheet.html", context)


def _loaded(project: Project, methodology) -> dict:
    return {
        "loaded_ratings": ratings_digest(project_id=project.pk, methodology=methodology),
        "changes_seen": Change.objects.filter(project=project).aggregate(last=Max("id"))["last"] or 0,
    }


def rating_sheet_url(project: Project) -> str:
    return reverse("admin:projects_project_ratings", args=[project.pk])


def ratings_summary_html(project: Project):
    """For the project's change page: how many criteria are rated, each criterion's rating by
    dimension, and the way to the rating sheet (or, on the add page, what comes next)."""
    if not project.pk:
        return format_html(
            "<p>{}</p>", _("Save the project first: the rating sheet opens next, to rate every criterion.")
        )
    methodology = methodology_current()
    if methodology is None:
        return _("No method is published yet: there is nothing to rate.")
    criteria = list(criteria_of(methodology))
    ratings = {
        code: ("n/a" if not_applicable else str(level))
        for code, level, not_applicable in Assessment.objects.filter(
            project=project, criterion__methodology=methodology
        ).values_list("criterion__code", "level", "not_applicable")
    }
    link = format_html(
        '<a class="button rating-sheet-link" href="{}">{}</a>',
        rating_sheet_url(project),
        _("Rate on the rating sheet (%(rated)d of %(total)d rated)")
        % {"rated": len(ratings), "total": len(criteria)},
    )
    names = _dimension_names(methodology)
    rows = []
    for dimension in dict.fromkeys(criterion.dimension for criterion in criteria):
        cells = format_html_join(
            " ",
            "<span>{}&nbsp;<strong>{}</strong></span>",
            (
                (criterion.code, ratings.get(criterion.code, "—"))
                for criterion in criteria
                if criterion.dimension == dimension
            ),
        )
        rows.append((names.get(dimension, dimension), cells))
    table = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", rows)
    return format_html(
        '<p>{}</p><table class="ratings-summary"><caption>{}</caption><tbody>{}</tbody></table>',
        link,
        _("Working ratings (— not assessed; n/a not applicable)"),
        table,
    )
