"""Admin forms: the project form (a save from an older page refused, naming what changed since)
and the operator autocomplete with an accessible name. Ratings are edited on the rating sheet
(rating_sheet.py)."""

from django import forms
from django.contrib.admin.widgets import AutocompleteSelect
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from projects.models import Change, Project
from projects.vocabularies import Resource


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
