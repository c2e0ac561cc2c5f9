"""Publishing a new method version: ratings carried over by code, every project rescored in
chunks by background jobs (or `manage.py rescore`), public cards moved by automatic publications.

The rule checked throughout: after a rescoring, every project's working card is exactly what
``project_rescore`` computes from its stored ratings (so calling it afterwards adds no card), and
every published project's public card is its *frozen* ratings scored under the new method.
"""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import translation

from projects import scoring
from projects.changes import change_line
from projects.interchange.importer import projects_import
from projects.methodology import method_file_data, method_install
from projects.models import Assessment, Criterion, Methodology, Project, Publication, RescoreJob, ScoreCard
from projects.selectors import methodology_current
from projects.services import rescore_chunks, rescoring
from projects.services import scoring as scoring_service
from projects.services.methodology import MethodRefused
from projects.services.publication import scored_parts
from projects.services.ratings import assessment_save
from projects.services.rescore_chunks import AUTOMATIC_NOTE
from projects.services.rescoring import (
    project_id_ranges,
    rescore_job_chunk,
    rescore_job_create,
    rescore_range,
)
from projects.services.scoring import method_spec, project_rescore
from projects.tasks import rescore_chunk
from tests.conftest import interchange, project_record, rated
from tests.support.actors import (
    publish_as_reviewer,
    release_as_administrator,
    withdraw_as_reviewer,
)
from tests.support.builders import make_project
from tests.support.criteria import RISK_CODES, SDG_CODES
from tests.support.shared_data import built_once

pytestmark = pytest.mark.django_db

DUMMY = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SUMMARY = re.compile(
    r"Rescored (\d+) projects under method (\S+) in [\d.]+ s: (\d+) new score cards, (\d+) public cards moved"
)


@pytest.fixture(autouse=True)
def fresh_method_specs(monkeypatch):
    # Engine forms of published methods are cached per process by primary key; test databases
    # roll back and may hand the same key to another "1.1", so each test starts with no cache.
    monkeypatch.setattr(scoring_service, "_published_specs", {})


def ratings(sdg=3, risk=1, **overrides) -> list[dict]:
    """Every criterion rated (evidence B): SDG criteria at ``sdg``, risk criteria at ``risk``."""
    levels = {**dict.fromkeys(SDG_CODES, sdg), **dict.fromkeys(RISK_CODES, risk), **overrides}
    return [rated(code, level) for code, level in levels.items()]


def new_method(version="1.1", *, alpha="0.6", drop=(), add=(), **parameters) -> Methodology:
    """A draft method version: 1.0 with another α (and criteria dropped or added by code)."""
    data = method_file_data("1.0")
    data.update(version=version, alpha=alpha, **parameters)
    template = next(item for item in data["criteria"] if item["code"] == "S7.4")
    data["criteria"] = [item for item in data["criteria"] if item["code"] not in drop]
    data["criteria"] += [{**template, "code": code} for code in add]
    return method_install(data, methodology_model=Methodology, criterion_model=Criterion, state="draft")


def set_rating(project: Project, code: str, level: int, methodology: Methodology | None = None) -> None:
    """An analyst's edit through the model (which rescores the working card)."""
    methodology = methodology or methodology_current()
    assessment = Assessment.objects.get(
        project=project, criterion__code=code, criterion__methodology=methodology
    )
    assessment.level = level
    assessment_save(assessment)


def publish_import(slug: str, assessments: list[dict]) -> Project:
    return make_project(slug, assessments=assessments, note="First.")


