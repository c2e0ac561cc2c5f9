"""Import and export in the admin: upload an interchange file, read the dry run's preview
project by project, confirm exactly what was previewed (as drafts, in the uploader's name,
never published); export the selected projects as JSON (which imports back) or CSV.

Stored: alpha (25 criteria at 2, evidence C; published once), gamma (no ratings, draft).
The file renames alpha to "Alpha II" and raises its S7.1 to 4, creates beta (new operator
Beta Space, S9.1 at 3) and gives gamma as it is.
"""

import csv
import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.interchange.importer import projects_import
from projects.models import Assessment, Change, Operator, Project, ScoreCard
from tests.conftest import interchange, project_record, rated
from tests.support.actors import member, publish_as_reviewer
from tests.support.builders import every_rating

from .pages import LIST_URL, form_data, parse

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/projects/project/import/"
NEW_OPERATOR = {"name": "Beta Space", "country": "US", "kind": "company"}


def ratings(level=2, **overrides):
    return every_rating(level, "C", **overrides)


@pytest.fixture
def analyst(db):
    return member("ana", "analyst")


@pytest.fixture
def viewer(db):
    """Reads projects, changes nothing."""
    user = get_user_model().objects.create_user("vic", password="pw-vic", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_project"))
    return user


@pytest.fixture
def stored(db):
    projects_import(
        interchange(
            project_record("alpha", name="Alpha", assessments=ratings()),
            project_record("gamma", name="Gamma"),
        )
    )
    publish_as_reviewer(project=Project.objects.get(slug="alpha"), note="First rating round.")


def the_file() -> dict:
    return interchange(
        project_record("alpha", name="Alpha II", assessments=ratings(**{"S7.1": 4})),
        project_record("beta", name="Beta", operator=NEW_OPERATOR, assessments=[rated("S9.1", 3, "C")]),
        project_record("gamma", name="Gamma"),
    )


def upload(client, content, name="projects.json"):
    if not isinstance(content, bytes):
        content = json.dumps(content).encode()
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content, "application/json")})


def confirm(client, preview):
    """Press the preview's confirm button, posting back exactly what the page holds."""
    form = parse(preview.content).find("form", id="import-confirm")
    return client.post(IMPORT_URL, {**form_data(form), "confirm": "1"})


def counts() -> dict:
    return {m.__name__: m.objects.count() for m in (Project, Assessment, ScoreCard, Change, Operator)}


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def section(tree, slug):
    return next(
        s for s in tree.find_all("section", class_="import-preview") if s.attrs.get("data-slug") == slug
    )


def table_rows(element, class_):
    found = element.find_all("table", class_=class_)
    if not found:
        return {}
    return {
        tr.find("th").clean_text: [td.clean_text for td in tr.find_all("td")]
        for tr in found[0].find("tbody").find_all("tr")
    }


# --- the page and who may use it -----------------------------------------------------------


def test_the_project_list_offers_import_to_those_who_may_add_and_change(client, analyst, viewer):
    client.force_login(analyst)
    links = [
        a.attrs.get("href") for a in parse(client.get(LIST_URL).content).find_all("a", class_="importlink")
    ]
    assert links == [IMPORT_URL]
    assert client.get(IMPORT_URL).status_code == 200

    client.force_login(viewer)
    assert client.get(LIST_URL).status_code == 200
    assert not parse(client.get(LIST_URL).content).find_all("a", class_="importlink")
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, the_file()).status_code == 403
    assert not Project.objects.filter(slug="beta").exists()


# --- upload and preview ----------------------------------------------------------------------


def test_the_preview_shows_each_project_and_writes_nothing(client, analyst, stored):
    client.force_login(analyst)
    before, log = counts(), list(Change.objects.values_list("id", flat=True))

    response = upload(client, the_file())

    assert response.status_code == 200
    assert counts() == before
    assert list(Change.objects.values_list("id", flat=True)) == log
    tree = parse(response.content)
    assert [h1.clean_text for h1 in tree.find_all("h1")][-1:] == ["Import: what the file would change"]
    assert "Dry run: 1 new, 1 changed, 1 unchanged." in tree.find("p", id="import-summary").clean_text
    assert "Beta Space" in tree.find("p", id="import-new-operators").clean_text
    alpha = section(tree, "alpha")
    assert "changes" in alpha.find("h2").clean_text
    assert table_rows(alpha, "import-facts") == {"name": ["Alpha", "Alpha II"]}
    assert table_rows(alpha, "import-ratings") == {"S7.1": ["2 (evidence C)", "4 (evidence C)"]}
    assert "Working score card:" in alpha.find("p", class_="import-score").clean_text
    beta = section(tree, "beta")
    assert "new project" in beta.find("h2").clean_text
    assert table_rows(beta, "import-ratings") == {"S9.1": ["—", "3 (evidence C)"]}
    assert beta.find("p", class_="import-score").clean_text == "Working score card: — → Insufficient data"
    gamma = section(tree, "gamma")
    assert "no change" in gamma.find("h2").clean_text
    assert not table_rows(gamma, "import-facts") and not table_rows(gamma, "import-ratings")
    assert tree.find("form", id="import-confirm")


