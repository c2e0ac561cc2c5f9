"""The other read endpoints: assessments, score history, operators, methodologies, rankings, exports."""

import copy
import csv
import io
import json

import pytest

from projects.interchange.exporter import projects_export
from projects.interchange.importer import projects_import
from tests.conftest import interchange, project_record, rated
from tests.support.actors import reviewer_user
from tests.support.criteria import ALL_CODES, WEIGHTS

from .conftest import PUBLISHED_SLUGS, assert_problem, full_ratings

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Assessments


def test_assessments_list_every_rating_in_method_order(anon, published):
    response = anon.get("/api/v1/projects/alpha/assessments")
    assert response.status_code == 200
    items = response.json()
    assert [item["criterion"] for item in items] == ALL_CODES
    assert {item["criterion"]: item["weight"] for item in items} == WEIGHTS
    first = items[0]
    assert first == {
        "criterion": "S7.1",
        "dimension": "sdg7",
        "weight": 3,
        "rating": 4,
        "not_applicable": False,
        "evidence": "Illustrative evidence.",
        "evidence_ja": "",
        "evidence_grade": "A",
        "source_url": "https://example.org/evidence",
        "methodology": "1.0",
        "updated_at": first["updated_at"],
    }
    assert [item["rating"] for item in items if item["dimension"] == "sdg12"] == [3] * 5


def test_assessments_of_a_partly_rated_project_list_only_its_ratings(anon, published):
    items = anon.get("/api/v1/projects/delta/assessments").json()
    assert [(item["criterion"], item["rating"]) for item in items] == [("S7.1", 1)]


def test_one_assessment_carries_level_evidence_grade_and_source(anon, db):
    source = {**rated("D5", 2, "C", "Plume study."), "source_url": "https://example.org/plume"}
    na = {"criterion": "E4", "not_applicable": True, "evidence": "No shared data."}
    projects_import(
        interchange(project_record("sourced", assessments=[source, na])),
        publish=True,
        reviewer=reviewer_user(),
        note="Test publication.",
    )
    body = anon.get("/api/v1/projects/sourced/assessments/D5").json()
    assert (body["rating"], body["evidence"], body["evidence_grade"], body["source_url"]) == (
        2,
        "Plume study.",
        "C",
        "https://example.org/plume",
    )
    body = anon.get("/api/v1/projects/sourced/assessments/E4").json()
    assert (body["rating"], body["not_applicable"], body["evidence_grade"]) == (None, True, None)


# ---------------------------------------------------------------------------------------------
# Score history


def test_score_history_lists_publications_newest_first(anon, db):
    for level, note in ((2, "First look."), (3, "Flight data."), (1, "Setback.")):
        projects_import(
            interchange(project_record("moving", assessments=full_ratings(level))),
            publish=True,
            reviewer=reviewer_user(),
            note=note,
        )
    # A working change that nobody published is not part of the public history.
    projects_import(interchange(project_record("moving", assessments=full_ratings(4))))
    body = anon.get("/api/v1/projects/moving/scores").json()
    assert body["count"] == 3
    entries = body["results"]
    assert [entry["number"] for entry in entries] == [3, 2, 1]
    assert [entry["note"] for entry in entries] == ["Setback.", "Flight data.", "First look."]
    cards = [entry["card"] for entry in entries]
    assert [card["dimensions"]["sdg7"]["value"] for card in cards] == [25.0, 75.0, 50.0]
    assert cards[0] == anon.get("/api/v1/projects/moving").json()["score"]
    assert all(entry["methodology"] == "1.0" for entry in entries)
    moments = [entry["published_at"] for entry in entries]
    assert moments == sorted(moments, reverse=True)
    assert entries[2]["changes"]["first"] is True
    assert entries[2]["summary"] == f"first publication; net {cards[2]['overall']['value']:.1f}; grade D"
    assert entries[0]["changes"]["ratings"][0] == {"criterion": "S7.1", "from": 3, "to": 1}
    assert entries[0]["summary"].startswith("S7.1 3 → 1; S7.2 3 → 1; ")
    was, now = cards[1]["overall"], cards[0]["overall"]
    assert entries[0]["summary"].endswith(
        f"; net {was['value']:.1f} → {now['value']:.1f}; grade {was['grade']} → {now['grade']}"
    )


# ---------------------------------------------------------------------------------------------
# Operators


