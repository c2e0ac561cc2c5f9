"""Weighting profiles a key keeps (issue 16: /api/v1/profiles and their rankings): any key keeps
its own and sees no one else's; bad weights are a 400 naming the field; a stale write is
refused; a profile of dimension weights is ranked on request exactly as /rankings?weights=;
one with criterion weights is computed in the background, stored, and says whether it is
current."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import scoring
from projects.models import ApiKey, Project, WeightingProfile
from projects.models.profiles import MAX_PROFILES_PER_KEY
from projects.selectors import methodology_current
from projects.services.saved_profiles import profile_compute, stale_profiles
from projects.services.scoring import method_spec
from projects.services.uncertainty import uncertainty_compute
from tests.support.actors import reviewer_user, withdraw_as_reviewer
from tests.support.builders import all_rated, make_project
from tests.support.published import published_ratings

from .conftest import assert_problem

pytestmark = pytest.mark.django_db
URL = "/api/v1/profiles"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
ENERGY = {"name": "Energy first", "dimensions": {"sdg7": 3, "sdg9": 1, "sdg12": 1}, "alpha": 0.25}
CRITERIA = {
    "name": "No launch emissions",
    "dimensions": {"sdg7": 1, "sdg9": 2, "sdg12": 1},
    "alpha": "0.6",
    "criteria": {"S7.1": 10, "S9.2": 0, "D1": 5},
}


@pytest.fixture
def computed(published):
    return uncertainty_compute(reason="test")


@pytest.fixture
def immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def create(client, body, django_capture_on_commit_callbacks=None):
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    return response


def expected_ranking(body: dict) -> list[tuple[str, int, float, str]]:
    """Independently: every published project's ratings under the profile by the engine."""
    spec = method_spec(methodology_current())
    profile = scoring.Profile.from_values(
        spec, dimensions=body["dimensions"], alpha=body["alpha"], criteria=body.get("criteria")
    )
    found = []
    for project in Project.objects.published():
        ratings = published_ratings(project)
        card = scoring.score_under(spec, ratings, profile)
        if card.status == "rated":
            found.append((project.name, project.slug, scoring.round_half_up(card.net, 1), card.grade))
    found.sort(key=lambda item: (-item[2], item[0], item[1]))
    nets = [item[2] for item in found]
    return [(slug, 1 + sum(n > net for n in nets), net, grade) for _, slug, net, grade in found]


def served(client, profile_id: int) -> list[tuple[str, int, float, str]]:
    body = client.get(f"{URL}/{profile_id}/rankings?page_size=200").json()
    return [(row["slug"], row["rank"], row["net"], row["grade"]) for row in body["results"]]


def test_profiles_need_a_key_and_any_scope_keeps_its_own(anon, reader, writer, computed):
    assert_problem(anon.get(URL), 401)
    assert_problem(anon.post(URL, ENERGY, format="json"), 401)
    made = create(reader, ENERGY)
    body = made.json()
    assert made["Location"] == f"{URL}/{body['id']}" and made["ETag"]
    assert body["dimensions"] == {"sdg7": "3", "sdg9": "1", "sdg12": "1"} and body["alpha"] == "0.25"
    assert body["ranking"] == "on_request" and body["version"] == 1
    assert [p["id"] for p in reader.get(URL).json()] == [body["id"]]
    # Another key sees none of it, and cannot change or delete it.
    assert writer.get(URL).json() == []
    assert_problem(writer.get(f"{URL}/{body['id']}"), 404)
    assert_problem(writer.put(f"{URL}/{body['id']}", ENERGY, format="json", HTTP_IF_MATCH="*"), 404)
    assert_problem(writer.delete(f"{URL}/{body['id']}", HTTP_IF_MATCH="*"), 404)
    assert_problem(writer.get(f"{URL}/{body['id']}/rankings"), 404)
    assert WeightingProfile.objects.get().name == "Energy first"


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"dimensions": {"sdg7": -1}}, "dimensions.sdg7", "from 0 to 100"),
        ({"dimensions": {"sdg7": 0, "sdg9": 0, "sdg12": 0}}, "dimensions", "above 0"),
        ({"dimensions": {"sdg8": 1}}, "dimensions.sdg8", "unknown dimension"),
        ({"dimensions": {"sdg7": 101}}, "dimensions.sdg7", "from 0 to 100"),
        ({"dimensions": {"sdg7": "heavy"}}, "dimensions.sdg7", "from 0 to 100"),
        ({"dimensions": []}, "dimensions", "object"),
        ({"alpha": 1.5}, "alpha", "from 0 to 1"),
        ({"alpha": True}, "alpha", "from 0 to 1"),
        ({"criteria": {"S7.1": 11}}, "criteria.S7.1", "0 to 10"),
        ({"criteria": {"S7.1": 2.5}}, "criteria.S7.1", "whole number"),
        ({"criteria": {"X9": 1}}, "criteria.X9", "unknown criterion"),
        ({"name": ""}, "name", "name"),
        ({"name": "x" * 101}, "name", "100"),
        ({"colour": "blue"}, "colour", "Unknown field"),
    ],
)
def test_bad_profiles_are_a_400_naming_the_field(reader, computed, change, field, words):
    body = assert_problem(reader.post(URL, {**ENERGY, **change}, format="json"), 400)
    errors = {error["field"]: error["message"] for error in body["errors"]}
    assert field in errors, errors
    assert words in errors[field]
    assert not WeightingProfile.objects.exists()


