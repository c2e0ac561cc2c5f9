"""The editorial invariants under random work: random sequences of edits, publications and
withdrawals, by random people, through every channel (admin, API key, import, shell).

After every step: nobody published or withdrew what they had changed since the last review (and
everyone else with the right could); the public sees exactly the published state; every logged
change has an actor; the working state is every acknowledged edit, none lost."""

import copy
import itertools

import pytest
from django.contrib.auth.models import Group
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from projects import actors
from projects.interchange.importer import projects_import
from projects.models import ApiKey, Change, Project
from projects.services.publication import PublicationRefused, project_publish, project_withdraw
from projects.services.ratings import assessment_save
from tests.conftest import interchange, project_record, rated
from tests.support.actors import staff_user
from tests.support.examples import examples

CODES = ["S7.1", "S7.2", "S9.1"]
PEOPLE = {  # name: role
    "ana": "analyst",
    "ben": "analyst",
    "rei": "reviewer",
    "ryo": "reviewer",
    "boss": "administrator",
}
CHANNELS = ["admin", "api", "import", "shell"]
_serial = itertools.count()

edit = st.tuples(
    st.just("edit"),
    st.sampled_from(sorted(PEOPLE)),
    st.sampled_from(CHANNELS),
    st.one_of(
        st.tuples(st.just("rating"), st.sampled_from(CODES), st.integers(0, 4)),
        st.tuples(st.just("summary"), st.sampled_from(["Ice.", "Regolith.", "Water."]), st.none()),
    ),
)
review = st.tuples(
    st.sampled_from(["publish", "withdraw"]), st.sampled_from(sorted(PEOPLE)), st.none(), st.none()
)


class World:
    """The people, their write keys, and what the record should be (the oracle)."""

    def __init__(self):
        self.users, self.clients = {}, {}
        for name, role in PEOPLE.items():
            user = staff_user(name)
            if role == "administrator":
                user.is_superuser = True
                user.save()
            else:
                user.groups.add(Group.objects.get(name=role))
            self.users[name] = user
            _, key = ApiKey.issue(
                owner=user, name=f"{name}'s key", scope="write", throttle_rate="100000/hour"
            )
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            self.clients[name] = client
        # The public: a read key (it sees what anonymous readers see, at a rate tests need).
        _, key = ApiKey.issue(
            owner=self.users["ana"], name="public", scope="read", throttle_rate="1000000/hour"
        )
        self.anonymous = APIClient()
        self.anonymous.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    def may_review(self, name: str) -> bool:
        return PEOPLE[name] in ("reviewer", "administrator")


def new_project(world: World, oracle: dict) -> Project:
    slug = f"inv-{next(_serial)}"
    ratings = {code: {"level": 2, "evidence": "Illustrative evidence."} for code in CODES}
    record = project_record(slug, assessments=[rated(code, 2) for code in CODES])
    projects_import(interchange(record), user=world.users["ana"])
    oracle.update(
        slug=slug,
        working={"summary": record["summary"], "ratings": ratings},
        published=None,
        editors={"ana"},
        withdrawn=False,
    )
    return Project.objects.get(slug=slug)


