"""The uncertainty figures (method §8) and grade changes (§10) in the API: on every project
representation, in the rankings' rows, in both exports, and never computed in a request.

The figures shown are the stored ones of the last run, for the project's current publication
only: a project published again shows none until the next run has them.
"""

import csv
import io
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Project, ProjectUncertainty
from projects.services.uncertainty import uncertainty_compute
from tests.support.actors import publish_as_reviewer
from tests.support.builders import all_rated, make_project

from .conftest import ratings

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(published):
    """The five published projects (four with a net score), and a run over them."""
    return uncertainty_compute(reason="test")


def stored(slug: str) -> ProjectUncertainty:
    return ProjectUncertainty.objects.select_related("run").get(project__slug=slug)


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_a_project_carries_its_stored_figures_and_grade_changes(anon, computed):
    body = anon.get("/api/v1/projects/epsilon").json()
    row = stored("epsilon")
    figures = body["uncertainty"]
    assert figures["scenarios"] == 1000 and figures["seed"] == computed.seed == 20261205
    assert figures["computed_at"] == computed.finished_at.isoformat().replace("+00:00", "Z")
    assert figures["net"] == {"median": row.net_median, "p5": row.net_p5, "p95": row.net_p95}
    assert figures["net"]["p5"] <= figures["net"]["median"] <= figures["net"]["p95"]
    assert set(figures["grades"]) == {"A", "B", "C", "D", "E"}
    assert sum(figures["grades"].values()) == pytest.approx(1.0)
    assert figures["grades"] == pytest.approx(row.grades)
    assert figures["rank"] == {
        "published": row.rank,
        "median": row.rank_median,
        "p5": row.rank_p5,
        "p95": row.rank_p95,
        "of": 4,
    }
    # Its place by published net score among the run's projects, as the rankings count it.
    assert (
        row.rank
        == Project.objects.published().filter(published_net__gt=row.project.published_net).count() + 1
    )
    assert (figures["top10"], figures["stable"]) == (1.0, row.stable)
    # Its official grade's share decides "stable".
    official = body["score"]["overall"]["grade"]
    assert figures["stable"] == (figures["grades"][official] >= 0.9)
    assert body["grade_changes"] == [
        {"criterion": c["criterion"], "from": c["from"], "to": c["to"], "net": c["net"], "grade": c["grade"]}
        for c in row.grade_changes
    ]


def test_a_grade_change_is_one_level_of_one_rating_that_changes_the_grade(anon, computed):
    """Epsilon (net 49.6, D) rates E2 severe (4), which caps its grade: lowering it is a change."""
    body = anon.get("/api/v1/projects/epsilon").json()
    changes = body["grade_changes"]
    assert changes, "a capped project has a change that lifts the cap"
    grade = body["score"]["overall"]["grade"]
    for change in changes:
        assert abs(change["to"] - change["from"]) == 1 and 0 <= change["to"] <= 4
        assert change["grade"] != grade
    assert {"criterion": "E2", "from": 4, "to": 3} in [
        {key: change[key] for key in ("criterion", "from", "to")} for change in changes
    ]


def test_no_figures_without_a_net_score_or_before_a_run(anon, published):
    assert anon.get("/api/v1/projects/alpha").json()["uncertainty"] is None  # no run yet
    uncertainty_compute()
    cache.clear()
    delta = anon.get("/api/v1/projects/delta").json()  # one rating: insufficient data
    assert (delta["uncertainty"], delta["grade_changes"]) == (None, None)
    assert anon.get("/api/v1/projects/alpha").json()["uncertainty"] is not None


def test_a_project_published_again_shows_no_figures_until_the_next_run(
    anon, db, django_capture_on_commit_callbacks
):
    project = make_project("solo", assessments=all_rated(2, grade="C"))
    make_project("other", assessments=all_rated(3, grade="C"))
    uncertainty_compute()
    before = anon.get("/api/v1/projects/solo").json()["uncertainty"]
    assert before is not None

    from projects.services.ratings import assessment_save

    assessment = project.assessments.select_related("criterion").order_by("criterion__position").first()
    assessment.level = 4
    assessment_save(assessment)
    # The figures stay those of the publication while the change is a draft...
    assert anon.get("/api/v1/projects/solo").json()["uncertainty"] == before
    publish_as_reviewer(project=Project.objects.get(pk=project.pk), note="Raised.")
    # ...and go with the publication they were computed from: never shown beside another score.
    cache.clear()
    assert anon.get("/api/v1/projects/solo").json()["uncertainty"] is None
    assert anon.get("/api/v1/projects/other").json()["uncertainty"] is not None
    uncertainty_compute()
    cache.clear()
    after = anon.get("/api/v1/projects/solo").json()["uncertainty"]
    assert after is not None and after["net"] != before["net"]


