"""Bad input changes nothing (issue 5): malformed files and API bodies are refused, by name.

Hypothesis starts from VALID input — the demo data's own export for files, and API bodies built
from its project records — and breaks it one way at a time: a value of the wrong JSON type at any
path, numbers out of range or of the wrong kind, unknown criterion codes and vocabulary values,
unknown keys, missing required keys, huge strings, NUL and lone surrogates, duplicated criteria,
deep nesting, top-level non-objects and hollow documents, duplicated slugs and conflicting
operators in one file; and, as raw bytes, invalid UTF-8, truncated JSON, junk, oversized files and
JSON bombs.

Every refusal must be a named error — InterchangeError / CommandError naming the project and the
field, or a 4xx problem document whose ``errors`` name the field — never a 5xx nor any other
exception, and a digest of every table of the app must be the same before and after.

Hypothesis runs every example inside the one test transaction, so each example runs in a savepoint
that is rolled back after the digest is compared: no example can see what another left behind.
"""

import contextlib
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from urllib.parse import quote

import hypothesis
import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils.http import parse_etags
from hypothesis import HealthCheck, assume
from hypothesis import strategies as st
from rest_framework.test import APIClient

from projects.interchange import FORMAT
from projects.interchange.exporter import projects_export
from projects.interchange.importer import InterchangeError, projects_import
from projects.models import ApiKey, Assessment
from projects.vocabularies import EvidenceGrade, OperatorKind, Origin, Phase, Resource, TargetBody
from tests.support.actors import key_owner, reviewer_user
from tests.support.criteria import ALL_CODES
from tests.support.examples import examples as scaled
from tests.support.shared_data import built_once

pytestmark = [
    pytest.mark.django_db(transaction=False),
    # Hypothesis reports failing examples with their arguments, and some are 100 kB strings.
    pytest.mark.filterwarnings("ignore:Generating overly large repr"),
]

PROBLEM_JSON = "application/problem+json"
METHOD_VERSION = "1.0"
CODES = frozenset(ALL_CODES)
SLUG_PATTERN = re.compile(r"[-a-zA-Z0-9_]+")
COUNTRY_PATTERN = re.compile(r"[A-Z]{2}")
CHOICES = {
    "target_body": frozenset(TargetBody.values),
    "phase": frozenset(Phase.values),
    "origin": frozenset(Origin.values),
    "operator_kind": frozenset(OperatorKind.values),
    "resource": frozenset(Resource.values),
    "grade": frozenset(EvidenceGrade.values),
}


