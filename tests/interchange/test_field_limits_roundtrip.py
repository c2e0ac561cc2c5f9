"""Issue 11, finding 9: whatever the admin or the API stores, an export imported into an empty
database brings back byte for byte. Values are drawn at and around each field's limit, from any
Unicode (hidden characters included, which both refuse alike) and from Japanese text."""

import json
from contextlib import contextmanager

import pytest
from django.db import transaction
from django.forms import modelform_factory
from django.test import Client
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from projects.admin.forms import ProjectForm
from projects.interchange.exporter import projects_export
from projects.interchange.importer import projects_import
from projects.models import ApiKey, Operator, Project
from projects.models.projects import MAX_LINKS
from projects.validators import LINK_MAX_LENGTH
from tests.admin.pages import SheetPage, sheet_url
from tests.support.actors import key_owner
from tests.support.examples import examples

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=examples(100),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Characters of every kind: any code point (but lone surrogates, which no UTF-8 text can carry),
# Japanese, the hidden ones the rules refuse, line breaks and spaces the forms strip at the ends.
ANY = st.characters(codec="utf-8")
JAPANESE = st.sampled_from("月面の水氷を探査するレゴリス酸素実証第段階はやぶさ２、。（）「」　葛󠄀")
EDGES = st.sampled_from(
    ["\u202e", "\u2066", "\u200b", "\u200d", "\ufeff", "\x1b", "\r", "\n", "\r\n", "\t", " "]
)
CHARACTERS = st.one_of(ANY, JAPANESE, EDGES)


