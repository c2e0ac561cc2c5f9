"""Webhook events come from the services that make the change, so every channel that publishes,
withdraws or releases a method records them: the admin, the import, the shell; a method release
is one ``methodology.released`` and one ``rescoring.completed`` with counts, never an event per
automatic republication."""

import json

import pytest

from projects.methodology import method_file_data, method_install
from projects.models import ApiKey, Criterion, Methodology, Project, RescoreJob, WebhookEvent
from projects.models.webhooks import EVENT_TYPES
from projects.services.rescoring import rescore_job_chunk
from projects.services.webhook_delivery import event_fan_out
from projects.services.webhooks import subscription_create
from tests.admin.pages import publish_via
from tests.support.actors import key_owner, member, release_as_administrator
from tests.support.builders import make_project

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def subscribed(db):
    key = ApiKey.issue(owner=key_owner(), name="Desk", scope="read")[0]
    return subscription_create(key, {"url": "https://hooks.example.org/in", "events": list(EVENT_TYPES)})


def bodies(type_: str) -> list[dict]:
    """The bodies of the events of that type, as their deliveries send them (a publication's is
    written by its fan-out)."""
    for event_id in WebhookEvent.objects.filter(body="").values_list("pk", flat=True):
        event_fan_out(event_id)
    events = WebhookEvent.objects.filter(type=type_).order_by("id")
    return [json.loads(body) for body in events.values_list("body", flat=True)]


def test_an_admin_withdrawal_and_publication_are_events(client):
    project = make_project("alpha")
    reviewer = member("rev", "reviewer")
    client.force_login(reviewer)
    client.post(
        "/admin/projects/project/",
        {"action": "withdraw", "_selected_action": [project.pk], "note": "Withdrawn pending new evidence."},
    )
    project.refresh_from_db()
    assert project.state != "published"
    assert [event["data"]["slug"] for event in bodies("project.withdrawn")] == ["alpha"]
    publish_via(client, f"/admin/projects/project/{project.pk}/publish/", {"note": "Back with evidence."})
    assert [event["data"]["slug"] for event in bodies("project.published")] == ["alpha", "alpha"]


def test_a_method_release_is_two_events_not_one_per_republication():
    for slug in ("alpha", "beta", "gamma"):
        make_project(slug)
    data = method_file_data("1.0")
    data["version"], data["alpha"] = "1.1", "0.6"
    draft = method_install(data, methodology_model=Methodology, criterion_model=Criterion, state="draft")
    published_before = WebhookEvent.objects.filter(type="project.published").count()

    job = release_as_administrator(methodology=draft)
    released = bodies("methodology.released")
    assert len(released) == 1 and released[0]["data"]["version"] == "1.1"
    assert len(released[0]["data"]["criteria"]) == Criterion.objects.filter(methodology=draft).count()
    assert bodies("rescoring.completed") == []  # not before the rescoring is done

    ids = list(Project.objects.order_by("pk").values_list("pk", flat=True))
    rescore_job_chunk(job_id=job.pk, first_id=ids[0], last_id=ids[-1])
    job.refresh_from_db()
    assert job.state == RescoreJob.State.DONE and job.republished == 3
    (completed,) = bodies("rescoring.completed")
    assert completed["data"] == {
        "methodology": "1.1",
        "projects": 3,
        "rescored": 3,
        "new_cards": 3,
        "republished": 3,
        "started_at": completed["data"]["started_at"],
        "finished_at": completed["data"]["finished_at"],
    }
    assert completed["data"]["finished_at"] >= completed["data"]["started_at"]
    assert WebhookEvent.objects.filter(type="project.published").count() == published_before
    # The rescoring's chunk run again (a worker taken for dead) adds no second event.
    rescore_job_chunk(job_id=job.pk, first_id=ids[0], last_id=ids[-1])
    assert len(bodies("rescoring.completed")) == 1
