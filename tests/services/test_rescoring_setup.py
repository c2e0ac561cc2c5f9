"""Rescoring jobs and commands where no project exists yet, or over projects of their own: kept
apart from tests/services/test_rescoring_jobs.py, whose tests share one world of projects built once."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Assessment, Methodology, Project, Publication, RescoreJob
from projects.selectors import methodology_current
from projects.services.methodology import MethodRefused
from projects.services.ratings import assessment_save
from projects.services.rescore_chunks import AUTOMATIC_NOTE
from projects.services.rescoring import (
    rescore_job_create,
    rescore_range,
)
from projects.services.scoring import method_spec
from tests.services.test_rescoring_jobs import (
    DUMMY,
    SUMMARY,
    assert_every_card_is_what_project_rescore_computes,
    fresh_method_specs,  # noqa: F401 (autouse here too)
    new_method,
    publish_without_running,
    rescore,
)
from tests.support.actors import (
    release_as_administrator,
    withdraw_as_reviewer,
)

pytestmark = pytest.mark.django_db


def test_a_job_with_no_projects_is_done_at_once():
    job, ranges = rescore_job_create(methodology=methodology_current(), chunk=10)
    assert ranges == []
    assert (job.state, job.total, job.chunks) == ("done", 0, 0)
    assert job.finished_at is not None


def test_a_published_method_is_refused(method):
    with pytest.raises(MethodRefused, match=r"^Method 1\.0 is published already\.$"):
        release_as_administrator(methodology=method)


def test_a_method_without_criteria_is_refused():
    empty = Methodology.objects.create(version="2.0", parameters=methodology_current().parameters)
    with pytest.raises(MethodRefused, match=r"^Method 2\.0 has no criteria\.$"):
        release_as_administrator(methodology=empty)
    empty.refresh_from_db()
    assert empty.state == "draft" and not RescoreJob.objects.exists()


def test_the_rescore_command_without_a_published_method_says_so(method):
    Methodology.objects.filter(pk=method.pk).update(state="draft")
    with pytest.raises(CommandError, match="No published methodology version"):
        rescore()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_rescore_command_with_two_processes_on_postgresql(settings):
    if connection.vendor != "postgresql":
        pytest.skip("forked workers need a real database server (not SQLite in memory)")
    settings.TASKS = DUMMY
    call_command("generate_projects", "30", "--seed", "3", stdout=io.StringIO(), stderr=io.StringIO())
    draft = new_method()
    release_as_administrator(methodology=draft)
    output = rescore("--jobs", "2", "--chunk", "7", "--no-progress")
    assert SUMMARY.search(output).groups() == ("30", "1.1", "30", "30")
    assert_every_card_is_what_project_rescore_computes(draft)
    assert Publication.objects.filter(note=AUTOMATIC_NOTE.format(version="1.1")).count() == 30
    assert SUMMARY.search(rescore("--jobs", "2", "--chunk", "7", "--no-progress")).groups() == (
        "30",
        "1.1",
        "0",
        "0",
    )


def test_a_chunk_of_40_projects_costs_the_queries_of_a_chunk_of_10(
    settings, django_capture_on_commit_callbacks
):
    call_command("generate_projects", "50", "--seed", "11", stdout=io.StringIO(), stderr=io.StringIO())
    projects = list(Project.objects.order_by("pk"))
    for index, project in enumerate(projects):
        kind = index % 5
        if kind in (1, 3):  # an unpublished draft (published or withdrawn)
            assessment = Assessment.objects.filter(project=project, not_applicable=False).first()
            assessment.level = (assessment.level + 1) % 5
            assessment_save(assessment)
        if kind in (2, 3):
            withdraw_as_reviewer(project=project, note="Withdrawn.")
    draft = new_method()
    publish_without_running(settings, django_capture_on_commit_callbacks, draft)
    method_spec(Methodology.objects.get(pk=draft.pk))  # its engine form is built once per process

    ids = [project.pk for project in projects]
    with CaptureQueriesContext(connection) as ten:
        small = rescore_range(methodology=draft, first_id=ids[0], last_id=ids[9])
    with CaptureQueriesContext(connection) as forty:
        large = rescore_range(methodology=draft, first_id=ids[10], last_id=ids[49])
    assert (small.projects, small.changed, small.republished) == (10, 10, 6)
    assert (large.projects, large.changed, large.republished) == (40, 40, 24)
    assert len(forty) == len(ten), [q["sql"][:90] for q in forty.captured_queries]
    assert len(ten) <= 20
    assert_every_card_is_what_project_rescore_computes(draft)
