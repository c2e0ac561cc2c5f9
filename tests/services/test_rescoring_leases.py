"""A rescoring job survives its workers (issue 11, finding 8): a chunk whose worker died is found
by its lease running out and run again, at most RESCORE_ATTEMPTS times; the job then completes
with every card what the engine computes, nothing counted or published twice; the admin shows the
stalled chunk. proof/worker_kill.py does the same with real `db_worker` processes and SIGKILL.
"""

from __future__ import annotations

import io
import signal
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone
from django_tasks import default_task_backend
from django_tasks_db.models import DBTaskResult

from projects import actors, scoring
from projects.methodology import method_file_data, method_install
from projects.models import Assessment, Criterion, Methodology, Project, Publication, RescoreJob, ScoreCard
from projects.models.jobs import RescoreChunk
from projects.services import rescoring
from projects.services import scoring as scoring_service
from projects.services.rescoring import rescore_chunk_beat, rescore_job_reap
from projects.services.scoring import method_spec
from projects.tasks import rescore_chunk, rescore_watch
from tests.support.actors import release_as_administrator

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
DATABASE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
PROJECTS, CHUNK = 40, 10


class WorkerKilled(BaseException):
    """Stands for SIGKILL: nothing of the worker's Python runs after it (no except, no cleanup)."""


@pytest.fixture(autouse=True)
def fresh_method_specs(monkeypatch):
    monkeypatch.setattr(scoring_service, "_published_specs", {})


def release(settings, capture, *, tasks=DUMMY) -> tuple[RescoreJob, Methodology]:
    """PROJECTS synthetic published projects; method 1.1 (α 0.6) released by an administrator
    with chunks of CHUNK projects queued (on the dummy backend: queued, none run)."""
    settings.TASKS = tasks
    settings.RESCORE_CHUNK = CHUNK
    call_command("generate_projects", str(PROJECTS), "--seed", "11", stdout=io.StringIO())
    data = method_file_data("1.0")
    data.update(version="1.1", alpha="0.6")
    draft = method_install(data, methodology_model=Methodology, criterion_model=Criterion, state="draft")
    admin = get_user_model().objects.create_superuser("releaser", password=None)
    with actors.acting(admin, actors.Channel.SHELL), capture(execute=True):
        job = release_as_administrator(methodology=draft)
    return job, draft


def queued() -> list:
    return [r for r in default_task_backend.results if r.task.func is rescore_chunk.func]


def run(result) -> dict:
    return result.task.call(*result.args, **result.kwargs)


def chunk_of(job: RescoreJob, result) -> RescoreChunk:
    _, first_id, _ = result.args
    return RescoreChunk.objects.get(job=job, first_id=first_id)


