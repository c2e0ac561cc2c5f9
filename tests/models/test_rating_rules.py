"""The rules of a rating, one copy for every channel: a source link for grades A and B, a
justification and no grade for "not applicable", http(s) links only. The model (full_clean and
save: the shell), the import and the admin's rating sheet refuse alike, naming the field; the API
is tested in tests/api/test_writes_assessments.py."""

import pytest
from django.core.exceptions import ValidationError

from projects.interchange.importer import InterchangeError, projects_import
from projects.interchange.schema import AssessmentRecord, PublishedRatingRecord
from projects.models import Assessment, Change, Criterion, Project
from projects.models.assessments import rating_errors
from tests.admin.pages import SheetPage, errors_in, field_errors, sheet_url
from tests.conftest import interchange, project_record, rated

pytestmark = pytest.mark.django_db

SOURCE = "https://example.org/report"
GOOD = {
    "level": 2,
    "not_applicable": False,
    "justification": "Seen.",
    "evidence_grade": "C",
    "source_url": "",
}
NOT_APPLICABLE = {
    "level": None,
    "not_applicable": True,
    "justification": "No surface work.",
    "evidence_grade": "",
}


@pytest.fixture
def project():
    projects_import(interchange(project_record("alpha", assessments=[rated("S7.1", 2, "C")])))
    return Project.objects.get(slug="alpha")


def criterion(code):
    return Criterion.objects.get(methodology__version="1.0", code=code)


# ---------------------------------------------------------------------------------------------
# The rules


@pytest.mark.parametrize(
    ("rating", "fields"),
    [
        (GOOD, set()),
        ({**GOOD, "evidence_grade": "D"}, set()),  # C and D may have no source
        ({**GOOD, "evidence_grade": "A", "source_url": SOURCE}, set()),
        ({**GOOD, "evidence_grade": "A"}, {"source_url"}),
        ({**GOOD, "evidence_grade": "B"}, {"source_url"}),
        ({**GOOD, "evidence_grade": "B", "source_url": "   "}, {"source_url"}),
        ({**NOT_APPLICABLE, "source_url": ""}, set()),
        ({**NOT_APPLICABLE, "source_url": SOURCE}, set()),  # a page showing why it cannot apply
        ({**NOT_APPLICABLE, "justification": " ", "source_url": ""}, {"justification"}),
        ({**NOT_APPLICABLE, "evidence_grade": "A", "source_url": SOURCE}, {"evidence_grade"}),
        (
            {**NOT_APPLICABLE, "justification": "", "evidence_grade": "A", "source_url": SOURCE},
            {"justification", "evidence_grade"},
        ),
    ],
)
def test_the_rules_name_each_field_they_refuse(rating, fields):
    assert set(rating_errors(**rating)) == fields


def test_the_messages_say_what_to_do():
    errors = rating_errors(**{**GOOD, "evidence_grade": "B"})
    assert "source link" in str(errors["source_url"]) and "C or D" in str(errors["source_url"])
    errors = rating_errors(**{**NOT_APPLICABLE, "justification": "", "evidence_grade": "A", "source_url": ""})
    assert "why it cannot apply" in str(errors["justification"])
    assert "no evidence grade" in str(errors["evidence_grade"])


def test_a_past_publication_is_taken_as_it_was_published():
    """A backup's history holds ratings published before these rules: restored as they were."""
    legacy = {"criterion": "S7.1", "rating": 2, "evidence": "Seen.", "evidence_grade": "B"}
    legacy_na = {"criterion": "D5", "not_applicable": True, "evidence_grade": "A"}
    for item in (legacy, legacy_na):
        assert PublishedRatingRecord(data=item).is_valid()
        assert not AssessmentRecord(data=item).is_valid()


# ---------------------------------------------------------------------------------------------
# The shell: save() holds a changed rating to the rules, nothing is written when refused


def refused_fields(assessment) -> set:
    with pytest.raises(ValidationError) as refused:
        assessment.save()
    return set(refused.value.message_dict)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"level": 3, "justification": "Seen.", "evidence_grade": "A"}, {"source_url"}),
        (
            {
                "level": 3,
                "justification": "Seen.",
                "evidence_grade": "B",
                "source_url": "ftp://example.org/r",
            },
            {"source_url"},
        ),
        (
            {"level": 3, "justification": "Seen.", "evidence_grade": "B", "source_url": "example.org/r"},
            {"source_url"},
        ),
        (
            {"level": 3, "justification": "Seen.", "evidence_grade": "C", "source_url": "https://"},
            {"source_url"},
        ),
        ({"not_applicable": True, "justification": "", "evidence_grade": ""}, {"justification"}),
        (
            {"not_applicable": True, "justification": "None.", "evidence_grade": "A", "source_url": SOURCE},
            {"evidence_grade"},
        ),
    ],
)
def test_a_shell_save_is_refused_naming_the_field_and_stores_nothing(project, fields, named):
    card, version = project.current_score_id, project.version
    assessment = Assessment(project=project, criterion=criterion("D5"), **fields)
    assert refused_fields(assessment) == named
    assert not Assessment.objects.filter(project=project, criterion__code="D5").exists()
    project.refresh_from_db()
    assert (project.current_score_id, project.version) == (card, version)
    assert not Change.objects.filter(project=project, subject="D5").exists()


