"""Admin forms: projects, and assessments that show each criterion's weight and level texts."""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import OuterRef, Subquery
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from projects.models import Assessment, Change, Project
from projects.validators import validate_link
from projects.vocabularies import Resource

NOT_ASSESSED = ""
NOT_APPLICABLE = "na"


class ProjectForm(forms.ModelForm):
    resources = forms.MultipleChoiceField(
        label=_("resources"),
        choices=Resource.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    links = forms.CharField(
        label=_("links"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One http(s) address per line."),
    )
    # The project's version as the page was loaded, and the last logged change then: a save
    # from an older page is refused (another's change would be undone), naming what changed.
    # (Not named "version": a model form may not name a model field that is not editable.)
    loaded_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    changes_seen = forms.IntegerField(required=False, widget=forms.HiddenInput)

    class Meta:
        model = Project
        fields = [
            "name",
            "slug",
            "operator",
            "target_body",
            "phase",
            "launch_year",
            "resources",
            "summary",
            "summary_ja",
            "links",
            "origin",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            self.initial["links"] = "\n".join(self.instance.links)
            # Both in one statement, so that they describe the same moment.
            last_change = Change.objects.filter(project=OuterRef("pk")).order_by("-id").values("id")[:1]
            loaded = (
                Project.objects.filter(pk=self.instance.pk)
                .values("version", seen=Subquery(last_change))
                .first()
            )
            if loaded is not None:
                self.initial["loaded_version"] = loaded["version"]
                self.initial["changes_seen"] = loaded["seen"] or 0

    def clean(self):
        cleaned = super().clean()
        # The instance was read under a lock on the project's row (ProjectAdmin.get_object), held
        # until the save commits: the version compared is the version the save changes.
        if self.instance.pk and cleaned.get("loaded_version") != self.instance.version:
            self.add_error(None, stale_form_message(self.instance, cleaned.get("changes_seen")))
        return cleaned

    def clean_links(self):
        return [line.strip() for line in self.cleaned_data["links"].splitlines() if line.strip()]


def stale_form_message(project: Project, seen: int | None) -> str:
    """Why a save from an older page is refused: who changed what since, from the change log."""
    since = Change.objects.filter(
        project=project, kind__in=[Change.Kind.FACT, Change.Kind.RATING], id__gt=seen or 0
    ).order_by("id")
    fields, codes, people = {}, {}, {}  # in order, each once
    for kind, subject, actor in since.values_list("kind", "subject", "actor_name"):
        if kind == Change.Kind.RATING:
            codes[subject] = None
        else:
            fields[str(Project._meta.get_field(subject).verbose_name)] = None
        people[actor] = None
    if codes:
        fields[_("ratings (%(codes)s)") % {"codes": ", ".join(codes)}] = None
    if not fields or seen is None:
        what = _("Someone else changed this project after you opened this page.")
    else:
        what = _("%(people)s changed this project after you opened this page: %(fields)s.") % {
            "people": ", ".join(people),
            "fields": ", ".join(fields),
        }
    advice = _(
        "Nothing was saved, so that their changes are not undone. Your input is kept below to copy "
        "from: open the project again to see the current values, then make your changes there."
    )
    return f"{what} {advice}"


class CriterionDisplay(forms.Widget):
    """The criterion a row rates, as text (code, name, weight, level texts) plus a hidden input.

    Not an `input_type = "hidden"` widget on purpose: the tabular inline then gives it a column.
    """

    def __init__(self, criteria, attrs=None):
        super().__init__(attrs)
        self.criteria = criteria

    def render(self, name, value, attrs=None, renderer=None):
        criterion = self.criteria.get(int(value)) if value not in (None, "") else None
        hidden = format_html('<input type="hidden" name="{}" value="{}">', name, value or "")
        if criterion is None:
            return hidden
        levels = format_html_join("", '<li value="{}">{}</li>', enumerate(criterion.level_texts()))
        return format_html(
            "{}<strong>{}</strong> {}<br><small>{} {} · {}</small>"
            '<details><summary>{}</summary><ol start="0">{}</ol></details>',
            hidden,
            criterion.code,
            criterion.name(),
            _("weight"),
            criterion.weight,
            criterion.references,
            _("level texts"),
            levels,
        )

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class AssessmentForm(forms.ModelForm):
    """One row: a criterion and its rating. Choosing "not assessed" removes a stored rating."""

    criteria: dict = {}  # criterion pk -> Criterion, set per dimension by the inline

    rating = forms.ChoiceField(label=_("rating"), required=False)
    # The model's limit and link rule, as a plain text field: a URL field would complete a
    # scheme-less address with https:// where the import and the API refuse it.
    source_url = Assessment._meta.get_field("source_url").formfield(
        form_class=forms.CharField, validators=[validate_link]
    )

    class Meta:
        model = Assessment
        fields = ["criterion", "rating", "justification", "evidence_grade", "source_url"]
        widgets = {"justification": forms.Textarea(attrs={"rows": 3, "cols": 36})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["criterion"].widget = CriterionDisplay(self.criteria)
        self.fields["criterion"].queryset = self.fields["criterion"].queryset.filter(
            pk__in=list(self.criteria)
        )
        criterion = self.criteria.get(self._criterion_pk())
        levels = criterion.level_texts() if criterion else [""] * 5
        self.fields["rating"].choices = [
            (NOT_ASSESSED, _("— not assessed —")),
            (NOT_APPLICABLE, _("not applicable")),
            *[(str(level), f"{level} · {Truncator(text).chars(48)}") for level, text in enumerate(levels)],
        ]
        if self.instance.pk:
            self.initial["rating"] = (
                NOT_APPLICABLE if self.instance.not_applicable else str(self.instance.level)
            )

    def _criterion_pk(self):
        value = self.initial.get("criterion") or self.instance.criterion_id
        if self.is_bound:
            value = self.data.get(self.add_prefix("criterion"), value)
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def clean(self):
        cleaned = super().clean()
        if "rating" in self.errors:  # an invalid choice: refuse, never read it as "not assessed"
            return cleaned
        rating = cleaned.get("rating", NOT_ASSESSED)
        if rating == NOT_ASSESSED:
            if self.instance.pk:
                cleaned["DELETE"] = True  # clearing the rating makes the criterion missing again
            else:
                self.add_error("rating", _("Choose a level, or “not applicable”."))
            return cleaned
        not_applicable = rating == NOT_APPLICABLE
        level = None if not_applicable else int(rating)
        # The rating's rules are the model's (Assessment.clean, run by _post_clean): one copy.
        self.instance.level = level
        self.instance.not_applicable = not_applicable
        return cleaned

    def _update_errors(self, errors):
        # The model speaks of "level"; in this form the level is chosen in "rating". A field whose
        # own value was refused already says so: the rating's rules do not add to it.
        error_dict = getattr(errors, "error_dict", {})
        level_errors = error_dict.pop("level", None)
        if level_errors:
            error_dict["rating"] = level_errors
        for name in [name for name in error_dict if name in self.errors]:
            del error_dict[name]
        super()._update_errors(errors)


class NamedAutocompleteSelect(AutocompleteSelect):
    """The admin's autocomplete with a placeholder: Django sets an empty one (so that the choice
    can be cleared), which leaves the select2 box without an accessible name while nothing is
    chosen. The placeholder text names it, e.g. "Choose an operator"."""

    def __init__(self, *args, placeholder="", **kwargs):
        super().__init__(*args, **kwargs)
        self.placeholder = placeholder

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs=extra_attrs)
        attrs["data-placeholder"] = str(self.placeholder)
        return attrs
