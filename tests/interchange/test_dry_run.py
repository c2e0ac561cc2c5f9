"""Dry runs of the import: the import itself, rolled back, reporting project by project what it
would create and change (read from the editorial log it wrote); the state a dry run started from
guards the real import that follows it; import_projects --dry-run prints the same report.

alpha (stored): 25 criteria at 2 (evidence C), operator Test Operator. The file renames it to
"Alpha II", raises S7.1 to 4, drops E5 (missing again) and revises D1's evidence text; beta is
new, with a new operator and two ratings; gamma is stored and given as it is.
"""

import json

import pytest
from django.core.management import call_command

from projects.interchange.importer import (
    InterchangeError,
    StaleImport,
    interchange_loads,
    projects_import,
)
from projects.models import Assessment, Change, Operator, Project, ScoreCard
from tests.conftest import interchange, project_record, rated
from tests.support.actors import staff_user
from tests.support.builders import every_rating
from tests.support.criteria import ALL_CODES

pytestmark = pytest.mark.django_db

NEW_OPERATOR = {"name": "Beta Space", "country": "US", "kind": "company"}


def ratings(level=2, **overrides):
    return every_rating(level, "C", **overrides)


@pytest.fixture
def stored(db):
    projects_import(
        interchange(
            project_record("alpha", name="Alpha", assessments=ratings()),
            project_record("gamma", name="Gamma"),
        )
    )


def the_file() -> dict:
    changed = ratings(**{"S7.1": 4})[:-1]  # E5 left out
    changed[ALL_CODES.index("D1")]["evidence"] = "Revised evidence."
    return interchange(
        project_record("alpha", name="Alpha II", assessments=changed),
        project_record(
            "beta",
            name="Beta",
            operator=NEW_OPERATOR,
            assessments=[rated("S9.1", 3, "C"), rated("D1", 1, "C")],
        ),
        project_record("gamma", name="Gamma"),
    )


def counts() -> dict:
    return {
        model.__name__: model.objects.count() for model in (Project, Assessment, ScoreCard, Change, Operator)
    }


def test_a_dry_run_writes_nothing(stored):
    alpha_before = Project.objects.get(slug="alpha")
    before, log = counts(), list(Change.objects.values_list("id", flat=True))
    result = projects_import(the_file(), dry_run=True)
    assert result.dry_run
    assert (result.created, result.updated, result.unchanged) == (["beta"], ["alpha"], ["gamma"])
    assert counts() == before
    assert list(Change.objects.values_list("id", flat=True)) == log
    alpha = Project.objects.get(slug="alpha")
    assert (alpha.name, alpha.version, alpha.current_score_id) == (
        "Alpha",
        alpha_before.version,
        alpha_before.current_score_id,
    )
    assert Assessment.objects.get(project=alpha, criterion__code="S7.1").level == 2
    assert not Project.objects.filter(slug="beta").exists()
    assert not Operator.objects.filter(name="Beta Space").exists()


def test_the_report_names_each_project_and_what_changes(stored):
    result = projects_import(the_file(), dry_run=True)
    alpha, beta, gamma = result.report
    assert (alpha.index, alpha.slug, alpha.outcome) == (0, "alpha", "updated")
    assert alpha.facts == [{"field": "name", "old": "Alpha", "new": "Alpha II"}]
    moved = {
        item["criterion"]: (item["old"] and item["old"]["level"], item["new"] and item["new"]["level"])
        for item in alpha.ratings
    }
    assert moved == {"S7.1": (2, 4), "D1": (2, 2), "E5": (2, None)}
    d1 = next(item for item in alpha.ratings if item["criterion"] == "D1")
    assert (d1["old"]["justification"], d1["new"]["justification"]) == (
        "Illustrative evidence.",
        "Revised evidence.",
    )
    assert [item["criterion"] for item in alpha.ratings] == ["S7.1", "D1", "E5"]  # method order
    assert alpha.score["old"]["net"] != alpha.score["new"]["net"]
    assert (beta.index, beta.outcome, beta.facts) == (1, "created", [])
    assert [(item["criterion"], item["old"], item["new"]["level"]) for item in beta.ratings] == [
        ("S9.1", None, 3),
        ("D1", None, 1),
    ]
    assert beta.score["old"] is None and beta.score["new"]["status"]
    assert (gamma.outcome, gamma.facts, gamma.ratings, gamma.score) == ("unchanged", [], [], None)
    assert result.new_operators == ["Beta Space"]
    assert result.state  # what the dry run started from
    assert result.published == []