def test_a_shell_change_of_a_stored_rating_is_refused_and_the_stored_one_kept(project):
    assessment = Assessment.objects.get(project=project, criterion__code="S7.1")
    assessment.evidence_grade = "A"
    assert refused_fields(assessment) == {"source_url"}
    assert Assessment.objects.get(pk=assessment.pk).evidence_grade == "C"
    assessment.source_url = SOURCE
    assessment.save()
    assert Assessment.objects.get(pk=assessment.pk).rating()["source_url"] == SOURCE


def test_a_rating_stored_before_the_rules_stays_until_it_is_changed(project):
    """The rules apply on write: a stored grade B without a source (written before them) is kept,
    saved unchanged, and must cite a source once it changes."""
    assessment = Assessment.objects.get(project=project, criterion__code="S7.1")
    Assessment.objects.filter(pk=assessment.pk).update(evidence_grade="B")  # as stored before
    assessment.refresh_from_db()
    assessment.save()  # unchanged: accepted
    assessment.level = 3
    assert refused_fields(assessment) == {"source_url"}


# ---------------------------------------------------------------------------------------------
# The import: every error with its project and field


@pytest.mark.parametrize(
    ("item", "line"),
    [
        (
            {"criterion": "S7.1", "rating": 2, "evidence": "x", "evidence_grade": "A"},
            "projects[0] 'beta': assessments[0].source_url: Evidence grade A needs a source link",
        ),
        (
            {
                "criterion": "S7.1",
                "rating": 2,
                "evidence": "x",
                "evidence_grade": "C",
                "source_url": "ftp://x.org/a",
            },
            "projects[0] 'beta': assessments[0].source_url: Enter a valid URL.",
        ),
        (
            {"criterion": "D5", "not_applicable": True},
            "projects[0] 'beta': assessments[0].evidence: A criterion marked not applicable needs a justif",
        ),
        (
            {"criterion": "D5", "not_applicable": True, "evidence": "No surface.", "evidence_grade": "B"},
            "projects[0] 'beta': assessments[0].evidence_grade: A criterion marked not applicable has no",
        ),
    ],
)
def test_the_import_names_project_and_field_and_stores_nothing(item, line):
    with pytest.raises(InterchangeError) as refused:
        projects_import(interchange(project_record("beta", assessments=[item])))
    assert any(error.startswith(line) for error in refused.value.errors), refused.value.errors
    assert not Project.objects.filter(slug="beta").exists()


def test_project_links_and_source_links_refuse_the_same_addresses(project):
    for link in ["ftp://example.org/a", "example.org/a", "https://", "https://user:pw@example.org/"]:
        project.links = [link]
        with pytest.raises(ValidationError) as refused:
            project.full_clean(exclude=["current_score"])
        assert "links" in refused.value.message_dict
        assessment = Assessment(project=project, criterion=criterion("D5"), level=1, justification="x")
        assessment.evidence_grade, assessment.source_url = "B", link
        assert refused_fields(assessment) == {"source_url"}


# ---------------------------------------------------------------------------------------------
# The rating sheet shows the model's rules, each beside its field, once


def rate_d5(client, project, rating="2", *, justification="J.", grade="B", url="") -> dict[str, list[str]]:
    """Rate D5 on the project's rating sheet and save: {} when saved, otherwise the messages the
    page shows beside each of D5's fields (none shown elsewhere), with nothing of D5 stored."""
    page = SheetPage.of(client.get(sheet_url(project)))
    page.rate("D5", rating, justification=justification, grade=grade, url=url)
    response = client.post(sheet_url(project), page.post_data())
    if response.status_code == 302:
        return {}
    shown = SheetPage.of(response)
    errors = {
        "rating": errors_in(shown.criterion("D5").find("fieldset", class_="sheet-levels")),
        **{
            name: field_errors(shown.tree, f"D5-{name}")
            for name in ("justification", "evidence_grade", "source_url")
        },
    }
    assert sorted(sum(errors.values(), [])) == sorted(errors_in(shown.criterion("D5")))
    assert not Assessment.objects.filter(project=project, criterion__code="D5").exists()
    return {name: messages for name, messages in errors.items() if messages}


def test_the_rating_sheet_shows_each_rule_beside_its_field_once(project, admin_client):
    refused = rate_d5(admin_client, project)
    assert list(refused) == ["source_url"] and len(refused["source_url"]) == 1
    bad_link = rate_d5(admin_client, project, grade="C", url="ftp://example.org/r")
    assert list(bad_link) == ["source_url"] and len(bad_link["source_url"]) == 1
    assert "https://" in bad_link["source_url"][0]
    na = rate_d5(admin_client, project, rating="na", justification="", grade="A")
    assert set(na) == {"justification", "evidence_grade"}
    assert rate_d5(admin_client, project, url=SOURCE) == {}
    assert Assessment.objects.get(project=project, criterion__code="D5").rating()["source_url"] == SOURCE


def test_a_refused_link_on_the_sheet_is_not_also_called_missing(project, admin_client):
    """The link was given, only not as a link: the message says that, not that one is needed."""
    bad_link = rate_d5(admin_client, project, grade="B", url="ftp://example.org/r")
    assert list(bad_link) == ["source_url"] and len(bad_link["source_url"]) == 1
    assert "https://" in bad_link["source_url"][0]
