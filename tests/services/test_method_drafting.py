"""Drafting a method version (issue 12): a new draft copies a released one through one service
function; a draft is checked whenever it is saved and again at release, naming the field; the
release preview is the engine's own arithmetic; drafts can be deleted, released versions never."""

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import actors, scoring
from projects.interchange.importer import projects_import
from projects.models import Assessment, Criterion, Methodology, Project
from projects.selectors import methodology_current
from projects.services.methodology import (
    COPIED_CRITERION_FIELDS,
    MethodRefused,
    methodology_delete,
    methodology_draft_from,
    methodology_problems,
    methodology_publish,
    release_preview,
)
from projects.services.scoring import method_spec
from tests.conftest import interchange, project_record, rated
from tests.support.actors import release_as_administrator, staff_user
from tests.support.criteria import ALL_CODES

pytestmark = pytest.mark.django_db


def drafter():
    """An administrator who drafts versions (another one, test-administrator, releases them)."""
    return staff_user("test-drafter", groups=["administrator"])


def draft_from(source, version="1.1", user=None):
    with actors.acting(user or drafter(), actors.Channel.SHELL):
        return methodology_draft_from(source=source, version=version)


def criteria_rows(methodology) -> list[dict]:
    return list(methodology.criteria.order_by("position").values(*COPIED_CRITERION_FIELDS))


def rated_projects(count: int) -> list[Project]:
    """``count`` projects with every criterion rated, levels varying from project to project."""
    records = [
        project_record(
            f"p{number}",
            assessments=[
                rated(code, (number * 7 + position * 3 + number * position) % 5)
                for position, code in enumerate(ALL_CODES)
            ],
        )
        for number in range(count)
    ]
    projects_import(interchange(*records))
    return list(Project.objects.order_by("pk"))


# --- drafting ------------------------------------------------------------------------------------


def test_a_draft_from_1_0_copies_every_criterion_its_texts_and_the_parameters_exactly(method):
    draft = draft_from(method, "1.1")

    assert (draft.version, draft.state, draft.published_at) == ("1.1", "draft", None)
    assert draft.drafted_by == drafter() and draft.released_by is None
    assert draft.parameters == method.parameters
    copied, source = criteria_rows(draft), criteria_rows(method)
    assert len(copied) == 25 and copied == source
    first = draft.criteria.get(code="S7.1")
    assert first.levels_ja[4].startswith("現地での運用的な製造") and first.name_ja and first.description_ja
    assert first.references == "SDG targets 7.3, 7.a"
    assert methodology_problems(draft) == []
    # The source is untouched and its criteria are its own.
    assert criteria_rows(method) == source and method.criteria.count() == 25
    assert not Criterion.objects.filter(methodology=draft, pk__in=method.criteria.values("pk")).exists()


def test_a_draft_is_a_deep_copy_editing_it_leaves_the_source_as_it_was(method):
    draft = draft_from(method)
    draft.parameters["alpha"] = "3/5"
    draft.save()
    criterion = draft.criteria.get(code="D1")
    criterion.levels_en[0] = "Changed."
    criterion.save()
    method.refresh_from_db()
    assert method.parameters["alpha"] == "1/2"
    assert method.criteria.get(code="D1").levels_en[0] != "Changed."


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("1.0", "version: 1.0 exists already"),
        ("0.9", "version: must come after 1.0"),
        ("1.0.0", "version: must come after 1.0"),
        ("v2", "version: 'v2' is not a version number like 1.1 or 2.0"),
        ("", "version: '' is not a version number like 1.1 or 2.0"),
    ],
)
def test_a_draft_number_must_be_new_and_later_than_the_source(method, version, message):
    with pytest.raises(MethodRefused) as refused:
        draft_from(method, version)
    assert str(refused.value) == message
    assert Methodology.objects.count() == 1


def test_a_draft_number_must_come_after_every_released_version(method):
    second = draft_from(method, "1.5")
    release_as_administrator(methodology=second)
    with pytest.raises(MethodRefused, match=r"^version: must come after 1\.5$"):
        draft_from(method, "1.2")
    assert draft_from(method, "1.10").version == "1.10"  # 1.10 comes after 1.5 (numbers, not text)