def test_the_dry_run_reports_what_the_real_import_then_does(stored):
    """One code path: the report of the dry run is the report of the import that follows."""
    dry = projects_import(the_file(), dry_run=True)
    real = projects_import(the_file(), report=True, expected_state=dry.state)
    assert not real.dry_run
    assert real.report == dry.report
    assert Project.objects.get(slug="alpha").name == "Alpha II"
    assert Project.objects.get(slug="beta").operator.name == "Beta Space"


def test_a_file_with_errors_is_refused_in_a_dry_run_naming_project_and_field(stored):
    data = the_file()
    data["projects"][1]["assessments"][0]["rating"] = 7
    before = counts()
    with pytest.raises(InterchangeError) as refused:
        projects_import(data, dry_run=True)
    assert refused.value.errors == [
        "projects[1] 'beta': assessments[0].rating: Ensure this value is less than or equal to 4."
    ]
    assert counts() == before


def test_the_real_import_is_refused_when_the_projects_moved_since_the_dry_run(stored):
    dry = projects_import(the_file(), dry_run=True)
    projects_import(interchange(project_record("gamma", name="Gamma (renamed meanwhile)")))
    before = counts()
    with pytest.raises(StaleImport):
        projects_import(the_file(), expected_state=dry.state)
    assert counts() == before
    assert Project.objects.get(slug="alpha").name == "Alpha"


def test_a_project_created_since_the_dry_run_makes_it_stale(stored):
    dry = projects_import(the_file(), dry_run=True)
    projects_import(interchange(project_record("beta", name="Beta by someone else", operator=NEW_OPERATOR)))
    with pytest.raises(StaleImport):
        projects_import(the_file(), expected_state=dry.state)
    assert Project.objects.get(slug="beta").name == "Beta by someone else"


def test_an_import_already_applied_is_stale_for_its_preview(stored):
    dry = projects_import(the_file(), dry_run=True)
    projects_import(the_file(), expected_state=dry.state)
    log = Change.objects.count()
    with pytest.raises(StaleImport):
        projects_import(the_file(), expected_state=dry.state)
    assert Change.objects.count() == log


def test_the_command_prints_the_dry_run_report_and_writes_nothing(stored, tmp_path, capsys):
    staff_user("importer")
    path = tmp_path / "projects.json"
    path.write_text(json.dumps(the_file()), encoding="utf-8")
    before = counts()
    call_command("import_projects", str(path), "--user", "importer", "--dry-run")
    lines = capsys.readouterr().out.splitlines()
    assert counts() == before
    assert lines[0] == "New operator: Beta Space"
    assert "projects[0] 'alpha' (Alpha II): updated" in lines
    assert "  name: Alpha → Alpha II" in lines
    assert "  S7.1: 2 (evidence C) → 4 (evidence C)" in lines
    assert "  D1: 2 (evidence C) → 2 (evidence C) (evidence revised)" in lines
    assert "  E5: 2 (evidence C) → —" in lines
    assert "projects[1] 'beta' (Beta): created" in lines
    assert "  S9.1: — → 3 (evidence C)" in lines
    assert "projects[2] 'gamma' (Gamma): unchanged" in lines
    assert lines[-1] == "Dry run: 1 created, 1 updated, 1 unchanged, 0 published; nothing was written."


def test_the_command_without_dry_run_still_imports(stored, tmp_path, capsys):
    staff_user("importer")
    path = tmp_path / "projects.json"
    path.write_text(json.dumps(the_file()), encoding="utf-8")
    call_command("import_projects", str(path), "--user", "importer")
    assert capsys.readouterr().out.strip() == "1 created, 1 updated, 1 unchanged, 0 published."
    assert set(Change.objects.filter(project__slug="beta").values_list("actor_name", "channel")) == {
        ("importer", "import")
    }


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"format": }', "not valid JSON: Expecting value at line 1, column 12."),
        (b'{"a": "\xff"}', "not UTF-8 text (byte 7)."),
    ],
)
def test_reading_a_file_names_where_it_is_not_json(raw, message):
    with pytest.raises(InterchangeError) as refused:
        interchange_loads(raw)
    assert refused.value.errors == [message]
