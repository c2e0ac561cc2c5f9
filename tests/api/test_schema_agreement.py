"""The schema says what the server does: each disagreement a generated client met is checked
both ways — what the schema accepts the server accepts, what it refuses the server refuses."""

import json

import jsonschema
import pytest

from tests.support.openapi import FORMATS, _as_json_schema

from .conftest import assert_problem, error_fields

RATING = "/api/v1/projects/alpha/assessments/{code}"


def component_validator(openapi_document: dict, name: str):
    components = _as_json_schema(openapi_document["components"])
    root = {"$ref": f"#/components/schemas/{name}", "components": components}
    return jsonschema.Draft202012Validator(root, format_checker=FORMATS)


def operation(openapi_document: dict, path: str, method: str) -> dict:
    return openapi_document["paths"][path][method]


def parameter(openapi_document: dict, path: str, name: str) -> dict:
    return next(p for p in operation(openapi_document, path, "get")["parameters"] if p["name"] == name)


# --- Rating writes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "accepted"),
    [
        ({}, False),
        ({"rating": 3}, False),  # no evidence
        ({"rating": 3, "evidence": "Flight data.", "evidence_grade": "A"}, False),  # A needs a link
        ({"rating": 3, "evidence": "Flight data.", "evidence_grade": "C"}, True),
        (
            {"rating": 3, "evidence": "Data.", "evidence_grade": "B", "source_url": "https://example.org/d"},
            True,
        ),
        ({"not_applicable": True, "evidence": "No orbit."}, True),
        ({"not_applicable": True, "evidence": "No orbit.", "rating": None, "evidence_grade": None}, True),
        ({"not_applicable": True, "evidence": "No orbit.", "evidence_grade": "C"}, False),
        ({"not_applicable": True}, False),
        ({"rating": 3, "evidence": "   ", "evidence_grade": "C"}, False),
    ],
)
def test_a_rating_write_is_valid_per_schema_exactly_when_the_server_accepts_it(
    writer, published, openapi_document, body, accepted
):
    valid = component_validator(openapi_document, "AssessmentWriteRequest").is_valid(body)
    url = RATING.format(code="D5")
    response = writer.put(url, body, format="json", HTTP_IF_MATCH=writer.get(url)["ETag"])
    assert valid is accepted
    assert (response.status_code == 200) is accepted, response.content[:300]


def test_a_not_applicable_rating_read_back_can_be_written_back(writer, published):
    url = RATING.format(code="D5")
    response = writer.put(
        url,
        {"not_applicable": True, "evidence": "No orbit."},
        format="json",
        HTTP_IF_MATCH=writer.get(url)["ETag"],
    )
    read = response.json()
    assert (read["rating"], read["evidence_grade"]) == (None, None)
    again = {
        key: read[key] for key in ("rating", "not_applicable", "evidence", "evidence_grade", "source_url")
    }
    rewritten = writer.put(url, again, format="json", HTTP_IF_MATCH=response["ETag"])
    assert rewritten.status_code == 200, rewritten.content[:300]


def test_project_writes_do_not_offer_a_history(openapi_document):
    schemas = openapi_document["components"]["schemas"]
    for name in ("ProjectWriteRequest", "PatchedProjectWriteRequest"):
        assert "history" not in schemas[name]["properties"]
    assert not any("History" in name and name.endswith("Request") for name in schemas)


# --- Parameters ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["operator", "operator_country", "q"])
def test_an_empty_filter_is_refused_by_the_schema_and_the_server(anon, published, openapi_document, name):
    schema = parameter(openapi_document, "/api/v1/projects", name)["schema"]
    item = schema.get("items", schema)
    assert item["minLength"] == 1
    problem = assert_problem(anon.get(f"/api/v1/projects?{name}="), 400)
    assert error_fields(problem) == {name}


def test_q_is_limited_to_200_characters_in_the_schema_and_the_server(anon, published, openapi_document):
    assert parameter(openapi_document, "/api/v1/projects", "q")["schema"]["maxLength"] == 200
    assert anon.get("/api/v1/projects?q=" + "a" * 200).status_code == 200
    assert error_fields(assert_problem(anon.get("/api/v1/projects?q=" + "a" * 201), 400)) == {"q"}


