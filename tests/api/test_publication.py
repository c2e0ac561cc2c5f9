"""Publications through the API: writes change the working ratings and card only; the public
(anonymous clients and read keys) sees the last publication until a reviewer publishes again."""

import copy
import csv
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Project
from tests.support.actors import publish_as_reviewer

from .conftest import PUBLISHED_RECORDS, assert_problem, full_ratings, ratings, slugs

pytestmark = pytest.mark.django_db

PROJECT = "/api/v1/projects/alpha"
RATING = f"{PROJECT}/assessments/S7.1"
AUDIENCES = ["anon", "reader"]


def streamed(response) -> str:
    assert response.status_code == 200, response.status_code
    return b"".join(response.streaming_content).decode()


def without(item: dict, *names: str) -> dict:
    return {key: value for key, value in item.items() if key not in names}


def csv_rows(client) -> list[dict]:
    return list(csv.DictReader(io.StringIO(streamed(client.get("/api/v1/export/scores.csv")))))


def exported(client) -> dict:
    return {
        record["slug"]: record
        for record in json.loads(streamed(client.get("/api/v1/export/projects.json")))["projects"]
    }


def public_view(client) -> dict:
    """Everything a client sees of alpha's ratings and score, on every endpoint that shows them.

    ``updated_at`` is left out here: an unpublished write moves it (an application bug, see
    test_an_unpublished_write_leaves_the_public_dates_and_etag_alone)."""
    single = client.get(RATING)
    return {
        "project": without(client.get(PROJECT).json(), "updated_at"),
        "assessments": client.get(f"{PROJECT}/assessments").json(),
        "S7.1": (single.status_code, single.json()),
        "scores": client.get(f"{PROJECT}/scores").json(),
        "rankings": [
            (item["rank"], item["slug"], item["score"])
            for item in client.get("/api/v1/rankings").json()["results"]
        ],
        "by_net_score": slugs(client.get("/api/v1/projects?ordering=-net_score")),
        "grade_a": slugs(client.get("/api/v1/projects?grade=A")),
        "csv": [without(row, "updated_at") for row in csv_rows(client)],
        "json": exported(client),
    }


def working_card(slug: str) -> dict:
    return Project.objects.select_related("current_score").get(slug=slug).current_score.card


def publish(slug: str, note: str = "Why"):
    return publish_as_reviewer(project=Project.objects.get(slug=slug), note=note)


def rate(writer, slug: str, code: str, level: int) -> None:
    url = f"/api/v1/projects/{slug}/assessments/{code}"
    body = {
        "rating": level,
        "evidence": "Re-assessed.",
        "evidence_grade": "A",
        "source_url": "https://example.org/evidence",
    }
    response = writer.put(url, body, format="json", HTTP_IF_MATCH=writer.get(url)["ETag"])
    assert response.status_code == 200, response.content[:500]


# The API writes, each on alpha (S7.1 published at 4, net 91.7 A, first in the rankings);
# each returns the working S7.1 rating it leaves (None: missing).


def put_rating(writer):
    rate(writer, "alpha", "S7.1", 0)
    return 0


def delete_rating(writer):
    response = writer.delete(RATING, HTTP_IF_MATCH=writer.get(RATING)["ETag"])
    assert response.status_code == 204
    return None


