"""Incremental sync sees every change its client can see: a write key's rating changes (drafts
and working cards), a published operator change on each of its projects, withdrawals as
tombstones; and a list's validators move with them."""

from django.utils.http import http_date

from projects import actors
from projects.models import Operator, Project
from projects.services.publication import operator_publish, project_withdraw
from tests.support.actors import reviewer_user, staff_user

from .conftest import slugs, when
from .test_pagination import sync_all

RATING = {
    "rating": 1,
    "evidence": "Flight data published.",
    "evidence_grade": "A",
    "source_url": "https://example.org/flight-data",
}


def rate(writer, slug: str, code: str, body: dict) -> None:
    url = f"/api/v1/projects/{slug}/assessments/{code}"
    response = writer.put(url, body, format="json", HTTP_IF_MATCH=writer.get(url)["ETag"])
    assert response.status_code == 200, response.content[:300]


def since(moment: str) -> str:
    return moment.replace("+", "%2B")


def test_a_write_keys_rating_change_moves_what_it_syncs_but_not_what_the_public_sees(writer, anon, published):
    public_before = anon.get("/api/v1/projects/gamma").json()
    writer_before = writer.get("/api/v1/projects/gamma").json()
    assert sync_all(writer)[-1] == "alpha"  # the last changed (day 5); gamma is on day 3
    rate(writer, "gamma", "S7.1", RATING)

    changed = writer.get("/api/v1/projects/gamma").json()
    assert changed["draft_score"] != writer_before["draft_score"]
    assert changed["updated_at"] > writer_before["updated_at"]
    assert sync_all(writer)[-1] == "gamma"  # comes again, after everything else
    assert slugs(writer.get(f"/api/v1/projects?updated_since={since(changed['updated_at'])}")) == ["gamma"]
    # Nothing public moved: the public's copy and its sync stay as they were.
    assert anon.get("/api/v1/projects/gamma").json() == public_before
    assert sync_all(anon)[-1] == "alpha"
    assert slugs(anon.get(f"/api/v1/projects?updated_since={since(changed['updated_at'])}")) == []


def test_an_evidence_only_change_moves_a_write_keys_updated_at_though_the_card_stays(writer, published):
    before = writer.get("/api/v1/projects/alpha").json()
    url = "/api/v1/projects/alpha/assessments/S7.1"
    stored = writer.get(url).json()
    body = {name: stored[name] for name in ("rating", "evidence_grade", "source_url")}
    rate(writer, "alpha", "S7.1", {**body, "evidence": "Newer flight data, same level."})
    after = writer.get("/api/v1/projects/alpha").json()
    assert after["draft_score"] == before["draft_score"]
    assert after["updated_at"] > before["updated_at"]


def test_a_write_keys_list_is_modified_by_a_rating_change(writer, anon, published):
    url = "/api/v1/projects?target_body=near_earth_asteroid"
    first, public = writer.get(url), anon.get(url)
    assert first["Last-Modified"] == http_date(when(3).timestamp())
    rate(writer, "gamma", "S7.1", RATING)
    assert writer.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200
    assert writer.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    assert anon.get(url, HTTP_IF_NONE_MATCH=public["ETag"]).status_code == 304


def test_publishing_an_operator_change_moves_each_of_its_projects_for_syncs(anon, writer, published):
    listed = anon.get("/api/v1/projects?operator=lunar-co")
    operator = Operator.objects.get(slug="lunar-co")
    with actors.acting(staff_user("editor"), "shell"):
        operator.country = "US"
        operator.save()
    # Waiting for a reviewer: nothing public moved yet.
    assert (
        anon.get("/api/v1/projects?operator=lunar-co", HTTP_IF_NONE_MATCH=listed["ETag"]).status_code == 304
    )
    with actors.acting(reviewer_user(), "shell"):
        operator_publish(operator=operator, note="Moved its seat.")
    again = anon.get("/api/v1/projects?operator=lunar-co", HTTP_IF_NONE_MATCH=listed["ETag"])
    assert again.status_code == 200
    assert {item["operator"]["country"] for item in again.json()["results"]} == {"US"}
    newest = max(item["updated_at"] for item in again.json()["results"])
    assert sorted(slugs(anon.get(f"/api/v1/projects?updated_since={since(newest)}"))) == ["alpha", "delta"]
    assert sync_all(anon)[-2:] in (["alpha", "delta"], ["delta", "alpha"])
    assert sorted(sync_all(writer)[-2:]) == ["alpha", "delta"]


def test_a_withdrawal_reaches_an_incremental_sync_as_a_tombstone(anon, published):
    with actors.acting(reviewer_user(), "shell"):
        project_withdraw(project=Project.objects.get(slug="beta"), note="Mission cancelled.")
    results = anon.get("/api/v1/sync/projects?page_size=1000").json()["results"]
    assert results[-1] == {
        "slug": "beta",
        "state": "withdrawn",
        "withdrawn": True,
        "updated_at": results[-1]["updated_at"],
    }
    assert "beta" not in slugs(anon.get("/api/v1/projects"))


def test_a_rating_changed_in_the_admin_sheet_moves_a_write_keys_sync(writer, admin_client, published):
    from tests.admin.pages import SheetPage, sheet_url

    before = writer.get("/api/v1/projects/gamma").json()
    project = Project.objects.get(slug="gamma")
    sheet = SheetPage.of(admin_client.get(sheet_url(project)))
    sheet.rate(
        "S7.1", 1, justification="Seen in the mission report.", grade="C", justification_ja="報告書で確認。"
    )
    assert admin_client.post(sheet_url(project), sheet.post_data()).status_code == 302
    after = writer.get("/api/v1/projects/gamma").json()
    assert after["updated_at"] > before["updated_at"]
    assert sync_all(writer)[-1] == "gamma"
    assert slugs(writer.get(f"/api/v1/projects?updated_since={since(after['updated_at'])}")) == ["gamma"]


def test_a_rating_changed_by_an_import_moves_a_write_keys_sync(writer, published):
    from projects.interchange.exporter import project_record
    from projects.interchange.importer import projects_import
    from tests.support.builders import interchange

    before = writer.get("/api/v1/projects/gamma").json()
    record = project_record(Project.objects.get(slug="gamma"))
    record.pop("score", None)
    for item in record["assessments"]:
        if item["criterion"] == "S9.1":
            item["evidence_ja"] = "輸入で追加した日本語の理由。"
    projects_import(interchange(record))
    after = writer.get("/api/v1/projects/gamma").json()
    assert after["updated_at"] > before["updated_at"]
    assert sync_all(writer)[-1] == "gamma"