def build_world() -> dict[str, Project]:
    """One project of each kind a rescoring treats differently."""
    world = {"published": publish_import("published", ratings())}  # net 57.4 B under 1.0
    republished = publish_import("republished", ratings(sdg=2))
    set_rating(republished, "S9.1", 3)
    publish_as_reviewer(project=republished, note="Second.")
    world["republished"] = republished  # publication #2, net 40.2 C under 1.0
    edited = publish_import("edited", ratings())
    set_rating(edited, "S7.1", 0)  # an unpublished draft
    world["edited"] = edited
    withdrawn = publish_import("withdrawn", ratings())
    withdraw_as_reviewer(project=withdrawn, note="Withdrawn.")
    world["withdrawn"] = withdrawn
    projects_import(interchange(project_record("draft", assessments=ratings(sdg=1))))
    world["draft"] = Project.objects.get(slug="draft")
    sparse = [rated(code, 4) for code in SDG_CODES[:5]] + [
        {"criterion": "E4", "not_applicable": True, "evidence": "Nobody is affected."}
    ]
    world["sparse"] = publish_import("sparse", sparse)  # insufficient data: no net, no grade
    for project in world.values():
        project.refresh_from_db()
    return world


@pytest.fixture(scope="module", autouse=True)
def world_data(django_db_setup, django_db_blocker):
    """The world, built once for the module (every test here starts from it; the tests that do
    not are in test_rescoring_setup.py): tests/support/shared_data.py."""
    with built_once(django_db_blocker, lambda: {slug: p.pk for slug, p in build_world().items()}) as ids:
        yield ids


def make_world() -> dict[str, Project]:
    """The world's projects, read afresh (built once for the module by ``world_data``)."""
    slugs = ("published", "republished", "edited", "withdrawn", "draft", "sparse")
    found = {project.slug: project for project in Project.objects.filter(slug__in=slugs)}
    return {slug: found[slug] for slug in slugs}


def engine_card(methodology: Methodology, parts) -> dict:
    """The served card of (code, level, grade, n/a) parts under ``methodology``."""
    return scoring.score(method_spec(methodology), [scoring.Rating(*part) for part in parts]).as_dict()


def working_parts(project: Project, methodology: Methodology) -> list[tuple]:
    return [
        (code, level, grade or None, not_applicable)
        for code, level, grade, not_applicable in Assessment.objects.filter(
            project=project, criterion__methodology=methodology
        ).values_list("criterion__code", "level", "evidence_grade", "not_applicable")
    ]


def queued_chunks(settings, django_capture_on_commit_callbacks, draft, *, chunk=2):
    """Publish ``draft`` with a dummy task backend; return the job and its queued chunk tasks."""
    from django_tasks import default_task_backend

    settings.TASKS = DUMMY
    settings.RESCORE_CHUNK = chunk
    with django_capture_on_commit_callbacks(execute=True):
        job = release_as_administrator(methodology=draft)
    return job, list(default_task_backend.results)


def run_chunks(tasks) -> None:
    for result in tasks:
        assert result.task.func is rescore_chunk.func
        result.task.call(*result.args, **result.kwargs)


def assert_every_card_is_what_project_rescore_computes(methodology: Methodology) -> None:
    cards = ScoreCard.objects.count()
    for project in Project.objects.all():
        current = project.current_score
        assert current is not None and current.methodology_id == methodology.pk, project.slug
        assert project_rescore(project_id=project.pk).pk == current.pk, project.slug
        assert current.card == engine_card(methodology, working_parts(project, methodology)), project.slug
    assert ScoreCard.objects.count() == cards  # project_rescore found nothing to change


# --- a job after a new method is published ----------------------------------------------------


def test_after_the_jobs_chunks_every_working_card_is_what_project_rescore_computes(
    settings, django_capture_on_commit_callbacks
):
    world = make_world()
    old = methodology_current()
    old_cards = {slug: project.current_score_id for slug, project in world.items()}
    draft = new_method()
    job, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    assert len(tasks) == 3  # six projects, chunks of two
    run_chunks(tasks)

    assert_every_card_is_what_project_rescore_computes(draft)
    for slug, project in world.items():
        project.refresh_from_db()
        assert project.current_score_id != old_cards[slug], slug
        # The old working card stays in the history, under the old method.
        assert ScoreCard.objects.get(pk=old_cards[slug]).methodology == old
        assert set(project.score_history.values_list("methodology__version", flat=True)) == {"1.0", "1.1"}
    assert world["published"].current_score.card["overall"] == {
        "value": 54.2,  # 75 · (1 − 0.6 · 25/100)² = 54.1875
        "low": 54.2,
        "high": 54.2,
        "grade": "C",
        "grade_cap": None,
    }