def test_a_stale_write_is_refused_and_a_current_one_applied(reader, computed):
    made = create(reader, ENERGY)
    address = f"{URL}/{made.json()['id']}"
    changed = {**ENERGY, "name": "Energy, more", "alpha": 0.1}
    assert_problem(reader.put(address, changed, format="json"), 428)
    assert_problem(reader.put(address, changed, format="json", HTTP_IF_MATCH='"stale"'), 412)
    done = reader.put(address, changed, format="json", HTTP_IF_MATCH=made["ETag"])
    assert done.status_code == 200 and done.json()["version"] == 2 and done.json()["alpha"] == "0.1"
    # The first tag is stale now: neither a second change nor a delete goes through with it.
    assert_problem(reader.put(address, ENERGY, format="json", HTTP_IF_MATCH=made["ETag"]), 412)
    assert_problem(reader.delete(address, HTTP_IF_MATCH=made["ETag"]), 412)
    assert reader.get(address).json()["name"] == "Energy, more"
    assert reader.delete(address, HTTP_IF_MATCH=done["ETag"]).status_code == 204
    assert_problem(reader.get(address), 404)


def test_a_key_keeps_a_bounded_number_of_profiles(reader, read_key, computed):
    WeightingProfile.objects.bulk_create(
        WeightingProfile(api_key=read_key[0], name=f"p{i}", dimensions={"sdg7": "1"}, alpha="0.5")
        for i in range(MAX_PROFILES_PER_KEY)
    )
    assert_problem(reader.post(URL, ENERGY, format="json"), 409)


def test_a_dimension_profile_ranks_as_the_rankings_with_weights(reader, anon, computed):
    profile_id = create(reader, ENERGY).json()["id"]
    body = reader.get(f"{URL}/{profile_id}/rankings").json()
    assert body["current"] is True and body["computed_at"] is None
    assert served(reader, profile_id) == expected_ranking(ENERGY)
    public = anon.get("/api/v1/rankings?weights=sdg7:3,sdg9:1,sdg12:1&alpha=0.25").json()["results"]
    assert [(r["slug"], r["rank"], r["profile"]["net"]) for r in public] == [
        (slug, rank, net) for slug, rank, net, _ in served(reader, profile_id)
    ]
    one = reader.get(f"{URL}/{profile_id}/projects/{public[0]['slug']}").json()
    assert (one["rank"], one["net"], one["movement"]) == (
        1,
        public[0]["profile"]["net"],
        public[0]["profile"]["movement"],
    )