def test_operators_are_listed_by_name_with_their_published_project_counts(anon, published):
    results = anon.get("/api/v1/operators").json()["results"]
    assert [(o["slug"], o["name"], o["country"], o["kind"], o["project_count"]) for o in results] == [
        ("asteroid-ventures", "Asteroid Ventures", "LU", "company", 1),
        ("comet-works", "Comet Works", "DE", "consortium", 1),
        ("lunar-co", "Lunar Co", "JP", "company", 2),
        ("red-planet-agency", "Red Planet Agency", "US", "agency", 1),
    ]


def test_an_operator_detail_by_slug(anon, published):
    assert anon.get("/api/v1/operators/red-planet-agency").json() == {
        "slug": "red-planet-agency",
        "name": "Red Planet Agency",
        "country": "US",
        "kind": "agency",
        "project_count": 1,
    }


# ---------------------------------------------------------------------------------------------
# Methodologies


def test_methodologies_list_the_published_method_with_criteria_weights_and_parameters(anon, db):
    body = anon.get("/api/v1/methodologies").json()
    assert [m["version"] for m in body["results"]] == ["1.0"]
    method = body["results"][0]
    assert method["state"] == "published"
    assert [c["code"] for c in method["criteria"]] == ALL_CODES
    assert {c["code"]: c["weight"] for c in method["criteria"]} == WEIGHTS
    assert method["parameters"]["alpha"] == "1/2"


def test_a_methodology_detail_by_version_describes_each_criterion(anon, db):
    method = anon.get("/api/v1/methodologies/1.0").json()
    criterion = next(c for c in method["criteria"] if c["code"] == "D1")
    assert criterion["dimension"] == "debris"
    assert criterion["weight"] == 3
    assert criterion["name"]["en"] and criterion["name"]["ja"]
    assert len(criterion["levels"]["en"]) == 5 and len(criterion["levels"]["ja"]) == 5
    assert {"alpha", "grades", "risk_levels", "caps"} <= set(method["parameters"])


# ---------------------------------------------------------------------------------------------
# Rankings


def test_rankings_list_rated_projects_by_net_score_with_a_rank(anon, published):
    results = anon.get("/api/v1/rankings").json()["results"]
    assert [(item["rank"], item["slug"], item["score"]["overall"]["value"]) for item in results] == [
        (1, "alpha", 91.7),
        (2, "epsilon", 49.6),
        (3, "beta", 28.1),
        (4, "gamma", 24.8),
    ]  # delta has insufficient data: not ranked


def test_equal_net_scores_share_a_rank(anon, published):
    twins = [project_record(slug, assessments=full_ratings(2)) for slug in ("twin-a", "twin-b")]
    projects_import(
        interchange(*copy.deepcopy(twins)), publish=True, reviewer=reviewer_user(), note="Test publication."
    )
    results = anon.get("/api/v1/rankings").json()["results"]
    assert [(item["rank"], item["slug"]) for item in results] == [
        (1, "alpha"),
        (2, "epsilon"),
        (3, "beta"),
        (3, "twin-a"),
        (3, "twin-b"),
        (6, "gamma"),
    ]