def test_the_job_counts_its_progress_and_finishes_done(settings, django_capture_on_commit_callbacks):
    make_world()
    draft = new_method()
    job, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft, chunk=4)
    job.refresh_from_db()
    assert (job.state, job.total, job.chunks, job.done, job.chunks_done) == ("queued", 6, 2, 0, 0)
    assert job.methodology == draft and job.started_at is None and job.finished_at is None
    assert [tuple(t.args) for t in tasks] == [
        (job.pk, first, last) for first, last, _ in project_id_ranges(4)
    ]

    run_chunks(tasks[:1])
    job.refresh_from_db()
    assert (job.state, job.done, job.chunks_done) == ("running", 4, 1)
    assert job.started_at is not None and job.finished_at is None

    run_chunks(tasks[1:])
    job.refresh_from_db()
    assert (job.state, job.total, job.done, job.chunks, job.chunks_done) == ("done", 6, 6, 2, 2)
    assert job.finished_at is not None and job.finished_at >= job.started_at
    assert job.changed == 6  # every project gets a card under 1.1
    assert job.republished == 4  # published, republished, edited, sparse
    assert job.error == ""


def test_with_the_immediate_backend_publishing_runs_the_whole_job_on_commit(
    settings, django_capture_on_commit_callbacks
):
    make_world()
    settings.TASKS = IMMEDIATE
    settings.RESCORE_CHUNK = 4
    draft = new_method()
    with django_capture_on_commit_callbacks(execute=True):
        job = release_as_administrator(methodology=draft)
        assert not ScoreCard.objects.filter(methodology=draft).exists()  # nothing before commit
    job.refresh_from_db()
    assert (job.state, job.done, job.chunks_done, job.republished) == ("done", 6, 2, 4)
    assert_every_card_is_what_project_rescore_computes(draft)


def test_a_failing_chunk_marks_the_job_failed_with_its_id_range(
    settings, django_capture_on_commit_callbacks, monkeypatch
):
    make_world()
    draft = new_method()
    job, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft, chunk=2)
    _, failing_first, failing_last = tasks[1].args
    real = rescoring.rescore_range

    def sometimes_failing(*, methodology, first_id, last_id, **job):
        if first_id == failing_first:
            raise RuntimeError("the disk is full")
        return real(methodology=methodology, first_id=first_id, last_id=last_id, **job)

    monkeypatch.setattr(rescoring, "rescore_range", sometimes_failing)
    run_chunks(tasks[:1])
    with pytest.raises(RuntimeError, match="the disk is full"):
        run_chunks(tasks[1:2])
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error == f"projects {failing_first}–{failing_last}: RuntimeError('the disk is full')"
    run_chunks(tasks[2:])  # the other chunks still run, but the job stays failed
    job.refresh_from_db()
    assert (job.state, job.done, job.chunks_done, job.chunks) == ("failed", 4, 2, 3)
    assert job.finished_at is None
    # The failed chunk's projects keep their old cards; running it again repairs them.
    assert (
        Project.objects.filter(pk__in=[failing_first, failing_last], current_score__methodology=draft).count()
        == 0
    )
    monkeypatch.setattr(rescoring, "rescore_range", real)
    rescore_job_chunk(job_id=job.pk, first_id=failing_first, last_id=failing_last)
    assert_every_card_is_what_project_rescore_computes(draft)


# --- ratings carried over -----------------------------------------------------------------------


ASSESSMENT_FIELDS = (
    "project_id",
    "criterion__code",
    "level",
    "not_applicable",
    "justification",
    "evidence_grade",
    "source_url",
    "assessed_by_id",
    "created_at",
    "updated_at",
)