@st.composite
def around(draw, limit: int, characters=CHARACTERS, *, least: int = 0) -> str:
    """A text of a length at, just under or just over ``limit`` (or any up to it): a short drawn
    unit repeated, so that 10,000 characters cost a few bytes of Hypothesis's buffer."""
    length = draw(st.one_of(st.sampled_from([limit - 1, limit, limit + 1]), st.integers(least, limit + 1)))
    unit = draw(st.lists(characters, min_size=1, max_size=8).map("".join))
    return (unit * (length // len(unit) + 1))[:length]


@st.composite
def link(draw) -> str:
    """An http(s) link around the link limit, or a link the rule refuses."""
    start = draw(st.sampled_from(["https://example.org/", "http://例え.jp/", "HTTPS://EXAMPLE.ORG/"]))
    path = draw(around(LINK_MAX_LENGTH - len(start), st.one_of(st.sampled_from("abc-_/é水"), EDGES)))
    odd = st.sampled_from(
        [
            "ftp://example.org/a",
            "example.org/a",
            "https://user:pw@example.org/",
            "javascript:alert(1)",
            "https://example.org/\u202ecod.exe",
        ]
    )
    return draw(st.one_of(st.just(start + path), odd))


FIELDS = {
    "name": around(200, least=1),
    "summary": around(10_000),
    "summary_ja": around(10_000, st.one_of(JAPANESE, CHARACTERS)),
    "links": st.lists(link(), max_size=MAX_LINKS + 1),
    "operator_name": around(200, least=1),
    "country": st.one_of(
        st.sampled_from(["JP", "EU", "ZZ", "GB"]),
        st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=2),
    ),
    "justification": around(4000, least=1),
    "justification_ja": around(4000, st.one_of(JAPANESE, CHARACTERS)),
    "source_url": st.one_of(st.just(""), link()),
}
ONE_FIELD = st.sampled_from(sorted(FIELDS)).flatmap(lambda name: st.tuples(st.just(name), FIELDS[name]))


def values_with(name: str, value) -> dict:
    """Good values for every field but ``name``."""
    values = {
        "name": "Tsuki Rover",
        "summary": "A rover.",
        "summary_ja": "",
        "links": ["https://example.org/tsuki"],
        "operator_name": "Tsuki Co",
        "country": "JP",
        "justification": "Reported by the operator.",
        "justification_ja": "",
        "source_url": "",
    }
    return {**values, name: value}


@contextmanager
def rolled_back():
    """A database left as it was found (empty of projects) whatever happens inside."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def export_text() -> str:
    return "".join(projects_export())


def stored_through_the_admin(client: Client, values: dict) -> bool:
    """Save through the admin's forms (operator, project) and its rating sheet (a rating of
    S7.1); False when one of them refuses."""
    operator_form = modelform_factory(Operator, fields=["name", "slug", "country", "kind"])(
        data={"name": values["operator_name"], "slug": "", "country": values["country"], "kind": "company"}
    )
    if not operator_form.is_valid():
        return False
    operator = operator_form.save()
    project_form = ProjectForm(
        data={
            "name": values["name"],
            "slug": "tsuki",
            "operator": operator.pk,
            "target_body": "moon",
            "phase": "concept",
            "summary": values["summary"],
            "summary_ja": values["summary_ja"],
            "links": "\n".join(values["links"]),
            "origin": "assessed",
        }
    )
    if not project_form.is_valid():
        return False
    project = project_form.save()
    sheet = SheetPage.of(client.get(sheet_url(project)))
    sheet.rate(
        "S7.1",
        2,
        justification=values["justification"],
        justification_ja=values["justification_ja"],
        grade="C",  # C: the source link may be blank (A and B need one)
        url=values["source_url"],
    )
    response = client.post(sheet_url(project), sheet.post_data())
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 302


def as_the_sheet_keeps(exported: str) -> dict:
    """An export, with each justification's line breaks as the rating sheet stores them: LF for
    CRLF (what browsers send for a line break in a text box), where the API keeps a text as sent."""
    data = json.loads(exported)
    for record in data["projects"]:
        for item in record["assessments"]:
            for key in ("evidence", "evidence_ja"):
                if key in item:
                    item[key] = item[key].replace("\r\n", "\n")
    return data


def stored_through_the_api(client: APIClient, values: dict) -> bool:
    rating = {"criterion": "S7.1", "rating": 2, "evidence": values["justification"], "evidence_grade": "C"}
    if values["justification_ja"]:
        rating["evidence_ja"] = values["justification_ja"]
    if values["source_url"]:
        rating["source_url"] = values["source_url"]
    body = {
        "slug": "tsuki",
        "name": values["name"],
        "operator": {"name": values["operator_name"], "country": values["country"], "kind": "company"},
        "target_body": "moon",
        "phase": "concept",
        "summary": values["summary"],
        "summary_ja": values["summary_ja"],
        "links": values["links"],
        "assessments": [rating],
    }
    response = client.post("/api/v1/projects", body, format="json")
    assert response.status_code in (201, 400), response.content[:500]
    return response.status_code == 201


def assert_restored_byte_for_byte(exported: str) -> None:
    with rolled_back():
        assert not Project.objects.exists()
        projects_import(json.loads(exported))
        assert export_text() == exported


@pytest.fixture
def api(db) -> APIClient:
    _, key = ApiKey.issue(owner=key_owner(), name="Round trip", scope="write", throttle_rate="100000/hour")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@EXAMPLES
@given(field=ONE_FIELD)
@example(field=("justification", "Line one,\r\nline two."))  # typed in a text box, sent as CRLF
def test_what_the_admin_and_the_api_store_an_export_restores_byte_for_byte(api, admin_client, field):
    name, value = field
    values = values_with(name, value)
    with rolled_back():
        by_admin = stored_through_the_admin(admin_client, values)
        from_admin = export_text() if by_admin else None
    with rolled_back():
        by_api = stored_through_the_api(api, values)
        from_api = export_text() if by_api else None
    # One set of rules: the admin and the API accept and refuse the same values and store them alike.
    event(f"{name}: {'stored' if by_admin else 'refused'}")
    assert by_admin == by_api, (name, by_admin, by_api)
    if by_admin:
        assert from_admin == from_api or json.loads(from_admin) == as_the_sheet_keeps(from_api)
        assert_restored_byte_for_byte(from_admin)


def test_the_longest_values_each_field_takes_are_restored(api, admin_client):
    values = {
        "name": "名" * 200,
        "summary": ("Line one,\r\nline\ttwo. " * 600)[:10_000],
        "summary_ja": ("月面の水氷を探査する。\n" * 1000)[:10_000],
        "links": ["https://example.org/" + "p" * (LINK_MAX_LENGTH - 20)] * MAX_LINKS,
        "operator_name": "O" * 200,
        "country": "EU",
        "justification": "j" * 4000,
        "justification_ja": ("月面の証拠。\n" * 600)[:4000],
        "source_url": "https://example.org/" + "s" * (LINK_MAX_LENGTH - 20),
    }
    with rolled_back():
        assert stored_through_the_admin(admin_client, values)
        from_admin = export_text()
    with rolled_back():
        assert stored_through_the_api(api, values)
        assert export_text() == from_admin
    assert_restored_byte_for_byte(from_admin)