def test_drafting_is_for_administrators(method):
    # The tests' default actor is an analyst.
    with pytest.raises(MethodRefused, match="drafting a method is for administrators"):
        methodology_draft_from(source=method, version="1.1")
    assert Methodology.objects.count() == 1


# --- checked on save -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.pop("dimensions"), "parameters: missing 'dimensions'"),
        (lambda p: p.update(alpha=0.5), "parameters: alpha: give an exact number as a string or integer"),
        (lambda p: p.update(alpha="3/2"), "parameters: alpha: must be from 0 to 1, not 3/2"),
        (lambda p: p["caps"].update(risk_level_high="Z"), "parameters: cap 'Z' is not a grade"),
        (lambda p: p["dimensions"][0].pop("name"), "parameters: dimensions[1]: missing 'name'"),
        (
            lambda p: p["dimensions"][3]["name"].update(ja=""),
            "parameters: dimensions[4]: name: the Japanese text is missing",
        ),
        (lambda p: p["evidence_quality"].pop("D"), "parameters: evidence_quality: give one entry for each"),
        (lambda p: p.update(severe_rating=5), "parameters: severe_rating: must be an integer from 1 to 4"),
        (
            lambda p: p["grades"].reverse(),
            "parameters: the last grade and confidence bands must start at 0",
        ),
    ],
)
def test_broken_parameters_are_refused_on_save_naming_the_field(method, change, message):
    draft = draft_from(method)
    stored = draft.parameters
    broken = Methodology.objects.get(pk=draft.pk)
    change(broken.parameters)

    with pytest.raises(ValidationError) as refused:
        broken.save()

    problems = refused.value.message_dict["parameters"]
    assert any(problem.startswith(message) for problem in problems), problems
    draft.refresh_from_db()
    assert draft.parameters == stored
    with pytest.raises(ValidationError):
        broken.full_clean()  # the same rule through the model's clean() (the admin's way)


def test_a_new_draft_without_parameters_is_refused_and_nothing_is_stored(method):
    with pytest.raises(ValidationError) as refused:
        Methodology.objects.create(version="2.0", parameters=None)
    assert refused.value.message_dict["parameters"] == [
        "parameters: must be an object with the method's parameters, not null"
    ]
    assert not Methodology.objects.filter(version="2.0").exists()


def test_a_criterion_without_its_japanese_level_texts_is_refused_by_its_clean(method):
    criterion = draft_from(method).criteria.get(code="E2")
    criterion.levels_ja = criterion.levels_ja[:4]
    with pytest.raises(ValidationError) as refused:
        criterion.full_clean()
    assert refused.value.message_dict == {"levels_ja": ["give the Japanese text of each level 0 to 4"]}


# --- checked again at release --------------------------------------------------------------------


def test_release_refuses_a_draft_whose_criteria_cannot_score_naming_the_criterion(method):
    draft = draft_from(method)
    Criterion.objects.filter(methodology=draft, code="S9.2").update(levels_en=["Only one."])
    Criterion.objects.filter(methodology=draft, dimension="equity").delete()

    with pytest.raises(MethodRefused) as refused:
        release_as_administrator(methodology=draft)

    assert str(refused.value) == (
        "Method 1.1 cannot be released: criteria: S9.2: levels_en: give the English text of each "
        "level 0 to 4; criteria: dimension 'equity' has no criterion"
    )
    draft.refresh_from_db()
    assert not draft.is_published and methodology_current() == method


def test_release_refuses_parameters_broken_behind_the_models_back(method):
    draft = draft_from(method)
    parameters = {key: value for key, value in draft.parameters.items() if key != "dimensions"}
    Methodology.objects.filter(pk=draft.pk).update(parameters=parameters)  # as an old row might be
    draft.refresh_from_db()
    with pytest.raises(
        MethodRefused, match=r"^Method 1\.1 cannot be released: parameters: missing 'dimensions'$"
    ):
        release_as_administrator(methodology=draft)