def patch_assessments(writer):
    tag = writer.get(PROJECT)["ETag"]
    body = {"assessments": ratings(0, 0, 0, 4, 4, grade="D")}  # net 0.0 E: last in the rankings
    response = writer.patch(PROJECT, body, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content[:500]
    return 0


def put_project(writer):
    body = {**copy.deepcopy(PUBLISHED_RECORDS[0]), "assessments": full_ratings(1)}  # same facts
    response = writer.put(PROJECT, body, format="json", HTTP_IF_MATCH=writer.get(PROJECT)["ETag"])
    assert response.status_code == 200, response.content[:500]
    return 1


WRITES = {
    "put_rating": put_rating,
    "delete_rating": delete_rating,
    "patch_assessments": patch_assessments,
    "put_project": put_project,
}


# ---------------------------------------------------------------------------------------------
# Writes wait for a publication


@pytest.mark.parametrize("audience", AUDIENCES)
@pytest.mark.parametrize("write", list(WRITES))
def test_an_api_write_leaves_what_the_public_sees_unchanged(request, writer, published, write, audience):
    public = request.getfixturevalue(audience)
    before = public_view(public)
    assert before["S7.1"][1]["rating"] == 4
    assert before["rankings"][0][1] == "alpha"
    draft_before = writer.get(PROJECT).json()["draft_score"]
    assert draft_before == before["project"]["score"]  # nothing unpublished yet

    working = WRITES[write](writer)

    assert public_view(public) == before
    # The writer sees the working card and ratings at once, and the published card as "score".
    mine = writer.get(PROJECT).json()
    assert mine["score"] == before["project"]["score"]
    assert mine["draft_score"] != draft_before
    assert mine["draft_score"] == working_card("alpha")
    single = writer.get(RATING)
    if working is None:
        assert_problem(single, 404)
    else:
        assert single.json()["rating"] == working
    listed = {item["criterion"]: item["rating"] for item in writer.get(f"{PROJECT}/assessments").json()}
    assert listed.get("S7.1") == working
    assert listed != {item["criterion"]: item["rating"] for item in before["assessments"]}


def test_an_unpublished_write_leaves_the_public_dates_and_etag_alone(anon, writer, published):
    """Nothing the public sees changed, so neither should the date the public is told, nor the
    project's ETag, nor the CSV export (which carries that date)."""
    before, csv_before = anon.get(PROJECT), streamed(anon.get("/api/v1/export/scores.csv"))
    put_rating(writer)
    after = anon.get(PROJECT)
    assert after.json()["score"] == before.json()["score"]
    assert after.json()["updated_at"] == before.json()["updated_at"]
    assert after["Last-Modified"] == before["Last-Modified"]
    assert after["ETag"] == before["ETag"]
    assert streamed(anon.get("/api/v1/export/scores.csv")) == csv_before


# ---------------------------------------------------------------------------------------------
# Publishing


def test_publishing_shows_the_public_the_new_rating_and_card(anon, reader, writer, published):
    old = anon.get("/api/v1/projects/beta").json()["score"]  # every criterion at 2: net 28.1 D
    rate(writer, "beta", "S7.1", 3)
    draft = writer.get("/api/v1/projects/beta").json()["draft_score"]
    assert draft != old

    publication = publish("beta", note="Why")

    assert publication.number == 2
    for client in (anon, reader):
        project = client.get("/api/v1/projects/beta").json()
        assert project["score"] == draft
        assert project["draft_score"] is None
        assert client.get("/api/v1/projects/beta/assessments/S7.1").json()["rating"] == 3
        items = client.get("/api/v1/projects/beta/assessments").json()
        listed = {item["criterion"]: item["rating"] for item in items}
        assert (listed["S7.1"], listed["S7.2"], len(listed)) == (3, 2, 25)
    mine = writer.get("/api/v1/projects/beta").json()
    assert mine["score"] == mine["draft_score"] == draft

    history = anon.get("/api/v1/projects/beta/scores").json()
    assert history["count"] == 2
    latest, first = history["results"]
    assert (latest["number"], latest["note"], first["number"]) == (2, "Why", 1)
    assert latest["card"] == draft
    assert first["card"] == old
    assert latest["changes"]["first"] is False
    assert latest["changes"]["ratings"] == [{"criterion": "S7.1", "from": 2, "to": 3}]
    was, now = old["overall"], draft["overall"]
    assert (was["value"], was["grade"]) == (28.1, "D")
    assert now["value"] > was["value"]
    assert latest["summary"] == (
        f"S7.1 2 → 3; net {was['value']:.1f} → {now['value']:.1f}; grade {was['grade']} → {now['grade']}"
    )
    assert latest["changes"]["net"] == {"from": was["value"], "to": now["value"]}

    ranked = {item["slug"]: item["score"] for item in anon.get("/api/v1/rankings").json()["results"]}
    assert ranked["beta"] == draft
    row = next(row for row in csv_rows(anon) if row["slug"] == "beta")
    assert (row["net_score"], row["grade"]) == (str(now["value"]), now["grade"])
    record = exported(anon)["beta"]
    assert record["score"] == draft
    assert next(item for item in record["assessments"] if item["criterion"] == "S7.1")["rating"] == 3


def test_a_published_deletion_shows_the_criterion_missing(anon, writer, published):
    delete_rating(writer)
    publish("alpha", note="Evidence withdrawn.")
    assert_problem(anon.get(RATING), 404)
    assert len(anon.get(f"{PROJECT}/assessments").json()) == 24
    latest = anon.get(f"{PROJECT}/scores").json()["results"][0]
    assert latest["changes"]["ratings"] == [{"criterion": "S7.1", "from": 4, "to": None}]
    now = latest["card"]["overall"]
    assert latest["summary"] == f"S7.1 4 → —; net 91.7 → {now['value']:.1f}; grade A → {now['grade']}"
    assert anon.get(PROJECT).json()["score"] == latest["card"] == working_card("alpha")


def test_after_a_publication_later_writes_wait_for_the_next_one(anon, writer, published):
    rate(writer, "alpha", "S7.1", 2)
    publish("alpha", note="First revision.")
    published_card = anon.get(PROJECT).json()["score"]
    rate(writer, "alpha", "S7.1", 1)
    assert anon.get(RATING).json()["rating"] == 2
    assert anon.get(PROJECT).json()["score"] == published_card
    assert anon.get(f"{PROJECT}/scores").json()["count"] == 2
    assert writer.get(RATING).json()["rating"] == 1
    assert writer.get(PROJECT).json()["draft_score"] != published_card
    publish("alpha", note="Second revision.")
    assert anon.get(RATING).json()["rating"] == 1
    history = anon.get(f"{PROJECT}/scores").json()
    assert [entry["number"] for entry in history["results"]] == [3, 2, 1]
    assert history["results"][0]["summary"].startswith("S7.1 2 → 1; net ")


# ---------------------------------------------------------------------------------------------
# draft_score is for write keys only


@pytest.mark.parametrize("audience", AUDIENCES)
def test_draft_score_is_null_for_anonymous_clients_and_read_keys(request, writer, published, audience):
    put_rating(writer)  # the working card now differs from the published one
    public = request.getfixturevalue(audience)
    assert public.get(PROJECT).json()["draft_score"] is None
    for url in ("/api/v1/projects", "/api/v1/rankings", "/api/v1/sync/projects"):
        items = public.get(url).json()["results"]
        assert items
        assert all(item["draft_score"] is None for item in items), url
    # The writer gets it on the same endpoints (so a null above is not a field null for everyone).
    for url in ("/api/v1/projects", "/api/v1/sync/projects"):
        mine = {item["slug"]: item["draft_score"] for item in writer.get(url).json()["results"]}
        assert mine["alpha"] == working_card("alpha"), url


# ---------------------------------------------------------------------------------------------
# Drafts created through the API


def new_project() -> dict:
    return {
        "slug": "hera-rover",
        "name": "Hera Rover",
        "operator": {"name": "Hera Space", "country": "IT", "kind": "company"},
        "target_body": "moon",
        "resources": ["water_ice"],
        "phase": "demonstration",
        "launch_year": 2032,
        "summary": "A rover that drills for ice.",
        "links": [],
        "assessments": full_ratings(4, grade="A"),  # it would top the rankings if it leaked
    }


def test_a_draft_created_through_the_api_is_invisible_to_the_public(anon, reader, writer, published):
    response = writer.post("/api/v1/projects", new_project(), format="json")
    assert response.status_code == 201, response.content[:500]
    created = response.json()
    assert created["state"] == "draft"
    assert created["score"] is None
    assert created["draft_score"] == working_card("hera-rover")
    assert created["draft_score"]["status"] == "rated"

    base = "/api/v1/projects/hera-rover"
    for client in (anon, reader):
        for url in (base, f"{base}/assessments", f"{base}/assessments/S7.1", f"{base}/scores"):
            assert_problem(client.get(url), 404)
        for url in ("/api/v1/projects?page_size=100", "/api/v1/rankings", "/api/v1/sync/projects"):
            assert "hera-rover" not in slugs(client.get(url)), url
        assert "hera-rover" not in [row["slug"] for row in csv_rows(client)]
        assert "hera-rover" not in exported(client)

    mine = writer.get(base).json()
    assert mine["score"] is None
    assert mine["draft_score"] == created["draft_score"]
    assert len(writer.get(f"{base}/assessments").json()) == 25
    assert writer.get(f"{base}/scores").json()["count"] == 0  # never published
    assert "hera-rover" not in slugs(writer.get("/api/v1/rankings"))  # rankings rank published cards


# ---------------------------------------------------------------------------------------------
# Queries


def queries(client, url: str) -> int:
    client.get(url)  # warm up: a key's first request records its use
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(captured)


@pytest.mark.parametrize("audience", [*AUDIENCES, "writer"])
def test_the_score_history_costs_the_same_queries_for_one_and_many_publications(
    request, writer, published, audience
):
    for number, level in enumerate((0, 1, 2, 3, 0, 1), start=2):  # S7.1 was 4: each level moves it
        rate(writer, "alpha", "S7.1", level)
        assert publish("alpha", note=f"Revision {number}.").number == number
    client = request.getfixturevalue(audience)
    many, one = f"{PROJECT}/scores?page_size=20", "/api/v1/projects/beta/scores?page_size=20"
    assert client.get(many).json()["count"] == 7
    assert client.get(one).json()["count"] == 1
    assert queries(client, many) == queries(client, one)