def expire(chunk: RescoreChunk) -> None:
    """The lease of the chunk's worker runs out: it gave no sign of life for a whole lease."""
    RescoreChunk.objects.filter(pk=chunk.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def claim_as_dead_worker(chunk: RescoreChunk, worker="dead-host:4242") -> None:
    """A worker took the chunk and died at once: running, lease already over."""
    RescoreChunk.objects.filter(pk=chunk.pk).update(
        state=RescoreChunk.State.RUNNING,
        attempts=chunk.attempts + 1,
        worker=worker,
        claim="dead",
        claimed_at=timezone.now() - timedelta(minutes=5),
        heartbeat_at=timezone.now() - timedelta(minutes=5),
        lease_expires_at=timezone.now() - timedelta(minutes=4),
    )


def dead_first_chunk(job: RescoreJob) -> tuple[RescoreChunk, DBTaskResult]:
    """The first chunk's task taken by a db_worker that died at once (database backend)."""
    chunk = RescoreChunk.objects.filter(job=job).order_by("first_id").first()
    dead = DBTaskResult.objects.get(pk=chunk.task_id)
    assert dead.args_kwargs["args"] == [job.pk, chunk.first_id, chunk.last_id]
    dead.claim("dead-worker")
    claim_as_dead_worker(chunk)
    return chunk, dead


def assert_complete_and_correct(job: RescoreJob, methodology: Methodology, publications_before: int) -> None:
    """Done, every count exact, every working and public card the engine's, nothing twice."""
    job.refresh_from_db()
    total = Project.objects.count()
    assert (job.state, job.error) == ("done", "")
    assert (job.total, job.done, job.changed, job.republished) == (total, total, total, total)
    assert job.chunks_done == job.chunks == RescoreChunk.objects.filter(job=job, state="done").count()
    spec = method_spec(methodology)
    for project in Project.objects.select_related("current_score", "published_score"):
        parts = Assessment.objects.filter(project=project, criterion__methodology=methodology).values_list(
            "criterion__code", "level", "evidence_grade", "not_applicable"
        )
        ratings = [scoring.Rating(code, level, grade or None, bool(na)) for code, level, grade, na in parts]
        card = scoring.score(spec, ratings).as_dict()
        assert project.current_score.methodology_id == methodology.pk, project.slug
        assert project.current_score.card == card, project.slug
        assert project.published_score.card == card, project.slug  # published as generated
    # One card and one automatic publication per project: a chunk run again added none.
    assert ScoreCard.objects.filter(methodology=methodology).count() == total
    assert Publication.objects.count() == publications_before + total
    assert Publication.objects.filter(kind=Publication.Kind.REPUBLICATION).count() == total


def test_a_worker_killed_inside_a_chunk_leaves_nothing_and_its_chunk_runs_again_after_its_lease(
    settings, django_capture_on_commit_callbacks, monkeypatch
):
    job, draft = release(settings, django_capture_on_commit_callbacks)
    publications = Publication.objects.count()
    tasks = queued()
    assert len(tasks) == PROJECTS // CHUNK
    victim = tasks[1]
    _, first_id, last_id = victim.args

    # Killed after the chunk's cards are written, before its transaction commits.
    def killed(chunk, result):
        raise WorkerKilled

    real = rescoring._chunk_record
    monkeypatch.setattr(rescoring, "_chunk_record", killed)
    with pytest.raises(WorkerKilled):
        run(victim)
    monkeypatch.setattr(rescoring, "_chunk_record", real)
    chunk = chunk_of(job, victim)
    assert (chunk.state, chunk.attempts) == ("running", 1)
    assert not Project.objects.filter(
        pk__range=(first_id, last_id), current_score__methodology=draft
    ).exists()

    # While its lease runs, the worker may be alive: nobody takes the chunk, a second delivery
    # of its task does nothing.
    assert not rescore_job_reap(job_id=job.pk)
    assert run(victim)["projects"] == 0
    assert RescoreChunk.objects.get(pk=chunk.pk).attempts == 1

    expire(chunk)
    before = len(default_task_backend.results)
    with django_capture_on_commit_callbacks(execute=True):
        run(tasks[0])  # a live worker finishes a chunk, then looks for stalled ones
    again = [r for r in default_task_backend.results[before:] if r.task.name == "rescore_chunk"]
    assert [tuple(r.args) for r in again] == [(job.pk, first_id, last_id)]
    chunk.refresh_from_db()
    assert chunk.state == "queued" and "stopped without finishing" in chunk.error
    for result in [*tasks[2:], *again]:
        run(result)
    chunk.refresh_from_db()
    assert (chunk.state, chunk.attempts, chunk.projects, chunk.changed) == ("done", 2, CHUNK, CHUNK)
    assert_complete_and_correct(job, draft, publications)

    # The task the dead worker had, delivered once more, changes nothing.
    assert run(victim)["projects"] == 0
    assert_complete_and_correct(job, draft, publications)


def test_a_chunk_whose_worker_dies_every_time_fails_the_job_with_the_reason_and_can_be_retried(
    settings, django_capture_on_commit_callbacks
):
    settings.RESCORE_ATTEMPTS = 3
    job, draft = release(settings, django_capture_on_commit_callbacks)
    publications = Publication.objects.count()
    tasks = queued()
    for result in tasks[1:]:
        run(result)
    chunk = chunk_of(job, tasks[0])
    for attempt in (1, 2, 3):
        claim_as_dead_worker(chunk)
        chunk.refresh_from_db()
        reaped = rescore_job_reap()
        assert chunk.attempts == attempt
        if attempt < 3:
            assert [c.pk for c in reaped.requeued] == [chunk.pk] and not reaped.failed
            chunk.refresh_from_db()
            assert chunk.state == "queued"
    assert [c.pk for c in reaped.failed] == [chunk.pk]
    job.refresh_from_db()
    chunk.refresh_from_db()
    assert (job.state, chunk.state) == ("failed", "failed")
    assert job.error.startswith(
        f"projects {chunk.first_id}–{chunk.last_id}: its worker dead-host:4242 stopped"
    )
    assert "after 3 attempts" in job.error and f"rescore_reap --retry-failed {job.pk}" in job.error
    assert not rescore_job_reap()  # failed for good: not queued again

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rescore_reap", "--retry-failed", str(job.pk), stdout=out)
    assert out.getvalue().strip() == f"Job {job.pk}: 1 failed chunks queued again."
    job.refresh_from_db()
    assert (job.state, job.error) == ("running", "")
    run(queued()[-1])
    assert_complete_and_correct(job, draft, publications)


def test_the_worker_renews_its_lease_and_a_worker_taken_for_dead_cannot_renew_anothers(
    settings, django_capture_on_commit_callbacks
):
    settings.RESCORE_LEASE = 30
    job, _ = release(settings, django_capture_on_commit_callbacks)
    chunk = chunk_of(job, queued()[0])
    claim_as_dead_worker(chunk)
    assert rescoring._chunk_claim(job=job, first_id=chunk.first_id, last_id=chunk.last_id) is not None
    chunk.refresh_from_db()
    assert (chunk.attempts, chunk.worker) == (2, rescoring.worker_name())
    RescoreChunk.objects.filter(pk=chunk.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=1))
    assert rescore_chunk_beat(chunk_id=chunk.pk, claim=chunk.claim)
    chunk.refresh_from_db()
    assert chunk.lease_expires_at > timezone.now() + timedelta(seconds=25)
    assert not rescore_chunk_beat(chunk_id=chunk.pk, claim="dead")  # the old claim is over


