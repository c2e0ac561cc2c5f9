"""Writing single ratings: PUT and DELETE /projects/{slug}/assessments/{code}."""

import pytest

from projects.models import Assessment, Project, ScoreCard

from .conftest import assert_problem, error_fields

pytestmark = pytest.mark.django_db

RATING = {
    "rating": 3,
    "evidence": "Flight data published.",
    "evidence_grade": "A",
    "source_url": "https://example.org/flight-data",
}


def url(slug: str, code: str) -> str:
    return f"/api/v1/projects/{slug}/assessments/{code}"


def stored(slug: str):
    return sorted(
        Assessment.objects.filter(project__slug=slug).values_list(
            "criterion__code", "level", "not_applicable", "justification", "evidence_grade", "source_url"
        )
    )


def card(slug: str) -> dict:
    return Project.objects.select_related("current_score").get(slug=slug).current_score.card


def test_rating_a_missing_criterion_needs_no_if_match_and_is_a_201(writer, published):
    response = writer.put(url("delta", "S7.2"), RATING, format="json")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert (body["criterion"], body["rating"], body["evidence"], body["evidence_grade"]) == (
        "S7.2",
        3,
        "Flight data published.",
        "A",
    )
    assert writer.get(url("delta", "S7.2"))["ETag"] == response["ETag"]


def test_a_new_rating_rescores_the_working_card_at_once(writer, anon, published):
    published_card = anon.get("/api/v1/projects/delta").json()["score"]
    before = card("delta")
    writer.put(url("delta", "S7.2"), RATING, format="json")
    after = writer.get("/api/v1/projects/delta").json()["draft_score"]
    # S7.1 (w3) and S7.2 (w2) of SDG 7's 10 are now assessed.
    assert after["dimensions"]["sdg7"]["coverage"] == 0.5
    assert after["dimensions"]["sdg7"]["value"] == 100 * (3 * 1 + 2 * 3) / (4 * 5)
    assert after != before
    assert card("delta") == after
    # The public card is the published one until a reviewer publishes.
    assert anon.get("/api/v1/projects/delta").json()["score"] == published_card
    assert published_card["dimensions"]["sdg7"]["coverage"] == 0.3


def test_changing_a_rating_with_its_etag_rescores_the_working_card(writer, anon, published):
    tag = writer.get(url("alpha", "S12.1"))["ETag"]
    response = writer.put(
        url("alpha", "S12.1"),
        {**RATING, "rating": 0, "source_url": "https://example.org/s"},
        format="json",
        HTTP_IF_MATCH=tag,
    )
    assert response.status_code == 200, response.content[:500]
    assert response.json()["rating"] == 0
    assert response.json()["source_url"] == "https://example.org/s"
    draft = writer.get("/api/v1/projects/alpha").json()["draft_score"]
    # S12: 3 on all but S12.1 (w2) now 0: 100 * (3 * 9) / (4 * 11)
    assert draft["dimensions"]["sdg12"]["value"] == round(100 * 27 / 44, 1)
    assert card("alpha") == draft
    # Nothing is published yet: the public card and the history are as they were.
    assert anon.get("/api/v1/projects/alpha").json()["score"]["dimensions"]["sdg12"]["value"] == 75.0
    assert anon.get("/api/v1/projects/alpha/scores").json()["count"] == 1


