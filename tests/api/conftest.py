"""Fixtures for the partner API tests: clients per kind of caller, a small catalogue of
published and draft projects, and a check of every 200/201 JSON body against the OpenAPI schema."""

import copy
import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from rest_framework.test import APIClient

from projects.interchange.importer import projects_import
from projects.models import ApiKey, Assessment, Operator, Project, Publication, ScoreCard
from tests.conftest import interchange, project_record, rated
from tests.support.actors import key_owner, reviewer_user, staff_user
from tests.support.builders import every_rating
from tests.support.criteria import CODES
from tests.support.openapi import CheckedAPIClient, OpenApi, make_client

PROBLEM_JSON = "application/problem+json"
OPENAPI_JSON = "application/vnd.oai.openapi+json"


def ratings(sdg7=2, sdg9=2, sdg12=2, debris=2, equity=2, grade="B", **overrides) -> list[dict]:
    """A full set of ratings: one level per dimension, with single criteria overridden."""
    levels = {"sdg7": sdg7, "sdg9": sdg9, "sdg12": sdg12, "debris": debris, "equity": equity}
    return [
        rated(code, overrides.get(code, levels[dimension]), grade)
        for dimension, codes in CODES.items()
        for code in codes
    ]


def full_ratings(level=2, grade="B") -> list[dict]:
    return every_rating(level, grade)


def when(day: int) -> datetime:
    return datetime(2025, 1, day, 12, 0, tzinfo=UTC)


_OPENAPI: dict = {}  # the schema document, fetched once per test process


@pytest.fixture(scope="session")
def openapi_document(django_db_setup, django_db_blocker) -> dict:
    """The schema as served at /api/v1/schema/ (JSON), fetched once."""
    if "document" not in _OPENAPI:
        with django_db_blocker.unblock():
            response = APIClient().get("/api/v1/schema/", HTTP_ACCEPT=OPENAPI_JSON)
            cache.clear()
        assert response.status_code == 200, response.content[:500]
        _OPENAPI["document"] = json.loads(response.content)
    return copy.deepcopy(_OPENAPI["document"])


@pytest.fixture(scope="session")
def openapi(openapi_document) -> OpenApi:
    return OpenApi(openapi_document)


# ---------------------------------------------------------------------------------------------
# Clients and keys


@pytest.fixture
def read_key(db):
    """(ApiKey, key string) with the read scope."""
    return ApiKey.issue(owner=key_owner(), name="Reader partner", scope="read", throttle_rate="1000/hour")


@pytest.fixture
def write_key(db):
    """(ApiKey, key string) with the write scope."""
    return ApiKey.issue(owner=key_owner(), name="Writer partner", scope="write", throttle_rate="1000/hour")


@pytest.fixture
def anon(db, openapi) -> CheckedAPIClient:
    return make_client(openapi)


@pytest.fixture
def reader(read_key, openapi) -> CheckedAPIClient:
    return make_client(openapi, read_key[1])


@pytest.fixture
def writer(write_key, openapi) -> CheckedAPIClient:
    return make_client(openapi, write_key[1])


@pytest.fixture
def client_for(db, openapi):
    """client_for(None | "read" | "write", rate=...) -> a client with a fresh key of that scope."""

    def build(scope: str | None, rate: str = "1000/hour") -> CheckedAPIClient:
        if scope is None:
            return make_client(openapi)
        _, key = ApiKey.issue(owner=key_owner(), name=f"{scope} partner", scope=scope, throttle_rate=rate)
        return make_client(openapi, key)

    return build


# ---------------------------------------------------------------------------------------------
# Data

LUNAR = {"name": "Lunar Co", "country": "JP", "kind": "company"}
RED = {"name": "Red Planet Agency", "country": "US", "kind": "agency"}
ROCK = {"name": "Asteroid Ventures", "country": "LU", "kind": "company"}
COMET = {"name": "Comet Works", "country": "DE", "kind": "consortium"}
HIDDEN = {"name": "Hidden Lab", "country": "FR", "kind": "university"}