def test_ratings_are_carried_over_by_code_and_the_old_ones_remain(
    settings, django_capture_on_commit_callbacks
):
    make_world()
    old = methodology_current()
    before = sorted(Assessment.objects.filter(criterion__methodology=old).values_list(*ASSESSMENT_FIELDS))
    draft = new_method()
    queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    after_old = sorted(Assessment.objects.filter(criterion__methodology=old).values_list(*ASSESSMENT_FIELDS))
    carried = sorted(Assessment.objects.filter(criterion__methodology=draft).values_list(*ASSESSMENT_FIELDS))
    assert after_old == before
    assert carried == before  # same levels, N/A, evidence, grades, authors and dates, by code
    assert len(carried) == 5 * 25 + 6


def test_a_dropped_criterion_is_not_carried_and_a_new_one_starts_missing(
    settings, django_capture_on_commit_callbacks
):
    world = make_world()
    draft = new_method("1.2", drop=("S7.4",), add=("S7.6",))
    job, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    run_chunks(tasks)
    codes = set(
        Assessment.objects.filter(criterion__methodology=draft).values_list("criterion__code", flat=True)
    )
    assert "S7.4" not in codes and "S7.6" not in codes and "S7.5" in codes
    assert_every_card_is_what_project_rescore_computes(draft)
    published = Project.objects.select_related("current_score", "published_score").get(
        pk=world["published"].pk
    )
    # The frozen ratings (with S7.4) score under 1.2 as the carried ones do (without it).
    assert published.published_score.card == published.current_score.card
    assert published.published_score.card["dimensions"]["sdg7"]["coverage"] == 0.9
    # A draft differing from what was published: the frozen ratings the new method knows.
    edited = Project.objects.select_related("current_score", "published_score").get(pk=world["edited"].pk)
    frozen = [part for part in scored_parts(world["edited"].publication.frozen_ratings) if part[0] != "S7.4"]
    assert edited.published_score.card == engine_card(draft, frozen)
    assert edited.published_score.card != edited.current_score.card


def test_an_edit_after_the_method_is_published_and_before_the_job_runs_is_kept(
    settings, django_capture_on_commit_callbacks
):
    world = make_world()
    draft = new_method()
    _, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    project = world["published"]
    frozen = project.publication.frozen_ratings
    set_rating(project, "S9.2", 0, draft)  # rescored under 1.1 at once, by the model
    edited_card = Project.objects.get(pk=project.pk).current_score_id
    run_chunks(tasks)
    assert_every_card_is_what_project_rescore_computes(draft)
    project = Project.objects.select_related("publication", "published_score").get(pk=project.pk)
    assert project.current_score_id == edited_card
    assert project.publication.note == AUTOMATIC_NOTE.format(version="1.1")
    assert project.published_score.card == engine_card(draft, scored_parts(frozen))
    assert project.published_score_id != project.current_score_id


# --- automatic publications ------------------------------------------------------------------------


def test_published_projects_get_an_automatic_publication_with_the_frozen_ratings(
    settings, django_capture_on_commit_callbacks
):
    world = make_world()
    previous = {slug: project.publication for slug, project in world.items()}
    draft = new_method()
    _, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    run_chunks(tasks)

    expected_lines = {
        "published": "method 1.0 → 1.1; net 57.4 → 54.2; grade B → C",
        "republished": "method 1.0 → 1.1; net 40.2 → 37.9; grade C → D",
        "edited": "method 1.0 → 1.1; net 57.4 → 54.2; grade B → C",  # the frozen ratings, not the draft
        "sparse": "method 1.0 → 1.1; net — → —; grade — → —",
    }
    for slug, line in expected_lines.items():
        project = Project.objects.select_related("publication", "published_score").get(pk=world[slug].pk)
        before, publication = previous[slug], project.publication
        assert publication.number == before.number + 1, slug
        assert publication.note == "Rescored under method 1.1; no rating changed (automatic)."
        assert publication.note == AUTOMATIC_NOTE.format(version="1.1")
        # Automatic, not a review: the releasing administrator's, kind "republication".
        assert (publication.kind, publication.published_by_name) == ("republication", "test-administrator")
        assert publication.methodology == draft
        assert (
            publication.frozen_ratings == before.frozen_ratings
            and publication.ratings_key == before.ratings_key
        ), slug
        assert project.state == "published"
        assert project.published_score_id == publication.score_id
        assert project.published_at == publication.published_at
        assert publication.score.methodology == draft
        assert publication.score.card == engine_card(draft, scored_parts(before.frozen_ratings)), slug
        with translation.override("en"):
            assert change_line(publication.changes) == line, slug
        assert publication.changes["ratings"] == [] and publication.changes["evidence"] == []
        assert project.publications.count() == before.number + 1
    assert Publication.objects.filter(note__startswith="Rescored under").count() == 4


