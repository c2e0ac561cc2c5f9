"""Writing projects: POST /projects (drafts), PUT and PATCH /projects/{slug} with If-Match."""

import copy

import pytest

from projects.models import Assessment, Operator, Project, ScoreCard

from .conftest import PUBLISHED_RECORDS, assert_problem, error_fields, full_ratings, ratings

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects"


def record(slug="hera-rover", **changes) -> dict:
    body = {
        "slug": slug,
        "name": "Hera Rover",
        "operator": {"name": "Hera Space", "country": "IT", "kind": "company"},
        "target_body": "mars",
        "resources": ["water_ice", "regolith"],
        "phase": "demonstration",
        "launch_year": 2032,
        "summary": "A rover that drills for ice.",
        "links": ["https://example.org/hera"],
        "assessments": full_ratings(2),
    }
    body.update(changes)
    return body


def snapshot(slug: str) -> dict:
    project = Project.objects.select_related("operator", "current_score").get(slug=slug)
    return {
        # The working facts: the published columns with the draft's pending changes over them.
        "fields": {**Project.objects.filter(slug=slug).values().get(), **project.pending_facts},
        "operator": (project.operator.name, project.operator.country, project.operator.kind),
        "card": project.current_score.card,
        "history": ScoreCard.objects.filter(project=project).count(),
        "ratings": sorted(
            Assessment.objects.filter(project=project).values_list(
                "criterion__code", "level", "not_applicable", "justification", "evidence_grade", "source_url"
            )
        ),
    }


# ---------------------------------------------------------------------------------------------
# POST


def test_a_write_key_creates_a_draft_project_with_its_score_card(writer, anon, db):
    response = writer.post(URL, record(), format="json")
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    assert response["Location"].endswith("/api/v1/projects/hera-rover")
    assert body["state"] == "draft"
    assert body["operator"] == {
        "slug": "hera-space",
        "name": "Hera Space",
        "country": "IT",
        "kind": "company",
    }
    assert body["resources"] == ["water_ice", "regolith"]
    assert body["links"] == ["https://example.org/hera"]
    assert body["score"] is None  # never published: the public has no card for it
    assert body["draft_score"]["overall"]["value"] == 28.1  # every criterion at 2
    assert body["draft_score"]["overall"]["grade"] == "D"
    project = Project.objects.get(slug="hera-rover")
    assert project.state == "draft"
    assert project.current_score.card == body["draft_score"]
    assert project.published_score is None and project.publication is None
    assert Assessment.objects.filter(project=project).count() == 25
    assert anon.get(f"{URL}/hera-rover").status_code == 404


def test_the_created_projects_etag_is_the_one_a_following_get_serves(writer, db):
    created = writer.post(URL, record(), format="json")
    fetched = writer.get(f"{URL}/hera-rover")
    assert created["ETag"] == fetched["ETag"]
    assert created.json() == fetched.json()


def test_a_project_can_be_created_without_ratings_and_is_then_insufficient_data(writer, db):
    body = record()
    del body["assessments"]
    response = writer.post(URL, body, format="json")
    assert response.status_code == 201
    assert response.json()["score"] is None
    assert response.json()["draft_score"]["status"] == "insufficient_data"


def test_a_created_project_is_a_draft_even_if_the_body_asks_otherwise(writer, db):
    response = writer.post(URL, record(state="published"), format="json")
    assert response.status_code in (201, 400)
    assert not Project.objects.filter(state="published").exists()


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"target_body": "venus"}, {"target_body"}),
        ({"phase": ""}, {"phase"}),
        ({"resources": ["gold"]}, {"resources[0]"}),
        ({"resources": ["regolith", "regolith"]}, {"resources"}),
        ({"launch_year": 1900}, {"launch_year"}),
        ({"launch_year": "2030"}, {"launch_year"}),
        ({"links": ["ftp://example.org/x"]}, {"links[0]"}),
        ({"slug": "not a slug"}, {"slug"}),
        ({"name": ""}, {"name"}),
        ({"operator": {"name": "X", "country": "jp", "kind": "company"}}, {"operator.country"}),
        ({"operator": {"name": "X", "country": "JP", "kind": "club"}}, {"operator.kind"}),
        ({"colour": "blue"}, {"colour"}),
        (
            {"assessments": [{"criterion": "S7.1", "rating": 5, "evidence": "x", "evidence_grade": "C"}]},
            {"assessments[0].rating"},
        ),
        (
            {"assessments": [{"criterion": "S7.9", "rating": 2, "evidence": "x", "evidence_grade": "C"}]},
            {"assessments[0].criterion"},
        ),
        (
            {"assessments": [{"criterion": "S7.1", "rating": 2, "evidence": "", "evidence_grade": "C"}]},
            {"assessments[0].evidence"},
        ),
        (
            {"assessments": [{"criterion": "S7.1", "rating": 2, "evidence": "x", "evidence_grade": "E"}]},
            {"assessments[0].evidence_grade"},
        ),
        (
            {"assessments": [{"criterion": "D5", "not_applicable": True, "rating": 1, "evidence": "x"}]},
            {"assessments[0].rating"},
        ),
        (
            {
                "target_body": "venus",
                "launch_year": 3000,
                "operator": {"name": "X", "country": "J", "kind": "x"},
            },
            {"target_body", "launch_year", "operator.country", "operator.kind"},
        ),
    ],
)
def test_an_invalid_project_is_a_400_naming_each_bad_field_and_nothing_is_stored(writer, db, changes, fields):
    response = writer.post(URL, record(**changes), format="json")
    body = assert_problem(response, 400)
    assert error_fields(body) == fields
    assert all(error["message"] for error in body["errors"])
    assert not Project.objects.exists()
    assert not Operator.objects.filter(name__in=["Hera Space", "X"]).exists()