# Published projects (name, and the figures their ratings give, in comments):
#   alpha   "Selene Ice Prospector"  sdg 100/100/75, debris 0, equity 0        net 91.7 A
#   beta    "Ares Oxygen Pilot"      sdg 50/50/50, debris 50, equity 50        net 28.1 D
#   gamma   "Psyche Metals Survey"   sdg 75/25/0, debris 30 (D1=4), equity 25  net 24.8 E
#   delta   "Helium Scout"           one rating only: insufficient data, no figures
#   epsilon "Comet Volatiles Works"  sdg 25/75/100, debris 25, equity 30 (E2=4) net 49.6 D
PUBLISHED_RECORDS = [
    project_record(
        "alpha",
        name="Selene Ice Prospector",
        operator=LUNAR,
        target_body="moon",
        resources=["water_ice"],
        phase="demonstration",
        launch_year=2025,
        summary="Prospecting polar ice with a rover.",
        links=["https://example.org/alpha", "https://example.org/alpha/press"],
        assessments=ratings(4, 4, 3, 0, 0, grade="A"),
    ),
    project_record(
        "beta",
        name="Ares Oxygen Pilot",
        operator=RED,
        target_body="mars",
        resources=["regolith", "oxygen"],
        phase="pilot",
        launch_year=2030,
        summary="Oxygen from the Martian atmosphere.",
        assessments=ratings(2, 2, 2, 2, 2),
    ),
    project_record(
        "gamma",
        name="Psyche Metals Survey",
        operator=ROCK,
        target_body="near_earth_asteroid",
        resources=["platinum_group_metals", "metals"],
        phase="prospecting",
        launch_year=2028,
        summary="Survey of a metal-rich asteroid.",
        assessments=ratings(3, 1, 0, 0, 1, grade="C", D1=4),
    ),
    project_record(
        "delta",
        name="Helium Scout",
        operator=LUNAR,
        target_body="moon",
        resources=["helium_3"],
        phase="concept",
        launch_year=None,
        summary="Mapping helium-3 in the mare regolith.",
        assessments=[rated("S7.1", 1)],
    ),
    project_record(
        "epsilon",
        name="Comet Volatiles Works",
        operator=COMET,
        target_body="comet",
        resources=["volatiles"],
        phase="production",
        launch_year=2035,
        summary="Harvesting volatiles from a short-period comet.",
        assessments=ratings(1, 3, 4, 1, 0, grade="B", E2=4),
    ),
]
PUBLISHED_SLUGS = ["alpha", "beta", "gamma", "delta", "epsilon"]
UPDATED_DAY = {"beta": 1, "epsilon": 2, "gamma": 3, "delta": 4, "alpha": 5}

# Drafts: rated at the top of every ranking, named to sort first, on the moon, with water ice,
# one under a published operator and one under an operator with no published project.
DRAFT_RECORDS = [
    project_record(
        "draft-secret",
        name="Aaa Secret Draft",
        operator=HIDDEN,
        target_body="moon",
        resources=["water_ice"],
        phase="demonstration",
        launch_year=2026,
        summary="Prospecting polar ice secretly.",
        assessments=full_ratings(level=4, grade="A")[:15] + full_ratings(level=0, grade="A")[15:],
    ),
    project_record(
        "lunar-draft",
        name="Aab Lunar Draft",
        operator=LUNAR,
        target_body="moon",
        resources=["water_ice"],
        phase="pilot",
        launch_year=2029,
        summary="Another ice project, unpublished.",
        assessments=full_ratings(level=3, grade="A")[:15] + full_ratings(level=1, grade="A")[15:],
    ),
]
DRAFT_SLUGS = ["draft-secret", "lunar-draft"]


# Building a dataset through projects_import is what the tests rely on, but it costs a second per
# test; each dataset is built once per run (in the first test that asks for it), its rows are kept,
# and later tests get the same rows back by bulk insert (with fresh ids).
SNAPSHOT_MODELS = [Operator, Project, ScoreCard, Assessment, Publication]
_SNAPSHOTS: dict[str, dict] = {}


def _without_id(row: dict) -> dict:
    return {name: value for name, value in row.items() if name != "id"}


