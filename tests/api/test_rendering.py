"""The API's JSON writer (projects.api.parsers): orjson for speed, DRF's encoder for what orjson
refuses, the same compact UTF-8 JSON from both, and stored score cards spliced in unparsed."""

import json
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest
from django.utils.translation import gettext_lazy

from projects.api.conditional import etag_for
from projects.api.parsers import SafeJSONRenderer, dumps
from tests.support.actors import reviewer_user

pytestmark = pytest.mark.django_db

CARD_TEXT = '{"methodology": "1.0", "overall": {"value": 44.6, "grade": "C"}}'


def render(data, media_type="application/json"):
    return SafeJSONRenderer().render(data, media_type, {})


def test_output_is_compact_utf8_json_in_the_representations_key_order():
    assert (
        render({"b": 1, "a": [1.5, None, True], "名前": "月"})
        == '{"b":1,"a":[1.5,null,true],"名前":"月"}'.encode()
    )


def test_dates_are_written_as_drf_writes_them():
    moment = datetime(2026, 11, 24, 9, 30, 0, 123456, tzinfo=UTC)
    assert render({"at": moment}) == b'{"at":"2026-11-24T09:30:00.123456Z"}'
    assert render({"at": moment.date()}) == b'{"at":"2026-11-24"}'


def test_what_orjson_does_not_know_goes_through_drfs_encoder():
    assert render({"n": Decimal("1.25"), "text": gettext_lazy("Rankings")}) == b'{"n":1.25,"text":"Rankings"}'


def test_a_stored_card_is_spliced_in_as_it_is_stored():
    body = render({"slug": "x", "score": orjson.Fragment(CARD_TEXT)})
    assert body == b'{"slug":"x","score":' + CARD_TEXT.encode() + b"}"
    assert json.loads(body)["score"]["overall"]["grade"] == "C"


@pytest.mark.parametrize(
    "data",
    [
        {"detail": "bad \ud800 input", "score": orjson.Fragment(CARD_TEXT)},  # a lone surrogate echoed back
        {"big": 2**70, "score": orjson.Fragment(CARD_TEXT)},  # beyond 64 bits
    ],
    ids=["lone-surrogate", "huge-integer"],
)
def test_what_orjson_refuses_is_still_written_and_cards_still_spliced(data):
    body = render(data)
    parsed = json.loads(body)
    assert parsed["score"] == json.loads(CARD_TEXT)
    if "detail" in data:
        assert b"\\ud800" in body  # escaped: the output stays valid UTF-8
        body.decode("utf-8")
    else:
        assert parsed["big"] == 2**70


def test_line_and_paragraph_separators_are_escaped_as_drf_does():
    body = render({"summary": "a\u2028b\u2029c"})
    assert body == b'{"summary":"a\\u2028b\\u2029c"}'
    assert json.loads(body)["summary"] == "a\u2028b\u2029c"


def test_an_indent_asked_for_in_the_accept_header_is_honoured():
    body = SafeJSONRenderer().render({"a": [1]}, "application/json; indent=2", {})
    assert body == b'{\n  "a": [\n    1\n  ]\n}'


def test_nothing_renders_as_an_empty_body():
    assert render(None) == b""


def test_the_etag_is_the_digest_of_the_json_written():
    data = {"slug": "x", "score": orjson.Fragment(CARD_TEXT)}
    assert etag_for(data) == etag_for({"slug": "x", "score": orjson.Fragment(CARD_TEXT)})
    assert etag_for(data) != etag_for({"slug": "y", "score": orjson.Fragment(CARD_TEXT)})
    assert dumps(data) == render(data)


def test_indented_json_carries_a_strong_etag_of_its_own_bytes(client):
    response = client.get("/api/v1/methodologies")
    assert response.status_code == 200
    assert client.get("/api/v1/methodologies", HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    indented = client.get("/api/v1/methodologies", HTTP_ACCEPT="application/json; indent=4")
    assert indented.content.startswith(b'{\n    "')
    assert json.loads(indented.content) == json.loads(response.content)
    # Other bytes, another strong tag (a cache comparing tags must not mix the two up) …
    assert indented["ETag"] == response["ETag"][:-1] + '-indent4"'
    # … and each validates only itself.
    assert (
        client.get(
            "/api/v1/methodologies",
            HTTP_ACCEPT="application/json; indent=4",
            HTTP_IF_NONE_MATCH=indented["ETag"],
        ).status_code
        == 304
    )


@pytest.mark.parametrize(
    ("stored", "written"),
    [
        (datetime(2026, 11, 24, 9, 30, 0, 123456, tzinfo=UTC), "2026-11-24T09:30:00.123456Z"),
        (datetime(2026, 11, 24, 9, 30, 0, tzinfo=UTC), "2026-11-24T09:30:00Z"),
        (datetime(2026, 11, 24, 9, 30, 0, 5, tzinfo=UTC), "2026-11-24T09:30:00.000005Z"),
        (datetime.fromisoformat("2026-11-24T18:30:00+09:00"), "2026-11-24T09:30:00Z"),
    ],
)
def test_dates_of_projects_are_written_in_utc_with_z(client, stored, written):
    from projects.interchange.importer import projects_import
    from projects.models import Project
    from tests.api.conftest import full_ratings
    from tests.conftest import interchange, project_record

    projects_import(
        interchange(project_record("dated", assessments=full_ratings(2))),
        publish=True,
        reviewer=reviewer_user(),
        note="Dated.",
    )
    Project.objects.filter(slug="dated").update(updated_at=stored, published_at=stored)
    item = client.get("/api/v1/projects").json()["results"][0]
    detail = client.get("/api/v1/projects/dated").json()
    for served in (item, detail):
        assert (served["updated_at"], served["published_at"]) == (written, written)


def test_project_dates_in_the_api_are_the_stored_moments(client):
    from projects.interchange.importer import projects_import
    from projects.models import Project
    from tests.api.conftest import full_ratings
    from tests.conftest import interchange, project_record

    projects_import(
        interchange(project_record("dated", assessments=full_ratings(2))),
        publish=True,
        reviewer=reviewer_user(),
        note="Dated.",
    )
    project = Project.objects.get(slug="dated")
    item = client.get("/api/v1/projects").json()["results"][0]
    detail = client.get("/api/v1/projects/dated").json()
    for served in (item, detail):
        assert datetime.fromisoformat(served["updated_at"]) == project.updated_at
        assert datetime.fromisoformat(served["published_at"]) == project.published_at
        assert served["updated_at"].endswith("Z")
