"""Every operation of the OpenAPI schema has a description written for API users, and none is a
docstring of the code (a view's, a mixin's or an action's), which is written for developers."""

import inspect

import pytest
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def code_docstrings(path: str) -> set[str]:
    """The docstrings of the view serving ``path`` and of every class it is made of."""
    examples = {"{slug}": "x", "{code}": "S7.1", "{version}": "1.0", "{id}": "1", "{delivery}": "1"}
    for name, value in examples.items():
        path = path.replace(name, value)
    view = resolve(path).func
    view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
    docs = set()
    for klass in inspect.getmro(view_class):
        docs.add(inspect.getdoc(klass) or "")
        docs.update(
            inspect.getdoc(member) or "" for _, member in inspect.getmembers(klass, inspect.isfunction)
        )
    return {" ".join(doc.split()) for doc in docs if doc}


def operations(schema):
    for path, items in schema["paths"].items():
        for method, operation in items.items():
            yield path, method, operation


def test_every_operation_has_a_summary_and_a_description(schema):
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if not operation.get("summary") or not operation.get("description")
    ]
    assert missing == []


def test_no_description_is_a_docstring_of_the_code(schema):
    leaked = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(schema)
        if " ".join(operation["description"].split()) in code_docstrings(path)
    ]
    assert leaked == []
