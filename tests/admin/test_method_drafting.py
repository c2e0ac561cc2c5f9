"""Drafting a method version in the admin (issue 12): a new draft from a released version, edited
(criteria, descriptions, level texts per level) and checked whenever it is saved, released from a
preview of the grades it changes by an administrator other than its drafter; drafts deletable."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from projects import scoring
from projects.models import Criterion, Methodology, RescoreJob
from projects.services.scoring import method_spec
from tests.services.test_method_drafting import rated_projects as rate_projects

from .pages import errors_in, field_errors, form_data, parse

pytestmark = pytest.mark.django_db

LIST_URL = "/admin/projects/methodology/"


def url(methodology, action="change") -> str:
    return f"{LIST_URL}{methodology.pk}/{action}/"


def administrator(name: str):
    user = get_user_model().objects.create_user(name, password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="administrator"))
    return user


@pytest.fixture
def drafting(client):
    client.force_login(administrator("drafting-admin"))
    return client


@pytest.fixture
def releasing():
    """A second administrator, in a browser of their own."""
    client = Client()
    client.force_login(administrator("releasing-admin"))
    return client


def new_draft(client, method, version="1.1") -> Methodology:
    response = client.post(url(method, "draft"), {"version": version})
    assert response.status_code == 302, errors_in(parse(response.content))
    return Methodology.objects.get(version=version)


def change_form(client, methodology) -> dict:
    response = client.get(url(methodology))
    assert response.status_code == 200
    return form_data(parse(response.content).find("form", id="methodology_form"))


def prefix_of(data: dict, code: str) -> str:
    return next(
        name.removesuffix("-code")
        for name, value in data.items()
        if value == [code] and name.endswith("-code")
    )


# --- a new draft from a released version ---------------------------------------------------------


def test_a_released_methods_page_offers_a_new_draft_and_no_release(drafting, method):
    tree = parse(drafting.get(url(method)).content)
    links = {a.clean_text: a.attrs["href"] for a in tree.find("ul", class_="object-tools").find_all("a")}
    assert links["New draft from this version"] == url(method, "draft")
    assert "Preview release" not in links


def test_new_draft_from_1_0_copies_every_criterion_and_opens_the_draft(drafting, method):
    field = parse(drafting.get(url(method, "draft")).content).find("input", name="version")
    assert field.attrs["value"] == "1.1"  # the next version, suggested

    response = drafting.post(url(method, "draft"), {"version": "1.1"}, follow=True)

    draft = Methodology.objects.get(version="1.1")
    assert response.redirect_chain[-1][0] == url(draft)
    text = response.content.decode()
    assert "Draft 1.1 is a copy of method 1.0 with its 25 criteria" in text
    assert draft.state == "draft" and draft.drafted_by.username == "drafting-admin"
    assert draft.parameters == method.parameters
    fields = [
        "code",
        "weight",
        "name_en",
        "name_ja",
        "description_en",
        "description_ja",
        "levels_en",
        "levels_ja",
    ]
    assert list(draft.criteria.order_by("position").values(*fields)) == list(
        method.criteria.order_by("position").values(*fields)
    )
    # The draft's page edits each criterion's level texts one level at a time, in both languages.
    data = change_form(drafting, draft)
    s71 = prefix_of(data, "S7.1")
    assert data[f"{s71}-levels_ja_4"] == [method.criteria.get(code="S7.1").levels_ja[4]]
    assert "Preview release" in drafting.get(url(draft)).content.decode()


@pytest.mark.parametrize(
    ("version", "message"), [("1.0", "version: 1.0 exists already"), ("0.5", "version: must come after 1.0")]
)
def test_a_draft_number_taken_or_earlier_is_refused_on_the_field(drafting, method, version, message):
    response = drafting.post(url(method, "draft"), {"version": version})
    assert response.status_code == 200
    assert field_errors(parse(response.content), "version") == [message]
    assert Methodology.objects.count() == 1


def test_an_analyst_cannot_draft(client, method):
    user = get_user_model().objects.create_user("analyst1", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="analyst"))
    client.force_login(user)
    assert client.post(url(method, "draft"), {"version": "1.1"}).status_code == 403
    assert Methodology.objects.count() == 1


# --- editing a draft: checked whenever it is saved -----------------------------------------------


def test_a_draft_saves_edited_level_texts_and_descriptions(drafting, method):
    draft = new_draft(drafting, method)
    data = change_form(drafting, draft)
    e3 = prefix_of(data, "E3")
    data[f"{e3}-levels_ja_2"] = ["新しい段階2の説明。"]
    data[f"{e3}-description_en"] = ["A clearer description."]
    data[f"{e3}-weight"] = ["4"]
    data["_continue"] = ["Save"]

    response = drafting.post(url(draft), data)

    assert response.status_code == 302, errors_in(parse(response.content))
    criterion = draft.criteria.get(code="E3")
    assert criterion.levels_ja[2] == "新しい段階2の説明。" and len(criterion.levels_ja) == 5
    assert criterion.description_en == "A clearer description." and criterion.weight == 4


def test_parameters_without_dimensions_are_refused_naming_the_field_and_the_entry_is_kept(drafting, method):
    draft = new_draft(drafting, method)
    data = change_form(drafting, draft)
    broken = {key: value for key, value in draft.parameters.items() if key != "dimensions"}
    typed = json.dumps(broken, ensure_ascii=False, indent=2)
    data["parameters"] = [typed]
    data["_save"] = ["Save"]

    response = drafting.post(url(draft), data)

    assert response.status_code == 200
    tree = parse(response.content)
    assert field_errors(tree, "parameters") == ["parameters: missing 'dimensions'"]
    assert json.loads(tree.find("textarea", name="parameters").text) == broken  # nothing lost
    draft.refresh_from_db()
    assert "dimensions" in draft.parameters


def test_a_missing_level_text_is_refused_on_that_criterion(drafting, method):
    draft = new_draft(drafting, method)
    data = change_form(drafting, draft)
    d2 = prefix_of(data, "D2")
    data[f"{d2}-levels_en_3"] = ["  "]
    data["_save"] = ["Save"]

    response = drafting.post(url(draft), data)

    assert response.status_code == 200
    assert field_errors(parse(response.content), f"{d2}-levels_en_0") == [
        "give the English text of each level 0 to 4"
    ]
    assert draft.criteria.get(code="D2").levels_en[3].strip()


def test_a_dimension_left_without_criteria_is_refused_with_the_reason(drafting, method):
    draft = new_draft(drafting, method)
    data = change_form(drafting, draft)
    for code in ["E1", "E2", "E3", "E4", "E5"]:
        data[f"{prefix_of(data, code)}-DELETE"] = ["on"]
    data["_save"] = ["Save"]

    response = drafting.post(url(draft), data)

    assert response.status_code == 200
    assert "criteria: dimension 'equity' has no criterion" in errors_in(parse(response.content))
    assert draft.criteria.filter(dimension="equity").count() == 5


def test_a_new_version_added_from_scratch_starts_from_the_current_parameters(drafting, method):
    tree = parse(drafting.get(f"{LIST_URL}add/").content)
    assert json.loads(tree.find("textarea", name="parameters").text) == method.parameters


# --- preview and release -------------------------------------------------------------------------


@pytest.fixture
def rated_projects(method):
    return rate_projects(10)


def engine_transitions(projects, source, draft) -> dict:
    """Grade transitions computed project by project with the engine, for comparison."""
    moves = {}
    for project in projects:
        ratings = [
            scoring.Rating(a.criterion.code, a.level, a.evidence_grade or None, a.not_applicable)
            for a in project.assessments.filter(criterion__methodology=source).select_related("criterion")
        ]
        key = (
            scoring.score(method_spec(source), ratings).grade,
            scoring.score(method_spec(draft), ratings).grade,
        )
        moves[key] = moves.get(key, 0) + 1
    return moves


def transitions_shown(tree) -> dict:
    rows = tree.find("table", id="grade-transitions").find("tbody").find_all("tr")
    shown = {}
    for row in rows:
        old, new, count = (cell.clean_text for cell in row.find_all("td"))
        shown[(old, new)] = int(count)
    return shown


def test_the_preview_shows_the_grade_transitions_of_a_changed_weight(
    drafting, releasing, method, rated_projects
):
    draft = new_draft(drafting, method)
    Criterion.objects.filter(methodology=draft, code__in=["D1", "E1"]).update(weight=30)

    tree = parse(releasing.get(url(draft, "release")).content)

    expected = engine_transitions(rated_projects, method, draft)
    label = {None: "no grade (insufficient data)"}
    assert transitions_shown(tree) == {
        (label.get(a, a), label.get(b, b)): n for (a, b), n in expected.items()
    }
    changes = sum(n for (a, b), n in expected.items() if a != b)
    assert changes > 0, "the test data should move some grades"
    assert tree.find(id="grade-changes").clean_text == f"{changes} projects would change grade"
    assert tree.find("input", type="submit").attrs["value"] == "Release method 1.1"


def test_the_drafter_sees_why_they_cannot_release_instead_of_the_button(drafting, method, rated_projects):
    draft = new_draft(drafting, method)
    tree = parse(drafting.get(url(draft, "release")).content)
    assert tree.find(id="release-refusal").clean_text == (
        "Method 1.1: you drafted it; another administrator must release it."
    )
    assert not tree.find_all("input", type="submit")
    assert tree.find("table", id="grade-transitions")  # the drafter still sees what would change

    response = drafting.post(url(draft, "release"), follow=True)  # posting anyway
    assert "you drafted it; another administrator must release it" in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_published and not RescoreJob.objects.exists()


def test_a_second_administrator_releases_from_the_preview(drafting, releasing, method, rated_projects):
    draft = new_draft(drafting, method)

    response = releasing.post(url(draft, "release"), follow=True)

    job = RescoreJob.objects.get()
    assert response.redirect_chain[-1][0] == f"/admin/projects/rescorejob/{job.pk}/change/"
    assert "Method 1.1 is published. 10 projects are being rescored" in response.content.decode()
    draft.refresh_from_db()
    assert draft.is_published and draft.released_by.username == "releasing-admin"
    # Released: read-only, no release, no deletion.
    assert releasing.get(url(draft, "delete")).status_code == 403
    assert "Preview release" not in releasing.get(url(draft)).content.decode()


def test_a_broken_draft_shows_the_reason_and_no_preview(releasing, drafting, method):
    draft = new_draft(drafting, method)
    Criterion.objects.filter(methodology=draft, code="S12.4").update(levels_ja=[])
    tree = parse(releasing.get(url(draft, "release")).content)
    assert tree.find(id="release-refusal").clean_text == (
        "Method 1.1 cannot be released: criteria: S12.4: levels_ja: "
        "give the Japanese text of each level 0 to 4"
    )
    assert not tree.find_all("table", id="grade-transitions")


def test_the_preview_does_not_query_per_project(releasing, drafting, method):
    draft = new_draft(drafting, method)
    rate_projects(2)
    releasing.get(url(draft, "release"))  # the session's first request writes it
    with CaptureQueriesContext(connection) as few:
        releasing.get(url(draft, "release"))
    rate_projects(12)
    with CaptureQueriesContext(connection) as many:
        assert "12 projects with ratings" in releasing.get(url(draft, "release")).content.decode()
    assert len(many) == len(few)


# --- deleting ------------------------------------------------------------------------------------


def test_a_draft_is_deleted_with_its_criteria(drafting, method):
    draft = new_draft(drafting, method)
    page = drafting.get(url(draft, "delete"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Criteria: 25" in text and "protected" not in text

    response = drafting.post(url(draft, "delete"), {"post": "yes"})

    assert response.status_code == 302
    assert not Methodology.objects.filter(pk=draft.pk).exists()
    assert not Criterion.objects.filter(methodology_id=draft.pk).exists()
    assert method.criteria.count() == 25


def test_deleting_selected_versions_refuses_a_released_one(drafting, method):
    draft = new_draft(drafting, method)
    data = {"action": "delete_selected", "_selected_action": [draft.pk, method.pk], "post": "yes"}
    page = drafting.post(LIST_URL, {k: v for k, v in data.items() if k != "post"})
    assert "Method 1.0 is released; a released method is never deleted." in page.content.decode()

    drafting.post(LIST_URL, data)

    assert Methodology.objects.filter(pk__in=[draft.pk, method.pk]).count() == 2
    assert method.criteria.count() == 25 and draft.criteria.count() == 25