def _restore(rows: dict) -> None:
    users = {pk: staff_user(username).pk for pk, username in rows["users"].items()}
    for model, column in ((Assessment, "assessed_by_id"), (Publication, "published_by_id")):
        for row in rows[model]:
            row[column] = users.get(row[column])
    operators = [Operator(**_without_id(row)) for row in rows[Operator]]
    Operator.objects.bulk_create(operators)
    operator_ids = {row["id"]: obj.pk for row, obj in zip(rows[Operator], operators, strict=True)}
    projects = [
        Project(
            **{
                **_without_id(row),
                "operator_id": operator_ids.get(row["operator_id"], row["operator_id"]),
                "current_score_id": None,
                "published_score_id": None,
                "publication_id": None,
            }
        )
        for row in rows[Project]
    ]
    Project.objects.bulk_create(projects)
    project_ids = {row["id"]: obj.pk for row, obj in zip(rows[Project], projects, strict=True)}
    cards = [
        ScoreCard(**{**_without_id(row), "project_id": project_ids[row["project_id"]]})
        for row in rows[ScoreCard]
    ]
    ScoreCard.objects.bulk_create(cards)
    card_ids = {row["id"]: obj.pk for row, obj in zip(rows[ScoreCard], cards, strict=True)}
    Assessment.objects.bulk_create(
        [
            Assessment(**{**_without_id(row), "project_id": project_ids[row["project_id"]]})
            for row in rows[Assessment]
        ]
    )
    publications = [
        Publication(
            **{
                **_without_id(row),
                "project_id": project_ids[row["project_id"]],
                "score_id": card_ids[row["score_id"]],
            }
        )
        for row in rows[Publication]
    ]
    Publication.objects.bulk_create(publications)
    publication_ids = {row["id"]: obj.pk for row, obj in zip(rows[Publication], publications, strict=True)}
    for row, project in zip(rows[Project], projects, strict=True):
        project.current_score_id = card_ids.get(row["current_score_id"])
        project.published_score_id = card_ids.get(row["published_score_id"])
        project.publication_id = publication_ids.get(row["publication_id"])
        project.updated_at, project.changed_at = row["updated_at"], row["changed_at"]  # stamped "now"
    Project.objects.bulk_update(
        projects, ["current_score", "published_score", "publication", "updated_at", "changed_at"]
    )


def dataset(name: str, build) -> None:
    """Run ``build`` (which imports data) the first time, and restore its rows after that."""
    if name in _SNAPSHOTS:
        _restore(_SNAPSHOTS[name])
        return
    assert not Project.objects.exists(), "datasets are built in an empty database"
    before = {model: set(model.objects.values_list("pk", flat=True)) for model in SNAPSHOT_MODELS}
    build()
    _SNAPSHOTS[name] = {
        model: list(model.objects.exclude(pk__in=before[model]).order_by("pk").values())
        for model in SNAPSHOT_MODELS
    }
    # The people the rows name (assessors, reviewers), by user name: restored as the same people.
    _SNAPSHOTS[name]["users"] = dict(get_user_model().objects.values_list("pk", "username"))


def _import_published() -> None:
    projects_import(
        interchange(*copy.deepcopy(PUBLISHED_RECORDS)),
        publish=True,
        reviewer=reviewer_user(),
        note="Test publication.",
    )
    for slug, day in UPDATED_DAY.items():
        Project.objects.filter(slug=slug).update(updated_at=when(day), changed_at=when(day))


def _import_drafts() -> None:
    projects_import(interchange(*copy.deepcopy(DRAFT_RECORDS)), publish=False)
    Project.objects.filter(slug__in=DRAFT_SLUGS).update(updated_at=when(6), changed_at=when(6))


@pytest.fixture
def published(db) -> list[str]:
    """Five published projects with known figures (see PUBLISHED_RECORDS), updated on known days."""
    dataset("published", _import_published)
    return PUBLISHED_SLUGS


@pytest.fixture
def catalogue(db) -> list[str]:
    """The published projects, and two drafts that would top every list and ranking if they leaked."""
    dataset("catalogue", lambda: (_import_published(), _import_drafts()))
    return PUBLISHED_SLUGS


def slugs(response) -> list[str]:
    body = response.json()
    items = body["results"] if isinstance(body, dict) else body
    return [item["slug"] for item in items]


def assert_problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem document with that status."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].split(";")[0] == PROBLEM_JSON
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["type"]
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def error_fields(body: dict) -> set[str]:
    return {error["field"] for error in body["errors"]}
