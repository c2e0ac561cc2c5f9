"""Method versions in the admin (a published one is read-only) and operator entry."""

import pytest

from projects.methodology import method_file_data, method_install
from projects.models import Criterion, Methodology, Operator

from .pages import errors_in, field_errors, field_label, form_data, parse

pytestmark = pytest.mark.django_db

OPERATOR_ADD_URL = "/admin/projects/operator/add/"


def method_url(methodology, action="change") -> str:
    return f"/admin/projects/methodology/{methodology.pk}/{action}/"


def stored(methodology) -> tuple:
    methodology.refresh_from_db()
    criteria = list(methodology.criteria.order_by("position").values())
    return methodology.state, methodology.parameters, methodology.published_at, criteria


@pytest.fixture
def draft(method):
    """A draft 1.1: a copy of 1.0 (a draft is checked whole whenever it is saved)."""
    data = method_file_data("1.0")
    data["version"] = "1.1"
    return method_install(data, methodology_model=Methodology, criterion_model=Criterion, state="draft")


def test_published_method_opens_read_only_without_a_save_button(admin_client, method):
    response = admin_client.get(method_url(method))
    assert response.status_code == 200
    tree = parse(response.content)
    assert tree.find("h1").clean_text == "View methodology version"
    buttons = {element.attrs.get("name") for element in tree.find_all("input", type="submit")}
    assert not buttons & {"_save", "_continue", "_addanother"}
    form = tree.find("form", id="methodology_form")
    editable = [
        element.attrs.get("name")
        for element in form.iter()
        if element.tag in ("select", "textarea")
        or (element.tag == "input" and element.attrs.get("type") not in ("hidden", "submit"))
    ]
    assert editable == []


def test_published_method_shows_its_criteria_as_text_not_inputs(admin_client, method):
    tree = parse(admin_client.get(method_url(method)).content)
    data = form_data(tree.find("form", id="methodology_form"))
    assert not [name for name in data if name.endswith(("-weight", "-code", "-levels_en", "-name_en"))]
    shown = [div.clean_text for div in tree.find_all("div", class_="readonly")]
    assert "S7.1" in shown and "E5" in shown


def test_posting_changes_to_a_published_method_is_refused_and_changes_nothing(admin_client, method):
    before = stored(method)
    tree = parse(admin_client.get(method_url(method)).content)
    data = form_data(tree.find("form", id="methodology_form"))
    first = next(
        name.removesuffix("-id") for name in data if name.startswith("criteria-") and name.endswith("-id")
    )
    data.update({"version": ["1.0"], f"{first}-weight": ["9"], f"{first}-code": ["S7.9"], "_save": ["Save"]})

    response = admin_client.post(method_url(method), data)

    assert response.status_code == 403
    assert stored(method) == before


def test_published_method_cannot_be_deleted(admin_client, method):
    assert admin_client.get(method_url(method, "delete")).status_code == 403
    assert admin_client.post(method_url(method, "delete"), {"post": "yes"}).status_code == 403
    assert Methodology.objects.filter(pk=method.pk).exists()


def test_draft_method_is_editable_including_its_criteria(admin_client, draft):
    # the control case: read-only must come from the published state, not from the admin as a whole
    tree = parse(admin_client.get(method_url(draft)).content)
    assert tree.find("input", name="_save")
    data = form_data(tree.find("form", id="methodology_form"))
    prefix = next(name.removesuffix("-weight") for name in data if name.endswith("-weight"))
    data[f"{prefix}-weight"] = ["5"]
    data["_save"] = ["Save"]

    response = admin_client.post(method_url(draft), data)

    assert response.status_code == 302, errors_in(parse(response.content))
    assert draft.criteria.get(code="S7.1").weight == 5


def test_method_list_shows_the_published_version_with_its_state(admin_client, method):
    response = admin_client.get("/admin/projects/methodology/")
    row = next(
        tr
        for tr in parse(response.content).find("table", id="result_list").find_all("tr")
        if "1.0" in tr.clean_text
    )
    assert row.find(class_="field-state").clean_text == "Published"
    assert row.find(class_="field-criterion_count").clean_text == "25"


def _operator_form(client, url=OPERATOR_ADD_URL) -> dict:
    response = client.get(url)
    assert response.status_code == 200
    return form_data(parse(response.content).find("form", id="operator_form"))


def test_operator_with_lower_case_country_code_is_refused_naming_the_country(admin_client):
    data = _operator_form(admin_client)
    data.update({"name": ["Tsuki Co"], "country": ["jp"], "kind": ["company"], "_save": ["Save"]})

    response = admin_client.post(OPERATOR_ADD_URL, data)

    assert response.status_code == 200
    tree = parse(response.content)
    assert field_label(tree, "country") == "Country:"
    assert any("two-letter upper-case country code" in message for message in field_errors(tree, "country"))
    assert not Operator.objects.exists()


def test_operator_with_upper_case_country_code_is_saved(admin_client):
    data = _operator_form(admin_client)
    data.update({"name": ["Tsuki Co"], "country": ["JP"], "kind": ["company"], "_save": ["Save"]})

    response = admin_client.post(OPERATOR_ADD_URL, data)

    assert response.status_code == 302
    assert Operator.objects.get(name="Tsuki Co").country == "JP"


def test_changing_an_operator_country_to_lower_case_keeps_the_stored_code(admin_client):
    operator = Operator.objects.create(name="Red Works", country="US", kind="company")
    url = f"/admin/projects/operator/{operator.pk}/change/"
    data = _operator_form(admin_client, url)
    data.update({"country": ["us"], "_save": ["Save"]})

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert field_errors(parse(response.content), "country")
    operator.refresh_from_db()
    assert operator.country == "US"


def test_the_operator_search_on_the_project_form_lists_names_in_order(admin_client):
    for name in ["Zeta Mining", "Alpha Regolith", "Mu Ice Works", "Beta Metals"]:
        Operator.objects.create(name=name, country="JP", kind="company")
    response = admin_client.get(
        "/admin/autocomplete/",
        {"app_label": "projects", "model_name": "project", "field_name": "operator", "term": "a"},
    )
    assert response.status_code == 200
    names = [result["text"] for result in response.json()["results"]]
    assert names == sorted(names) and "Alpha Regolith" in names and "Zeta Mining" in names
