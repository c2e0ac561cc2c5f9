"""No acknowledged write is lost: concurrent creates of one slug, and project writes made from a
reading older than another writer's rating change (issue 11, finding 4)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections

from projects.api import views
from projects.models import Assessment, Criterion, Operator, Project
from projects.selectors import methodology_current
from projects.services.publication import project_publish
from projects.services.ratings import assessment_save
from projects.services.scoring import project_rescore
from projects.services.writes import project_save_record
from tests.support.actors import as_reviewer

from .conftest import assert_problem, full_ratings

URL = "/api/v1/projects"
SLUG = "hera-rover"
PROJECT = f"{URL}/{SLUG}"
WRITERS = 6


def record(**changes) -> dict:
    body = {
        "slug": SLUG,
        "name": "Hera Rover",
        "operator": {"name": "Hera Space", "country": "IT", "kind": "company"},
        "target_body": "mars",
        "resources": ["water_ice"],
        "phase": "demonstration",
        "launch_year": 2032,
        "summary": "A rover that drills for ice.",
        "links": [],
        "assessments": full_ratings(2),
    }
    body.update(changes)
    return body


def rating_url(code: str) -> str:
    return f"{PROJECT}/assessments/{code}"


def evidence(code: str) -> str:
    return Assessment.objects.get(project__slug=SLUG, criterion__code=code).justification


def criterion(code: str) -> Criterion:
    return Criterion.objects.get(methodology=methodology_current(), code=code)


def created(writer) -> str:
    """Create the project through the API; its ETag as the writer read it."""
    response = writer.post(URL, record(), format="json")
    assert response.status_code == 201, response.content[:500]
    return writer.get(PROJECT)["ETag"]


def revise_evidence(client, code: str = "S7.1", text: str = "Revised after the flight review.") -> None:
    """Another partner changes one rating's evidence only: the working card does not move."""
    tag = client.get(rating_url(code))["ETag"]
    revised = {
        "rating": 2,
        "evidence": text,
        "evidence_grade": "B",
        "source_url": "https://example.org/evidence",
    }
    response = client.put(rating_url(code), revised, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content[:500]


# --- concurrent creates of one slug -----------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("operator", ["new", "known"])
def test_concurrent_creates_of_one_slug_give_one_201_and_409_for_the_rest(client_for, operator):
    clients = [client_for("write") for _ in range(WRITERS)]
    if operator == "known":  # the writers do not queue on creating it: they meet at the project's insert
        other = clients[0].post(URL, record(slug="hera-lander", name="Hera Lander"), format="json")
        assert other.status_code == 201, other.content[:500]
    bodies = [record(name=f"Hera Rover {number}") for number in range(WRITERS)]

    def post(number):
        try:
            if concurrent:
                start.wait()
            return clients[number].post(URL, bodies[number], format="json")
        finally:
            if concurrent:
                connections.close_all()  # this thread's own connection

    # On PostgreSQL the writers really run at once; SQLite's in-memory test database is one
    # connection's, so there they come one after the other.
    concurrent = connection.vendor == "postgresql"
    start = threading.Barrier(WRITERS)
    if concurrent:
        with ThreadPoolExecutor(WRITERS) as pool:
            responses = list(pool.map(post, range(WRITERS)))
    else:
        responses = [post(number) for number in range(WRITERS)]

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] + [409] * (WRITERS - 1), [r.content[:300] for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409)
    winner = next(response.json() for response in responses if response.status_code == 201)
    project = Project.objects.get(slug=SLUG)
    assert project.name == winner["name"]  # nobody overwrote the acknowledged create
    assert Assessment.objects.filter(project=project).count() == 25


def test_a_create_that_loses_the_race_is_a_409_and_leaves_the_winner_as_it_was(writer, monkeypatch):
    """The other create commits after this one's check that the slug is free, before its
    write: a 409 still, never an overwrite of the acknowledged project."""
    validate = views.project_validate_record

    def another_create_commits_meanwhile(**kwargs):
        clean = validate(**kwargs)
        first = validate(record=record(name="The First Rover", summary="Acknowledged."), expected_slug=None)
        project_save_record(clean=first, create=True)
        return clean

    monkeypatch.setattr(views, "project_validate_record", another_create_commits_meanwhile)
    response = writer.post(URL, record(name="The Second Rover", assessments=full_ratings(4)), format="json")
    assert_problem(response, 409)
    project = Project.objects.get(slug=SLUG)
    assert (project.name, project.summary) == ("The First Rover", "Acknowledged.")
    assert set(Assessment.objects.filter(project=project).values_list("level", flat=True)) == {2}


# --- the project's ETag covers its ratings and their evidence ---------------------------------