def examples(count: int):
    return hypothesis.settings(
        max_examples=scaled(count),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


# ---------------------------------------------------------------------------------------------
# The database digest


# Written by authentication on every request with a key, good or bad: bookkeeping, not input.
IGNORED_COLUMNS = {"projects_apikey": {"last_used_at"}}


def app_models() -> list:
    models = apps.get_app_config("projects").get_models(include_auto_created=True)
    return sorted(models, key=lambda model: model._meta.db_table)


def database_digest() -> dict[str, str]:
    """Per table of the app: its row count and a SHA-256 of every row as the database returns it
    (plain SQL: no field conversion to hide a difference), in primary-key order."""
    quote = connection.ops.quote_name
    digest = {}
    with connection.cursor() as cursor:
        for model in app_models():
            table = model._meta.db_table
            ignored = IGNORED_COLUMNS.get(table, set())
            kept = [field.column for field in model._meta.concrete_fields if field.column not in ignored]
            columns = ", ".join(quote(column) for column in kept)
            order = quote(model._meta.pk.column)
            cursor.execute(f"SELECT {columns} FROM {quote(table)} ORDER BY {order}")  # noqa: S608 (model names)
            rows = cursor.fetchall()
            text = repr(rows).encode("utf-8", "surrogatepass")
            digest[table] = f"{len(rows)} rows, sha256 {hashlib.sha256(text).hexdigest()}"
    return digest


@contextlib.contextmanager
def rolled_back():
    """Whatever happens inside is undone (a savepoint of the test's transaction)."""
    savepoint = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(savepoint)


@contextlib.contextmanager
def nothing_changes(world):
    """Run one malformed input; the digest must not move, and whatever happened is rolled back."""
    assert database_digest() == world.baseline, "an earlier example left changes behind"
    with rolled_back():
        yield
        after = database_digest()
    assert after == world.baseline


# ---------------------------------------------------------------------------------------------
# The seeded world: demo data, a write key, and the valid input every corruption starts from


@dataclass(repr=False)
class World:
    document: dict
    client: APIClient
    baseline: dict
    file: Path
    _etags: dict = field(default_factory=dict)

    def __repr__(self) -> str:  # Hypothesis prints the arguments of a failing example
        return f"World({len(self.document['projects'])} demo projects and a write key)"

    @cached_property
    def records(self) -> list[dict]:
        """The export's project records as API bodies (the score is not writable)."""
        return [{k: v for k, v in record.items() if k != "score"} for record in self.document["projects"]]

    @cached_property
    def slugs(self) -> list[str]:
        return [record["slug"] for record in self.records]

    def etag(self, url: str) -> str:
        if url not in self._etags:
            response = self.client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            self._etags[url] = response["ETag"]
        return self._etags[url]


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo data as load_demo writes it, once for the module (every test here takes it;
    tests/support/shared_data.py)."""
    with built_once(django_db_blocker, lambda: call_command("load_demo", stdout=io.StringIO())):
        yield


@pytest.fixture
def world(demo_data, db, tmp_path) -> World:
    cache.clear()  # throttle counts
    _, key = ApiKey.issue(
        owner=key_owner(), name="Bad input prober", scope="write", throttle_rate="9999999/hour"
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    document = json.loads("".join(projects_export()))
    assert len(document["projects"]) == 14
    yield World(document=document, client=client, baseline=database_digest(), file=tmp_path / "bad.json")
    cache.clear()


# ---------------------------------------------------------------------------------------------
# The shape of valid input: objects are dicts, lists are [item spec], leaves are kind names

OPERATOR = {"name": "text", "country": "country", "kind": "operator_kind"}
ASSESSMENT = {
    "criterion": "code",
    "rating": "rating",
    "not_applicable": "flag",
    "evidence": "text",
    "evidence_grade": "grade",
    "source_url": "source_url",
}
RATING = {key: kind for key, kind in ASSESSMENT.items() if key != "criterion"}  # PUT …/assessments/{code}
PROJECT = {
    "slug": "slug",
    "name": "text",
    "operator": OPERATOR,
    "target_body": "target_body",
    "resources": ["resource"],
    "phase": "phase",
    "launch_year": "year",
    "origin": "origin",
    "summary": "text",
    "summary_ja": "text",
    "links": ["link"],
    "assessments": [ASSESSMENT],
}
DOCUMENT = {"format": "format", "methodology": "methodology", "projects": [PROJECT]}
STRING_KINDS = {"text", "slug", "code", "country", "link", "source_url", "format", "methodology", *CHOICES}
CONSTRAINED_KINDS = STRING_KINDS - {"text"}
SAMPLE = {  # a valid value of each string kind, for slots that are empty in the valid input
    "text": "Illustrative evidence.",
    "grade": "B",
    "source_url": "https://example.org/source",
    "resource": "regolith",
    "link": "https://example.org/mission",
}
MISSING = object()
DELETE = object()


@dataclass(frozen=True)
class Node:
    path: tuple
    spec: object  # dict, list or leaf kind
    present: bool  # False: a slot where an optional key or one more list item may go

    def __repr__(self) -> str:
        shape = self.spec if isinstance(self.spec, str) else type(self.spec).__name__
        return f"Node({field_name(self.path) or '(root)'}, {shape}{'' if self.present else ', slot'})"

    def _repr_pretty_(self, printer, cycle) -> None:  # Hypothesis's printer, for failing examples
        printer.text(repr(self))


def leaf(node: Node) -> str | None:
    return node.spec if isinstance(node.spec, str) else None


def walk(value, spec, path=()):
    yield Node(path, spec, True)
    if isinstance(spec, dict) and isinstance(value, dict):
        for key, child in spec.items():
            if key in value:
                yield from walk(value[key], child, (*path, key))
            elif spec is ASSESSMENT or spec is RATING:
                yield Node((*path, key), child, False)
    elif isinstance(spec, list) and isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, spec[0], (*path, index))
        if isinstance(spec[0], str):
            yield Node((*path, len(value)), spec[0], False)


def at(root, path):
    for part in path:
        root = root[part]
    return root


def replace(root, path, make):
    """A copy of root with make(old) at path (old is MISSING for a slot), or the key removed when
    make returns DELETE. Containers along the path are copied; everything else is shared."""
    if not path:
        return make(root)
    key, rest = path[0], path[1:]
    clone = list(root) if isinstance(root, list) else dict(root)
    if isinstance(clone, list) and key == len(clone):
        clone.append(MISSING)
    old = clone.get(key, MISSING) if isinstance(clone, dict) else clone[key]
    new = replace(old, rest, make)
    if new is DELETE:
        del clone[key]
    else:
        clone[key] = new
    return clone


def field_name(path) -> str:
    """The API's and the importer's name of a place: operator.country, assessments[3].rating."""
    name = ""
    for part in path:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else str(part))
    return name


def names(actual: str, expected: str) -> bool:
    """actual names the place expected, or something inside it."""
    # A surrogate pair written as two JSON escapes is read back as the one character it encodes.
    expected = expected.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    return actual == expected or (
        actual.startswith(expected) and actual[len(expected) : len(expected) + 1] in ".["
    )


# ---------------------------------------------------------------------------------------------
# Values

EDGY_CHARACTERS = [
    "\x00",  # NUL
    "\ud800",  # lone high surrogate (reaches JSON as the escape \ud800)
    "\udfff",  # lone low surrogate
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u200b",  # zero-width space
    "\u0301",  # combining acute accent
    "\ufeff",  # byte-order mark
    "\u3000",  # ideographic space
    "\xa0",  # no-break space
    "\U0001f680",  # emoji
    "\U0001f1ef\U0001f1f5",  # flag: two regional indicators
    "\U0010ffff",  # the last code point
    "\uff4d",  # fullwidth m
    "\n",
    "\t",
    "\\",
    '"',
    "/",
    "%",
    "\x7f",
]
edgy_text = st.lists(st.one_of(st.sampled_from(EDGY_CHARACTERS), st.characters()), max_size=12).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([2.5, 2.0, 1e308, -0.0, 2027.0]),
    edgy_text,
    st.sampled_from(["2", "2027", "", "true", "null", "moon", "S7.1"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(edgy_text, inner, max_size=3),
    max_leaves=8,
)


def json_kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    for kind, types in (("integer", int), ("float", float), ("string", str), ("array", list)):
        if isinstance(value, types):
            return kind
    return "object"


def fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


MUTATIONS = [
    str.upper,
    str.title,
    fullwidth,
    lambda v: v + "\u200f",
    lambda v: "\u202e" + v,
    lambda v: v + "\u200b",
    lambda v: v[:1] + "\u0301" + v[1:],
    lambda v: v + "\x00",
    lambda v: v[:1] + "\ud800" + v[1:],
    lambda v: v + "\U0001f680",
    lambda v: v.replace("a", "\u0430").replace("o", "\u043e"),  # Cyrillic look-alikes
    lambda v: v.replace("_", "-").replace(".", ""),
    lambda v: v[:-1],
    lambda v: v + v,
    lambda v: " " + v + "!",
    lambda v: "",
]
mutation = st.sampled_from(MUTATIONS)

BAD_LINKS = [
    "ftp://example.org/x",
    "javascript:alert(1)",
    "http://",
    "https://",
    "//example.org/x",
    "example.org",
    "http:// example.org",
    "http://exa mple.org",
    "mailto:team@example.org",
    "file:///etc/passwd",
    "data:text/html,x",
    "https://example",
    "https://-example.org/",
    "https://example.org/\x00",
    "http://\ud800.org",
    "https://example.org/" + "a" * 500,
]
BAD_SOURCE_URLS = [link for link in BAD_LINKS if not link.startswith("ftp:")]


def valid(kind: str, value: str) -> bool:
    """Whether the schema accepts a string of this kind (strings are stripped, choices are not)."""
    stripped = value.strip()
    if kind == "slug":
        return bool(SLUG_PATTERN.fullmatch(stripped)) and len(stripped) <= 100
    if kind == "code":
        return stripped in CODES
    if kind == "country":
        return bool(COUNTRY_PATTERN.fullmatch(stripped))
    if kind == "format":
        return value == FORMAT
    if kind == "methodology":
        return value == METHOD_VERSION
    return value in CHOICES[kind]


VALID_VALUES = {
    "slug": ["hera", "hakuto-r-m2", "interlune-he3"],
    "code": sorted(CODES),
    "country": ["JP", "US", "EU"],
    "format": [FORMAT],
    "methodology": [METHOD_VERSION],
    **{kind: sorted(values) for kind, values in CHOICES.items()},
}


def bad_strings(kind: str):
    """Strings the schema must refuse for a constrained kind: near misses, unicode tricks, junk."""
    if kind == "link":
        return st.one_of(st.sampled_from(BAD_LINKS), edgy_text.filter(lambda v: ":" not in v))
    if kind == "source_url":
        return st.one_of(
            st.sampled_from(BAD_SOURCE_URLS), edgy_text.filter(lambda v: ":" not in v and v.strip())
        )
    near_misses = st.builds(
        lambda value, change: change(value), st.sampled_from(VALID_VALUES[kind]), mutation
    )
    extra = st.nothing()
    if kind == "slug":  # very long slugs, and slugs with characters a slug cannot have
        extra = st.one_of(
            st.integers(min_value=101, max_value=5000).map(lambda n: "a" * n),
            st.sampled_from(["not a slug", "a/b", "../etc", "a.b", "hera?", "hera#x", "h\u00e9ra"]),
        )
    return st.one_of(near_misses, edgy_text, extra).filter(lambda v: not valid(kind, v))


@dataclass
class Bad:
    """A corrupted input and the place its error must name."""

    value: object
    path: tuple
    mention: str | None = None  # more text the error must contain
    status: int = 400  # for the API


# ---------------------------------------------------------------------------------------------
# Corruptions. Each takes the valid input and returns a Bad that no reading of the rules accepts.


@dataclass
class Target:
    root: object
    spec: dict
    context: str  # "file", "post", "put", "patch" or "rating"

    @cached_property
    def nodes(self) -> list[Node]:
        return list(walk(self.root, self.spec))

    def select(self, data, label: str, keep) -> Node:
        chosen = [node for node in self.nodes if keep(node)]
        assume(chosen)
        return data.draw(st.sampled_from(chosen), label=label)

    def allowed_keys(self, spec: dict) -> set[str]:
        return set(spec) | ({"score"} if spec is PROJECT and self.context == "file" else set())

    def required_keys(self, node: Node) -> set[str]:
        value = at(self.root, node.path)
        if node.spec is DOCUMENT:
            return {"format", "projects"}
        if node.spec is PROJECT:
            if node.path == () and self.context == "patch":
                return set()
            required = {"slug", "name", "operator", "target_body", "phase"}
            return required - {"slug"} if node.path == () and self.context == "put" else required
        if node.spec is OPERATOR:
            return {"name", "country", "kind"}
        rating = (
            {"not_applicable"} if value.get("not_applicable") else {"rating", "evidence", "evidence_grade"}
        )
        return rating | ({"criterion"} if node.spec is ASSESSMENT else set())

    def not_applicable_item(self, path) -> bool:
        parent = at(self.root, path[:-1])
        return isinstance(parent, dict) and parent.get("not_applicable") is True


def wrong_type(data, target: Target) -> Bad:
    node = target.select(data, "node", lambda node: True)
    spec = node.spec

    def wrong(value) -> bool:
        kind = json_kind(value)
        if isinstance(spec, dict):
            return kind != "object"
        if isinstance(spec, list):
            return kind != "array"
        if spec == "rating":  # null is "no level": right only for a criterion not applicable
            return kind != "integer" and not (kind == "null" and target.not_applicable_item(node.path))
        if spec == "grade":  # a not-applicable rating is written back as read: its grade null
            return kind != "string" and not (kind == "null" and target.not_applicable_item(node.path))
        if spec == "year":
            return kind not in ("integer", "null")
        if spec == "flag":
            return kind != "boolean"
        return kind != "string"

    value = data.draw(json_values.filter(wrong), label="value")
    return Bad(replace(target.root, node.path, lambda old: value), node.path)


def bad_number(data, target: Target) -> Bad:
    node = target.select(data, "node", lambda node: leaf(node) in ("rating", "year"))
    numbers = st.one_of(
        st.integers(min_value=-(10**40), max_value=10**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from([2.0, 2.5, 1e308, -1, 5, 1956, 2101, 4.000001, 2027.0]),
        st.integers(min_value=-5, max_value=2200).map(str),
        st.sampled_from(["2", " 2", "2.0", "0x2", "\u0662", "2027", "1e3"]),
    )

    def acceptable(value) -> bool:
        if json_kind(value) != "integer":
            return False
        if node.spec == "year":
            return 1957 <= value <= 2100
        return 0 <= value <= 4 and not target.not_applicable_item(node.path)

    value = data.draw(numbers.filter(lambda v: not acceptable(v)), label="value")
    return Bad(replace(target.root, node.path, lambda old: value), node.path)


def unknown_value(data, target: Target) -> Bad:
    """Unknown criterion codes and vocabulary values, non-slugs, bad countries, links, format."""
    node = target.select(data, "node", lambda node: leaf(node) in CONSTRAINED_KINDS)
    value = data.draw(bad_strings(node.spec), label="value")
    return Bad(replace(target.root, node.path, lambda old: value), node.path)


def unknown_key(data, target: Target) -> Bad:
    node = target.select(data, "node", lambda node: isinstance(node.spec, dict) and node.present)
    allowed = target.allowed_keys(node.spec)
    keys = st.one_of(
        edgy_text,
        st.builds(lambda key, change: change(key), st.sampled_from(sorted(node.spec)), mutation),
        st.sampled_from(["score", "criterion", "id", "state", "published_at", "__proto__", "notApplicable"]),
        st.integers(min_value=1000, max_value=100_000).map(lambda n: "k" * n),
    )
    key = data.draw(keys.filter(lambda key: key not in allowed), label="key")
    value = data.draw(json_values, label="value")
    path = (*node.path, key)
    return Bad(replace(target.root, path, lambda old: value), path)


def missing_key(data, target: Target) -> Bad:
    node = target.select(
        data,
        "node",
        lambda node: (
            isinstance(node.spec, dict)
            and node.present
            and target.required_keys(node) & set(at(target.root, node.path))
        ),
    )
    present = target.required_keys(node) & set(at(target.root, node.path))
    key = data.draw(st.sampled_from(sorted(present)), label="key")
    named = "rating" if key == "not_applicable" else key  # without the flag, a rating is missing
    return Bad(replace(target.root, (*node.path, key), lambda old: DELETE), (*node.path, named))


def huge_string(data, target: Target) -> Bad:
    node = target.select(data, "node", lambda node: leaf(node) in STRING_KINDS)
    size = data.draw(st.integers(min_value=10_001, max_value=100_000), label="size")
    character = data.draw(st.sampled_from(["a", "-", "0", "\u00e9", "\u8a9e", "\U0001f680", "\u202e"]))
    return Bad(replace(target.root, node.path, lambda old: character * size), node.path)


def nul_or_surrogate(data, target: Target) -> Bad:
    node = target.select(data, "node", lambda node: leaf(node) in STRING_KINDS)
    bad = data.draw(st.sampled_from(["\x00", "\ud800", "\udfff", "\udc00"]), label="character")

    def insert(old):
        base = old if isinstance(old, str) else SAMPLE.get(node.spec, "x")
        position = data.draw(st.integers(min_value=0, max_value=len(base)), label="position")
        return base[:position] + bad + base[position:]

    return Bad(replace(target.root, node.path, insert), node.path)


def duplicated_criterion(data, target: Target) -> Bad:
    node = target.select(
        data, "list", lambda node: node.spec == [ASSESSMENT] and len(at(target.root, node.path)) > 0
    )
    items = at(target.root, node.path)
    first = data.draw(st.integers(min_value=0, max_value=len(items) - 1), label="first")
    code = items[first]["criterion"]
    code = data.draw(st.sampled_from([code, f" {code}", f"{code}\t", f"{code}\u3000"]), label="code")
    if data.draw(st.booleans(), label="append a copy"):
        copy = {**items[first], "criterion": code}
        path = (*node.path, len(items))
        return Bad(replace(target.root, path, lambda old: copy), (*path, "criterion"))
    assume(len(items) > 1)
    second = data.draw(st.integers(min_value=0, max_value=len(items) - 1).filter(lambda i: i != first))
    later = (*node.path, max(first, second), "criterion")
    return Bad(replace(target.root, (*node.path, second, "criterion"), lambda old: code), later)


def deep_nesting(data, target: Target) -> Bad:
    """Lists in lists or objects in objects, as deep as a JSON parser still reads (see also the
    100 000-level bombs below), where any value belongs."""
    node = target.select(data, "node", lambda node: node.present and node.path != ())
    depth = data.draw(st.integers(min_value=2, max_value=400), label="depth")
    nested = data.draw(scalars, label="innermost")
    as_objects = data.draw(st.booleans(), label="objects")
    for _ in range(depth):
        nested = {"a": nested} if as_objects else [nested]
    return Bad(replace(target.root, node.path, lambda old: nested), node.path)


FAMILIES = {
    "wrong_type": wrong_type,
    "bad_number": bad_number,
    "unknown_value": unknown_value,
    "unknown_key": unknown_key,
    "missing_key": missing_key,
    "huge_string": huge_string,
    "nul_or_surrogate": nul_or_surrogate,
    "duplicated_criterion": duplicated_criterion,
    "deep_nesting": deep_nesting,
}


# Corruptions only a whole file can have


def duplicated_slug(data, target: Target) -> Bad:
    projects = target.root["projects"]
    first, second = data.draw(
        st.lists(st.integers(min_value=0, max_value=len(projects) - 1), min_size=2, max_size=2, unique=True),
        label="projects",
    )
    slug = projects[first]["slug"]
    slug = data.draw(st.sampled_from([slug, f" {slug}", f"{slug}\n", f"{slug}\u3000"]), label="slug")
    document = replace(target.root, ("projects", second, "slug"), lambda old: slug)
    later, earlier = max(first, second), min(first, second)
    return Bad(document, ("projects", later, "slug"), mention=f"also used by projects[{earlier}]")


def conflicting_operator(data, target: Target) -> Bad:
    """Operators are keyed by name: one name must not come with two countries or kinds."""
    projects = target.root["projects"]
    first = data.draw(st.integers(min_value=0, max_value=len(projects) - 2), label="first")
    operator = projects[first]["operator"]
    assume(all(p["operator"]["name"] != operator["name"] for p in projects[:first]))  # its first use
    later = data.draw(st.integers(min_value=first + 1, max_value=len(projects) - 1), label="later")
    country = data.draw(st.sampled_from(["JP", "US", "EU", "CN", "LU", "IN"]), label="country")
    kind = data.draw(st.sampled_from(sorted(CHOICES["operator_kind"])), label="kind")
    assume((country, kind) != (operator["country"], operator["kind"]))
    other = {"name": operator["name"], "country": country, "kind": kind}
    document = replace(target.root, ("projects", later, "operator"), lambda old: other)
    return Bad(document, ("projects", later, "operator"), mention=f"projects[{first}]")


def hollow_document(data, target: Target) -> Bad:
    """Empty, partial and non-object documents."""
    document, path = data.draw(
        st.sampled_from(
            [
                ({}, ("format",)),
                ({"format": FORMAT}, ("projects",)),
                ({"projects": []}, ("format",)),
                ({"format": FORMAT, "projects": [{}]}, ("projects", 0, "slug")),
                ({"format": FORMAT, "projects": [None]}, ("projects", 0)),
                ({"format": FORMAT, "projects": {}}, ("projects",)),
                ([], ()),
                ("", ()),
                (None, ()),
                (0, ()),
                (FORMAT, ()),
                ([target.root], ()),
            ]
        ),
        label="document",
    )
    return Bad(document, path)


FILE_FAMILIES = {
    **FAMILIES,
    "duplicated_slug": duplicated_slug,
    "conflicting_operator": conflicting_operator,
    "hollow_document": hollow_document,
}


# ---------------------------------------------------------------------------------------------
# Checks


def label_of(document, index: int) -> str:
    """How the importer names projects[index]: by position, and by slug when it has one."""
    raw = document["projects"][index]
    slug = raw.get("slug") if isinstance(raw, dict) else None
    return f"projects[{index}]" + (f" {slug!r}" if isinstance(slug, str) else "")


def expected_start(document, path) -> str:
    if not path:
        return "The file must hold a JSON object"
    if path[0] == "projects" and len(path) > 1:
        where = field_name(path[2:])
        return label_of(document, path[1]) + (f": {where}" if where else "")
    return str(path[0])


def assert_names_place(lines: list[str], bad: Bad) -> None:
    start = expected_start(bad.value, bad.path)
    # A surrogate pair written as two JSON escapes is read back as the one character it encodes.
    start = start.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    hits = [line for line in lines if line.startswith(start) and line[len(start) : len(start) + 1] in ":.[ "]
    assert hits, f"no error names {start!r}: {[line[:200] for line in lines[:10]]}"
    if bad.mention:
        assert any(bad.mention in line.split("\n")[0] for line in hits), (bad.mention, hits[:3])


def command_problems(message: str) -> list[str]:
    """The problems a CommandError lists, one per "\n  " line; as suffixes of the message, so that
    a line holding a newline of its own (an unknown key may) still starts one of them."""
    parts = message.split("\n  ")
    return ["\n  ".join(parts[index:]) for index in range(1, len(parts))]


def encode(value, data) -> bytes:
    """JSON bytes, with non-ASCII written raw or escaped; lone surrogates can only be escapes."""
    if data.draw(st.booleans(), label="raw UTF-8"):
        try:
            return json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            pass
    return json.dumps(value).encode("ascii")


def assert_problem(response, *, status: int | None = None, field: str | None = None) -> dict:
    """A 4xx problem document (RFC 9457); for a 400 about a field, its errors name that field."""
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:500])
    if status is not None:
        assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].split(";")[0] == PROBLEM_JSON, response["Content-Type"]
    problem = json.loads(response.content)
    assert problem["status"] == response.status_code
    assert isinstance(problem["title"], str) and problem["title"]
    assert isinstance(problem["detail"], str) and problem["detail"]
    if field is not None:
        fields = [error["field"] for error in problem["errors"]]
        assert all(error["message"] for error in problem["errors"])
        assert any(names(actual, field) for actual in fields), (field, fields[:10])
    return problem


def send(client, method: str, url: str, body: bytes, content_type="application/json", **headers):
    return client.generic(method, url, body, content_type=content_type, **headers)


# ---------------------------------------------------------------------------------------------
# The digest itself


def test_the_digest_covers_every_table_of_the_app_and_sees_a_single_changed_field(world):
    tables = {name for name in connection.introspection.table_names() if name.startswith("projects_")}
    assert set(world.baseline) == tables
    for table in [
        "projects_operator",
        "projects_project",
        "projects_assessment",
        "projects_scorecard",
        "projects_methodology",
        "projects_criterion",
        "projects_apikey",
    ]:
        assert not world.baseline[table].startswith("0 rows"), table
    with rolled_back():
        assessment = Assessment.objects.order_by("pk").last()
        Assessment.objects.filter(pk=assessment.pk).update(justification=assessment.justification + ".")
        changed = {table for table, value in database_digest().items() if value != world.baseline[table]}
    assert changed == {"projects_assessment"}
    assert database_digest() == world.baseline


def test_the_valid_inputs_the_corruptions_start_from_are_accepted(world):
    """Otherwise a corruption could be refused for a fault of the input it started from. The
    export and the records re-import as no-ops; the changed file and writes do change data."""
    with rolled_back():
        result = projects_import(
            json.loads(json.dumps(world.document)),
            publish=True,
            reviewer=reviewer_user(),
            note="Test publication.",
        )
        assert (result.created, result.updated, len(result.unchanged)) == ([], [], 14)
        assert database_digest() == world.baseline
    with rolled_back():
        world.file.write_bytes(changed_file(world))
        call_command("import_projects", str(world.file), "--user", "tester", stdout=io.StringIO())
        assert database_digest() != world.baseline
    for record in world.records:
        url = f"/api/v1/projects/{record['slug']}"
        with rolled_back():
            response = send(
                world.client, "PUT", url, json.dumps(record).encode(), HTTP_IF_MATCH=world.etag(url)
            )
            assert response.status_code == 200, (url, response.content[:500])
        for item in record["assessments"][:1] + [i for i in record["assessments"] if i.get("not_applicable")]:
            rating_url = f"{url}/assessments/{item['criterion']}"
            body = {k: v for k, v in item.items() if k != "criterion"}
            with rolled_back():
                response = send(
                    world.client,
                    "PUT",
                    rating_url,
                    json.dumps(body).encode(),
                    HTTP_IF_MATCH=world.etag(rating_url),
                )
                assert response.status_code == 200, (rating_url, response.content[:500])
    assert database_digest() == world.baseline
    for method, url, body, headers in valid_writes(world):
        with rolled_back():
            response = send(world.client, method, url, body, **headers)
            assert response.status_code in (200, 201), (method, url, response.content[:500])
            assert database_digest() != world.baseline


# ---------------------------------------------------------------------------------------------
# Interchange files: the importer and the command


@pytest.mark.parametrize("family", sorted(FILE_FAMILIES))
@examples(12)
@hypothesis.given(data=st.data())
def test_a_corrupted_interchange_file_is_refused_naming_project_and_field_and_nothing_changes(
    world, family, data
):
    bad = FILE_FAMILIES[family](data, Target(world.document, DOCUMENT, "file"))
    raw = encode(bad.value, data)
    publish = data.draw(st.booleans(), label="--publish")
    with nothing_changes(world):
        with pytest.raises(InterchangeError) as refused:
            projects_import(
                json.loads(raw), publish=publish, reviewer=reviewer_user(), note="Test publication."
            )
        assert_names_place(refused.value.errors, bad)
    with nothing_changes(world):
        world.file.write_bytes(raw)
        arguments = (
            ["--publish", "--reviewer", reviewer_user().username, "--note", "Test publication."]
            if publish
            else []
        )
        with pytest.raises(CommandError) as refused:
            call_command(
                "import_projects", str(world.file), "--user", "tester", *arguments, stdout=io.StringIO()
            )
        message = str(refused.value)
        assert message.startswith(f"{world.file}: nothing was imported; ")
        assert_names_place(command_problems(message), bad)


def changed_file(world) -> bytes:
    """A valid file that WOULD change the database: one project renamed, one rating moved. Without
    the scores (ignored on import), so that every number in it is a rating or a launch year."""
    document = {**world.document, "projects": world.records}
    document = replace(document, ("projects", 0, "name"), lambda old: old + " (renamed, \u00e9)")
    document = replace(
        document, ("projects", 0, "assessments", 0, "rating"), lambda old: 4 if old != 4 else 3
    )
    return json.dumps(document, ensure_ascii=False, indent=1).encode("utf-8")


RAW_REFUSAL = re.compile(
    r"not UTF-8 text \(byte \d+\)\.|not valid JSON: .+ at line \d+, column \d+\.|nothing was imported; "
)
INVALID_UTF8 = [b"\xff", b"\xc3(", b"\xed\xa0\x80", b"\xc0\xaf", b"\xf8\x88\x80\x80\x80", b"\x80"]


def raw_corruptions(valid: bytes, *, empty_allowed: bool):
    """Bytes that are not a JSON text: truncated, undecodable, junk, BOM, trailing data, NaN."""
    cut = st.integers(min_value=0 if empty_allowed else 1, max_value=len(valid) - 1)
    positions = st.integers(min_value=0, max_value=len(valid))
    numbers = [m.end() for m in re.finditer(rb'"(?:rating|launch_year)": ?(?=[0-9])', valid)]
    not_numbers = st.nothing()
    if numbers:
        not_numbers = st.builds(
            lambda i, word: valid[:i] + word + valid[i:].lstrip(b"0123456789"),
            st.sampled_from(numbers),
            st.sampled_from([b"NaN", b"Infinity", b"-Infinity"]),
        )
    return st.one_of(
        cut.map(lambda n: valid[:n]),
        st.builds(lambda p, b: valid[:p] + b + valid[p:], positions, st.sampled_from(INVALID_UTF8)),
        st.sampled_from(["utf-16", "utf-32", "utf-16-le", "utf-32-be"]).map(
            lambda c: valid.decode().encode(c)
        ),
        st.binary(min_size=0 if empty_allowed else 1, max_size=64),
        st.just(b"\xef\xbb\xbf" + valid),
        st.sampled_from([b"x", b"}", b",{}", b"\x00", b"[]"]).map(lambda tail: valid + tail),
        not_numbers,
    ).filter(lambda raw: raw != valid)


@examples(40)
@hypothesis.given(data=st.data())
def test_a_file_that_is_not_json_text_is_a_command_error_and_nothing_changes(world, data):
    valid = changed_file(world)
    raw = data.draw(raw_corruptions(valid, empty_allowed=True), label="bytes")
    with nothing_changes(world):
        world.file.write_bytes(raw)
        with pytest.raises(CommandError) as refused:
            call_command(
                "import_projects",
                str(world.file),
                "--user",
                "tester",
                "--publish",
                "--reviewer",
                reviewer_user().username,
                "--note",
                "Test.",
                stdout=io.StringIO(),
            )
        message = str(refused.value)
        assert message.startswith(f"{world.file}: ")
        assert RAW_REFUSAL.match(message.removeprefix(f"{world.file}: ")), message[:300]


def test_invalid_utf8_is_named_with_the_offset_of_the_first_bad_byte(world):
    valid = changed_file(world)
    position = valid.index(b'"name"')
    for bad in INVALID_UTF8:
        with nothing_changes(world):
            world.file.write_bytes(valid[:position] + bad + valid[position:])
            with pytest.raises(CommandError, match=rf"not UTF-8 text \(byte {position}\)"):
                call_command("import_projects", str(world.file), "--user", "tester", stdout=io.StringIO())


@examples(10)
@hypothesis.given(data=st.data())
def test_a_file_over_import_max_bytes_is_refused_unread_and_nothing_changes(world, settings, data):
    valid = changed_file(world)
    excess = data.draw(st.integers(min_value=1, max_value=len(valid) - 1), label="bytes over the limit")
    settings.IMPORT_MAX_BYTES = len(valid) - excess
    with nothing_changes(world):
        world.file.write_bytes(valid)
        with pytest.raises(CommandError) as refused:
            call_command(
                "import_projects",
                str(world.file),
                "--user",
                "tester",
                "--publish",
                "--reviewer",
                reviewer_user().username,
                "--note",
                "Test.",
                stdout=io.StringIO(),
            )
        assert str(refused.value) == (
            f"{world.file}: larger than the limit of {len(valid) - excess} bytes (IMPORT_MAX_BYTES)."
        )


@pytest.mark.parametrize(
    "bomb",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"format": "sdgscore.projects/1", "projects": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    ],
    ids=["lists", "objects", "inside-a-document"],
)
def test_a_json_bomb_100000_levels_deep_is_a_clean_command_error(world, bomb):
    with nothing_changes(world):
        world.file.write_bytes(bomb)
        with pytest.raises(CommandError) as refused:
            call_command("import_projects", str(world.file), "--user", "tester", stdout=io.StringIO())
        assert str(refused.value) == f"{world.file}: nested too deeply to be an interchange file."


def test_a_number_too_long_for_python_to_read_is_a_command_error_not_a_crash(world):
    # 5000 digits: over CPython's int conversion limit, so json.loads raises a bare ValueError.
    valid = changed_file(world)
    position = valid.index(b'"launch_year": ') + len(b'"launch_year": ')
    raw = valid[:position] + b"9" * 5000 + valid[position:].lstrip(b"0123456789")
    with nothing_changes(world):
        world.file.write_bytes(raw)
        with pytest.raises(CommandError) as refused:
            call_command("import_projects", str(world.file), "--user", "tester", stdout=io.StringIO())
        assert str(refused.value).startswith(f"{world.file}: ")


# ---------------------------------------------------------------------------------------------
# API: project bodies (POST /projects, PUT and PATCH /projects/{slug})


def existing_slug(data, target: Target) -> Bad:
    """POSTing a project under a slug that is taken (also padded: slugs are stripped) is a 409."""
    slug = data.draw(st.sampled_from([target.root["slug"], f" {target.root['slug']}\n"]), label="slug")
    return Bad(replace(target.root, ("slug",), lambda old: slug), ("slug",), status=409)


PROJECT_FAMILIES = {**FAMILIES, "existing_slug": existing_slug}


@pytest.mark.parametrize("family", sorted(PROJECT_FAMILIES))
@examples(15)
@hypothesis.given(data=st.data())
def test_a_corrupted_project_body_is_a_4xx_naming_the_field_and_nothing_changes(world, family, data):
    index = data.draw(st.integers(min_value=0, max_value=len(world.records) - 1), label="project")
    record = world.records[index]
    slug = record["slug"]
    if family == "existing_slug":
        method = "POST"
    else:
        method = data.draw(st.sampled_from(["POST", "PUT", "PATCH"]), label="method")
    if method == "POST" and family != "existing_slug":  # a new project: if accepted, it would be stored
        record = {**record, "slug": f"{slug}-bis"}
    bad = PROJECT_FAMILIES[family](data, Target(record, PROJECT, method.lower()))
    body = bad.value
    if method == "PATCH" and bad.path and isinstance(body, dict):
        others = data.draw(st.sets(st.sampled_from(sorted(body))), label="other fields")
        body = {key: body[key] for key in {bad.path[0], *others} if key in body}
    url, headers = "/api/v1/projects", {}
    if method != "POST":
        url = f"/api/v1/projects/{slug}"
        headers["HTTP_IF_MATCH"] = world.etag(url)  # right: only the body can be at fault
    with nothing_changes(world):
        response = send(world.client, method, url, encode(body, data), **headers)
        assert_problem(response, status=bad.status, field=field_name(bad.path) if bad.status == 400 else None)


# ---------------------------------------------------------------------------------------------
# API: rating bodies (PUT /projects/{slug}/assessments/{code})

RATING_FAMILIES = {name: family for name, family in FAMILIES.items() if name != "duplicated_criterion"}
NEW_RATING = {
    "rating": 2,
    "evidence": "Operator report, 2026.",
    "evidence_grade": "B",
    "source_url": "https://example.org/evidence",
}


@pytest.mark.parametrize("family", sorted(RATING_FAMILIES))
@examples(12)
@hypothesis.given(data=st.data())
def test_a_corrupted_rating_body_is_a_400_naming_the_field_and_nothing_changes(world, family, data):
    index = data.draw(st.integers(min_value=0, max_value=len(world.records) - 1), label="project")
    record = world.records[index]
    code = data.draw(st.sampled_from(sorted(CODES)), label="criterion")
    stored = {item["criterion"]: item for item in record["assessments"]}
    body = {k: v for k, v in stored[code].items() if k != "criterion"} if code in stored else NEW_RATING
    bad = RATING_FAMILIES[family](data, Target(body, RATING, "rating"))
    url = f"/api/v1/projects/{record['slug']}/assessments/{code}"
    headers = {"HTTP_IF_MATCH": world.etag(url)} if code in stored else {}
    with nothing_changes(world):
        response = send(world.client, "PUT", url, encode(bad.value, data), **headers)
        assert_problem(response, status=400, field=field_name(bad.path))


def url_part(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


@examples(40)
@hypothesis.given(data=st.data())
def test_rating_or_deleting_at_an_unknown_criterion_or_project_is_a_404_and_nothing_changes(world, data):
    slug = data.draw(st.one_of(st.sampled_from(world.slugs), bad_strings("slug")), label="slug")
    code = data.draw(st.one_of(st.sampled_from(sorted(CODES)), bad_strings("code")), label="code")
    assume(not (slug in world.slugs and code in CODES))
    method = data.draw(st.sampled_from(["PUT", "DELETE"]), label="method")
    url = f"/api/v1/projects/{url_part(slug)}/assessments/{url_part(code)}"
    body = json.dumps(NEW_RATING).encode() if method == "PUT" else b""
    with nothing_changes(world):
        response = send(world.client, method, url, body, HTTP_IF_MATCH="*")
        assert_problem(response, status=404)


@examples(30)
@hypothesis.given(data=st.data())
def test_deleting_a_rating_with_any_if_match_but_its_etag_is_refused_and_nothing_changes(world, data):
    record = data.draw(st.sampled_from(world.records), label="project")
    code = data.draw(st.sampled_from([item["criterion"] for item in record["assessments"]]), label="code")
    url = f"/api/v1/projects/{record['slug']}/assessments/{code}"
    etag = world.etag(url)
    near_misses = [f"W/{etag}", etag[1:-1], etag.upper(), etag[:-2] + '"', f'"{etag}"', f'{etag[:-1]}x"']
    if_match = data.draw(
        st.one_of(
            st.sampled_from(near_misses),
            st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=80),
        ).filter(lambda value: value.strip() != "*" and etag not in parse_etags(value)),
        label="If-Match",
    )
    with nothing_changes(world):
        response = send(world.client, "DELETE", url, b"", HTTP_IF_MATCH=if_match)
        assert_problem(response, status=428 if not if_match else 412)


# ---------------------------------------------------------------------------------------------
# API: raw bodies


def valid_writes(world) -> list[tuple[str, str, bytes, dict]]:
    """(method, url, body, headers): one valid write per endpoint, each of which WOULD change data."""
    record = world.records[0]
    slug, code = record["slug"], record["assessments"][0]["criterion"]
    project_url = f"/api/v1/projects/{slug}"
    rating_url = f"{project_url}/assessments/{code}"
    level = record["assessments"][0].get("rating")
    return [
        ("POST", "/api/v1/projects", json.dumps({**record, "slug": f"{slug}-bis"}).encode(), {}),
        (
            "PUT",
            project_url,
            json.dumps({**record, "name": "Renamed in full"}).encode(),
            {"HTTP_IF_MATCH": world.etag(project_url)},
        ),
        ("PATCH", project_url, b'{"name": "Renamed in part"}', {"HTTP_IF_MATCH": world.etag(project_url)}),
        (
            "PUT",
            rating_url,
            json.dumps({**NEW_RATING, "rating": 4 if level != 4 else 3}).encode(),
            {"HTTP_IF_MATCH": world.etag(rating_url)},
        ),
    ]


@examples(60)
@hypothesis.given(data=st.data())
def test_a_body_that_is_not_json_text_is_a_4xx_problem_and_nothing_changes(world, data):
    method, url, valid, headers = data.draw(st.sampled_from(valid_writes(world)), label="write")
    raw = data.draw(raw_corruptions(valid, empty_allowed=False), label="bytes")
    with contextlib.suppress(ValueError):
        assume(json.loads(raw) != {})  # an empty object is a no-op PATCH, not bad input
    with nothing_changes(world):
        assert_problem(send(world.client, method, url, raw, **headers), status=400)


@examples(20)
@hypothesis.given(data=st.data())
def test_a_body_not_declared_as_json_is_a_415_problem_and_nothing_changes(world, data):
    method, url, valid, headers = data.draw(st.sampled_from(valid_writes(world)), label="write")
    content_type = data.draw(
        st.sampled_from(
            [
                "text/plain",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=xyz",
                "application/xml",
                "text/json",
                "application/octet-stream",
            ]
        ),
        label="Content-Type",
    )
    with nothing_changes(world):
        assert_problem(
            send(world.client, method, url, valid, content_type=content_type, **headers), status=415
        )


@pytest.mark.parametrize(
    "bomb",
    [b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 100_000 + b"1" + b"}" * 100_000],
    ids=["lists", "objects"],
)
def test_an_api_json_bomb_100000_levels_deep_is_a_400_problem_not_a_crash(world, bomb):
    for method, url, _valid, headers in valid_writes(world):
        with nothing_changes(world):
            assert_problem(send(world.client, method, url, bomb, **headers), status=400)


def test_an_unknown_key_holding_a_lone_surrogate_is_a_400_problem_not_a_crash(world):
    # The problem document repeats the key; a lone surrogate cannot be written as UTF-8.
    _method, url, _valid, headers = valid_writes(world)[2]
    with nothing_changes(world):
        response = send(world.client, "PATCH", url, b'{"\\ud800": 1}', **headers)
        assert assert_problem(response, status=400)["errors"]


def test_an_api_body_over_data_upload_max_memory_size_is_a_4xx_problem(world, settings):
    method, url, valid, headers = valid_writes(world)[1]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = len(valid) - 1
    with nothing_changes(world):
        assert_problem(send(world.client, method, url, valid, **headers))


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_criterion_code_with_a_nul_in_the_address_is_a_404_not_a_crash(world, method):
    # PostgreSQL text cannot hold NUL: looking the code up must not reach the database as is.
    url = f"/api/v1/projects/{world.slugs[0]}/assessments/S7.1%00"
    body = json.dumps(NEW_RATING).encode() if method == "PUT" else b""
    with nothing_changes(world):
        assert_problem(send(world.client, method, url, body, HTTP_IF_MATCH="*"), status=404)


@pytest.mark.parametrize(
    "host", ["exa\u202emple.org", "example.org\u200f", "\u202egro.elpmaxe"], ids=["RLO", "RLM", "reversed"]
)
def test_an_address_whose_host_holds_bidi_controls_is_refused_by_file_and_api(world, host):
    # U+200F and U+202E are prohibited in host names (IDNA, RFC 3491 table C.8): no such address
    # exists, and shown on a public page the link reads as another address.
    address = f"https://{host}/mission"
    document = replace(world.document, ("projects", 0, "links"), lambda old: [address])
    with nothing_changes(world), pytest.raises(InterchangeError) as refused:
        projects_import(document)
    assert_names_place(refused.value.errors, Bad(document, ("projects", 0, "links", 0)))
    _method, url, _valid, headers = valid_writes(world)[2]
    with nothing_changes(world):
        response = send(world.client, "PATCH", url, json.dumps({"links": [address]}).encode(), **headers)
        assert_problem(response, status=400, field="links[0]")
    method, url, valid, headers = valid_writes(world)[3]
    body = json.dumps({**json.loads(valid), "source_url": address}).encode()
    with nothing_changes(world):
        assert_problem(send(world.client, method, url, body, **headers), status=400, field="source_url")