def test_a_withdrawn_and_a_draft_project_get_no_publication(settings, django_capture_on_commit_callbacks):
    world = make_world()
    withdrawn_publication = world["withdrawn"].publication_id
    draft = new_method()
    _, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    run_chunks(tasks)
    withdrawn = Project.objects.get(pk=world["withdrawn"].pk)
    assert withdrawn.state == "draft"
    assert withdrawn.publication_id == withdrawn_publication
    assert list(withdrawn.publications.values_list("kind", flat=True)) == ["withdrawal", "publication"]
    assert withdrawn.published_score.methodology.version == "1.0"  # what was public stays as it was
    assert withdrawn.current_score.methodology == draft
    never = Project.objects.get(pk=world["draft"].pk)
    assert (never.state, never.publication_id, never.published_score_id) == ("draft", None, None)
    assert not never.publications.exists()
    assert never.current_score.methodology == draft


def test_a_project_with_a_draft_keeps_its_draft_card_and_its_public_card_follows_the_frozen_ratings(
    settings, django_capture_on_commit_callbacks
):
    world = make_world()
    frozen = world["edited"].publication.frozen_ratings
    draft = new_method()
    _, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    run_chunks(tasks)
    project = Project.objects.select_related("current_score", "published_score").get(pk=world["edited"].pk)
    working, public = project.current_score, project.published_score
    assert working.pk != public.pk
    assert working.methodology == public.methodology == draft
    # The working card: the draft ratings (S7.1 at 0) under 1.1: 67.5 · 0.7225 = 48.76875.
    assert working.card == engine_card(draft, working_parts(project, draft))
    assert working.card["overall"]["value"] == 48.8
    assert project_rescore(project_id=project.pk).pk == working.pk
    # The public card: the frozen ratings (S7.1 at 3) under 1.1.
    assert public.card == engine_card(draft, scored_parts(frozen))
    assert public.card["overall"]["value"] == 54.2
    # The working card stays the newest of the history.
    assert project.score_history.first() == working


def test_rescoring_twice_under_the_same_method_changes_nothing(settings, django_capture_on_commit_callbacks):
    make_world()
    draft = new_method()
    _, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    run_chunks(tasks)
    cards, publications = ScoreCard.objects.count(), Publication.objects.count()
    state = sorted(
        Project.objects.values_list(
            "pk", "current_score_id", "publication_id", "published_score_id", "updated_at"
        )
    )

    again, ranges = rescore_job_create(methodology=draft, chunk=4)
    for first, last in ranges:
        rescore_job_chunk(job_id=again.pk, first_id=first, last_id=last)
    again.refresh_from_db()
    assert (again.state, again.done, again.changed, again.republished) == ("done", 6, 0, 0)
    out = io.StringIO()
    call_command("rescore", "--no-progress", stdout=out, stderr=io.StringIO())
    assert SUMMARY.search(out.getvalue()).groups() == ("6", "1.1", "0", "0")
    assert ScoreCard.objects.count() == cards
    assert Publication.objects.count() == publications
    assert (
        sorted(
            Project.objects.values_list(
                "pk", "current_score_id", "publication_id", "published_score_id", "updated_at"
            )
        )
        == state
    )


# --- an edit between the read and the write phase --------------------------------------------------