def test_the_drafter_cannot_release_a_second_administrator_can(method):
    draft = draft_from(method)
    assert drafter().has_perm("projects.publish_methodology")  # an administrator, yet refused
    refused = pytest.raises(MethodRefused, match="you drafted it; another administrator must release it")
    with actors.acting(drafter(), actors.Channel.SHELL), refused:
        methodology_publish(methodology=draft)
    draft.refresh_from_db()
    assert not draft.is_published

    release_as_administrator(methodology=draft)
    draft.refresh_from_db()
    assert draft.is_published and draft.released_by.username == "test-administrator"


# --- deleting ------------------------------------------------------------------------------------


def test_a_draft_is_deleted_with_its_criteria_a_released_version_never(method):
    draft = draft_from(method)
    with actors.acting(drafter(), actors.Channel.SHELL):
        methodology_delete(methodology=draft)
        assert not Methodology.objects.filter(pk=draft.pk).exists()
        assert not Criterion.objects.filter(methodology_id=draft.pk).exists()

        with pytest.raises(
            MethodRefused, match=r"^Method 1\.0 is released; a released method is never deleted\.$"
        ):
            methodology_delete(methodology=method)
    assert method.criteria.count() == 25


def test_deleting_a_draft_is_for_administrators(method):
    draft = draft_from(method)
    with pytest.raises(MethodRefused, match="deleting a method is for administrators"):
        methodology_delete(methodology=draft)  # as the tests' analyst
    assert Methodology.objects.filter(pk=draft.pk).exists()


# --- the release preview -------------------------------------------------------------------------


def engine_grades(projects, methodology) -> dict[int, str | None]:
    """Each project's grade under ``methodology``, from its 1.0 ratings carried over by code,
    computed project by project straight from the engine (the preview must agree)."""
    spec = method_spec(methodology)
    grades = {}
    for project in projects:
        ratings = [
            scoring.Rating(a.criterion.code, a.level, a.evidence_grade or None, a.not_applicable)
            for a in Assessment.objects.filter(
                project=project, criterion__methodology=methodology_current()
            ).select_related("criterion")
            if a.criterion.code in spec.criteria_by_code
        ]
        grades[project.pk] = scoring.score(spec, ratings).grade
    return grades


def test_the_preview_counts_the_grade_transitions_the_engine_gives(method):
    projects = rated_projects(12)
    draft = draft_from(method)
    Criterion.objects.filter(methodology=draft, code__in=["S7.1", "S9.1", "S12.1"]).update(weight=20)

    preview = release_preview(methodology=draft)

    before, after = engine_grades(projects, method), engine_grades(projects, draft)
    expected = {}
    for pk in before:
        expected[(before[pk], after[pk])] = expected.get((before[pk], after[pk]), 0) + 1
    assert {(t["from"], t["to"]): t["count"] for t in preview["transitions"]} == expected
    changed = sum(1 for pk in before if before[pk] != after[pk])
    assert changed > 0, "the test data should move some grades"
    assert preview["grade_changes"] == changed and preview["projects"] == 12
    assert all(t["changed"] == (t["from"] != t["to"]) for t in preview["transitions"])
    # Projects' cards under 1.0 agree with the engine's "before" (the preview compares like with like).
    assert {
        p.pk: p.current_score.card["overall"]["grade"]
        for p in Project.objects.select_related("current_score")
    } == before


def test_an_unchanged_draft_changes_no_grade(method):
    rated_projects(5)
    preview = release_preview(methodology=draft_from(method))
    assert preview["grade_changes"] == 0 and preview["net_changes"] == 0
    assert sum(t["count"] for t in preview["transitions"]) == 5


def test_the_preview_reads_ratings_in_a_fixed_number_of_queries(method):
    draft = draft_from(method)
    rated_projects(2)
    with CaptureQueriesContext(connection) as few:
        release_preview(methodology=draft)
    rated_projects(9)
    with CaptureQueriesContext(connection) as many:
        assert release_preview(methodology=draft)["projects"] == 9
    assert len(many) == len(few)