def test_ranking_rows_carry_the_rank_interval(anon, computed):
    rows = anon.get("/api/v1/rankings").json()["results"]
    assert rows[0]["slug"] == "alpha" and len(rows) == 4  # the rated ones
    for row in rows:
        interval = row["rank_interval"]
        assert (
            interval
            == row["uncertainty"]["rank"]
            == {
                "published": row["rank"],  # the ranking's own rank: no filter here
                "median": stored(row["slug"]).rank_median,
                "p5": stored(row["slug"]).rank_p5,
                "p95": stored(row["slug"]).rank_p95,
                "of": 4,
            }
        )
        assert 1 <= interval["p5"] <= interval["median"] <= interval["p95"] <= 4
    # Alpha (every rating grade A, far ahead) ranks first in every scenario.
    assert rows[0]["rank_interval"] == {"published": 1, "median": 1, "p5": 1, "p95": 1, "of": 4}


def test_a_ranking_row_without_figures_has_no_interval(anon, published):
    rows = anon.get("/api/v1/rankings").json()["results"]
    assert rows and all(row["rank_interval"] is None and row["uncertainty"] is None for row in rows)


def test_the_figures_add_no_query_to_a_list_whatever_its_size(anon, db):
    for number in range(8):
        make_project(f"p-{number}", assessments=ratings(number % 5, grade="C"))
    uncertainty_compute()
    counts = {}
    for size in (2, 8):
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            body = anon.get(f"/api/v1/rankings?page_size={size}").json()
        assert all(row["uncertainty"] is not None for row in body["results"])
        counts[size] = len(captured)
    assert counts[2] == counts[8]


def test_the_json_export_carries_them_and_an_import_of_it_ignores_them(anon, computed):
    document = json.loads(streamed(anon.get("/api/v1/export/projects.json")))
    by_slug = {project["slug"]: project for project in document["projects"]}
    api = anon.get("/api/v1/projects/gamma").json()
    assert by_slug["gamma"]["uncertainty"] == api["uncertainty"]
    assert by_slug["gamma"]["grade_changes"] == api["grade_changes"]
    assert by_slug["delta"]["uncertainty"] is None

    from projects.interchange.importer import projects_import

    # Read back by an import, they are the service's, not the file's: accepted and ignored.
    forged = {**by_slug["gamma"], "uncertainty": {**by_slug["gamma"]["uncertainty"], "stable": "forged"}}
    result = projects_import({**document, "projects": [forged]})
    assert (result.unchanged, result.updated) == (["gamma"], [])
    cache.clear()
    assert anon.get("/api/v1/projects/gamma").json()["uncertainty"] == api["uncertainty"]


def test_the_csv_export_carries_the_figures_in_its_last_columns(anon, computed):
    rows = list(csv.DictReader(io.StringIO(streamed(anon.get("/api/v1/export/scores.csv")))))
    by_slug = {row["slug"]: row for row in rows}
    row, figures = by_slug["beta"], stored("beta")
    assert float(row["net_p5"]) == figures.net_p5 and float(row["net_p95"]) == figures.net_p95
    assert int(row["rank_median"]) == figures.rank_median and row["ranked_projects"] == "4"
    assert float(row["grade_share_" + max(figures.grades, key=figures.grades.get)]) == max(
        figures.grades.values()
    )
    assert row["grade_stable"] == ("true" if figures.stable else "false")
    assert row["uncertainty_computed_at"].endswith("Z")
    assert by_slug["delta"]["net_p5"] == "" and by_slug["delta"]["uncertainty_computed_at"] == ""


def test_a_write_may_not_set_the_figures(writer, computed):
    """They are the service's own: a body that carries them is refused, naming the key."""
    body = writer.get("/api/v1/projects/beta").json()
    response = writer.patch(
        "/api/v1/projects/beta",
        {"uncertainty": {"stable": True}},
        format="json",
        HTTP_IF_MATCH=writer.get("/api/v1/projects/beta")["ETag"],
    )
    assert response.status_code == 400
    assert "uncertainty" in json.dumps(response.json())
    assert writer.get("/api/v1/projects/beta").json()["uncertainty"] == body["uncertainty"]
