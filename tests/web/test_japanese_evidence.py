"""Japanese justifications (issue 14, item 8): a rating's evidence may also be written in
Japanese (``justification_ja``; ``evidence_ja`` in the interchange format and the API). Japanese
pages show it; where it is missing they show the English, marked ``lang="en"`` with an
"English only" note. It is part of the rating: drafted, reviewed and published like the English,
carried to a new method version, exported and imported."""

import json

import pytest
from rest_framework.test import APIClient

from projects import actors
from projects.admin.review_diff import ADDED, review_diff
from projects.interchange.exporter import projects_export
from projects.models import ApiKey, Assessment, Project
from projects.services.methodology import methodology_draft_from
from projects.services.ratings import assessment_save
from tests.support.actors import key_owner, publish_as_reviewer, release_as_administrator, staff_user
from tests.support.builders import all_rated, make_project
from tests.web.pages import page

pytestmark = pytest.mark.django_db

JAPANESE = "運用者の報告書で確認した。"


@pytest.fixture
def alpha(db):
    ratings = all_rated(2, D5=None)
    for rating in ratings:
        if rating["criterion"] == "S9.1":
            rating["evidence_ja"] = JAPANESE
        if rating["criterion"] == "D5":
            rating["evidence_ja"] = "軌道に入らないため適用されない。"
    return make_project("alpha", assessments=ratings)


def criterion_item(response, code: str):
    tree = page(response)
    wanted = f"criterion-{code.replace('.', '').lower()}"
    return next(item for item in tree.find_all("li") if item.attrs.get("id") == wanted)


def test_a_japanese_page_shows_the_japanese_justification_as_japanese(client, alpha):
    item = criterion_item(client.get("/ja/projects/alpha/"), "S9.1")
    evidence = item.find("dl", class_="evidence").find("dd")
    assert evidence.clean_text == JAPANESE
    assert "lang" not in evidence.attrs  # the page's own language
    assert "英語のみ" not in item.clean_text
    # Not applicable: the reason in Japanese too.
    reason = criterion_item(client.get("/ja/projects/alpha/"), "D5")
    assert "軌道に入らないため適用されない。" in reason.clean_text
    assert "英語のみ" not in reason.clean_text


def test_where_no_japanese_is_written_the_english_shows_marked_and_noted(client, alpha):
    item = criterion_item(client.get("/ja/projects/alpha/"), "S9.2")
    evidence = item.find("dl", class_="evidence").find("dd")
    assert evidence.clean_text == "Evidence for S9.2."
    assert evidence.attrs.get("lang") == "en"
    assert item.find("span", class_="language-note").clean_text == "英語のみ"


def test_the_english_page_shows_the_english_and_no_note(client, alpha):
    item = criterion_item(client.get("/en/projects/alpha/"), "S9.1")
    assert item.find("dl", class_="evidence").find("dd").clean_text == "Evidence for S9.1."
    assert item.find_all("span", class_="language-note") == []
    assert JAPANESE not in item.clean_text


def test_a_japanese_text_is_public_only_once_published(client, alpha):
    assessment = Assessment.objects.get(project=alpha, criterion__code="S9.2")
    assessment.justification_ja = "新しい日本語の理由。"
    assessment_save(assessment)
    assert "新しい日本語の理由。" not in client.get("/ja/projects/alpha/").content.decode()
    alpha.refresh_from_db()
    assert alpha.publication.frozen_ratings != []
    # The reviewer sees the change before approving it, and the history calls it evidence revised.
    diff = review_diff(Project.objects.select_related("current_score").get(pk=alpha.pk))
    (row,) = diff.ratings
    assert row.criterion == "S9.2" and not row.level_changed and row.justification_changed
    assert [piece.kind for piece in row.justification_ja] == [ADDED]

    publish_as_reviewer(project=alpha, note="Japanese evidence added.")
    alpha.refresh_from_db()
    assert "新しい日本語の理由。" in client.get("/ja/projects/alpha/").content.decode()
    assert alpha.publication.changes["evidence"] == ["S9.2"]


def test_the_api_reads_and_writes_evidence_ja(alpha):
    public = APIClient().get("/api/v1/projects/alpha/assessments/S9.1").json()
    assert (public["evidence"], public["evidence_ja"]) == ("Evidence for S9.1.", JAPANESE)
    assert APIClient().get("/api/v1/projects/alpha/assessments/S9.2").json()["evidence_ja"] == ""

    _, key = ApiKey.issue(owner=key_owner(), name="Writer", scope="write", throttle_rate="1000/hour")
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    url = "/api/v1/projects/alpha/assessments/S9.2"
    etag = writer.get(url)["ETag"]
    body = {"rating": 2, "evidence": "Evidence for S9.2.", "evidence_ja": "日本語で。", "evidence_grade": "C"}
    response = writer.put(url, body, format="json", HTTP_IF_MATCH=etag)
    assert response.status_code == 200, response.content[:300]
    assert response.json()["evidence_ja"] == "日本語で。"
    assert Assessment.objects.get(project=alpha, criterion__code="S9.2").justification_ja == "日本語で。"

    too_long = {**body, "evidence_ja": "長" * 4001}
    response = writer.put(url, too_long, format="json", HTTP_IF_MATCH=writer.get(url)["ETag"])
    assert response.status_code == 400
    assert [error["field"] for error in response.json()["errors"]] == ["evidence_ja"]
    assert Assessment.objects.get(project=alpha, criterion__code="S9.2").justification_ja == "日本語で。"


def test_export_writes_evidence_ja_only_where_there_is_one(alpha):
    (record,) = json.loads("".join(projects_export()))["projects"]
    by_code = {item["criterion"]: item for item in record["assessments"]}
    assert by_code["S9.1"]["evidence_ja"] == JAPANESE
    assert "evidence_ja" not in by_code["S9.2"]


def test_a_new_method_version_keeps_the_japanese_justifications(alpha, method):
    with actors.acting(staff_user("test-drafter", groups=["administrator"]), actors.Channel.SHELL):
        draft = methodology_draft_from(source=method, version="1.1")
    release_as_administrator(methodology=draft)
    assessment = Assessment.objects.get(project=alpha, criterion__code="S9.1", criterion__methodology=draft)
    assert assessment.justification_ja == JAPANESE
