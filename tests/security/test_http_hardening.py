"""HTTP-level hardening: hosts and cached answers, protocol-relative links, chunked and oversized
bodies, Permissions-Policy, weak secret keys, private answers to write keys, keys in the query
string, idle admin sessions, password length."""

import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from projects.middleware import SEEN, STARTED
from projects.models import Project
from tests.api import conftest as api_fixtures
from tests.support.criteria import CODES

published, read_key, write_key = api_fixtures.published, api_fixtures.read_key, api_fixtures.write_key

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
URL = "/api/v1/projects"


def bearer(key) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key[1]}"}


def new_project(slug="hera-rover") -> dict:
    levels = [
        {"criterion": code, "rating": 2, "evidence": "Illustrative evidence.", "evidence_grade": "C"}
        for code in CODES["sdg7"]
    ]
    return {
        "slug": slug,
        "name": "Hera Rover",
        "operator": {"name": "Hera Space", "country": "IT", "kind": "company"},
        "target_body": "mars",
        "resources": ["water_ice"],
        "phase": "demonstration",
        "launch_year": 2032,
        "summary": "A rover that drills for ice.",
        "links": [],
        "assessments": levels,
    }


# ---------------------------------------------------------------------------------------------
# Hosts: a cached answer is no way round ALLOWED_HOSTS, nor a way to serve one host's links to another


@pytest.fixture
def two_hosts(settings):
    settings.ALLOWED_HOSTS = ["a.example", "b.example"]


@pytest.mark.parametrize("path", ["/en/", f"{URL}?page_size=1"])
def test_a_cached_answer_still_refuses_a_host_not_allowed(client, published, two_hosts, path):
    assert client.get(path, secure=True, HTTP_HOST="a.example").status_code == 200
    assert client.get(path, secure=True, HTTP_HOST="a.example").status_code == 200  # from the cache
    refused = client.get(path, secure=True, HTTP_HOST="evil.example")
    assert refused.status_code == 400
    assert b"evil.example" not in refused.content


@pytest.mark.parametrize("path", ["/en/", f"{URL}?page_size=1"])
def test_each_host_gets_its_own_links_from_the_cache(client, published, two_hosts, path):
    first = client.get(path, secure=True, HTTP_HOST="a.example")
    assert b"https://a.example/" in first.content
    second = client.get(path, secure=True, HTTP_HOST="b.example")
    assert second.status_code == 200
    assert b"a.example" not in second.content
    assert b"https://b.example/" in second.content
    again = client.get(path, secure=True, HTTP_HOST="a.example")
    assert again.content == first.content


def test_a_path_starting_with_two_slashes_links_nowhere_else(client, published):
    response = client.get("/en/", secure=True, PATH_INFO="//evil.example/en/")
    links = [link.decode() for link in re.findall(rb'(?:href|content)="([^"]*)"', response.content)]
    assert any(link.endswith("/ja/") for link in links)  # the language switch is there
    for link in links:
        assert not link.startswith(("//", "/\\")), link  # protocol-relative: another site
        if "://" in link:
            assert urlsplit(link).netloc in ("testserver", "www.w3.org"), link


# ---------------------------------------------------------------------------------------------
# Request bodies


