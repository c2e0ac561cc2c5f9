"""Publishing a method version from the admin: administrators only; ratings carried over; a
rescoring job whose progress the admin shows."""

import pytest

from projects.interchange.importer import projects_import
from projects.methodology import method_file_data, method_install
from projects.models import Criterion, Methodology, Project, RescoreJob
from projects.services.rescoring import rescore_job_chunk
from tests.conftest import interchange, project_record, rated
from tests.support.actors import member, reviewer_user

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/projects/methodology/"


@pytest.fixture
def draft_method():
    data = method_file_data("1.0")
    data["version"], data["alpha"] = "1.1", "0.6"
    return method_install(data, methodology_model=Methodology, criterion_model=Criterion, state="draft")


@pytest.fixture
def rated_projects():
    projects_import(
        interchange(*(project_record(f"p{i}", assessments=[rated("S7.1", i % 5)]) for i in range(3))),
        publish=True,
        reviewer=reviewer_user(),
        note="First.",
    )


def publish(client, methodology):
    return client.post(LIST_URL, {"action": "publish", "_selected_action": [methodology.pk]}, follow=True)


def test_an_administrator_publishes_a_version_and_follows_the_job(client, draft_method, rated_projects):
    client.force_login(member("admin1", "administrator"))
    response = publish(client, draft_method)
    text = response.content.decode()
    assert "Method 1.1 is published. 3 projects are being rescored by the task workers" in text
    draft_method.refresh_from_db()
    assert draft_method.is_published
    job = RescoreJob.objects.get()
    assert (job.total, job.done, job.state) == (3, 0, "queued")
    # Ratings went with the projects to the new version's criteria.
    assert Project.objects.get(slug="p1").assessments.filter(criterion__methodology=draft_method).count() == 1

    page = client.get(f"/admin/projects/rescorejob/{job.pk}/change/").content.decode()
    assert '<progress max="3" value="0">' in page and 'http-equiv="refresh"' in page

    first, last = Project.objects.order_by("pk").values_list("pk", flat=True)[::2]
    rescore_job_chunk(job_id=job.pk, first_id=first, last_id=last)
    page = client.get("/admin/projects/rescorejob/").content.decode()
    assert '<progress max="3" value="3">' in page and "3 / 3 (100 %)" in page
    assert 'http-equiv="refresh"' not in page  # nothing runs: no more refreshing
    job.refresh_from_db()
    assert job.state == "done" and job.changed == 3 and job.republished == 3


def test_a_reviewer_cannot_publish_a_method_version(client, draft_method):
    client.force_login(member("rev1", "reviewer"))
    assert b'value="publish"' not in client.get(LIST_URL).content
    publish(client, draft_method)
    draft_method.refresh_from_db()
    assert not draft_method.is_published and not RescoreJob.objects.exists()


def test_publishing_a_published_version_is_refused_with_the_reason(client, method):
    client.force_login(member("admin2", "administrator"))
    text = publish(client, method).content.decode()
    assert "Method 1.0 is published already." in text
    assert not RescoreJob.objects.exists()


def test_the_refusal_reads_in_japanese_for_an_administrator_reading_japanese(client, method):
    client.force_login(member("admin2", "administrator"))
    client.cookies["django_language"] = "ja"
    assert "評価手法 1.0 はすでに公開されています。" in publish(client, method).content.decode()