@pytest.mark.parametrize("missing", ["slug", "name", "operator", "target_body", "phase"])
def test_a_missing_required_field_is_a_400_naming_it(writer, db, missing):
    body = record()
    del body[missing]
    assert error_fields(assert_problem(writer.post(URL, body, format="json"), 400)) == {missing}


def test_a_json_array_body_is_a_400(writer, db):
    assert_problem(writer.post(URL, [record()], format="json"), 400)
    assert not Project.objects.exists()


def test_creating_an_existing_slug_is_refused_and_changes_nothing(writer, published):
    before = snapshot("alpha")
    response = writer.post(URL, record("alpha"), format="json")
    assert response.status_code in (400, 409)  # a conflict, or a validation error on the slug
    body = assert_problem(response, response.status_code)
    assert "slug" in body["detail"] or error_fields(body) == {"slug"}
    assert snapshot("alpha") == before


# ---------------------------------------------------------------------------------------------
# PUT and PATCH


def alpha_record(**changes) -> dict:
    body = copy.deepcopy(PUBLISHED_RECORDS[0])
    body.update(changes)
    return body


def test_put_with_the_current_etag_replaces_the_project_and_rescores_its_working_card(
    writer, anon, published
):
    published_card = anon.get(f"{URL}/alpha").json()["score"]
    tag = writer.get(f"{URL}/alpha")["ETag"]
    response = writer.put(
        f"{URL}/alpha",
        alpha_record(name="Selene II", phase="pilot", assessments=full_ratings(2)),
        format="json",
        HTTP_IF_MATCH=tag,
    )
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert (body["name"], body["phase"]) == ("Selene II", "pilot")
    assert body["draft_score"]["overall"]["value"] == 28.1
    assert body["score"] == published_card  # the public card waits for a reviewer
    assert published_card["overall"]["value"] == 91.7
    assert body["state"] == "published"  # an update keeps the publication state
    assert response["ETag"] != tag
    assert writer.get(f"{URL}/alpha")["ETag"] == response["ETag"]
    following = anon.get(f"{URL}/alpha").json()
    assert following["score"] == published_card
    # The facts are part of the draft too: the public keeps the published ones.
    assert (following["name"], following["phase"]) == ("Selene Ice Prospector", "demonstration")
    assert Project.objects.get(slug="alpha").current_score.card == body["draft_score"]


def test_put_without_assessments_keeps_the_stored_ratings(writer, published):
    before = snapshot("alpha")
    body = alpha_record(name="Selene II")
    del body["assessments"]
    response = writer.put(
        f"{URL}/alpha", body, format="json", HTTP_IF_MATCH=writer.get(f"{URL}/alpha")["ETag"]
    )
    assert response.status_code == 200
    after = snapshot("alpha")
    assert after["ratings"] == before["ratings"]
    assert after["card"] == before["card"]
    assert after["fields"]["name"] == "Selene II"