def chunked_post(client, body: bytes, *, terminated=True, **extra):
    """A POST as gunicorn hands on a chunked body: no CONTENT_LENGTH, the input ends by itself."""
    environ = {
        "wsgi.input": io.BytesIO(body),
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        **extra,
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    return client.generic("POST", URL, secure=True, **environ)


def test_a_chunked_body_is_read(client, published, write_key):
    response = chunked_post(client, json.dumps(new_project()).encode(), **bearer(write_key))
    assert response.status_code == 201, response.content[:300]
    assert Project.objects.filter(slug="hera-rover").exists()


def test_a_chunked_body_over_the_limit_is_413(client, published, write_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = chunked_post(
        client, json.dumps(new_project() | {"summary": "x" * 5000}).encode(), **bearer(write_key)
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert not Project.objects.filter(slug="hera-rover").exists()


def test_a_chunked_body_a_server_cannot_delimit_is_411_not_empty(client, published, write_key):
    response = chunked_post(client, json.dumps(new_project()).encode(), terminated=False, **bearer(write_key))
    assert response.status_code == 411
    assert not Project.objects.filter(slug="hera-rover").exists()


def test_an_oversized_api_body_is_413_with_a_problem_document(client, published, write_key, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps(new_project() | {"summary": "x" * 5000})
    response = client.post(URL, body, content_type="application/json", secure=True, **bearer(write_key))
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 413
    assert "1000 bytes" in response.json()["detail"]


def test_an_oversized_form_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    response = client.post("/admin/login/", {"username": "x" * 5000, "password": "y"}, secure=True)
    assert response.status_code == 413


# ---------------------------------------------------------------------------------------------
# Headers


@pytest.mark.parametrize("path", ["/en/", "/en/", URL, "/admin/login/", "/healthz", "/api/docs/", "/nowhere"])
def test_every_response_has_a_restrictive_permissions_policy(client, published, path):
    client.get(path, secure=True)  # the second /en/ is a cached replay
    response = client.get(path, secure=True)
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy


def test_an_https_redirect_has_it_too(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/en/")
    assert response.status_code == 301
    assert "camera=()" in response["Permissions-Policy"]


def test_answers_to_a_write_key_are_private_and_not_stored(client, published, write_key):
    read = client.get(URL, secure=True, **bearer(write_key))
    assert read.status_code == 200
    assert read["Cache-Control"] == "private, no-store"
    detail = client.get(f"{URL}/{published[0]}", secure=True, **bearer(write_key))
    assert detail["Cache-Control"] == "private, no-store"
    created = client.post(
        URL, new_project(), content_type="application/json", secure=True, **bearer(write_key)
    )
    assert created.status_code == 201
    assert created["Cache-Control"] == "private, no-store"


def test_a_refused_key_gets_a_private_answer(client, published):
    response = client.get(URL, secure=True, HTTP_AUTHORIZATION="Bearer sdg_000000000000_" + "A" * 43)
    assert response.status_code == 401
    assert response["Cache-Control"] == "private, no-store"


def test_public_reads_stay_cacheable(client, published, read_key):
    for extra in ({}, bearer(read_key), bearer(read_key)):  # the last from the read cache
        response = client.get(URL, secure=True, **extra)
        assert response.status_code == 200
        assert "private" not in response["Cache-Control"] and "no-store" not in response["Cache-Control"]


# ---------------------------------------------------------------------------------------------
# API keys in the query string


@pytest.mark.parametrize(
    "query",
    ["api_key={key}", "key={key}", "access_token={key}", "cursor={key}", "q=x&token=anything"],
)
@pytest.mark.parametrize("path", [URL, f"{URL}/alpha", "/api/v1/nowhere"])
def test_a_key_in_the_query_string_is_refused_and_never_echoed(client, published, read_key, path, query):
    key = read_key[1]
    response = client.get(f"{path}?{query.format(key=key)}", secure=True)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "Authorization header" in response.json()["detail"]
    text = response.content.decode() + "".join(f"{n}: {v}" for n, v in response.items())
    assert key not in text and key[:16] not in text
    assert "anything" not in text


def test_a_key_in_a_page_query_string_is_refused_too(client, published, read_key):
    response = client.get(f"/en/?x={read_key[1]}", secure=True)
    assert response.status_code == 400
    assert read_key[1] not in response.content.decode()


def test_ordinary_query_strings_pass(client, published):
    assert client.get(f"{URL}?target_body=moon", secure=True).status_code == 200
    assert client.get("/en/?q=ice", secure=True).status_code == 200


# ---------------------------------------------------------------------------------------------
# Secret key


def start_settings(secret_key: str) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sdgscore.settings", "DEBUG": "0", "SECRET_KEY": secret_key},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "weak",
    [
        "short-but-not-empty",
        "ab" * 40,  # long, two different characters
        "django-insecure-" + "Zq8pL3xT5vB1nM7cR2wK9yH4jF6gD0sA8eU3iO5tY7uP1",
    ],
)
def test_production_refuses_a_weak_secret_key(weak):
    result = start_settings(weak)
    assert result.returncode != 0
    assert "SECRET_KEY is too weak for production" in result.stderr
    assert weak not in result.stderr  # the key itself is never printed


def test_production_starts_with_a_strong_secret_key():
    result = start_settings("Zq8pL3xT5vB1nM7cR2wK9yH4jF6gD0sA8eU3iO5tY7uP1-strong-key")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


# ---------------------------------------------------------------------------------------------
# Admin sessions and passwords


@pytest.fixture
def signed_in(client):
    user = get_user_model().objects.create_user(
        "analyst", password="correct horse battery staple", is_staff=True
    )
    client.force_login(user)
    client.get("/admin/", secure=True)  # the first request signed in starts the clocks
    session = client.session
    assert session.get(SEEN) and session.get(STARTED)
    return client


def backdate(client, **seconds_ago):
    session = client.session
    for name, ago in seconds_ago.items():
        session[{"seen": SEEN, "started": STARTED}[name]] = int(time.time()) - ago
    session.save()


def test_an_idle_admin_session_is_signed_out(signed_in, settings):
    assert settings.SESSION_IDLE_TIMEOUT == 30 * 60
    backdate(signed_in, seen=31 * 60)
    response = signed_in.get("/admin/", secure=True)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert "_auth_user_id" not in signed_in.session


def test_an_admin_session_in_use_stays_signed_in(signed_in):
    backdate(signed_in, seen=20 * 60)
    signed_in.get("/admin/", secure=True)
    assert "_auth_user_id" in signed_in.session
    assert time.time() - signed_in.session[SEEN] < 60  # the request counted as activity


def test_a_busy_admin_session_still_ends_after_a_working_day(signed_in):
    backdate(signed_in, seen=10, started=8 * 60 * 60 + 60)
    signed_in.get("/admin/", secure=True)
    assert "_auth_user_id" not in signed_in.session


def test_passwords_need_twelve_characters():
    with pytest.raises(ValidationError, match="at least 12 characters"):
        validate_password("Tr0ub4dor&3")  # 11
    validate_password("Tr0ub4dor&3!")