def test_a_criterion_profile_is_computed_in_the_background_and_says_when(
    reader, computed, immediate_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        made = create(reader, CRITERIA)
    assert made.json()["ranking"] == "stored"
    profile_id = made.json()["id"]
    body = reader.get(f"{URL}/{profile_id}/rankings?page_size=200").json()
    assert body["current"] is True and body["computed_at"]
    assert served(reader, profile_id) == expected_ranking(CRITERIA)
    slug = body["results"][0]["slug"]
    assert reader.get(f"{URL}/{profile_id}/projects/{slug}").json()["rank"] == 1
    # A public change that is no publication (a key revoked) leaves it current.
    other, _ = ApiKey.issue(owner=reviewer_user(), name="Other", scope="read")
    other.revoke()
    assert reader.get(f"{URL}/{profile_id}/rankings").json()["current"] is True
    # The data change: the stored ranking says it is not current until it is computed again.
    make_project("newcomer", name="Newcomer", assessments=all_rated(4, grade="A"))
    cache.clear()
    assert reader.get(f"{URL}/{profile_id}/rankings").json()["current"] is False
    assert stale_profiles() == [profile_id]
    # A withdrawn project leaves the stored ranking at once.
    withdraw_as_reviewer(project=Project.objects.get(slug=slug), note="Withdrawn for the test.")
    assert slug not in [row[0] for row in served(reader, profile_id)]
    profile_compute(profile_id)
    body = reader.get(f"{URL}/{profile_id}/rankings?page_size=200").json()
    assert body["current"] is True
    assert served(reader, profile_id) == expected_ranking(CRITERIA)
    assert "newcomer" in [row[0] for row in served(reader, profile_id)]


def test_changing_a_criterion_profile_makes_its_ranking_stale_until_computed(reader, computed):
    made = create(reader, CRITERIA)  # on commit never runs here: nothing computed yet
    profile_id = made.json()["id"]
    body = reader.get(f"{URL}/{profile_id}/rankings").json()
    assert (body["current"], body["computed_at"], body["count"]) == (False, None, 0)
    profile_compute(profile_id)
    assert reader.get(f"{URL}/{profile_id}/rankings").json()["current"] is True
    changed = {**CRITERIA, "criteria": {"S7.1": 1}}
    reader.put(f"{URL}/{profile_id}", changed, format="json", HTTP_IF_MATCH=made["ETag"])
    assert reader.get(f"{URL}/{profile_id}/rankings").json()["current"] is False
    profile_compute(profile_id)
    assert served(reader, profile_id) == expected_ranking(changed)


def test_profile_rankings_read_a_fixed_number_of_queries(reader, computed):
    profile_id = create(reader, ENERGY).json()["id"]
    stored_id = create(reader, CRITERIA).json()["id"]
    profile_compute(stored_id)
    for address in (f"{URL}/{profile_id}/rankings", f"{URL}/{stored_id}/rankings"):
        reader.get(address)  # the basis read once per generation
        counts = []
        for size in (1, 4):
            with CaptureQueriesContext(connection) as queries:
                assert reader.get(f"{address}?page_size={size}").status_code == 200
            counts.append(len(queries))
        assert counts[0] == counts[1], address


def test_unknown_projects_and_parameters(reader, computed):
    profile_id = create(reader, ENERGY).json()["id"]
    assert_problem(reader.get(f"{URL}/{profile_id}/projects/nowhere"), 404)
    assert_problem(reader.get(f"{URL}/{profile_id}/rankings?sort=name"), 400)
    assert_problem(reader.get(f"{URL}/999999"), 404)


def test_after_the_data_change_the_uncertainty_task_brings_stale_profiles_up_to_date(
    reader, computed, immediate_tasks
):
    from projects.tasks import uncertainty_refresh

    profile_id = create(reader, CRITERIA).json()["id"]
    profile_compute(profile_id)
    make_project("newcomer", name="Newcomer", assessments=all_rated(4, grade="A"))
    assert reader.get(f"{URL}/{profile_id}/rankings").json()["current"] is False
    run = uncertainty_compute(reason="test")  # as a worker would, then the profiles follow
    from projects.models import UncertaintyRun

    queued = UncertaintyRun.objects.create(methodology=run.methodology, state="queued", scenarios=100, seed=1)
    result = uncertainty_refresh.call(queued.pk)
    assert result["profiles"] == 1
    assert reader.get(f"{URL}/{profile_id}/rankings").json()["current"] is True
    assert "newcomer" in [row[0] for row in served(reader, profile_id)]


def test_the_shared_read_cache_never_answers_one_key_with_anothers_profiles(client_for, computed, settings):
    """Two read-scope keys (the clients the read cache serves): each sees its own profiles, and
    its own profile's ranking, however the other asked first."""
    settings.RESPONSE_CACHE = True
    first, second = client_for("read"), client_for("read")
    made = create(first, ENERGY).json()
    assert [p["id"] for p in first.get(URL).json()] == [made["id"]]
    assert first.get(f"{URL}/{made['id']}/rankings").status_code == 200
    assert second.get(URL).json() == []
    assert_problem(second.get(f"{URL}/{made['id']}/rankings"), 404)
    assert_problem(second.get(f"{URL}/{made['id']}"), 404)


def test_a_key_keeps_few_profiles_with_criterion_weights(reader, read_key, computed):
    from projects.models.profiles import MAX_STORED_PROFILES_PER_KEY

    WeightingProfile.objects.bulk_create(
        WeightingProfile(
            api_key=read_key[0], name=f"p{i}", dimensions={"sdg7": "1"}, alpha="0.5", criteria={"D1": 0}
        )
        for i in range(MAX_STORED_PROFILES_PER_KEY)
    )
    body = assert_problem(reader.post(URL, CRITERIA, format="json"), 409)
    assert "criterion weights" in body["detail"]
    made = create(reader, ENERGY)  # without criterion weights: room left
    changed = reader.put(f"{URL}/{made.json()['id']}", CRITERIA, format="json", HTTP_IF_MATCH=made["ETag"])
    assert_problem(changed, 409)
    assert reader.get(f"{URL}/{made.json()['id']}").json()["criteria"] == {}
    # Replacing one that has them is no new one.
    kept = WeightingProfile.objects.filter(api_key=read_key[0]).exclude(criteria={}).first()
    etag = reader.get(f"{URL}/{kept.pk}")["ETag"]
    assert reader.put(f"{URL}/{kept.pk}", CRITERIA, format="json", HTTP_IF_MATCH=etag).status_code == 200