class EditBeforeTheLock:
    """Stands in for ``transaction`` in the chunk pipeline: makes an edit (once) just before
    the writing transaction begins, i.e. after the chunk's ratings were read and scored."""

    def __init__(self, edit):
        self.edit, self.done = edit, False

    def atomic(self, *args, **kwargs):
        if not self.done:
            self.done = True
            self.edit()
        return transaction.atomic(*args, **kwargs)


@pytest.mark.parametrize("slug", ["published", "edited", "withdrawn", "draft"])
def test_an_edit_between_read_and_write_is_not_overwritten_by_a_stale_card(
    slug, settings, django_capture_on_commit_callbacks, monkeypatch
):
    world = make_world()
    draft = new_method()
    queued_chunks(settings, django_capture_on_commit_callbacks, draft)  # chunks not run
    project = world[slug]
    frozen = project.publication.frozen_ratings if project.publication_id else None
    monkeypatch.setattr(
        rescore_chunks, "transaction", EditBeforeTheLock(lambda: set_rating(project, "S9.2", 0, draft))
    )
    ids = sorted(world_project.pk for world_project in world.values())
    result = rescore_range(methodology=draft, first_id=ids[0], last_id=ids[-1])
    assert result.projects == 6

    project = Project.objects.select_related("current_score", "published_score").get(pk=project.pk)
    assert (
        Assessment.objects.get(project=project, criterion__methodology=draft, criterion__code="S9.2").level
        == 0
    )
    assert project.current_score.card == engine_card(draft, working_parts(project, draft))
    assert_every_card_is_what_project_rescore_computes(draft)
    if slug in ("published", "edited"):
        # Its public card still moved, from the frozen ratings, not from the edit.
        assert project.publication.note == AUTOMATIC_NOTE.format(version="1.1")
        assert project.published_score.methodology == draft
        assert project.published_score.card == engine_card(draft, scored_parts(frozen))
        assert project.published_score_id != project.current_score_id


def test_a_raced_project_whose_edit_made_its_card_is_not_counted_as_a_new_card(
    settings, django_capture_on_commit_callbacks, monkeypatch
):
    world = make_world()
    draft = new_method()
    queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    project = world["draft"]
    monkeypatch.setattr(
        rescore_chunks, "transaction", EditBeforeTheLock(lambda: set_rating(project, "S9.2", 0, draft))
    )
    ids = sorted(p.pk for p in world.values())
    result = rescore_range(methodology=draft, first_id=ids[0], last_id=ids[-1])
    # Six projects, all now under 1.1, but one card under 1.1 came from the edit.
    assert Project.objects.filter(current_score__methodology=draft).count() == 6
    assert result.changed == 5  # the edit, not the rescoring, made the sixth project's card


@pytest.mark.parametrize("when", ["during the chunk", "before the job ran"])
def test_after_an_edit_under_the_new_method_the_working_card_stays_the_newest_of_the_history(
    when, settings, django_capture_on_commit_callbacks, monkeypatch
):
    world = make_world()
    draft = new_method()
    queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    project = world["published"]
    if when == "during the chunk":
        monkeypatch.setattr(
            rescore_chunks, "transaction", EditBeforeTheLock(lambda: set_rating(project, "S9.2", 0, draft))
        )
    else:
        set_rating(project, "S9.2", 0, draft)
    rescore_range(methodology=draft, first_id=project.pk, last_id=project.pk)
    project = Project.objects.get(pk=project.pk)
    assert project.publication.note == AUTOMATIC_NOTE.format(version="1.1")
    assert project.published_score_id != project.current_score_id
    newest = project.score_history.first()
    assert (newest.pk, newest.computed_at) == (project.current_score.pk, project.current_score.computed_at)