def test_a_rating_can_be_marked_not_applicable(writer, anon, published):
    tag = writer.get(url("alpha", "D5"))["ETag"]
    body = {"not_applicable": True, "evidence": "No debris."}
    response = writer.put(url("alpha", "D5"), body, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert (body["not_applicable"], body["rating"], body["evidence_grade"]) == (True, None, None)
    draft = writer.get("/api/v1/projects/alpha").json()["draft_score"]
    assert draft["dimensions"]["debris"]["coverage"] == 1.0
    assert Assessment.objects.get(project__slug="alpha", criterion__code="D5").not_applicable
    assert writer.get(url("alpha", "D5")).json()["not_applicable"] is True
    # The public still sees the published rating.
    public = anon.get(url("alpha", "D5")).json()
    assert (public["not_applicable"], public["rating"]) == (False, 0)


def test_changing_a_rating_without_if_match_is_a_428_and_changes_nothing(writer, published):
    before, before_card = stored("alpha"), card("alpha")
    assert_problem(writer.put(url("alpha", "S7.1"), RATING, format="json"), 428)
    assert stored("alpha") == before
    assert card("alpha") == before_card


def test_changing_a_rating_with_a_stale_etag_is_a_412_and_changes_nothing(writer, published):
    stale = writer.get(url("alpha", "S7.1"))["ETag"]
    first = writer.put(url("alpha", "S7.1"), RATING, format="json", HTTP_IF_MATCH=stale)
    assert first.status_code == 200
    before, before_card = stored("alpha"), card("alpha")
    response = writer.put(url("alpha", "S7.1"), {**RATING, "rating": 1}, format="json", HTTP_IF_MATCH=stale)
    assert_problem(response, 412)
    assert stored("alpha") == before
    assert card("alpha") == before_card


def test_the_etag_of_another_rating_does_not_match(writer, published):
    other = writer.get(url("alpha", "S7.2"))["ETag"]
    assert_problem(writer.put(url("alpha", "S7.1"), RATING, format="json", HTTP_IF_MATCH=other), 412)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**RATING, "rating": 5}, {"rating"}),
        ({**RATING, "rating": -1}, {"rating"}),
        ({**RATING, "rating": 2.5}, {"rating"}),
        ({**RATING, "rating": "2"}, {"rating"}),
        ({**RATING, "rating": True}, {"rating"}),
        ({"evidence": "x", "evidence_grade": "B"}, {"rating"}),
        ({**RATING, "evidence": ""}, {"evidence"}),
        ({**RATING, "evidence": "   "}, {"evidence"}),
        ({"rating": 2, "evidence": "x"}, {"evidence_grade"}),
        ({**RATING, "evidence_grade": "E"}, {"evidence_grade"}),
        ({**RATING, "source_url": "not a link"}, {"source_url"}),
        ({"not_applicable": True, "rating": 1, "evidence": "x"}, {"rating"}),
        ({**RATING, "source_url": ""}, {"source_url"}),  # grade A cites its source
        ({**RATING, "evidence_grade": "B", "source_url": ""}, {"source_url"}),
        ({**RATING, "source_url": "ftp://example.org/data"}, {"source_url"}),
        ({**RATING, "source_url": "example.org/data"}, {"source_url"}),
        ({**RATING, "source_url": "https://"}, {"source_url"}),
        ({"not_applicable": True, "evidence": "No orbit.", "evidence_grade": "A"}, {"evidence_grade"}),
        ({"not_applicable": True, "source_url": "https://example.org/"}, {"evidence"}),
        ({"not_applicable": "yes"}, {"not_applicable"}),
        ({**RATING, "criterion": "S7.1"}, {"criterion"}),
        ({**RATING, "ratng": 2}, {"ratng"}),
        ({"rating": 9, "evidence": "", "evidence_grade": "Z"}, {"rating", "evidence_grade"}),
    ],
)
def test_an_invalid_rating_is_a_400_naming_each_bad_field_and_changes_nothing(
    writer, published, body, fields
):
    before, before_card = stored("alpha"), card("alpha")
    tag = writer.get(url("alpha", "S7.1"))["ETag"]
    response = writer.put(url("alpha", "S7.1"), body, format="json", HTTP_IF_MATCH=tag)
    problem = assert_problem(response, 400)
    assert error_fields(problem) == fields
    assert stored("alpha") == before
    assert card("alpha") == before_card


def test_an_invalid_new_rating_is_a_400_and_stores_nothing(writer, published):
    response = writer.put(url("delta", "S7.2"), {**RATING, "rating": 7}, format="json")
    assert error_fields(assert_problem(response, 400)) == {"rating"}
    assert not Assessment.objects.filter(project__slug="delta", criterion__code="S7.2").exists()


def test_rating_an_unknown_criterion_is_a_404(writer, published):
    assert_problem(writer.put(url("alpha", "S7.9"), RATING, format="json"), 404)


def test_rating_an_unknown_project_is_a_404(writer, published):
    assert_problem(writer.put(url("nowhere", "S7.1"), RATING, format="json"), 404)


def test_a_write_key_may_rate_a_draft(writer, catalogue):
    tag = writer.get(url("draft-secret", "S7.1"))["ETag"]
    response = writer.put(url("draft-secret", "S7.1"), RATING, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200


def test_deleting_a_rating_with_its_etag_makes_the_criterion_missing_and_rescores(writer, anon, published):
    history = ScoreCard.objects.filter(project__slug="alpha").count()
    tag = writer.get(url("alpha", "S7.1"))["ETag"]
    response = writer.delete(url("alpha", "S7.1"), HTTP_IF_MATCH=tag)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(writer.get(url("alpha", "S7.1")), 404)
    draft = writer.get("/api/v1/projects/alpha").json()["draft_score"]
    assert draft["dimensions"]["sdg7"]["coverage"] == 0.7
    assert draft["dimensions"]["sdg7"]["low"] == 70.0  # the missing S7.1 counted as 0
    assert ScoreCard.objects.filter(project__slug="alpha").count() == history + 1
    assert len(writer.get("/api/v1/projects/alpha/assessments").json()) == 24
    # The public keeps the published rating and card until a reviewer publishes.
    assert anon.get(url("alpha", "S7.1")).json()["rating"] == 4
    assert len(anon.get("/api/v1/projects/alpha/assessments").json()) == 25
    assert anon.get("/api/v1/projects/alpha").json()["score"]["dimensions"]["sdg7"]["coverage"] == 1.0


def test_deleting_a_rating_without_if_match_is_a_428_and_changes_nothing(writer, published):
    before = stored("alpha")
    assert_problem(writer.delete(url("alpha", "S7.1")), 428)
    assert stored("alpha") == before


def test_deleting_a_rating_with_a_stale_etag_is_a_412_and_changes_nothing(writer, published):
    stale = writer.get(url("alpha", "S7.1"))["ETag"]
    writer.put(url("alpha", "S7.1"), RATING, format="json", HTTP_IF_MATCH=stale)
    before = stored("alpha")
    assert_problem(writer.delete(url("alpha", "S7.1"), HTTP_IF_MATCH=stale), 412)
    assert stored("alpha") == before


def test_deleting_a_missing_rating_is_a_404(writer, published):
    assert_problem(writer.delete(url("delta", "S7.2"), HTTP_IF_MATCH="*"), 404)