def test_the_watchdog_queues_a_dead_workers_chunk_again_and_marks_its_task_lost(
    settings, django_capture_on_commit_callbacks
):
    job, draft = release(settings, django_capture_on_commit_callbacks, tasks=DATABASE)
    publications = Publication.objects.count()
    job.refresh_from_db()
    assert DBTaskResult.objects.filter(task_path="projects.tasks.rescore_chunk").count() == PROJECTS // CHUNK
    watch = DBTaskResult.objects.get(task_path="projects.tasks.rescore_watch")
    assert watch.args_kwargs["args"] == [job.pk, job.watch_token] and watch.run_after > timezone.now()

    # A worker took the first chunk's task and died.
    chunk, dead = dead_first_chunk(job)
    with django_capture_on_commit_callbacks(execute=True):
        assert rescore_watch.call(job.pk, job.watch_token) == {"watching": True, "requeued": 1, "failed": 0}
    dead.refresh_from_db()
    assert (dead.status, dead.exception_class_path) == ("FAILED", "projects.services.leases.WorkerLost")
    chunk.refresh_from_db()
    assert chunk.state == "queued" and chunk.task_id != str(dead.pk)
    job.refresh_from_db()
    watches = DBTaskResult.objects.filter(task_path="projects.tasks.rescore_watch", status="READY")
    assert [w.args_kwargs["args"] for w in watches.exclude(pk=watch.pk)] == [[job.pk, job.watch_token]]
    # A superseded watchdog stops: one watch per job, however often it was restarted.
    assert rescore_watch.call(job.pk, watch.args_kwargs["args"][1]) == {"watching": False}

    for result in DBTaskResult.objects.filter(task_path="projects.tasks.rescore_chunk", status="READY"):
        rescore_chunk.call(*result.args_kwargs["args"])
    assert_complete_and_correct(job, draft, publications)
    # Nothing left to do: the watchdog stops and queues no next round.
    ready = DBTaskResult.objects.filter(status="READY").count()
    assert rescore_watch.call(job.pk, job.watch_token) == {"watching": False}
    assert DBTaskResult.objects.filter(status="READY").count() == ready


@pytest.fixture
def restored_signals():
    # db_worker installs its own SIGINT/SIGTERM handlers in this process.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_db_worker_completes_a_job_whose_first_chunk_lost_its_worker(
    settings, django_capture_on_commit_callbacks, restored_signals
):
    job, draft = release(settings, django_capture_on_commit_callbacks, tasks=DATABASE)
    publications = Publication.objects.count()
    chunk, dead = dead_first_chunk(job)

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", "--interval", "0", verbosity=0)

    chunk.refresh_from_db()
    assert (chunk.state, chunk.attempts) == ("done", 2)
    assert_complete_and_correct(job, draft, publications)
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()  # the dead task is marked lost
    assert DBTaskResult.objects.get(pk=dead.pk).status == "FAILED"


