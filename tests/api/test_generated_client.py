"""A partner's workflow through the typed Python client generated from the live schema by
openapi-python-client, used as generated (nothing edited): list with filters and paging,
detail, ratings, history, rankings under every ordering, a cursor sync to the end, both
exports, a write with If-Match and a stale one refused, drafts unseen without a key.

The client is generated once per run from the schema the server serves; a warning from the
generator fails the run (the schema must describe everything it can type). Requests go
through the WSGI application in-process (httpx's WSGI transport), so the test data is the test
database's. CI also builds the generated package (.ci/client).
"""

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections

from .conftest import DRAFT_SLUGS, PUBLISHED_SLUGS

PACKAGE = "sdgscore_partner_api_client"
BASE = "http://testserver"


@pytest.fixture(scope="session")
def generated(openapi_document, tmp_path_factory):
    """The generated package, imported from a directory of this run."""
    where = tmp_path_factory.mktemp("client")
    schema = where / "schema.json"
    schema.write_text(json.dumps(openapi_document))
    generator = Path(sys.executable).parent / "openapi-python-client"
    bin_dir = str(Path(sys.executable).parent)  # its post-generation hooks run ruff from there
    result = subprocess.run(  # noqa: S603 -- our own venv's generator on our own schema
        [
            str(generator),
            "generate",
            "--path",
            str(schema),
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Warning" not in result.stdout + result.stderr, result.stdout + result.stderr
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(where))


def module(name: str):
    return importlib.import_module(f"{PACKAGE}.{name}")


@pytest.fixture
def clients(generated, write_key, catalogue):
    # As Django's test client does: a request inside the test's transaction must not close the
    # connection that holds it (on PostgreSQL it could not reopen one inside the atomic block).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    transport = {"transport": httpx.WSGITransport(app=WSGIHandler())}
    anonymous = generated.Client(base_url=BASE, httpx_args=transport)
    writer = generated.AuthenticatedClient(base_url=BASE, token=write_key[1], httpx_args=transport)
    try:
        yield anonymous, writer
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def cursor_of(link: str | None) -> str | None:
    return None if link is None else parse_qs(urlsplit(link).query)["cursor"][0]


def test_a_partners_workflow_through_the_generated_client(clients):
    anonymous, writer = clients
    api = module("api")
    models = module("models")
    projects_list = importlib.import_module(f"{PACKAGE}.api.projects.projects_list")
    projects_retrieve = importlib.import_module(f"{PACKAGE}.api.projects.projects_retrieve")
    assessments = importlib.import_module(f"{PACKAGE}.api.projects.projects_assessments_list")
    scores = importlib.import_module(f"{PACKAGE}.api.projects.projects_scores_list")
    rankings = importlib.import_module(f"{PACKAGE}.api.rankings.rankings_list")
    sync = importlib.import_module(f"{PACKAGE}.api.sync.sync_projects_list")
    export_json = importlib.import_module(f"{PACKAGE}.api.export.export_projects_json_retrieve")
    export_csv = importlib.import_module(f"{PACKAGE}.api.export.export_scores_csv_retrieve")
    patch = importlib.import_module(f"{PACKAGE}.api.projects.projects_partial_update")
    assert api is not None

    # A filtered list: moon projects, published only.
    moon = projects_list.sync(client=anonymous, target_body=[models.ProjectsListTargetBodyItem.MOON])
    assert isinstance(moon, models.PaginatedProjectList)
    assert sorted(project.slug for project in moon.results) == ["alpha", "delta"]

    # Paging by number to the end: every published project once.
    seen, page = [], 1
    while page:
        listed = projects_list.sync(client=anonymous, page=page, page_size=2)
        seen += [project.slug for project in listed.results]
        page = page + 1 if listed.next_ else None
    assert sorted(seen) == sorted(PUBLISHED_SLUGS)

    # A project, its ratings and its history.
    alpha = projects_retrieve.sync("alpha", client=anonymous)
    assert isinstance(alpha, models.Project)
    assert (alpha.name, alpha.operator.slug) == ("Selene Ice Prospector", "lunar-co")
    ratings = assessments.sync("alpha", client=anonymous)
    assert len(ratings) == 25 and all(isinstance(r, models.Assessment) for r in ratings)
    history = scores.sync("alpha", client=anonymous)
    assert history.results[0].number == 1
    assert history.results[0].changes.first is True

    # Rankings under every ordering: each row's rank is its net-score rank.
    by_net = rankings.sync(client=anonymous)
    rank_of = {row.slug: row.rank for row in by_net.results}
    for ordering in models.RankingsListOrderingItem:
        ranked = rankings.sync(client=anonymous, ordering=[ordering])
        assert {row.slug: row.rank for row in ranked.results} == rank_of, ordering

    # A cursor sync to the end.
    synced, cursor = [], None
    while True:
        page_of_sync = sync.sync(client=anonymous, page_size=2, cursor=cursor)
        synced += [item.slug for item in page_of_sync.results]
        cursor = cursor_of(page_of_sync.next_)
        if cursor is None:
            break
    assert sorted(synced) == sorted(PUBLISHED_SLUGS)

    # Both exports.
    document = export_json.sync_detailed(client=anonymous)
    assert document.status_code == 200
    assert len(json.loads(document.content)["projects"]) == len(PUBLISHED_SLUGS)
    table = export_csv.sync_detailed(client=anonymous)
    assert table.status_code == 200 and table.content.decode().count("\n") == len(PUBLISHED_SLUGS) + 1

    # A write with the ETag read, then a stale one refused.
    read = projects_retrieve.sync_detailed("alpha", client=writer)
    etag = read.headers["etag"]
    body = models.PatchedProjectWriteRequest(summary="Prospecting polar ice with a rover, 2027.")
    written = patch.sync_detailed("alpha", client=writer, body=body, if_match=etag)
    assert written.status_code == 200, written.content[:300]
    assert written.parsed.summary == "Prospecting polar ice with a rover, 2027."
    stale = patch.sync_detailed("alpha", client=writer, body=body, if_match=etag)
    assert stale.status_code == 412
    assert isinstance(stale.parsed, models.Problem) and stale.parsed.code == "precondition_failed"

    # Drafts: seen with the write key, unseen without one.
    for slug in DRAFT_SLUGS:
        assert projects_retrieve.sync_detailed(slug, client=anonymous).status_code == 404
        assert projects_retrieve.sync_detailed(slug, client=writer).status_code == 200
