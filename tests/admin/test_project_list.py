"""The project list: score columns, filters, search, a query count that does not grow, and
the publish action.

Projects (scores by hand from docs/scoring.md):
    alpha   moon, demonstration, JP   all 25 at 2: every dimension 50 (elevated), N = 28.1, D
    beta    mars, concept, US         nothing rated: insufficient data, no grade
    gamma   near-Earth asteroid, prospecting, LU
            SDG criteria 4, risk criteria 0: I = 100, risks 0 (low), N = 100, A
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from projects.interchange.importer import projects_import
from projects.models import Project
from tests.conftest import interchange, project_record
from tests.support.criteria import RISK_CODES

from .pages import LIST_URL, ProjectPage, parse, publish_via, ratings

pytestmark = pytest.mark.django_db


def operator(name, country):
    return {"name": name, "country": country, "kind": "company"}


@pytest.fixture
def three_projects(db):
    best = ratings(4, "A", **{code.replace(".", "_"): 0 for code in RISK_CODES})
    projects_import(
        interchange(
            project_record("alpha", name="Alpha Lunar Ice", operator=operator("Tsuki Co", "JP"),
                           assessments=ratings()),
            project_record("beta", name="Beta Mars Oxygen", target_body="mars", phase="concept",
                           operator=operator("Red Works", "US")),
            project_record("gamma", name="Gamma Asteroid Metals", target_body="near_earth_asteroid",
                           phase="prospecting", operator=operator("Rock Miners", "LU"), assessments=best),
        )
    )  # fmt: skip


def listed(response) -> list[str]:
    assert response.status_code == 200
    return sorted(project.slug for project in response.context["cl"].result_list)


def list_rows(response) -> dict[str, dict[str, str]]:
    """Project name -> {column field name: shown text}."""
    table = parse(response.content).find("table", id="result_list")
    rows = {}
    for tr in table.find("tbody").find_all("tr"):
        cells = {}
        for element in tr.children:
            if not isinstance(element, str) and element.tag in ("td", "th"):
                fields = [c.removeprefix("field-") for c in element.classes if c.startswith("field-")]
                name = fields[0] if fields else None
                if name:
                    cells[name] = element.clean_text
        rows[cells["name"]] = cells
    return rows


def filter_link(response, title: str, choice: str) -> str:
    """The href of ``choice`` under the filter headed ``title``, as the page offers it."""
    panel = parse(response.content).find(id="changelist-filter")
    for details in panel.find_all("details"):
        if details.find("summary").clean_text.lower() == f"by {title}".lower():
            for link in details.find_all("a"):
                if link.clean_text == choice:
                    return link.attrs["href"]
            raise AssertionError(f"no choice {choice!r} under {title!r}")
    raise AssertionError(f"no filter {title!r}")


def test_list_shows_grade_net_score_status_and_risk_levels(admin_client, three_projects):
    rows = list_rows(admin_client.get(LIST_URL))
    alpha, beta, gamma = rows["Alpha Lunar Ice"], rows["Beta Mars Oxygen"], rows["Gamma Asteroid Metals"]
    # Never published: the public column is empty, the draft's grade and net score beside it.
    assert (alpha["standing"], alpha["published_card"], alpha["draft_card"]) == ("Draft", "—", "D 28.1")
    assert (alpha["debris_level"], alpha["equity_level"]) == ("Elevated", "Elevated")
    assert (gamma["published_card"], gamma["draft_card"]) == ("—", "A 100.0")
    assert (gamma["debris_level"], gamma["equity_level"]) == ("Low", "Low")
    assert (beta["published_card"], beta["draft_card"]) == ("—", "Insufficient data")


def test_list_marks_a_severe_risk_next_to_its_level(admin_client, three_projects):
    projects_import(
        interchange(project_record("delta", name="Delta", assessments=ratings(D2=4, E3=(1, "C"))))
    )
    delta = list_rows(admin_client.get(LIST_URL))["Delta"]
    # debris 25·(2·3 + 4·2 + 2·5)/10 = 60 -> high, with the severe flag
    assert delta["debris_level"].startswith("High") and "⚠" in delta["debris_level"]
    assert "⚠" not in delta["equity_level"]


def test_list_has_column_headings_for_the_scores(admin_client, three_projects):
    table = parse(admin_client.get(LIST_URL).content).find("table", id="result_list")
    headings = [th.clean_text for th in table.find("thead").find_all("th")]
    for heading in ("Standing", "Published", "Draft", "Debris risk", "Equity risk"):
        assert heading in headings


@pytest.mark.parametrize(
    ("title", "choice", "expected"),
    [
        ("target body", "Mars", ["beta"]),
        ("target body", "Near-Earth asteroid", ["gamma"]),
        ("phase", "Demonstration", ["alpha"]),
        ("phase", "Concept", ["beta"]),
        ("grade", "A", ["gamma"]),
        ("grade", "D", ["alpha"]),
        ("status", "Rated", ["alpha", "gamma"]),
        ("status", "Insufficient data", ["beta"]),
        ("country", "US", ["beta"]),
        ("country", "LU", ["gamma"]),
    ],
)
def test_each_filter_narrows_the_list(admin_client, three_projects, title, choice, expected):
    first = admin_client.get(LIST_URL)
    assert listed(first) == ["alpha", "beta", "gamma"]
    href = filter_link(first, title, choice)
    assert listed(admin_client.get(LIST_URL + href)) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [("lunar", ["alpha"]), ("asteroid", ["gamma"]), ("red works", ["beta"]), ("nothing-like-it", [])],
)
def test_search_finds_projects_by_name_and_operator(admin_client, three_projects, query, expected):
    assert listed(admin_client.get(LIST_URL, {"q": query})) == expected


def _list_queries(client, rows: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(LIST_URL)
    assert len(list_rows(response)) == rows
    return len(queries)


def _add_projects(first: int, count: int):
    projects_import(
        interchange(
            *[
                project_record(
                    f"bulk-{n:03d}",
                    operator=operator(f"Operator {n}", ["JP", "US", "LU", "IN"][n % 4]),
                    assessments=ratings(n % 5),
                )
                for n in range(first, first + count)
            ]
        )
    )


def test_list_query_count_does_not_grow_with_the_number_of_projects(admin_client):
    _add_projects(0, 2)
    admin_client.get(LIST_URL)  # warm up: session, content types
    with_two = _list_queries(admin_client, 2)
    _add_projects(2, 6)  # four times as many rows: a query per row would show
    assert Project.objects.count() == 8
    with_eight = _list_queries(admin_client, 8)
    assert with_eight == with_two


def publish_action(client, projects, note=None, **extra):
    """The publish action: without ``note`` the preview page, with it the publication."""
    data = {"action": "publish", "_selected_action": [project.pk for project in projects]}
    if note is None:
        return client.post(LIST_URL, data, **extra)
    return publish_via(client, LIST_URL, {**data, "note": note}, **extra)


def test_publish_action_publishes_the_selected_projects_and_stamps_the_time(admin_client, three_projects):
    alpha, beta = Project.objects.get(slug="alpha"), Project.objects.get(slug="beta")

    # First the preview, asking for a note: nothing is published yet.
    preview = publish_action(admin_client, [alpha, beta])
    assert preview.status_code == 200
    sections = parse(preview.content).find_all("section", class_="publication-preview")
    assert [section.find("h2").clean_text for section in sections] == ["Alpha Lunar Ice", "Beta Mars Oxygen"]
    assert set(Project.objects.values_list("state", flat=True)) == {"draft"}

    before = timezone.now()
    response = publish_action(admin_client, [alpha, beta], note="First rating round.", follow=True)

    assert response.status_code == 200
    assert "2 projects published." in [str(message) for message in response.context["messages"]]
    for project in (alpha, beta):
        project.refresh_from_db()
        assert project.state == "published"
        assert before <= project.published_at <= timezone.now()
        assert (project.publication.number, project.publication.note) == (1, "First rating round.")
    gamma = Project.objects.get(slug="gamma")
    assert (gamma.state, gamma.published_at) == ("draft", None)


def test_unpublish_action_withdraws_a_published_project(admin_client, three_projects):
    alpha = Project.objects.get(slug="alpha")
    publish_action(admin_client, [alpha], note="First rating round.")
    alpha.refresh_from_db()
    assert alpha.state == "published"

    admin_client.post(
        LIST_URL, {"action": "withdraw", "_selected_action": [alpha.pk], "note": "Withdrawn for a check."}
    )

    alpha.refresh_from_db()
    assert alpha.state == "draft"
    # The withdrawal is a publication of its own, with its note; the first stays in the history.
    assert list(alpha.publications.order_by("number").values_list("kind", "note")) == [
        ("publication", "First rating round."),
        ("withdrawal", "Withdrawn for a check."),
    ]


def test_the_change_form_cannot_publish_only_the_reviewers_action_can(admin_client, three_projects):
    beta = Project.objects.get(slug="beta")
    url = f"/admin/projects/project/{beta.pk}/change/"
    page = ProjectPage.of(admin_client.get(url))
    assert "state" not in page.data  # shown as text, not as a field
    page.data["state"] = ["published"]

    response = admin_client.post(url, page.post_data())

    assert response.status_code == 302
    beta.refresh_from_db()
    assert beta.state == "draft" and beta.published_at is None


def _review_some(first: int, count: int, analyst):
    """Of bulk-first … bulk-(first+count-1): every third published, every third submitted by
    ``analyst`` and returned, the rest left as drafts: each standing the list can show."""
    from projects import actors
    from projects.services.review import project_return, project_submit
    from tests.support.actors import as_reviewer, publish_as_reviewer

    for n in range(first, first + count):
        project = Project.objects.get(slug=f"bulk-{n:03d}")
        if n % 3 == 0:
            publish_as_reviewer(project=project, note="Published.")
        elif n % 3 == 1:
            with actors.acting(analyst, actors.Channel.ADMIN):
                project_submit(project=project, comment="Ready.")
            with as_reviewer():
                project_return(project=project, comment="Sources, please.")


@pytest.mark.parametrize("query", ["", "?unpublished=yes", "?review=mine", "?o=5"])
def test_list_query_count_stays_flat_with_published_and_reviewed_rows(admin_client, admin_user, query):
    _add_projects(0, 3)
    _review_some(0, 3, admin_user)
    admin_client.get(LIST_URL + query)  # warm up: session, content types

    def queries():
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(LIST_URL + query)
        assert response.status_code == 200 and response.context["cl"].result_count > 0
        return len(captured)

    with_three = queries()
    _add_projects(3, 9)  # four times as many rows, in each standing
    _review_some(3, 9, admin_user)
    assert queries() == with_three


def test_the_published_column_sorts_best_first_on_the_first_click(admin_client, three_projects):
    from tests.support.actors import publish_as_reviewer

    for slug in ("alpha", "gamma"):
        publish_as_reviewer(project=Project.objects.get(slug=slug), note="Published.")
    header = parse(admin_client.get(LIST_URL).content).find("th", class_="column-published_card")
    response = admin_client.get(LIST_URL + header.find("a").attrs["href"])
    # gamma (A 100.0) before alpha (D 28.1); beta, never published, last.
    assert [project.slug for project in response.context["cl"].result_list] == ["gamma", "alpha", "beta"]