def test_the_admin_shows_a_stalled_chunk_with_its_worker(
    client, settings, django_capture_on_commit_callbacks
):
    job, _ = release(settings, django_capture_on_commit_callbacks)
    tasks = queued()
    run(tasks[0])
    claim_as_dead_worker(chunk_of(job, tasks[1]))
    client.force_login(get_user_model().objects.get(username="releaser"))

    listing = client.get("/admin/projects/rescorejob/").content.decode()
    assert "1 stalled · 0 run again" in listing
    page = client.get(f"/admin/projects/rescorejob/{job.pk}/change/").content.decode()
    assert "chunks not done, or run again" in page.lower()
    assert "dead-host:4242" in page
    assert page.count('alt="True"') == 1  # the stalled one; the queued chunks are not

    with django_capture_on_commit_callbacks(execute=True):
        rescore_job_reap(job_id=job.pk)
    for result in queued()[1:]:
        run(result)
    listing = client.get("/admin/projects/rescorejob/").content.decode()
    assert "0 stalled · 1 run again" in listing
    page = client.get(f"/admin/projects/rescorejob/{job.pk}/change/").content.decode()
    assert "dead-host:4242" not in page and rescoring.worker_name() in page  # the chunk run again


def test_a_chunk_queued_before_chunks_had_rows_still_runs_once(settings, django_capture_on_commit_callbacks):
    job, draft = release(settings, django_capture_on_commit_callbacks)
    publications = Publication.objects.count()
    RescoreChunk.objects.filter(job=job).delete()  # a job queued by the previous version
    for result in queued():
        run(result)
        run(result)
    assert_complete_and_correct(job, draft, publications)


def test_a_queued_chunk_whose_task_ended_without_running_it_is_queued_again(
    settings, django_capture_on_commit_callbacks
):
    job, draft = release(settings, django_capture_on_commit_callbacks, tasks=DATABASE)
    publications = Publication.objects.count()
    chunk = RescoreChunk.objects.filter(job=job).order_by("first_id").last()
    # The task failed before it took its chunk (say, the database went away for a moment).
    DBTaskResult.objects.filter(pk=chunk.task_id).update(status="FAILED")
    assert not rescore_job_reap(job_id=job.pk)  # not within a lease of the job's start: wait
    RescoreJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rescore_reap", "--job", str(job.pk), stdout=out)
    assert out.getvalue().strip() == (
        f"Job {job.pk}, projects {chunk.first_id}–{chunk.last_id}: its task was lost; queued again."
    )
    chunk.refresh_from_db()
    new = DBTaskResult.objects.get(pk=chunk.task_id)
    assert new.status == "READY" and new.args_kwargs["args"] == [job.pk, chunk.first_id, chunk.last_id]
    for result in DBTaskResult.objects.filter(task_path="projects.tasks.rescore_chunk", status="READY"):
        rescore_chunk.call(*result.args_kwargs["args"])
    assert_complete_and_correct(job, draft, publications)
    out = io.StringIO()
    call_command("rescore_reap", stdout=out)
    assert out.getvalue().strip() == "No stalled rescoring chunk."


def test_a_worker_taken_for_dead_that_finishes_after_all_counts_nothing_twice(
    settings, django_capture_on_commit_callbacks
):
    job, draft = release(settings, django_capture_on_commit_callbacks)
    publications = Publication.objects.count()
    tasks = queued()
    chunk = chunk_of(job, tasks[0])
    slow = rescoring._chunk_claim(job=job, first_id=chunk.first_id, last_id=chunk.last_id)
    expire(slow)  # its heartbeats stalled for a lease: taken for dead
    for result in tasks:
        run(result)  # another worker takes the chunk over and finishes it
    assert_complete_and_correct(job, draft, publications)
    # The slow worker's write transaction ends after all: it finds the chunk done.
    rescoring._chunk_record(slow, rescoring.ChunkResult(CHUNK, CHUNK, CHUNK))
    assert_complete_and_correct(job, draft, publications)