def apply_edit(world: World, oracle: dict, who: str, channel: str, change) -> None:
    kind, subject, level = change
    slug = oracle["slug"]
    working = copy.deepcopy(oracle["working"])
    if kind == "rating":
        # Through the API the evidence is rewritten too; elsewhere only the level moves.
        evidence = f"Evidence {level}." if channel == "api" else working["ratings"][subject]["evidence"]
        working["ratings"][subject] = {"level": level, "evidence": evidence}
    else:
        working["summary"] = subject
    if channel == "api":
        client = world.clients[who]
        if kind == "rating":
            url = f"/api/v1/projects/{slug}/assessments/{subject}"
            body = {
                "rating": level,
                "evidence": f"Evidence {level}.",
                "evidence_grade": "B",
                "source_url": "https://example.org/evidence",
            }
            response = client.put(url, body, format="json", HTTP_IF_MATCH=client.get(url)["ETag"])
        else:
            url = f"/api/v1/projects/{slug}"
            response = client.patch(
                url, {"summary": subject}, format="json", HTTP_IF_MATCH=client.get(url)["ETag"]
            )
        assert response.status_code == 200, response.content[:300]
    elif channel == "import":
        record = project_record(
            slug,
            summary=working["summary"],
            assessments=[
                rated(code, value["level"], evidence=value["evidence"])
                for code, value in working["ratings"].items()
            ],
        )
        projects_import(interchange(record), user=world.users[who])
    else:
        with actors.acting(world.users[who], channel):
            project = Project.objects.get(slug=slug).apply_pending()
            if kind == "rating":
                assessment = project.assessments.get(criterion__code=subject)
                assessment.level = level
                assessment_save(assessment)
            else:
                project.summary = subject
                project.save()
    if working != oracle["working"]:
        oracle["editors"].add(who)
    oracle["working"] = working


def apply_review(world: World, oracle: dict, action: str, who: str) -> None:
    project = Project.objects.get(slug=oracle["slug"])
    allowed = world.may_review(who) and who not in oracle["editors"]
    with actors.acting(world.users[who], "admin"):
        try:
            if action == "publish":
                project_publish(project=project, note=f"Reviewed by {who}.")
            else:
                project_withdraw(project=project, note=f"Withdrawn by {who}.")
            done = True
        except PublicationRefused as refused:
            done = False
            reason = str(refused)
    if not allowed:
        assert not done, f"{who} {action}ed a project they changed or may not review"
        return
    if action == "publish":
        nothing = oracle["published"] == oracle["working"] and not oracle["withdrawn"]
        assert done or (nothing and "nothing" in reason), reason
        oracle["published"], oracle["withdrawn"] = copy.deepcopy(oracle["working"]), False
    else:
        is_public = oracle["published"] is not None and not oracle["withdrawn"]
        assert done == is_public, reason if not done else "withdrew a project that was not public"
        oracle["withdrawn"] = oracle["withdrawn"] or done
    if done:
        oracle["editors"] = set()


def check(world: World, oracle: dict) -> None:
    slug = oracle["slug"]
    project = Project.objects.get(slug=slug).apply_pending()
    # Nothing acknowledged lost: the working state is every acknowledged edit.
    stored = {
        a.criterion.code: {"level": a.level, "evidence": a.justification}
        for a in project.assessments.select_related("criterion")
    }
    assert {"summary": project.summary, "ratings": stored} == oracle["working"]
    # Every logged change has an actor and a channel.
    assert not Change.objects.filter(project=project, actor__isnull=True).exists()
    assert not Change.objects.filter(project=project, channel="").exists()
    # The public sees exactly the published state.
    public = world.anonymous.get(f"/api/v1/projects/{slug}")
    if oracle["published"] is None or oracle["withdrawn"]:
        assert public.status_code == 404
        return
    assert public.status_code == 200 and public.json()["summary"] == oracle["published"]["summary"]
    ratings = world.anonymous.get(f"/api/v1/projects/{slug}/assessments").json()
    assert {
        item["criterion"]: {"level": item["rating"], "evidence": item["evidence"]} for item in ratings
    } == (oracle["published"]["ratings"])


@pytest.mark.django_db
@settings(
    max_examples=examples(60),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(st.one_of(edit, review), min_size=1, max_size=12))
def test_the_editorial_invariants_hold_whatever_happens(steps, django_user_model):
    world = WORLD.get("world") or WORLD.setdefault("world", World())
    oracle: dict = {}
    new_project(world, oracle)
    for action, who, channel, change in steps:
        if action == "edit":
            apply_edit(world, oracle, who, channel, change)
        else:
            apply_review(world, oracle, action, who)
        check(world, oracle)


WORLD: dict = {}


@pytest.fixture(autouse=True)
def _a_world_per_test():
    WORLD.clear()  # the database rolls back after each test: so do its people
    yield
    WORLD.clear()