def test_a_project_published_between_read_and_write_gets_no_automatic_publication(
    settings, django_capture_on_commit_callbacks, monkeypatch
):
    world = make_world()
    draft = new_method()
    queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    project = world["published"]

    def edit_and_publish():
        set_rating(project, "S9.2", 0, draft)
        publish_as_reviewer(project=project, note="Reviewed under 1.1.")

    monkeypatch.setattr(rescore_chunks, "transaction", EditBeforeTheLock(edit_and_publish))
    ids = sorted(p.pk for p in world.values())
    result = rescore_range(methodology=draft, first_id=ids[0], last_id=ids[-1])
    assert (result.projects, result.republished) == (6, 3)  # not "published": it was published since
    project = Project.objects.select_related("publication").get(pk=project.pk)
    assert [p.note for p in project.publications.order_by("number")] == ["First.", "Reviewed under 1.1."]
    assert project.published_score_id == project.current_score_id == project.publication.score_id
    assert_every_card_is_what_project_rescore_computes(draft)


def test_an_edit_between_scoring_and_the_republication_read_is_not_overwritten(
    settings, django_capture_on_commit_callbacks, monkeypatch
):
    world = make_world()
    draft = new_method()
    queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    project = world["edited"]
    real = rescore_chunks._republications

    def edit_then_read(*args, **kwargs):
        set_rating(project, "S12.2", 1, draft)
        return real(*args, **kwargs)

    monkeypatch.setattr(rescore_chunks, "_republications", edit_then_read)
    ids = sorted(p.pk for p in world.values())
    rescore_range(methodology=draft, first_id=ids[0], last_id=ids[-1])
    assert_every_card_is_what_project_rescore_computes(draft)
    project = Project.objects.select_related("published_score").get(pk=project.pk)
    assert project.published_score.card == engine_card(
        draft, scored_parts(world["edited"].publication.frozen_ratings)
    )


# --- publishing a method: refusals and the queue -------------------------------------------------------


def test_a_method_the_engine_refuses_is_refused_and_nothing_moves():
    make_world()
    draft = new_method()
    # Saving refuses such parameters now; a draft stored before that check is still refused.
    parameters = {**draft.parameters, "caps": {"risk_level_high": "Z", "severe_rating": "D"}}
    Methodology.objects.filter(pk=draft.pk).update(parameters=parameters)
    draft.refresh_from_db()
    assessments = Assessment.objects.count()
    with pytest.raises(
        MethodRefused, match=r"^Method 1\.1 cannot be released: parameters: cap 'Z' is not a grade$"
    ):
        release_as_administrator(methodology=draft)
    draft.refresh_from_db()
    assert draft.state == "draft" and methodology_current().version == "1.0"
    assert Assessment.objects.count() == assessments and not RescoreJob.objects.exists()


def test_chunk_tasks_are_enqueued_only_when_the_transaction_commits(
    settings, django_capture_on_commit_callbacks
):
    from django_tasks import default_task_backend

    make_world()
    settings.TASKS = DUMMY
    settings.RESCORE_CHUNK = 4
    draft = new_method()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = release_as_administrator(methodology=draft)
    assert default_task_backend.results == []  # nothing queued before the commit
    assert len(callbacks) == 1
    draft.refresh_from_db()
    assert draft.is_published and methodology_current() == draft and job.state == "queued"
    callbacks[0]()
    assert [(r.task.func, tuple(r.args)) for r in default_task_backend.results] == [
        (rescore_chunk.func, (job.pk, first, last)) for first, last, _ in project_id_ranges(4)
    ]


def test_a_rolled_back_publication_enqueues_nothing(settings, django_capture_on_commit_callbacks):
    from django_tasks import default_task_backend

    make_world()
    settings.TASKS = DUMMY
    draft = new_method()
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        release_as_administrator(methodology=draft)
        raise RuntimeError("something else failed")
    assert callbacks == [] and default_task_backend.results == []
    draft.refresh_from_db()
    assert draft.state == "draft" and not RescoreJob.objects.exists()


# --- the rescore command ------------------------------------------------------------------------------


