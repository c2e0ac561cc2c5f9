"""A Redis outage: with REDIS_URL set and Redis unreachable the site still serves every page and API
call (uncached), rate limits let requests through with a warning, and /healthz says "degraded"."""

import json
import logging

import pytest
import redis
from django.core.cache import cache

from projects import cache_backend
from projects.api import rates
from tests.api import conftest as api_fixtures

published, read_key, write_key = api_fixtures.published, api_fixtures.read_key, api_fixtures.write_key

pytestmark = pytest.mark.django_db

NOTHING_LISTENS = "redis://127.0.0.1:1/0"
LOCAL_REDIS = "redis://127.0.0.1:6379/14"  # a database of its own: these tests flush it
URL = "/api/v1/projects"


def redis_cache(location: str) -> dict:
    return {
        "default": {
            "BACKEND": "projects.cache_backend.ResilientRedisCache",
            "LOCATION": location,
            "KEY_PREFIX": "sdgscore-tests",
        }
    }


@pytest.fixture(autouse=True)
def _fresh_breakers():
    """Each test sees the outage begin: no breaker left open, no warning already logged."""
    cache_backend._breakers.clear()
    rates._warn_unlimited.reset()
    yield
    cache_backend._breakers.clear()


@pytest.fixture
def redis_down(settings):
    settings.CACHES = redis_cache(NOTHING_LISTENS)


@pytest.fixture
def redis_up(settings):
    try:
        redis.Redis.from_url(LOCAL_REDIS, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CACHES = redis_cache(LOCAL_REDIS)
    cache.clear()
    yield
    cache.clear()


def bearer(key) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key[1]}"}


def test_pages_and_api_reads_answer_with_redis_down(client, published, read_key, caplog, redis_down):
    slug = published[0]
    with caplog.at_level(logging.WARNING, logger="projects.cache_backend"):
        for _ in range(2):  # the second time with the breaker open
            for path in ["/en/", f"/en/projects/{slug}/", "/en/methodology/", URL, f"{URL}/{slug}"]:
                assert client.get(path, secure=True).status_code == 200, path
            assert client.get(URL, secure=True, **bearer(read_key)).status_code == 200
            assert client.get("/admin/login/", secure=True).status_code == 200
    assert client.get(f"{URL}/{slug}", secure=True).json()["slug"] == slug
    warnings = [
        r for r in caplog.records if r.name == "projects.cache_backend" and r.levelno == logging.WARNING
    ]
    assert len(warnings) == 1  # logged once, not once per request
    assert "unreachable" in warnings[0].getMessage()


def test_writes_answer_with_redis_down(client, published, write_key, redis_down):
    body = {
        "slug": "hera-rover",
        "name": "Hera Rover",
        "operator": {"name": "Hera Space", "country": "IT", "kind": "company"},
        "target_body": "mars",
        "resources": ["water_ice"],
        "phase": "demonstration",
        "launch_year": 2032,
        "summary": "A rover that drills for ice.",
        "links": [],
    }
    created = client.post(
        URL, json.dumps(body), content_type="application/json", secure=True, **bearer(write_key)
    )
    assert created.status_code == 201, created.content[:300]
    read_back = client.get(f"{URL}/hera-rover", secure=True, **bearer(write_key))
    assert read_back.status_code == 200


def test_an_admin_login_works_with_redis_down(client, django_user_model, redis_down):
    django_user_model.objects.create_user("analyst", password="correct horse battery staple", is_staff=True)
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "analyst", "password": "correct horse battery staple"},
        secure=True,
    )
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_rate_limits_fail_open_with_a_warning(client, published, settings, caplog, redis_down):
    settings.API_ANONYMOUS_RATE = "2/minute"
    with caplog.at_level(logging.WARNING):
        statuses = [client.get(URL, secure=True).status_code for _ in range(5)]
    assert statuses == [200] * 5
    assert any("Rate limits not enforced" in r.getMessage() for r in caplog.records)


def test_healthz_is_degraded_naming_the_cache(client, redis_down):
    response = client.get("/healthz")
    assert response.status_code == 200  # the service serves: the balancer keeps it
    assert response.json() == {"status": "degraded", "database": "ok", "cache": "ConnectionError"}


def test_an_outage_costs_one_attempt_per_retry_period(client, published, monkeypatch, redis_down):
    monkeypatch.setattr(cache_backend, "RETRY_AFTER", 3600.0)  # nothing here waits for it
    attempts = []
    real = redis.connection.Connection.connect
    monkeypatch.setattr(redis.connection.Connection, "connect", lambda self: attempts.append(1) or real(self))
    for _ in range(3):
        assert client.get(URL, secure=True).status_code == 200
        assert client.get("/en/", secure=True).status_code == 200
    assert len(attempts) == 1
    cache_backend.breaker_for(NOTHING_LISTENS).open_until = 0.0  # the period is over
    assert client.get(URL, secure=True).status_code == 200
    assert len(attempts) == 2


def test_the_socket_timeouts_are_short(redis_down):
    options = cache._cache._pool_options
    assert options["socket_connect_timeout"] <= 0.5 and options["socket_timeout"] <= 0.5


def test_redis_up_caches_and_counts(client, published, settings, redis_up):
    cache.set("probe", {"a": 1}, 30)
    assert cache.get("probe") == {"a": 1}
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    settings.API_ANONYMOUS_RATE = "2/minute"
    first = client.get(URL, secure=True)
    assert first.status_code == 200
    assert any(b"api:read" in key for key in redis.Redis.from_url(LOCAL_REDIS).keys("*"))  # kept in Redis
    assert client.get(URL, secure=True).content == first.content  # from Redis, and counted
    assert client.get(URL, secure=True).status_code == 429  # the count is in Redis too


def test_the_warning_does_not_log_the_redis_password(client, settings, caplog):
    settings.CACHES = redis_cache("redis://:s3cret-password@127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING):
        assert client.get("/healthz").json()["status"] == "degraded"
    assert "127.0.0.1:1" in caplog.text
    assert "s3cret-password" not in caplog.text