def test_a_file_that_is_not_json_is_refused_naming_the_place(client, analyst, stored):
    client.force_login(analyst)
    before = counts()
    response = upload(client, b'{"format": "sdgscore.projects/1",\n "projects": [}')
    assert response.status_code == 200
    errors = [
        li.clean_text for li in parse(response.content).find_all("ul", class_="errorlist")[0].find_all("li")
    ]
    assert errors == ["The file is not valid JSON: Expecting value at line 2, column 15."]
    assert not parse(response.content).find_all("form", id="import-confirm")
    assert counts() == before


def test_a_file_in_another_format_is_refused_as_a_whole(client, analyst, stored):
    client.force_login(analyst)
    response = upload(client, {"format": "something/2", "projects": []})
    problems = parse(response.content).find("div", id="import-errors")
    assert problems.find("h2").clean_text == "The file"
    assert [li.clean_text for li in problems.find_all("li")] == [
        "format: must be \"sdgscore.projects/1\", not 'something/2'."
    ]
    assert not parse(response.content).find_all("form", id="import-confirm")


def test_errors_are_listed_under_their_project_with_the_field(client, analyst, stored):
    client.force_login(analyst)
    data = the_file()
    data["projects"][1]["assessments"][0]["rating"] = 7
    data["projects"][2]["target_body"] = "venus"
    before = counts()

    response = upload(client, data)

    tree = parse(response.content)
    assert "2 problems. Nothing was written." in tree.find("div", id="import-errors-note").clean_text
    groups = {
        h2.clean_text: [li.clean_text for li in ul.find_all("li")]
        for h2, ul in zip(
            tree.find("div", id="import-errors").find_all("h2"),
            tree.find("div", id="import-errors").find_all("ul"),
            strict=True,
        )
    }
    assert groups == {
        "projects[1] 'beta'": ["assessments[0].rating: Ensure this value is less than or equal to 4."],
        "projects[2] 'gamma'": [
            "target_body: 'venus' is not allowed; use one of: moon, mars, phobos, deimos, "
            "near_earth_asteroid, main_belt_asteroid, comet, cislunar_space."
        ],
    }
    assert not tree.find_all("form", id="import-confirm")
    assert counts() == before


def test_a_file_over_the_limit_is_refused(client, analyst, stored, settings):
    settings.IMPORT_MAX_BYTES = 100
    client.force_login(analyst)
    response = upload(client, the_file())
    errors = [
        li.clean_text for li in parse(response.content).find_all("ul", class_="errorlist")[0].find_all("li")
    ]
    assert len(errors) == 1 and "the admin takes up to 100" in errors[0]
    assert not Project.objects.filter(slug="beta").exists()


# --- confirm ---------------------------------------------------------------------------------


def test_confirm_applies_the_preview_as_drafts_in_the_uploaders_name(client, analyst, stored):
    client.force_login(analyst)
    preview = upload(client, the_file())
    first_new_change = (Change.objects.order_by("-id").values_list("id", flat=True).first() or 0) + 1

    response = confirm(client, preview)

    assert response.status_code == 302 and response["Location"] == LIST_URL
    followed = client.get(LIST_URL)
    assert any(
        "1 created, 1 updated, 1 unchanged" in m and "Nothing was published" in m
        for m in messages_of(followed)
    )
    alpha, beta = Project.objects.get(slug="alpha"), Project.objects.get(slug="beta")
    assert alpha.pending_facts == {"name": "Alpha II"}  # published once: the public keeps "Alpha"
    assert alpha.name == "Alpha" and alpha.publication.number == 1
    assert Assessment.objects.get(project=alpha, criterion__code="S7.1").level == 4
    assert alpha.published_score_id != alpha.current_score_id  # the change waits for a reviewer
    assert beta.state == "draft" and beta.publication is None and beta.operator.name == "Beta Space"
    new = Change.objects.filter(id__gte=first_new_change)
    assert set(new.values_list("actor_name", "channel")) == {("ana", "import")}
    assert set(new.filter(project=alpha).values_list("kind", "subject")) == {
        ("fact", "name"),
        ("rating", "S7.1"),
    }
    assert not new.filter(kind__in=["publication", "withdrawal"]).exists()


def test_a_second_confirm_of_the_same_preview_does_not_apply_it_again(client, analyst, stored):
    client.force_login(analyst)
    preview = upload(client, the_file())
    confirm(client, preview)
    after_first = counts()

    again = confirm(client, preview)

    assert again.status_code == 200
    assert counts() == after_first
    shown = messages_of(again)
    assert any(
        m.startswith("Nothing was imported: the projects or operators in the file changed") for m in shown
    )
    assert any("it may have been imported already" in m for m in shown)
    tree = parse(again.content)
    assert "Dry run: 0 new, 0 changed, 3 unchanged." in tree.find("p", id="import-summary").clean_text
    assert not tree.find_all("form", id="import-confirm")  # nothing left to confirm