def rescore(*args) -> str:
    out = io.StringIO()
    call_command("rescore", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def publish_without_running(settings, django_capture_on_commit_callbacks, draft) -> None:
    queued_chunks(settings, django_capture_on_commit_callbacks, draft)


def test_the_rescore_command_rescores_every_project_under_the_current_method(
    settings, django_capture_on_commit_callbacks
):
    make_world()
    draft = new_method()
    publish_without_running(settings, django_capture_on_commit_callbacks, draft)
    output = rescore("--chunk", "4", "--no-progress")
    assert output.startswith("Rescored 6 projects under method 1.1 in ")
    assert SUMMARY.search(output).groups() == ("6", "1.1", "6", "4")
    assert_every_card_is_what_project_rescore_computes(draft)


def test_the_rescore_command_shows_a_progress_bar_unless_told_not_to(method):
    make_world()
    err = io.StringIO()
    call_command("rescore", "--chunk", "2", stdout=io.StringIO(), stderr=err)
    assert "6/6" in err.getvalue()
    err = io.StringIO()
    call_command("rescore", "--no-progress", stdout=io.StringIO(), stderr=err)
    assert err.getvalue() == ""


def test_the_rescore_command_takes_a_published_version(settings, django_capture_on_commit_callbacks):
    make_world()
    draft = new_method()
    publish_without_running(settings, django_capture_on_commit_callbacks, draft)
    new_method("1.2")  # a draft: not a version one may rescore under
    output = rescore("--method", "1.1", "--no-progress")
    assert SUMMARY.search(output).groups() == ("6", "1.1", "6", "4")
    for unknown in ("9.9", "1.2"):
        with pytest.raises(CommandError) as refused:
            rescore("--method", unknown)
        message = str(refused.value)
        assert message.startswith(f"--method: no published method version '{unknown}'; published: ")
        assert sorted(message.rsplit("published: ", 1)[1].rstrip(".").split(", ")) == ["1.0", "1.1"]


OUT_OF_RANGE = [
    (["--jobs", "0"], "--jobs: give a number from 1 to 64, not 0."),
    (["--jobs", "65"], "--jobs: give a number from 1 to 64, not 65."),
    (["--chunk", "-1"], "--chunk: give a number from 1 to 100000, not -1."),
    (["--chunk", "100001"], "--chunk: give a number from 1 to 100000, not 100001."),
    (["--chunk", "0"], "--chunk: give a number from 1 to 100000, not 0."),
]


def test_the_rescore_command_refuses_out_of_range_numbers_naming_the_option(method):
    make_world()  # once for every case: it costs more than the refusals
    cards = ScoreCard.objects.count()
    for args, message in OUT_OF_RANGE:
        with pytest.raises(CommandError) as refused:
            rescore(*args, "--no-progress")
        assert str(refused.value) == message
        assert ScoreCard.objects.count() == cards


# --- queries: none per project in the common case ----------------------------------------------------


def test_an_automatic_publication_repeats_the_ratings_instead_of_storing_them_again(
    settings, django_capture_on_commit_callbacks
):
    """A method change publishes every project again: the frozen ratings are referred to, not
    copied (100,000 projects would otherwise write their ratings once more)."""
    world = make_world()
    draft = new_method()
    queued_chunks(settings, django_capture_on_commit_callbacks, draft)
    ids = sorted(p.pk for p in world.values())
    rescore_range(methodology=draft, first_id=ids[0], last_id=ids[-1])
    project = Project.objects.select_related("publication__ratings_of").get(pk=world["published"].pk)
    automatic, first = project.publication, project.publication.ratings_of
    assert automatic.ratings == [] and first is not None and first.ratings_of_id is None
    assert automatic.frozen_ratings == first.ratings != []
    # A second method change still points at the publication that stores them: one hop, never a chain.
    third = new_method("1.2")
    queued_chunks(settings, django_capture_on_commit_callbacks, third)
    rescore_range(methodology=third, first_id=ids[0], last_id=ids[-1])
    again = Project.objects.select_related("publication").get(pk=project.pk).publication
    assert again.number == automatic.number + 1 and again.ratings_of_id == first.pk