def test_any_country_code_is_a_filter_value_even_without_operators(anon, published, openapi_document):
    enum = parameter(openapi_document, "/api/v1/projects", "operator_country")["schema"]["items"]["enum"]
    assert {"JP", "NZ", "EU", "ZZ"} <= set(enum)
    response = anon.get("/api/v1/projects?operator_country=NZ")
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert_problem(anon.get("/api/v1/projects?operator_country=XX"), 400)


def test_orderings_have_names_a_generated_client_can_use(openapi_document):
    items = parameter(openapi_document, "/api/v1/rankings", "ordering")["schema"]["items"]
    names = dict(zip(items["enum"], items["x-enum-varnames"], strict=True))
    assert names["-net_score"] == "NET_SCORE_DESC"
    assert names["name"] == "NAME"
    assert len(set(names.values())) == len(names)


# --- Preconditions, security, headers --------------------------------------------------------


def test_if_match_is_required_where_its_absence_is_a_428(writer, published, openapi_document):
    def if_match(path: str, method: str) -> dict:
        return next(
            p for p in operation(openapi_document, path, method)["parameters"] if p["name"] == "If-Match"
        )

    for path, method in [
        ("/api/v1/projects/{slug}", "put"),
        ("/api/v1/projects/{slug}", "patch"),
        ("/api/v1/projects/{slug}/assessments/{code}", "delete"),
    ]:
        assert if_match(path, method)["required"] is True
    assert writer.patch("/api/v1/projects/alpha", {"name": "X"}, format="json").status_code == 428
    # Rating a criterion not yet rated needs none (201): optional there, and said so.
    assert if_match("/api/v1/projects/{slug}/assessments/{code}", "put")["required"] is False


def test_reads_need_no_key_and_writes_do(openapi_document):
    for path, operations in openapi_document["paths"].items():
        for method, op in operations.items():
            assert op["security"] == ([] if method == "get" else [{"ApiKey": []}]), (method, path)


def test_the_headers_the_server_sends_are_documented(anon, published, openapi_document):
    responses = operation(openapi_document, "/api/v1/projects/{slug}", "get")["responses"]
    documented = set(responses["200"]["headers"])
    served = anon.get("/api/v1/projects/alpha")
    for name in documented:
        assert served.has_header(name), name
    assert {"ETag", "Last-Modified", "RateLimit-Remaining"} <= documented
    assert "Retry-After" in responses["429"]["headers"]
    created = operation(openapi_document, "/api/v1/projects", "post")["responses"]["201"]["headers"]
    assert {"ETag", "Location"} <= set(created)


# --- Shapes ----------------------------------------------------------------------------------


def test_every_key_of_every_response_component_is_required(openapi_document):
    for name, component in openapi_document["components"]["schemas"].items():
        if name.endswith("Request") or "properties" not in component or name == "Problem":
            continue
        assert set(component["required"]) == set(component["properties"]), name


def test_no_value_in_a_response_is_left_untyped(openapi_document):
    untyped = []

    def walk(node, where):
        if isinstance(node, dict):
            keys = set(node) - {"description", "readOnly", "title", "nullable", "default"}
            if not keys and node.get("description") is not None:
                untyped.append(where)
            for key, value in node.items():
                if key == "properties":
                    for child, schema in value.items():
                        walk(schema, f"{where}.{child}")
                elif key in ("items", "additionalProperties") and isinstance(value, dict):
                    walk(value, f"{where}.{key}")

    for name, component in openapi_document["components"]["schemas"].items():
        walk(component, name)
    assert untyped == []


def test_the_json_export_matches_its_documented_shape(anon, published, openapi_document):
    response = anon.get("/api/v1/export/projects.json")
    document = json.loads(b"".join(response.streaming_content))
    validator = component_validator(openapi_document, "ExportDocument")
    assert list(validator.iter_errors(document)) == []
    assert len(document["projects"]) == 5


def test_the_examples_are_real_values_the_server_accepts(writer, published, openapi_document):
    schemas = openapi_document["components"]["schemas"]
    for name in (
        "RatingWriteRatedWithSourceRequest",
        "RatingWriteRatedRequest",
        "RatingWriteNotApplicableRequest",
    ):
        example = schemas[name]["example"]
        assert component_validator(openapi_document, name).is_valid(example)
        url = RATING.format(code="S7.1")
        response = writer.put(url, example, format="json", HTTP_IF_MATCH=writer.get(url)["ETag"])
        assert response.status_code == 200, (name, response.content[:300])
    q = parameter(openapi_document, "/api/v1/projects", "q")
    assert q["example"] == "oxygen"
