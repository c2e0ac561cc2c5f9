"""import_projects: upsert by slug, atomic, errors that name project, field and reason."""

import json

import pytest
from django.core.management import CommandError, call_command

from projects.interchange.importer import InterchangeError, projects_import
from projects.models import Assessment, Operator, Project, ScoreCard
from tests.conftest import interchange, project_record, rated
from tests.support.actors import reviewer_user
from tests.support.builders import every_rating as full_ratings

pytestmark = pytest.mark.django_db


def import_errors(data) -> list[str]:
    with pytest.raises(InterchangeError) as caught:
        projects_import(data)
    return caught.value.errors


def test_import_creates_draft_project_with_current_score():
    result = projects_import(interchange(project_record("alpha", assessments=full_ratings())))
    project = Project.objects.get(slug="alpha")
    assert result.created == ["alpha"]
    assert project.state == "draft"
    assert project.current_score.status == "rated"
    # all levels 2: every dimension 50; net = 50 * 0.75 * 0.75 = 28.125 -> 28.1, grade D
    assert project.current_score.net_score == 28.1
    assert project.current_score.grade == "D"
    assert project.current_score.card["dimensions"]["debris"]["level"] == "elevated"


def test_import_with_publish_publishes():
    result = projects_import(
        interchange(project_record("alpha")), publish=True, reviewer=reviewer_user(), note="Test publication."
    )
    assert result.published == ["alpha"]
    assert Project.objects.get(slug="alpha").state == "published"


def test_reimport_upserts_by_slug_and_replaces_ratings():
    projects_import(interchange(project_record("alpha", assessments=full_ratings())))
    changed = full_ratings()[:-1]  # E5 left out: it becomes missing again
    changed[0] = rated("S7.1", 4)
    result = projects_import(interchange(project_record("alpha", name="Alpha II", assessments=changed)))
    project = Project.objects.get(slug="alpha")
    assert result.updated == ["alpha"]
    assert project.name == "Alpha II"
    assert Project.objects.count() == 1
    assert not Assessment.objects.filter(project=project, criterion__code="E5").exists()
    assert Assessment.objects.get(project=project, criterion__code="S7.1").level == 4
    assert project.current_score.card["dimensions"]["equity"]["coverage"] == 0.8


def test_identical_reimport_changes_nothing_and_adds_no_history():
    data = interchange(project_record("alpha", assessments=full_ratings()))
    projects_import(data)
    result = projects_import(data)
    assert result.unchanged == ["alpha"]
    assert ScoreCard.objects.count() == 1


def test_each_score_change_adds_one_history_entry():
    projects_import(interchange(project_record("alpha", assessments=full_ratings())))
    projects_import(interchange(project_record("alpha", assessments=full_ratings(**{"S7.1": 4}))))
    project = Project.objects.get(slug="alpha")
    assert project.score_history.count() == 2
    assert project.current_score == project.score_history.first()


def test_an_invalid_project_changes_nothing():
    projects_import(interchange(project_record("alpha", assessments=full_ratings())))
    before = json.dumps(list(Assessment.objects.values("criterion_id", "level").order_by("id")))
    bad = interchange(
        project_record("alpha", assessments=full_ratings(level=3)),
        project_record("beta", assessments=[rated("S7.1", 5)]),
    )
    errors = import_errors(bad)
    assert errors == [
        "projects[1] 'beta': assessments[0].rating: Ensure this value is less than or equal to 4."
    ]
    assert not Project.objects.filter(slug="beta").exists()
    assert json.dumps(list(Assessment.objects.values("criterion_id", "level").order_by("id"))) == before


@pytest.mark.parametrize(
    ("assessment", "message"),
    [
        (
            {"criterion": "S7.1", "rating": -1, "evidence": "x", "evidence_grade": "B"},
            "assessments[0].rating: Ensure this value is greater than or equal to 0.",
        ),
        (
            {"criterion": "S7.1", "rating": 2.5, "evidence": "x", "evidence_grade": "B"},
            "assessments[0].rating: A valid integer is required.",
        ),
        (
            {"criterion": "S7.1", "rating": "2", "evidence": "x", "evidence_grade": "B"},
            "assessments[0].rating: A valid integer is required.",
        ),
        (
            {"criterion": "S7.1", "rating": True, "evidence": "x", "evidence_grade": "B"},
            "assessments[0].rating: A valid integer is required.",
        ),
        (
            {"criterion": "S7.9", "rating": 2, "evidence": "x", "evidence_grade": "C"},
            "assessments[0].criterion: Unknown criterion 'S7.9' in method 1.0.",
        ),
        (
            {"criterion": "S7.1", "rating": 2, "evidence": "", "evidence_grade": "C"},
            "assessments[0].evidence: A rated criterion needs a justification.",
        ),
        (
            {"criterion": "S7.1", "rating": 2, "evidence": "x", "evidence_grade": "E"},
            "assessments[0].evidence_grade: 'E' is not allowed; use one of: A, B, C, D.",
        ),
        (
            {"criterion": "S7.1", "rating": 2, "evidence": "x"},
            "assessments[0].evidence_grade: A rated criterion needs an evidence grade (A, B, C or D).",
        ),
        (
            {"criterion": "S7.1", "evidence": "x", "evidence_grade": "B"},
            'assessments[0].rating: Give a rating from 0 to 4, or "not_applicable": true.',
        ),
        (
            {"criterion": "D5", "not_applicable": True, "rating": 1, "evidence": "x"},
            "assessments[0].rating: A criterion marked not applicable has no level.",
        ),
        (
            {"criterion": "S7.1", "ratng": 2, "evidence": "x", "evidence_grade": "B"},
            "assessments[0].ratng: Unknown field; allowed: criterion, rating, not_applicable, evidence, "
            "evidence_ja, evidence_grade, source_url.",
        ),
    ],
)
def test_bad_rating_is_refused_with_its_field_named(assessment, message):
    errors = import_errors(interchange(project_record("alpha", assessments=[assessment])))
    assert errors == [f"projects[0] 'alpha': {message}"]
    assert not Project.objects.exists()


