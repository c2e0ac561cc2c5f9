"""Page-number paging on the lists (page, page_size up to 200) and cursor paging on sync/projects."""

import copy
from urllib.parse import urlsplit

import pytest

from projects.interchange.importer import projects_import
from projects.models import Project
from tests.conftest import interchange, project_record
from tests.support.actors import reviewer_user

from .conftest import assert_problem, error_fields, slugs, when

pytestmark = pytest.mark.django_db

PAGED_LISTS = [
    "/api/v1/projects",
    "/api/v1/rankings",
    "/api/v1/operators",
    "/api/v1/methodologies",
    "/api/v1/projects/alpha/scores",
]


def local(url: str) -> str:
    """An absolute next/previous link as a path the test client can follow."""
    parts = urlsplit(url)
    assert parts.netloc == "testserver"
    return f"{parts.path}?{parts.query}"


def test_pages_of_two_cover_the_list_once_with_next_and_previous_links(anon, published):
    first = anon.get("/api/v1/projects?page_size=2").json()
    assert first["count"] == 5
    assert first["previous"] is None
    second = anon.get(local(first["next"])).json()
    third = anon.get(local(second["next"])).json()
    assert third["next"] is None
    assert anon.get(local(third["previous"])).json() == second
    seen = [item["slug"] for page in (first, second, third) for item in page["results"]]
    assert seen == ["beta", "epsilon", "delta", "gamma", "alpha"]
    assert [len(page["results"]) for page in (first, second, third)] == [2, 2, 1]


def test_page_size_of_200_is_allowed(anon, published):
    response = anon.get("/api/v1/projects?page_size=200")
    assert response.status_code == 200
    assert len(response.json()["results"]) == 5


@pytest.mark.parametrize("url", PAGED_LISTS)
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page_size=0", "page_size"),
        ("page_size=201", "page_size"),
        ("page_size=x", "page_size"),
        ("page_size=-1", "page_size"),
        ("page_size=2.5", "page_size"),
        ("page=0", "page"),
        ("page=x", "page"),
        ("page=-1", "page"),
    ],
)
def test_out_of_range_or_malformed_paging_is_a_400_naming_the_parameter(
    anon, published, url, query, parameter
):
    body = assert_problem(anon.get(f"{url}?{query}"), 400)
    assert error_fields(body) == {parameter}


@pytest.mark.parametrize("url", PAGED_LISTS)
def test_a_page_past_the_end_is_a_404_problem(anon, published, url):
    assert anon.get(f"{url}?page=1").status_code == 200
    assert_problem(anon.get(f"{url}?page=99"), 404)


def test_the_last_page_exists_and_the_one_after_it_does_not(anon, published):
    assert slugs(anon.get("/api/v1/projects?page_size=2&page=3")) == ["alpha"]
    assert_problem(anon.get("/api/v1/projects?page_size=2&page=4"), 404)


def test_rankings_pages_continue_the_ranks(anon, published):
    first = anon.get("/api/v1/rankings?page_size=2").json()["results"]
    second = anon.get("/api/v1/rankings?page_size=2&page=2").json()["results"]
    assert [(item["rank"], item["slug"]) for item in first + second] == [
        (1, "alpha"),
        (2, "epsilon"),
        (3, "beta"),
        (4, "gamma"),
    ]


# ---------------------------------------------------------------------------------------------
# sync/projects: cursor paging in order of last change


def many_projects(count: int) -> list[str]:
    """Published projects sync-0 … sync-N, changed one day after the other in that order."""
    names = [f"sync-{index:02d}" for index in range(count)]
    records = [project_record(slug, name=f"Synced {slug}") for slug in names]
    projects_import(
        interchange(*copy.deepcopy(records)), publish=True, reviewer=reviewer_user(), note="Test publication."
    )
    for day, slug in enumerate(names, start=1):
        Project.objects.filter(slug=slug).update(updated_at=when(day), changed_at=when(day))
    return names


def sync_all(client, url: str = "/api/v1/sync/projects?page_size=3", on_page=None) -> list[str]:
    seen, pages = [], 0
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        assert set(body) == {"next", "previous", "results"}
        seen += [item["slug"] for item in body["results"]]
        pages += 1
        if on_page:
            on_page(pages)
        url = local(body["next"]) if body["next"] else None
        assert pages < 50
    return seen


def test_sync_pages_deliver_every_project_exactly_once_in_order_of_change(anon, db):
    names = many_projects(11)
    assert sync_all(anon) == names


def test_sync_with_a_large_page_size_delivers_everything_in_one_page(anon, db):
    names = many_projects(5)
    body = anon.get("/api/v1/sync/projects?page_size=1000").json()
    assert [item["slug"] for item in body["results"]] == names
    assert body["next"] is None


def test_a_project_changed_mid_sync_comes_again_later_and_nothing_is_skipped(anon, writer, db):
    names = many_projects(10)

    def change_during_sync(page: int) -> None:
        if page == 1:  # sync-01 was on the first page; sync-07 is still to come
            for slug, name in [("sync-01", "Changed one"), ("sync-07", "Changed seven")]:
                url = f"/api/v1/projects/{slug}"
                response = writer.patch(
                    url, {"name": name}, format="json", HTTP_IF_MATCH=writer.get(url)["ETag"]
                )
                assert response.status_code == 200, response.content[:300]

    seen = sync_all(anon, on_page=change_during_sync)
    assert set(seen) == set(names)  # nothing skipped
    assert seen.count("sync-01") == 2  # seen before the change, and again after it
    assert seen.count("sync-07") == 1  # not yet seen: comes once, in its new place
    assert seen[-2:] == ["sync-01", "sync-07"]
    assert [slug for slug in seen if slug not in ("sync-01", "sync-07")] == [
        slug for slug in names if slug not in ("sync-01", "sync-07")
    ]


def test_projects_changed_at_the_same_moment_are_neither_skipped_nor_repeated(anon, db):
    names = many_projects(9)
    Project.objects.filter(slug__in=names[2:7]).update(updated_at=when(3))
    seen = sync_all(anon, "/api/v1/sync/projects?page_size=2")
    assert sorted(seen) == sorted(names)
    assert len(seen) == len(names)


def test_sync_includes_drafts_for_write_keys_only(anon, reader, writer, catalogue):
    drafts = {"draft-secret", "lunar-draft"}
    assert not drafts & set(sync_all(anon))
    assert not drafts & set(sync_all(reader))
    assert drafts <= set(sync_all(writer))


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page_size=0", "page_size"),
        ("page_size=1001", "page_size"),
        ("page_size=x", "page_size"),
        ("cursor=not-a-cursor", "cursor"),
    ],
)
def test_bad_sync_paging_is_a_400_naming_the_parameter(anon, published, query, parameter):
    body = assert_problem(anon.get(f"/api/v1/sync/projects?{query}"), 400)
    assert error_fields(body) == {parameter}