def test_a_put_with_the_etag_from_before_another_keys_rating_change_is_412(writer, client_for):
    tag = created(writer)
    revise_evidence(client_for("write"))
    stale = writer.put(PROJECT, record(name="Hera Rover II"), format="json", HTTP_IF_MATCH=tag)
    assert_problem(stale, 412)
    assert evidence("S7.1") == "Revised after the flight review."  # not reverted
    assert Project.objects.get(slug=SLUG).name == "Hera Rover"
    # Read again, the write goes through.
    fresh = writer.get(PROJECT)["ETag"]
    response = writer.put(PROJECT, record(name="Hera Rover II"), format="json", HTTP_IF_MATCH=fresh)
    assert response.status_code == 200, response.content[:500]
    assert response["ETag"] == writer.get(PROJECT)["ETag"]


def test_a_patch_with_the_etag_from_before_another_keys_rating_change_is_412(writer, client_for):
    tag = created(writer)
    revise_evidence(client_for("write"))
    stale = writer.patch(PROJECT, {"name": "Hera Rover II"}, format="json", HTTP_IF_MATCH=tag)
    assert_problem(stale, 412)
    assert Project.objects.get(slug=SLUG).name == "Hera Rover"


def test_a_put_with_an_etag_older_than_a_change_and_its_undoing_is_412(writer, client_for):
    """Evidence revised and revised back: the project reads as it did, but another writer's two
    acknowledged writes came in between, and the old ETag no longer names the current version."""
    tag = created(writer)
    other = client_for("write")
    revise_evidence(other, text="Revised.")
    revise_evidence(other, text="Illustrative evidence.")
    assert_problem(writer.put(PROJECT, record(summary="Lost?"), format="json", HTTP_IF_MATCH=tag), 412)
    assert Project.objects.get(slug=SLUG).summary == "A rover that drills for ice."


@pytest.mark.parametrize("field", ["justification", "source_url"])
def test_an_evidence_only_change_by_any_channel_moves_the_projects_etag(writer, field):
    tag = created(writer)
    body = writer.get(PROJECT).json()
    assessment = Assessment.objects.get(project__slug=SLUG, criterion__code="S9.2")
    assessment.save()  # unchanged: no new version
    assert writer.get(PROJECT)["ETag"] == tag
    setattr(assessment, field, "https://example.org/report" if field == "source_url" else "New evidence.")
    assessment_save(assessment)  # in a shell, as the tester
    after = writer.get(PROJECT)
    # Nothing the representation shows moved but the date of the last change a write key sees …
    assert {**after.json(), "updated_at": None} == {**body, "updated_at": None}
    assert after.json()["updated_at"] > body["updated_at"]
    assert after["ETag"] != tag  # … and the ETag


@pytest.mark.parametrize("method", ["put", "delete"])
def test_a_rating_write_through_the_api_moves_the_projects_etag(writer, method):
    tag = created(writer)
    current = writer.get(rating_url("D3"))["ETag"]
    if method == "put":
        body = {
            "rating": 2,
            "evidence": "Seen again.",
            "evidence_grade": "B",
            "source_url": "https://example.org/evidence",
        }
        response = writer.put(rating_url("D3"), body, format="json", HTTP_IF_MATCH=current)
    else:
        response = writer.delete(rating_url("D3"), HTTP_IF_MATCH=current)
    assert response.status_code in (200, 204), response.content[:500]
    assert writer.get(PROJECT)["ETag"] != tag
    assert_problem(writer.put(PROJECT, record(), format="json", HTTP_IF_MATCH=tag), 412)


def test_rescoring_and_publication_do_not_move_the_version(writer):
    created(writer)
    project = Project.objects.get(slug=SLUG)
    version = project.version
    project_rescore(project_id=project.pk)
    with as_reviewer():
        project_publish(project=project, note="First publication.")
    assert Project.objects.get(slug=SLUG).version == version


def test_a_fact_change_moves_the_version_and_a_stale_instance_never_writes_it_back(db):
    operator = Operator.objects.create(name="Hera Space", country="IT", kind="company")
    project = Project.objects.create(
        slug=SLUG, name="Hera Rover", operator=operator, target_body="mars", phase="concept"
    )
    assert project.version == 1
    project.summary = "Changed."
    project.save()
    assert project.version == Project.objects.get(pk=project.pk).version == 2
    project.save()  # nothing changed
    assert Project.objects.get(pk=project.pk).version == 2
    stale = Project.objects.get(pk=project.pk)
    Assessment.objects.create(
        project=project, criterion=criterion("S7.1"), level=3, justification="Seen.", evidence_grade="C"
    )
    assert Project.objects.get(pk=project.pk).version == 3
    stale.name = "Hera Rover II"
    stale.save()  # read before the rating: its version is counted on, never written back
    assert Project.objects.get(pk=project.pk).version == 4