def test_ranks_hold_across_pages_whatever_the_page_size(anon, published):
    twins = [project_record(slug, assessments=full_ratings(2)) for slug in ("twin-a", "twin-b")]
    projects_import(
        interchange(*copy.deepcopy(twins)), publish=True, reviewer=reviewer_user(), note="Test publication."
    )
    whole = [(item["rank"], item["slug"]) for item in anon.get("/api/v1/rankings").json()["results"]]
    for size in (1, 2, 4):
        paged = []
        for page in range(1, 7 // size + 2):
            response = anon.get(f"/api/v1/rankings?page_size={size}&page={page}")
            if response.status_code == 404:
                break
            paged += [(item["rank"], item["slug"]) for item in response.json()["results"]]
        assert paged == whole, size  # page 3 of 2 starts with a tie: twin-b is still 3rd


def test_ranks_are_within_the_filtered_selection(anon, published):
    everyone = {item["slug"]: item for item in anon.get("/api/v1/rankings").json()["results"]}
    body = everyone["beta"]["target_body"]
    results = anon.get(f"/api/v1/rankings?target_body={body}").json()["results"]
    expected = sorted(
        (item for item in everyone.values() if item["target_body"] == body),
        key=lambda item: -item["score"]["overall"]["value"],
    )
    assert [item["slug"] for item in results] == [item["slug"] for item in expected]
    assert results[0]["rank"] == 1
    assert [item["rank"] for item in results] == list(range(1, len(results) + 1))
    assert any(item["rank"] != everyone[item["slug"]]["rank"] for item in results)  # not the overall ranks


# ---------------------------------------------------------------------------------------------
# Exports


def test_the_json_export_is_the_interchange_document_of_all_published_projects(anon, published):
    response = anon.get("/api/v1/export/projects.json")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    text = b"".join(response.streaming_content).decode()
    document = json.loads(text)
    assert document["format"] == "sdgscore.projects/1"
    assert document["methodology"] == "1.0"
    assert [project["slug"] for project in document["projects"]] == sorted(PUBLISHED_SLUGS)
    alpha = document["projects"][0]
    assert len(alpha["assessments"]) == 25
    assert alpha["score"] == anon.get("/api/v1/projects/alpha").json()["score"]
    assert text == "".join(projects_export(published_only=True))


def test_the_json_export_imports_back_unchanged(anon, published):
    document = json.loads(b"".join(anon.get("/api/v1/export/projects.json").streaming_content))
    result = projects_import(document)
    assert sorted(result.unchanged) == sorted(PUBLISHED_SLUGS)


def test_the_csv_export_has_a_header_and_one_row_a_published_project(anon, published):
    response = anon.get("/api/v1/export/scores.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["slug"] for row in rows] == sorted(PUBLISHED_SLUGS)
    alpha, delta = rows[0], rows[2]
    assert (alpha["name"], alpha["operator"], alpha["operator_country"]) == (
        "Selene Ice Prospector",
        "Lunar Co",
        "JP",
    )
    assert (alpha["status"], alpha["grade"], alpha["net_score"], alpha["debris_level"]) == (
        "rated",
        "A",
        "91.7",
        "low",
    )
    assert (delta["status"], delta["grade"], delta["net_score"], delta["launch_year"]) == (
        "insufficient_data",
        "",
        "",
        "",
    )
    gamma = next(row for row in rows if row["slug"] == "gamma")
    assert (gamma["debris_severe"], gamma["equity_severe"]) == ("true", "false")


def test_the_csv_export_quotes_commas_and_quotes_in_names(anon, db):
    projects_import(
        interchange(project_record("quoted", name='Ice, Rock and "Dust"', assessments=full_ratings())),
        publish=True,
        reviewer=reviewer_user(),
        note="Test publication.",
    )
    rows = list(
        csv.DictReader(
            io.StringIO(b"".join(anon.get("/api/v1/export/scores.csv").streaming_content).decode())
        )
    )
    assert [row["name"] for row in rows] == ['Ice, Rock and "Dust"']


def test_exports_are_attachments_with_file_names(anon, published):
    assert "sdgscore-projects.json" in anon.get("/api/v1/export/projects.json")["Content-Disposition"]
    assert "sdgscore-scores.csv" in anon.get("/api/v1/export/scores.csv")["Content-Disposition"]


def test_an_unknown_operator_or_methodology_is_404(anon, published):
    assert_problem(anon.get("/api/v1/operators/nobody"), 404)
    assert_problem(anon.get("/api/v1/methodologies/0.1"), 404)


@pytest.mark.parametrize(
    ("ordering", "page_size"),
    [("name", 2), ("-name", 50), ("sdg7", 2), ("-sdg12", 50), ("net_score", 2), ("-net_score,name", 2)],
)
def test_a_rank_is_the_net_score_rank_whatever_the_order_of_rows(anon, published, ordering, page_size):
    twins = [project_record(slug, assessments=full_ratings(2)) for slug in ("twin-a", "twin-b")]
    projects_import(
        interchange(*copy.deepcopy(twins)), publish=True, reviewer=reviewer_user(), note="Test publication."
    )
    by_net = {item["slug"]: item["rank"] for item in anon.get("/api/v1/rankings").json()["results"]}
    seen = {}
    page = 1
    while True:
        response = anon.get(f"/api/v1/rankings?ordering={ordering}&page_size={page_size}&page={page}")
        if response.status_code == 404:
            break
        body = response.json()
        seen.update({item["slug"]: item["rank"] for item in body["results"]})
        if not body["next"]:
            break
        page += 1
    assert seen == by_net
