"""Field rules on the models (so the admin and full_clean refuse too): limits, visible text, links,
country codes; and migration 0020, which gives operators with invented country codes a real one."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from projects.admin.forms import ProjectForm
from projects.models import Assessment, Criterion, Operator, Project
from projects.selectors import methodology_current
from projects.validators import validate_link, validate_one_line, validate_text
from tests.admin.pages import SheetPage, errors_in, field_errors, sheet_url

JAPANESE = "月面の水氷を探査する。\n　レゴリスから酸素を取り出す実証（第２段階）。葛󠄀城"
HIDDEN = {
    "right-to-left override": "\u202e",
    "left-to-right isolate": "\u2066",
    "pop directional isolate": "\u2069",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "byte-order mark": "\ufeff",
    "escape": "\x1b",
    "delete": "\x7f",
    "line separator": "\u2028",
}


def errors_of(instance, **exclude) -> dict:
    with pytest.raises(ValidationError) as refused:
        instance.full_clean(**exclude)
    return refused.value.message_dict


# ---------------------------------------------------------------------------------------------
# The validators


@pytest.mark.parametrize("character", HIDDEN.values(), ids=HIDDEN.keys())
def test_hidden_characters_are_refused_in_names_and_texts(character):
    for validate in (validate_one_line, validate_text):
        with pytest.raises(ValidationError, match=f"U\\+{ord(character):04X}\\) at position 5"):
            validate(f"Luna{character}r")


def test_a_zero_width_joiner_in_an_emoji_sequence_is_refused_too():
    with pytest.raises(ValidationError):
        validate_text("Team: 👩\u200d🔬")
    validate_text("Team: 👩 🔬")


def test_texts_take_line_breaks_and_tabs_names_take_neither():
    for text in ["one\ntwo", "one\r\ntwo", "a\tb"]:
        validate_text(text)
        with pytest.raises(ValidationError):
            validate_one_line(text)
    with pytest.raises(ValidationError, match="U\\+000D"):
        validate_text("a lone\rcarriage return")


def test_japanese_text_is_accepted():
    validate_text(JAPANESE)
    validate_one_line("はやぶさ２")


@pytest.mark.parametrize(
    "link, message",
    [
        ("ftp://example.org/report.pdf", "starting with https:// or http://"),
        ("example.org/report", "starting with https:// or http://"),
        ("javascript:alert(1)", "starting with https:// or http://"),
        ("https://user:secret@example.org/", "user name or password"),
        ("https://user@example.org/", "user name or password"),
        ("https://example.org/\u202efdp.exe", "invisible"),
        ("https://example.org/a\x01b", "invisible"),
        ("https://exa mple.org/", "is not an http(s) address"),
    ],
)
def test_links_are_http_s_without_credentials_or_hidden_characters(link, message):
    with pytest.raises(ValidationError, match=message.replace("(", "\\(").replace(")", "\\)")):
        validate_link(link)


def test_good_links_pass():
    for link in ["https://example.org/a?b=c@d", "http://例え.jp/パス", "HTTPS://EXAMPLE.ORG/"]:
        validate_link(link)


# ---------------------------------------------------------------------------------------------
# The models


@pytest.fixture
def operator(db):
    return Operator.objects.create(name="Tsuki Co", country="JP", kind="company")


def project_of(operator, **fields) -> Project:
    values = {"slug": "tsuki", "name": "Tsuki", "target_body": "moon", "phase": "concept", **fields}
    return Project(operator=operator, **values)


def test_a_summary_over_its_limit_is_refused_by_the_model(operator):
    limit = Project._meta.get_field("summary").max_length
    assert limit == 10_000
    errors = errors_of(project_of(operator, summary="x" * (limit + 1)))
    assert list(errors) == ["summary"]
    project_of(operator, summary="x" * limit).full_clean()


def test_justification_and_note_limits_are_enforced_by_the_model(db):
    from projects.models import Publication

    assessment = Assessment(justification="y" * 4001)
    assert "justification" in errors_of(assessment, exclude=["project", "criterion"])
    publication = Publication(note="z" * 2001)
    errors = errors_of(publication, exclude=["project", "methodology", "score", "ratings", "changes"])
    assert "note" in errors


def test_hidden_characters_are_refused_by_the_model_naming_the_field(operator):
    project = project_of(operator, name="Moon\u202ebase", summary="Fine.", summary_ja="ok\u200b")
    assert sorted(errors_of(project)) == ["name", "summary_ja"]
    named = Operator(name="Tsuki\u200bCo", country="JP", kind="company")
    assert list(errors_of(named)) == ["name"]


def test_a_japanese_summary_and_justification_are_accepted(operator):
    project_of(operator, summary_ja=JAPANESE, name="かぐや").full_clean()
    Assessment(
        level=2, justification=JAPANESE, evidence_grade="B", source_url="https://example.jp/資料"
    ).full_clean(exclude=["project", "criterion"])


@pytest.mark.parametrize("links", [["ftp://example.org/a"], ["https://u:p@example.org/"], ["example.org"]])
def test_project_links_follow_the_link_rule(operator, links):
    assert list(errors_of(project_of(operator, links=links))) == ["links"]


def test_a_project_link_longer_than_a_source_link_may_be_is_refused(operator):
    link = "https://example.org/" + "a" * 481  # 501 characters
    assert "at most 500 characters" in errors_of(project_of(operator, links=[link]))["links"][0]


def test_a_source_link_with_another_scheme_or_credentials_is_refused(db):
    for link in ["ftp://example.org/data", "https://me:pw@example.org/data"]:
        assessment = Assessment(level=2, justification="J.", evidence_grade="B", source_url=link)
        assert list(errors_of(assessment, exclude=["project", "criterion"])) == ["source_url"]


@pytest.mark.parametrize("code", ["QQ", "XX", "AA", "UK", "jp", "J", "JPN", "XK"])
def test_a_country_code_that_does_not_exist_is_refused(db, code):
    errors = errors_of(Operator(name="Somewhere Co", country=code, kind="company"))
    assert list(errors) == ["country"]


@pytest.mark.parametrize("code", ["JP", "US", "GB", "LU", "AE", "EU", "ZZ"])
def test_existing_country_codes_eu_and_zz_are_accepted(db, code):
    Operator(name="Somewhere Co", country=code, kind="company").full_clean()


# ---------------------------------------------------------------------------------------------
# Admin forms: the model's limits and rules, nothing completed silently


def test_the_admin_project_form_takes_its_limits_from_the_model(operator):
    form = ProjectForm()
    assert form.fields["summary"].max_length == Project._meta.get_field("summary").max_length
    assert form.fields["summary_ja"].max_length == 10_000
    assert form.fields["name"].max_length == 200
    data = {
        "name": "Tsuki",
        "slug": "tsuki",
        "operator": operator.pk,
        "target_body": "moon",
        "phase": "concept",
        "summary": "s" * 10_001,
        "summary_ja": "",
        "links": "https://example.org/\nftp://example.org/file",
        "origin": "assessed",
    }
    form = ProjectForm(data=data)
    assert not form.is_valid()
    assert sorted(form.errors) == ["links", "summary"]


@pytest.fixture
def criterion(db):
    return Criterion.objects.filter(methodology=methodology_current()).order_by("position").first()


def sheet_with_source(client, project, criterion, url) -> SheetPage | None:
    """Rate ``criterion`` (grade B, which needs a source link) with ``url`` on the project's rating
    sheet and save: None when saved, otherwise the page shown again."""
    page = SheetPage.of(client.get(sheet_url(project)))
    page.rate(criterion.code, 2, justification="J.", grade="B", url=url)
    response = client.post(sheet_url(project), page.post_data())
    return None if response.status_code == 302 else SheetPage.of(response)


def test_the_rating_sheet_refuses_a_source_link_without_scheme_instead_of_completing_it(
    operator, criterion, admin_client
):
    project = project_of(operator)
    project.save()
    field = f"{SheetPage.prefix(criterion.code)}-source_url"
    shown = sheet_with_source(admin_client, project, criterion, "example.org/report")
    errors = field_errors(shown.tree, field)
    assert errors and "https://" in errors[0]
    assert shown.data[field] == ["example.org/report"]  # as typed, not completed
    shown = sheet_with_source(admin_client, project, criterion, "ftp://example.org/report")
    assert field_errors(shown.tree, field) == errors_in(shown.criterion(criterion.code))  # the link's only
    limit = Assessment._meta.get_field("source_url").max_length
    assert shown.tree.find(name=field).attrs["maxlength"] == str(limit)
    assert not Assessment.objects.filter(project=project).exists()
    assert sheet_with_source(admin_client, project, criterion, "https://example.org/report") is None
    assert (
        Assessment.objects.get(project=project, criterion=criterion).source_url
        == "https://example.org/report"
    )


# ---------------------------------------------------------------------------------------------
# Migration 0020

BEFORE, AFTER = [("projects", "0019_rescore_lease")], [("projects", "0020_field_rules")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_migration_gives_operators_with_invented_country_codes_a_real_one(capsys):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Operator = apps.get_model("projects", "Operator")
    for slug, country in [
        ("jaxa", "JP"),
        ("esa", "EU"),
        ("ukspace", "UK"),
        ("fuzzed", "QQ"),
        ("kosovo", "XK"),
    ]:
        Operator.objects.create(name=slug, slug=slug, country=country, kind="agency")
    capsys.readouterr()

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    Operator = executor.loader.project_state(AFTER).apps.get_model("projects", "Operator")
    assert dict(Operator.objects.values_list("slug", "country")) == {
        "jaxa": "JP",
        "esa": "EU",
        "ukspace": "GB",
        "fuzzed": "ZZ",
        "kosovo": "ZZ",
    }
    output = capsys.readouterr().out
    assert "operator 'fuzzed': country 'QQ' is not a code; now ZZ." in output
    assert "jaxa" not in output
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # leave the database as the other tests expect
