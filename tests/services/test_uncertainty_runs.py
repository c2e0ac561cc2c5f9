"""Stored uncertainty runs (issue 15; projects.services.uncertainty, manage.py uncertainty): a run
covers exactly the rated published projects, is the engine's figures on their published ratings,
and becomes visible whole — a failed run leaves the previous one in place."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from projects.models import Project, ProjectUncertainty, UncertaintyRun
from projects.scoring.uncertainty import SEED, ScreenedChanges, encode, uncertainty
from projects.selectors import methodology_current
from projects.services import uncertainty as service
from projects.services.scoring import method_spec
from tests.support.actors import withdraw_as_reviewer
from tests.support.builders import all_rated, make_project
from tests.support.published import published_ratings

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(db, django_capture_on_commit_callbacks):
    # As if committed: the requests for figures the publications make are run, then forgotten.
    with django_capture_on_commit_callbacks(execute=True):
        make_project("alpha", assessments=all_rated(3, grade="A"))
        make_project("beta", assessments=all_rated(1, grade="D"))
        make_project("gamma", assessments=all_rated(2, grade="C"))
        make_project("draft", assessments=all_rated(4), publish=False)
        make_project("thin", assessments=all_rated(2)[:3])  # published, insufficient data
        gone = make_project("gone", assessments=all_rated(2))
        withdraw_as_reviewer(project=gone, note="Withdrawn for the test.")
    UncertaintyRun.objects.all().delete()


def figures_by_slug(run) -> dict:
    return {
        row.project.slug: row for row in ProjectUncertainty.objects.filter(run=run).select_related("project")
    }


def test_a_run_covers_exactly_the_rated_published_projects_with_the_engines_figures(catalogue):
    run = service.uncertainty_compute(scenarios=1000, reason="test")
    assert (run.state, run.projects, run.scenarios, run.seed) == ("done", 3, 1000, SEED)
    stored = figures_by_slug(run)
    assert sorted(stored) == ["alpha", "beta", "gamma"]
    methodology = methodology_current()
    spec = method_spec(methodology)
    rated = [Project.objects.get(slug=slug) for slug in ["alpha", "beta", "gamma"]]  # by slug, as read
    ids = [(project.pk, project.publication_id) for project in rated]
    projects = [published_ratings(project) for project in rated]
    grades = [project.published_score.grade for project in rated]
    expected = uncertainty(spec, encode(spec, projects), grades, scenarios=1000)
    for index, slug in enumerate(["alpha", "beta", "gamma"]):
        row = stored[slug]
        project = Project.objects.get(slug=slug)
        # Each row names the publication its ratings came from.
        assert ids[index] == (project.pk, project.publication_id) == (row.project_id, row.publication_id)
        # One decimal, as net scores are shown.
        assert (row.net_p5, row.net_median, row.net_p95) == tuple(
            round(float(v), 1) for v in expected.net[index]
        )
        assert (row.rank_p5, row.rank_median, row.rank_p95) == tuple(int(v) for v in expected.rank[index])
        assert row.grades == pytest.approx(
            dict(zip(expected.grade_names, map(float, expected.grades[index]), strict=True))
        )
        assert sum(row.grades.values()) == pytest.approx(1.0)
    # Alpha: every rating grade A, levels 3: only the weights and α move it; it ranks first.
    assert stored["alpha"].rank_median == 1 and stored["alpha"].top10 == 1.0


def test_a_new_run_replaces_the_old_one_and_the_same_data_give_the_same_figures(catalogue):
    first = service.uncertainty_compute()
    before = {
        slug: (row.net_p5, row.net_p95, row.rank_median) for slug, row in figures_by_slug(first).items()
    }
    second = service.uncertainty_compute()
    assert service.current_run() == second
    assert not UncertaintyRun.objects.filter(pk=first.pk).exists()
    assert ProjectUncertainty.objects.count() == 3
    after = {
        slug: (row.net_p5, row.net_p95, row.rank_median) for slug, row in figures_by_slug(second).items()
    }
    assert after == before


def test_a_failed_run_leaves_the_previous_figures_in_place(catalogue, monkeypatch):
    good = service.uncertainty_compute()

    def broken(*args, **kwargs):
        raise MemoryError("out of memory")

    monkeypatch.setattr(service, "uncertainty", broken)
    with pytest.raises(MemoryError):
        service.uncertainty_compute()
    assert service.current_run() == good
    failed = UncertaintyRun.objects.get(state="failed")
    assert failed.error == "MemoryError: out of memory"
    assert ProjectUncertainty.objects.filter(run=failed).count() == 0
    assert ProjectUncertainty.objects.filter(run=good).count() == 3


def test_a_run_that_fails_while_writing_rows_is_never_current(catalogue, monkeypatch):
    good = service.uncertainty_compute()
    real = service.insert_rows

    def dies_after_the_first_row(model, columns, rows, *args, **kwargs):
        real(model, columns, rows[:1], *args, **kwargs)
        raise RuntimeError("connection lost")

    monkeypatch.setattr(service, "insert_rows", dies_after_the_first_row)
    with pytest.raises(RuntimeError):
        service.uncertainty_compute()
    assert service.current_run() == good  # half a set is never what readers see
    failed = UncertaintyRun.objects.get(state="failed")
    assert failed.error == "RuntimeError: connection lost"
    assert ProjectUncertainty.objects.filter(run=failed).count() == 0  # the row written is gone


def test_the_command_computes_and_says_what_it_did(catalogue):
    out = StringIO()
    call_command("uncertainty", "--no-progress", stdout=out)
    assert out.getvalue().startswith(
        "Uncertainty of 3 rated published projects under method 1.0: 1000 scenarios"
    )
    assert service.current_run().reason == "command"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--scenarios", "999"],
            "--scenarios: give a number from 1000 (the method's minimum) to 100000, not 999.",
        ),
        (["--seed", "-1"], "--seed: give a whole number from 0 to 2**63 - 1, not -1."),
    ],
)
def test_the_command_refuses_bad_arguments_naming_them(db, arguments, message):
    with pytest.raises(CommandError) as refused:
        call_command("uncertainty", "--no-progress", *arguments)
    assert str(refused.value) == message
    assert not UncertaintyRun.objects.exists()


# --- Recomputed after publications: coalesced, by a task -------------------------------------


def queued_runs():
    return list(UncertaintyRun.objects.filter(state="queued"))


def test_a_burst_of_publications_queues_one_run_which_a_worker_computes(
    catalogue, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    from projects.tasks import uncertainty_refresh
    from tests.support.actors import publish_as_reviewer

    tasks_before = DBTaskResult.objects.count()
    with django_capture_on_commit_callbacks(execute=True):
        make_project("delta", assessments=all_rated(3))
    with django_capture_on_commit_callbacks(execute=True):
        make_project("epsilon", assessments=all_rated(2))
    with django_capture_on_commit_callbacks(execute=True):
        project = make_project("zeta", assessments=all_rated(2), publish=False)
        publish_as_reviewer(project=project, note="Third in the burst.")
    (queued,) = queued_runs()
    assert queued.reason == "publication"
    assert DBTaskResult.objects.count() == tasks_before + 1  # one task for the three publications
    task = DBTaskResult.objects.order_by("enqueued_at").last()
    assert task.run_after is not None and task.run_after > queued.started_at  # gathered for a while

    result = uncertainty_refresh.call(queued.pk)
    assert result == {"computed": True, "projects": 6, "profiles": 0}
    assert service.current_run().pk == queued.pk
    assert uncertainty_refresh.call(queued.pk) == {"computed": False}  # run once, whoever asks again
    # A publication after the run started queues the next one.
    with django_capture_on_commit_callbacks(execute=True):
        make_project("eta", assessments=all_rated(1))
    assert len(queued_runs()) == 1


def test_a_withdrawal_and_an_import_with_publication_ask_for_new_figures(
    catalogue, django_capture_on_commit_callbacks
):
    from projects.models import Project

    with django_capture_on_commit_callbacks(execute=True):
        withdraw_as_reviewer(project=Project.objects.get(slug="beta"), note="Withdrawn.")
    (queued,) = queued_runs()
    queued.delete()
    with django_capture_on_commit_callbacks(execute=True):
        make_project("imported", assessments=all_rated(2))  # the import channel, published by a reviewer
    assert len(queued_runs()) == 1


def test_a_method_releases_republications_ask_for_new_figures(catalogue, django_capture_on_commit_callbacks):
    from projects import actors
    from projects.services.methodology import methodology_draft_from
    from tests.support.actors import release_as_administrator, staff_user

    with actors.acting(staff_user("drafter", groups=["administrator"]), actors.Channel.SHELL):
        draft = methodology_draft_from(source=methodology_current(), version="1.1")
    release_as_administrator(methodology=draft)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("rescore", "--no-progress", stdout=StringIO())
    (queued,) = queued_runs()
    assert queued.reason == "method release"


def test_a_draft_change_asks_for_nothing(catalogue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_project("quiet", assessments=all_rated(2), publish=False)
    assert queued_runs() == []


def test_a_transaction_publishing_many_projects_asks_once(catalogue, django_capture_on_commit_callbacks):
    from projects.interchange.importer import projects_import
    from tests.support.actors import reviewer_user
    from tests.support.builders import interchange, project_record

    records = [project_record(f"bulk-{n}", assessments=all_rated(2)) for n in range(5)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        projects_import(interchange(*records), publish=True, reviewer=reviewer_user(), note="Bulk.")
    asking = [callback for callback in callbacks if getattr(callback, "uncertainty_request", False)]
    assert len(asking) == 1


def test_each_projects_grade_changes_are_stored_with_the_run_as_the_exact_engine_lists_them(
    catalogue, django_capture_on_commit_callbacks
):
    from projects import scoring

    # SDG criteria at 3 and risks at 1 (B, 57.4): D1 or E2 one level up would make it C (55.0).
    ratings = [
        {"criterion": code, "rating": 3 if code[0] == "S" else 1, "evidence": "E.", "evidence_grade": "C"}
        for code in [c.code for c in method_spec(methodology_current()).criteria]
    ]
    with django_capture_on_commit_callbacks(execute=True):
        make_project("near", assessments=ratings)
    run = service.uncertainty_compute()
    stored = figures_by_slug(run)
    assert stored["near"].grade_changes == [
        {"criterion": "D1", "from": 1, "to": 2, "net": 55.0, "grade": "C"},
        {"criterion": "E2", "from": 1, "to": 2, "net": 55.0, "grade": "C"},
    ]
    spec = method_spec(methodology_current())
    for slug, row in sorted(stored.items()):
        exact = scoring.grade_changes(spec, published_ratings(Project.objects.get(slug=slug)))
        assert [(c["criterion"], c["to"], c["grade"]) for c in row.grade_changes] == [
            (c.code, c.level_to, c.grade) for c in exact
        ], slug


def test_exact_decisions_shared_by_forked_processes_are_those_of_one_process(catalogue, monkeypatch):
    """From PARALLEL_FROM projects left to the exact engine, forked processes share them (at
    100,000 projects): the same lists, in the same order, as computed in the run's own process."""
    codes = [c.code for c in method_spec(methodology_current()).criteria]
    for number, risk in enumerate([1, 2, 0]):
        ratings = [
            {
                "criterion": code,
                "rating": 3 if code[0] == "S" else risk,
                "evidence": "E.",
                "evidence_grade": "C",
            }
            for code in codes
        ]
        make_project(f"near-{number}", assessments=ratings)
    alone = {slug: row.grade_changes for slug, row in figures_by_slug(service.uncertainty_compute()).items()}
    assert alone["near-0"] == [
        {"criterion": "D1", "from": 1, "to": 2, "net": 55.0, "grade": "C"},
        {"criterion": "E2", "from": 1, "to": 2, "net": 55.0, "grade": "C"},
    ]
    screen = service.grade_changes_screened
    pools = []
    real_pool = service.ProcessPoolExecutor

    def everything_asked(*args):  # every project left to the exact engine, every change with it
        return [ScreenedChanges(ask=(*(c[:3] for c in r.changes), *r.ask), exact=True) for r in screen(*args)]

    def counted_pool(*args, **kwargs):
        pools.append(kwargs["mp_context"].get_start_method())
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(service, "grade_changes_screened", everything_asked)
    monkeypatch.setattr(service, "PARALLEL_FROM", 1)
    monkeypatch.setattr(service.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(service, "ProcessPoolExecutor", counted_pool)
    shared = {slug: row.grade_changes for slug, row in figures_by_slug(service.uncertainty_compute()).items()}
    assert pools == ["fork"]
    assert shared == alone


def test_each_row_keeps_the_projects_unrounded_dimension_values_for_custom_profiles(catalogue):
    from projects import scoring

    run = service.uncertainty_compute()
    stored = figures_by_slug(run)
    spec = method_spec(methodology_current())
    for slug, row in sorted(stored.items()):
        card = scoring.score(spec, published_ratings(Project.objects.get(slug=slug)))
        for key in ("sdg7", "sdg9", "sdg12", "debris", "equity"):
            exact = card.dimensions[key].value
            # The exact value correctly rounded to a float, not merely close to it.
            assert getattr(row, f"value_{key}") == (None if exact is None else float(exact)), (slug, key)


# --- A worker that dies while computing ------------------------------------------------------


def test_taking_a_run_arms_its_watchdog(catalogue):
    from django_tasks_db.models import DBTaskResult

    from projects.tasks import uncertainty_refresh

    run = service.uncertainty_queue("test")
    assert uncertainty_refresh.call(run.pk) == {"computed": True, "projects": 3, "profiles": 0}
    watch = DBTaskResult.objects.get(task_path="projects.tasks.uncertainty_watch")
    assert watch.args_kwargs["args"] == [run.pk]
    assert watch.run_after is not None


def a_run_whose_worker_died(seconds_ago: int) -> UncertaintyRun:
    """A run taken by a worker that wrote part of its rows and then stopped ``seconds_ago``."""
    from datetime import timedelta

    from django.utils import timezone

    run = service.uncertainty_take(service.uncertainty_queue("publication").pk)
    silent = timezone.now() - timedelta(seconds=seconds_ago)
    UncertaintyRun.objects.filter(pk=run.pk).update(started_at=silent, heartbeat_at=silent)
    beta = Project.objects.get(slug="beta")
    ProjectUncertainty.objects.create(
        run=run,
        project=beta,
        publication_id=beta.publication_id,
        net_p5=1,
        net_median=2,
        net_p95=3,
        grades={"E": 1.0},
        rank_p5=1,
        rank_median=1,
        rank_p95=1,
        top10=1.0,
        stable=True,
    )
    return run


def test_a_run_silent_for_a_lease_fails_and_another_is_queued(catalogue, settings):
    from django_tasks_db.models import DBTaskResult

    from projects.tasks import uncertainty_refresh, uncertainty_watch

    settings.UNCERTAINTY_LEASE = lease = 60
    shown = service.uncertainty_compute()
    lost = a_run_whose_worker_died(seconds_ago=lease + 1)
    # The dead worker's task, as django-tasks-db left it (and another run's, still alive).
    dead = DBTaskResult.objects.get(pk=uncertainty_refresh.enqueue(lost.pk).id)
    other = DBTaskResult.objects.get(pk=uncertainty_refresh.enqueue(lost.pk + 1000).id)
    DBTaskResult.objects.filter(pk__in=[dead.pk, other.pk]).update(status="RUNNING")

    assert uncertainty_watch.call(lost.pk) == {"state": "lost"}
    lost.refresh_from_db()
    assert lost.state == "failed"
    assert lost.error.startswith("WorkerLost: its worker stopped without finishing (no sign of life since ")
    assert not ProjectUncertainty.objects.filter(run=lost).exists()  # its half-written rows go
    assert service.current_run() == shown  # readers keep the last finished figures
    (queued,) = queued_runs()
    assert queued.reason == "worker lost"
    # Its task no longer shows "running" for ever; another run's task is left alone.
    dead.refresh_from_db()
    assert dead.status == "FAILED" and dead.traceback.startswith("WorkerLost: no sign of life since ")
    other.refresh_from_db()
    assert other.status == "RUNNING"
    assert uncertainty_watch.call(lost.pk) == {"state": "finished"}  # it is looked at once


def test_a_run_whose_worker_lives_is_left_to_run(catalogue, settings):
    from django_tasks_db.models import DBTaskResult

    from projects.tasks import uncertainty_watch

    settings.UNCERTAINTY_LEASE = 60
    living = a_run_whose_worker_died(seconds_ago=59)
    watches = DBTaskResult.objects.filter(task_path="projects.tasks.uncertainty_watch").count()
    assert uncertainty_watch.call(living.pk) == {"state": "running"}
    living.refresh_from_db()
    assert living.state == "running" and not queued_runs()
    # It looks again half a lease later.
    assert DBTaskResult.objects.filter(task_path="projects.tasks.uncertainty_watch").count() == watches + 1


def test_a_run_taken_for_lost_never_becomes_current_when_its_worker_returns(catalogue, settings, monkeypatch):
    """A worker paused for longer than a lease (not dead) finishes after its watchdog failed the
    run: the run stays failed, its rows go, and the figures shown stay the last good ones."""
    settings.UNCERTAINTY_LEASE = 60
    shown = service.uncertainty_compute()
    run = a_run_whose_worker_died(seconds_ago=61)
    ProjectUncertainty.objects.filter(run=run).delete()
    real_compute = service._compute

    def paused_then_reaped(*args, **kwargs):
        real_compute(*args, **kwargs)
        assert service.uncertainty_reap(run.pk) == "lost"

    monkeypatch.setattr(service, "_compute", paused_then_reaped)
    returned = service.uncertainty_compute(run=run)
    assert returned.state == "failed"
    assert service.current_run() == shown
    assert not ProjectUncertainty.objects.filter(run=run).exists()


def test_a_computing_run_gives_signs_of_life(catalogue, settings, monkeypatch):
    """The heartbeat thread moves heartbeat_at while the engine works (a lease of 0.2 s here)."""
    import time

    settings.UNCERTAINTY_LEASE = 0.2
    beats = []
    monkeypatch.setattr(service, "uncertainty_beat", lambda run_id: beats.append(run_id) or True)
    real_compute = service._compute

    def slow(run, *args, **kwargs):
        time.sleep(0.35)
        real_compute(run, *args, **kwargs)

    monkeypatch.setattr(service, "_compute", slow)
    run = service.uncertainty_compute()
    assert run.state == "done"
    assert len(beats) >= 3 and set(beats) == {run.pk}


def test_a_beat_counts_only_for_a_running_run(catalogue):
    run = service.uncertainty_take(service.uncertainty_queue("test").pk)
    assert service.uncertainty_beat(run.pk)
    UncertaintyRun.objects.filter(pk=run.pk).update(state="failed")
    assert not service.uncertainty_beat(run.pk)