def test_duplicated_criterion_is_refused():
    errors = import_errors(interchange(project_record("alpha", assessments=[rated("D1", 1), rated("D1", 2)])))
    assert errors == ["projects[0] 'alpha': assessments[1].criterion: Criterion D1 is assessed twice."]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"target_body": "venus"}, "target_body: 'venus' is not allowed; use one of: moon, mars, phobos"),
        ({"phase": ""}, "phase: '' is not allowed"),
        ({"resources": ["gold"]}, "resources[0]: 'gold' is not allowed"),
        ({"launch_year": 1900}, "launch_year: Ensure this value is greater than or equal to 1957."),
        ({"links": ["ftp://x"]}, "links[0]: Enter a valid URL."),
        (
            {"operator": {"name": "X", "country": "jp", "kind": "company"}},
            "operator.country: Use a two-letter upper-case country code",
        ),
        ({"slug": "not a slug"}, "slug: Enter a valid “slug” consisting of letters"),
    ],
)
def test_bad_project_field_is_named(fields, message):
    record = project_record("alpha")
    record.update(fields)
    errors = import_errors(interchange(record))
    assert len(errors) == 1
    assert errors[0].startswith("projects[0]")
    assert message in errors[0]


def test_duplicate_slugs_and_inconsistent_operators_are_refused():
    errors = import_errors(
        interchange(
            project_record("alpha"),
            project_record("alpha", operator={"name": "Test Operator", "country": "US", "kind": "company"}),
        )
    )
    assert "projects[1] 'alpha': slug: also used by projects[0]." in errors
    assert any("operator: 'Test Operator' is given as US/company here but JP/company" in e for e in errors)


def test_envelope_is_checked():
    assert import_errors({"format": "other", "projects": []}) == [
        "format: must be \"sdgscore.projects/1\", not 'other'."
    ]
    assert import_errors(interchange(methodology="0.9")) == [
        "methodology: the file's ratings are for method '0.9'; this service scores under method 1.0."
    ]
    assert import_errors([]) == ['The file must hold a JSON object with "format" and "projects".']


def test_an_import_names_operators_by_name_and_never_changes_an_existing_one():
    """Operators are shared by every project that names them: only the admin changes one."""
    projects_import(interchange(project_record("alpha")))
    with pytest.raises(InterchangeError, match="'Test Operator' exists with country 'JP', kind 'company'"):
        projects_import(
            interchange(
                project_record("alpha", operator={"name": "Test Operator", "country": "US", "kind": "agency"})
            )
        )
    operator = Operator.objects.get()
    assert (operator.country, operator.kind) == ("JP", "company")
    projects_import(interchange(project_record("beta")))  # the same description: the same operator
    assert Operator.objects.count() == 1


def test_command_reports_errors_and_malformed_json(tmp_path):
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"format": ')
    with pytest.raises(CommandError, match="not valid JSON: Expecting value at line 1, column 12"):
        call_command("import_projects", str(bad_json), "--user", "tester")
    invalid = tmp_path / "invalid.json"
    invalid.write_text(json.dumps(interchange(project_record("alpha", assessments=[rated("S7.1", 7)]))))
    with pytest.raises(CommandError, match=r"nothing was imported; 1 problem\(s\):\n  projects\[0\] 'alpha'"):
        call_command("import_projects", str(invalid), "--user", "tester")
    assert not Project.objects.exists()


def test_command_refuses_oversized_file(tmp_path, settings):
    settings.IMPORT_MAX_BYTES = 100
    big = tmp_path / "big.json"
    big.write_text(json.dumps(interchange(project_record("alpha", summary="x" * 200))))
    with pytest.raises(CommandError, match="larger than the limit of 100 bytes"):
        call_command("import_projects", str(big), "--user", "tester")


def test_a_slug_differing_only_in_case_from_a_stored_one_is_refused_and_nothing_is_written():
    projects_import(interchange(project_record("alpha", assessments=full_ratings())))
    errors = import_errors(interchange(project_record("beta"), project_record("ALPHA")))
    assert errors == [
        "projects[1] 'ALPHA': slug: the project 'alpha' has this slug in another case; use its slug "
        "as it is to update it, or another slug for a new project."
    ]
    assert list(Project.objects.values_list("slug", flat=True)) == ["alpha"]  # beta not written either


def test_two_slugs_differing_only_in_case_in_one_file_are_refused():
    errors = import_errors(interchange(project_record("gamma"), project_record("Gamma")))
    assert errors == ["projects[1] 'Gamma': slug: also used by projects[0]."]
    assert not Project.objects.exists()
