"""Every path that publishes writes a project's published columns (the last publication, its
card, the card's net score that the rankings sort by, and when it was published) the same way:
as ``published_columns`` gives them for that publication."""

import io

import pytest
from django.core.management import call_command

from projects.models import Project, Publication
from projects.services import scoring as scoring_service
from projects.services.published import PUBLISHED_COLUMNS, published_columns
from tests.interchange.test_backup_restore import empty_the_database, export, restore
from tests.services.test_rescoring_jobs import build_world, new_method, queued_chunks, run_chunks

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_method_specs(monkeypatch):
    monkeypatch.setattr(scoring_service, "_published_specs", {})


def stored(project: Project) -> dict:
    return {column: getattr(project, column) for column in PUBLISHED_COLUMNS}


def of_its_publication(project: Project) -> dict:
    """The published columns for the project's last publication: its card, shown since the
    last publication that was not a withdrawal."""
    publication = project.publication
    shown = project.publications.exclude(kind=Publication.Kind.WITHDRAWAL).order_by("-number").first()
    return published_columns(
        publication_id=publication.pk,
        card_id=publication.score_id,
        card=publication.score.card,
        shown_at=shown.published_at,
    )


def assert_every_project_shows_its_last_publication() -> set[str]:
    """Each published column as its last publication gives it; returns the kinds seen."""
    kinds = set()
    projects = Project.objects.select_related("publication__score", "published_score")
    for project in projects:
        if project.publication_id is None:
            assert set(stored(project).values()) == {None}, project.slug
            continue
        assert stored(project) == of_its_publication(project), project.slug
        assert project.published_net == project.published_score.net_score, project.slug
        kinds.add(project.publication.kind)
    return kinds


def test_a_reviewers_publications_and_withdrawals_write_them():
    build_world()
    kinds = assert_every_project_shows_its_last_publication()
    assert kinds == {Publication.Kind.PUBLICATION, Publication.Kind.WITHDRAWAL}


def test_the_automatic_republication_under_a_new_method_writes_them(
    settings, django_capture_on_commit_callbacks
):
    build_world()
    _, tasks = queued_chunks(settings, django_capture_on_commit_callbacks, new_method())
    run_chunks(tasks)
    assert Publication.Kind.REPUBLICATION in assert_every_project_shows_its_last_publication()


def test_a_backups_restore_writes_them(tmp_path):
    build_world()
    before = {project.slug: stored(project) for project in Project.objects.all()}
    export(tmp_path, "--with-history", name="backup.json")
    empty_the_database()
    restore(tmp_path / "backup.json")
    assert_every_project_shows_its_last_publication()
    after = {project.slug: stored(project) for project in Project.objects.all()}
    # Ids are new; what the public sees is the same.
    assert {slug: (c["published_net"], c["published_at"]) for slug, c in after.items()} == {
        slug: (c["published_net"], c["published_at"]) for slug, c in before.items()
    }


@pytest.mark.parametrize("draft", [False, True])
def test_the_synthetic_benchmark_data_writes_them(draft):
    call_command(
        "generate_projects", "7", *(["--draft"] if draft else []), stdout=io.StringIO(), stderr=io.StringIO()
    )
    kinds = assert_every_project_shows_its_last_publication()
    assert kinds == (set() if draft else {Publication.Kind.PUBLICATION})
