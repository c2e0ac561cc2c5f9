"""Fixtures shared by the Django tests."""

import pytest
from django.core.cache import cache

from projects.selectors import methodology_current


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Every test starts with an empty cache: the site generation restarts with each test's
    rolled-back database, so cached pages and API answers of another test would look current."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def method(db):
    """Method 1.0 as installed by the migration."""
    return methodology_current()


def interchange(*projects, **envelope) -> dict:
    return {"format": "sdgscore.projects/1", "projects": list(projects), **envelope}


def project_record(slug="test-project", *, assessments=None, **fields) -> dict:
    record = {
        "slug": slug,
        "name": fields.pop("name", slug.replace("-", " ").title()),
        "operator": fields.pop("operator", {"name": "Test Operator", "country": "JP", "kind": "company"}),
        "target_body": fields.pop("target_body", "moon"),
        "resources": fields.pop("resources", ["water_ice"]),
        "phase": fields.pop("phase", "demonstration"),
        "launch_year": fields.pop("launch_year", 2027),
        "summary": fields.pop("summary", "A test project."),
        "links": fields.pop("links", []),
        "assessments": assessments if assessments is not None else [],
        **fields,
    }
    return record


def rated(code, rating, grade="B", evidence="Illustrative evidence.") -> dict:
    return {"criterion": code, "rating": rating, "evidence": evidence, "evidence_grade": grade}