def test_a_stale_preview_is_refused_and_shown_again(client, analyst, stored):
    client.force_login(analyst)
    preview = upload(client, the_file())
    projects_import(
        interchange(project_record("alpha", name="Alpha (edited meanwhile)", assessments=ratings()))
    )
    before = counts()

    response = confirm(client, preview)

    assert response.status_code == 200
    assert counts() == before
    assert Project.objects.get(slug="alpha").pending_facts == {"name": "Alpha (edited meanwhile)"}
    assert any(m.startswith("Nothing was imported") for m in messages_of(response))
    fresh = parse(response.content)
    assert table_rows(section(fresh, "alpha"), "import-facts") == {
        "name": ["Alpha (edited meanwhile)", "Alpha II"]
    }
    # The fresh preview can be confirmed: it is what the database is now.
    assert confirm(client, response).status_code == 302
    assert Project.objects.get(slug="alpha").pending_facts == {"name": "Alpha II"}


def test_a_confirm_with_another_file_than_the_previewed_one_is_refused(client, analyst, stored):
    client.force_login(analyst)
    preview = upload(client, the_file())
    form = form_data(parse(preview.content).find("form", id="import-confirm"))
    form["content"] = [form["content"][0].replace("Alpha II", "Alpha III")]
    before = counts()
    response = client.post(IMPORT_URL, {**form, "confirm": "1"})
    assert counts() == before
    assert messages_of(response) == ["The file differs from the one previewed; upload it again."]


def test_a_preview_is_confirmed_only_by_the_user_who_made_it(client, analyst, stored):
    client.force_login(analyst)
    preview = upload(client, the_file())
    client.force_login(member("bob", "analyst"))
    before = counts()
    response = confirm(client, preview)
    assert counts() == before
    assert messages_of(response) == ["This preview was made by another user; upload the file yourself."]


# --- export ------------------------------------------------------------------------------------


def export(client, action, *slugs):
    pks = [str(pk) for pk in Project.objects.filter(slug__in=slugs).values_list("pk", flat=True)]
    response = client.post(LIST_URL, {"action": action, "_selected_action": pks})
    assert response.status_code == 200, response.status_code
    return response, b"".join(response.streaming_content).decode()


def test_export_as_json_has_the_selected_projects_and_imports_back(client, viewer, stored):
    projects_import(interchange(project_record("alpha", name="Alpha II", assessments=ratings(**{"S7.1": 4}))))
    client.force_login(viewer)

    response, text = export(client, "export_json", "alpha", "gamma")

    assert response["Content-Type"] == "application/json; charset=utf-8"
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="sdgscore-2-projects-') and disposition.endswith(
        '.json"'
    )
    data = json.loads(text)
    assert [record["slug"] for record in data["projects"]] == ["alpha", "gamma"]
    alpha = data["projects"][0]
    assert alpha["name"] == "Alpha II"  # the draft, as analysts work on it
    assert {item["criterion"]: item["rating"] for item in alpha["assessments"]}["S7.1"] == 4
    # Re-imported as it is: nothing to change.
    again = projects_import(data, dry_run=True)
    assert (again.created, again.updated, again.unchanged) == ([], [], ["alpha", "gamma"])
    # Into a database without them: the same export again, byte for byte.
    Project.objects.filter(slug="gamma").delete()
    assert projects_import(interchange(*[p for p in data["projects"] if p["slug"] == "gamma"])).created == [
        "gamma"
    ]
    assert export(client, "export_json", "alpha", "gamma")[1] == text


def test_export_of_one_project_is_named_after_it(client, viewer, stored):
    client.force_login(viewer)
    response, _text = export(client, "export_json", "gamma")
    assert response["Content-Disposition"].startswith('attachment; filename="sdgscore-gamma-')


def test_export_as_csv_has_a_row_per_selected_project_with_the_working_card(client, viewer, stored):
    projects_import(interchange(project_record("gamma", name="=HYPERLINK(1)")))
    client.force_login(viewer)

    response, text = export(client, "export_csv", "alpha", "gamma")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [row["slug"] for row in rows] == ["alpha", "gamma"]
    alpha = Project.objects.get(slug="alpha")
    assert rows[0]["state"] == "published"
    assert rows[0]["grade"] == alpha.current_score.grade
    assert float(rows[0]["net_score"]) == alpha.current_score.net_score
    assert rows[0]["methodology"] == "1.0"
    assert rows[1]["name"] == "'=HYPERLINK(1)"  # shown, not run, by a spreadsheet
    assert rows[1]["operator"] == "Test Operator"


def test_export_needs_view_permission(client, stored):
    nobody = get_user_model().objects.create_user("nora", password="pw-nora", is_staff=True)
    nobody.user_permissions.add(Permission.objects.get(codename="view_operator"))
    client.force_login(nobody)
    pks = [str(pk) for pk in Project.objects.values_list("pk", flat=True)]
    response = client.post(LIST_URL, {"action": "export_json", "_selected_action": pks})
    assert response.status_code == 403