def test_the_etag_of_a_put_response_is_good_for_the_next_put(writer, published):
    first = writer.patch(
        f"{URL}/alpha", {"name": "One"}, format="json", HTTP_IF_MATCH=writer.get(f"{URL}/alpha")["ETag"]
    )
    second = writer.patch(f"{URL}/alpha", {"name": "Two"}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.json()["name"] == "Two"


def test_patch_changes_only_the_fields_given(writer, published):
    before = snapshot("alpha")
    response = writer.patch(
        f"{URL}/alpha",
        {"summary": "Now with a drill.", "launch_year": 2026},
        format="json",
        HTTP_IF_MATCH=writer.get(f"{URL}/alpha")["ETag"],
    )
    assert response.status_code == 200, response.content[:500]
    after = snapshot("alpha")
    assert (after["fields"]["summary"], after["fields"]["launch_year"]) == ("Now with a drill.", 2026)
    for name in ("name", "target_body", "resources", "phase", "links", "state", "operator_id"):
        assert after["fields"][name] == before["fields"][name]
    assert after["ratings"] == before["ratings"]
    assert after["card"] == before["card"]


def test_patch_with_assessments_replaces_the_ratings_and_the_working_card_in_the_response(
    writer, anon, published
):
    published_card = anon.get(f"{URL}/alpha").json()["score"]
    response = writer.patch(
        f"{URL}/alpha",
        {"assessments": ratings(0, 0, 0, 4, 4, grade="D")},
        format="json",
        HTTP_IF_MATCH=writer.get(f"{URL}/alpha")["ETag"],
    )
    assert response.status_code == 200
    card = response.json()["draft_score"]
    assert card["overall"]["value"] == 0.0
    assert card["overall"]["grade"] == "E"
    assert card["dimensions"]["debris"]["severe"] is True
    assert response.json()["score"] == published_card != card
    assert anon.get(f"{URL}/alpha").json()["score"] == published_card
    history = anon.get(f"{URL}/alpha/scores").json()
    assert history["count"] == 1
    assert history["results"][0]["card"] == published_card


def test_patch_of_the_operator_moves_the_project_to_that_operator(writer, published):
    response = writer.patch(
        f"{URL}/alpha",
        {"operator": {"name": "Comet Works", "country": "DE", "kind": "consortium"}},
        format="json",
        HTTP_IF_MATCH=writer.get(f"{URL}/alpha")["ETag"],
    )
    assert response.status_code == 200
    assert response.json()["operator"]["slug"] == "comet-works"


def test_a_write_key_may_update_a_draft(writer, catalogue):
    response = writer.patch(
        f"{URL}/draft-secret",
        {"name": "Still secret"},
        format="json",
        HTTP_IF_MATCH=writer.get(f"{URL}/draft-secret")["ETag"],
    )
    assert response.status_code == 200
    assert response.json()["state"] == "draft"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_update_without_if_match_is_a_428_and_changes_nothing(writer, published, method):
    before = snapshot("alpha")
    response = getattr(writer, method)(f"{URL}/alpha", alpha_record(name="Lost update"), format="json")
    assert_problem(response, 428)
    assert snapshot("alpha") == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_update_with_a_stale_etag_is_a_412_and_changes_nothing(writer, published, method):
    stale = writer.get(f"{URL}/alpha")["ETag"]
    assert (
        writer.patch(f"{URL}/alpha", {"name": "Meanwhile"}, format="json", HTTP_IF_MATCH=stale).status_code
        == 200
    )
    before = snapshot("alpha")
    response = getattr(writer, method)(
        f"{URL}/alpha", alpha_record(name="Lost update"), format="json", HTTP_IF_MATCH=stale
    )
    assert_problem(response, 412)
    assert snapshot("alpha") == before


def test_an_etag_of_another_project_does_not_match(writer, published):
    other = writer.get(f"{URL}/beta")["ETag"]
    response = writer.patch(f"{URL}/alpha", {"name": "X"}, format="json", HTTP_IF_MATCH=other)
    assert_problem(response, 412)


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"target_body": "venus"}, {"target_body"}),
        ({"launch_year": 2101}, {"launch_year"}),
        ({"links": ["not a url"]}, {"links[0]"}),
        (
            {"assessments": [{"criterion": "S7.1", "rating": 2.5, "evidence": "x", "evidence_grade": "C"}]},
            {"assessments[0].rating"},
        ),
        (
            {
                "assessments": [
                    {"criterion": "D1", "rating": 1, "evidence": "x", "evidence_grade": "C"},
                    {"criterion": "D1", "rating": 2, "evidence": "x", "evidence_grade": "C"},
                ]
            },
            {"assessments[1].criterion"},
        ),
        ({"slug": "beta"}, {"slug"}),
        ({"state": "draft"}, {"state"}),
    ],
)
@pytest.mark.parametrize("method", ["put", "patch"])
def test_an_invalid_update_is_a_400_naming_each_bad_field_and_changes_nothing(
    writer, published, method, changes, fields
):
    before = snapshot("alpha")
    body = alpha_record(**changes) if method == "put" else changes
    response = getattr(writer, method)(
        f"{URL}/alpha", body, format="json", HTTP_IF_MATCH=writer.get(f"{URL}/alpha")["ETag"]
    )
    assert error_fields(assert_problem(response, 400)) == fields
    assert snapshot("alpha") == before


@pytest.mark.parametrize("method", ["put", "patch"])
def test_updating_an_unknown_project_is_a_404(writer, published, method):
    response = getattr(writer, method)(f"{URL}/nowhere", record("nowhere"), format="json", HTTP_IF_MATCH="*")
    assert_problem(response, 404)
    assert not Project.objects.filter(slug="nowhere").exists()
