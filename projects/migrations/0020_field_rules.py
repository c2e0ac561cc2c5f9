"""Field rules (issue 11): each text field's limit and visible-text rule declared on the model, links
http(s) only without credentials, an operator's country an ISO 3166-1 alpha-2 code that exists.

Data. An operator whose stored country code does not exist (an invented one, as a fuzzing run
left) would make every backup holding it unrestorable and the operator uneditable in the admin:
it gets the code of the country meant where that is certain (UK → GB, EL → GR), otherwise ZZ
("unknown country"), and each change is printed so that an editor can set the right one. Texts
and links the new rules refuse (too long, hidden characters, ftp:// or credentials) are not
changed — rewording is an editor's decision — but listed, so they can be fixed before the next
backup (an import refuses them, naming the field). Nothing here blocks the migration.
"""

import sys

import django.core.validators
from django.core.exceptions import ValidationError
from django.db import migrations, models
from django.utils import timezone

import projects.validators
from projects.validators import LINK_MAX_LENGTH, country_name, first_hidden, validate_link

# Codes in use for a country whose ISO code is another (the UK's is GB, Greece's GR).
COUNTRY_ALIASES = {"UK": "GB", "EL": "GR"}
SHOWN = 20  # problems listed by kind; the rest are counted


def operators_with_existing_countries(apps, schema_editor):
    Operator = apps.get_model("projects", "Operator")
    Project = apps.get_model("projects", "Project")
    now = timezone.now()
    for operator in Operator.objects.order_by("name"):
        if country_name(operator.country) is not None:
            continue
        written = operator.country.strip().upper()
        code = COUNTRY_ALIASES.get(written, written if country_name(written) else "ZZ")
        Operator.objects.filter(pk=operator.pk).update(country=code, updated_at=now)
        # Every project shows its operator: a change to it is a change to them, for syncs and caches.
        Project.objects.filter(operator_id=operator.pk).update(updated_at=now)
        sys.stdout.write(
            f"\n  operator {operator.name!r}: country {operator.country!r} is not a code; now {code}."
        )


def _link_problem(link) -> str | None:
    if not isinstance(link, str):
        return "not text"
    if len(link) > LINK_MAX_LENGTH:
        return f"longer than {LINK_MAX_LENGTH} characters"
    try:
        validate_link(link)
    except ValidationError as refused:
        return refused.messages[0]
    return None


def _text_problem(value: str, limit: int, *, multiline: bool) -> str | None:
    if len(value) > limit:
        return f"{len(value)} characters, more than {limit}"
    found = first_hidden(value, multiline=multiline)
    if found:
        return f"hidden character U+{ord(found[1]):04X} at position {found[0] + 1}"
    return None


def report_texts_the_rules_refuse(apps, schema_editor):
    Operator = apps.get_model("projects", "Operator")
    Project = apps.get_model("projects", "Project")
    Assessment = apps.get_model("projects", "Assessment")
    Publication = apps.get_model("projects", "Publication")
    problems: list[str] = []
    for name in Operator.objects.values_list("name", flat=True).iterator():
        if problem := _text_problem(name, 200, multiline=False):
            problems.append(f"operator {name!r}: name: {problem}")
    rows = Project.objects.values_list("slug", "name", "summary", "summary_ja", "links")
    for slug, name, summary, summary_ja, links in rows.iterator(chunk_size=2000):
        for field, value, limit, multiline in [
            ("name", name, 200, False),
            ("summary", summary, 10_000, True),
            ("summary_ja", summary_ja, 10_000, True),
        ]:
            if problem := _text_problem(value, limit, multiline=multiline):
                problems.append(f"project {slug}: {field}: {problem}")
        for link in links if isinstance(links, list) else []:
            if problem := _link_problem(link):
                problems.append(f"project {slug}: links: {problem}")
    rows = Assessment.objects.values_list("project__slug", "criterion__code", "justification", "source_url")
    for slug, code, justification, source_url in rows.iterator(chunk_size=5000):
        if problem := _text_problem(justification, 4000, multiline=True):
            problems.append(f"project {slug}: rating {code}: justification: {problem}")
        if source_url and (problem := _link_problem(source_url)):
            problems.append(f"project {slug}: rating {code}: source_url: {problem}")
    rows = Publication.objects.values_list("project__slug", "number", "note")
    for slug, number, note in rows.iterator(chunk_size=5000):
        if problem := _text_problem(note, 2000, multiline=True):
            problems.append(f"project {slug}: publication {number}: note: {problem}")
    if problems:
        sys.stdout.write(
            f"\n  {len(problems)} stored value(s) break the new field rules; an edit or import now "
            "refuses them, so fix them before the next backup:"
        )
        for line in problems[:SHOWN]:
            sys.stdout.write(f"\n    {line}")
        if len(problems) > SHOWN:
            sys.stdout.write(f"\n    … and {len(problems) - SHOWN} more.")


class Migration(migrations.Migration):
    dependencies = [("projects", "0019_rescore_lease")]

    operations = [
        migrations.AlterField(
            model_name="assessment",
            name="justification",
            field=models.TextField(
                blank=True,
                max_length=4000,
                validators=[
                    django.core.validators.MaxLengthValidator(4000),
                    projects.validators.validate_text,
                ],
                verbose_name="justification",
            ),
        ),
        migrations.AlterField(
            model_name="assessment",
            name="source_url",
            field=models.URLField(
                blank=True,
                max_length=500,
                validators=[projects.validators.validate_link],
                verbose_name="source link",
            ),
        ),
        migrations.AlterField(
            model_name="operator",
            name="country",
            field=models.CharField(
                help_text="An existing ISO 3166-1 alpha-2 code, e.g. JP, US, GB; EU for the European Space "
                "Agency, ZZ when unknown.",
                max_length=2,
                validators=[projects.validators.validate_country],
                verbose_name="country",
            ),
        ),
        migrations.AlterField(
            model_name="operator",
            name="name",
            field=models.CharField(
                max_length=200,
                unique=True,
                validators=[projects.validators.validate_one_line],
                verbose_name="name",
            ),
        ),
        migrations.AlterField(
            model_name="project",
            name="name",
            field=models.CharField(
                max_length=200, validators=[projects.validators.validate_one_line], verbose_name="name"
            ),
        ),
        migrations.AlterField(
            model_name="project",
            name="summary",
            field=models.TextField(
                blank=True,
                max_length=10000,
                validators=[
                    django.core.validators.MaxLengthValidator(10000),
                    projects.validators.validate_text,
                ],
                verbose_name="summary (English)",
            ),
        ),
        migrations.AlterField(
            model_name="project",
            name="summary_ja",
            field=models.TextField(
                blank=True,
                max_length=10000,
                validators=[
                    django.core.validators.MaxLengthValidator(10000),
                    projects.validators.validate_text,
                ],
                verbose_name="summary (Japanese)",
            ),
        ),
        migrations.AlterField(
            model_name="publication",
            name="note",
            field=models.TextField(
                help_text="Why this was published.",
                max_length=2000,
                validators=[
                    django.core.validators.MaxLengthValidator(2000),
                    projects.validators.validate_text,
                ],
                verbose_name="note",
            ),
        ),
        migrations.RunPython(operators_with_existing_countries, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(report_texts_the_rules_refuse, migrations.RunPython.noop, elidable=True),
    ]
