"""Operations: health check, settings from the environment, the local admin account."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_healthz_reports_a_working_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_reports_a_broken_database(client, monkeypatch):
    def broken(*args, **kwargs):
        raise connection.Database.OperationalError("database is down")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def run_settings(env: dict) -> subprocess.CompletedProcess:
    clean = {
        k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); "
            "print(settings.DEBUG, settings.SESSION_COOKIE_SECURE, settings.DATABASES['default']['ENGINE'])",
        ],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "sdgscore.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = run_settings({})
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_debug_runs_with_a_development_key_and_sqlite():
    result = run_settings({"DEBUG": "1", "DATABASE_URL": ""})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "django.db.backends.sqlite3"]


def test_each_replica_url_becomes_a_replica_database():
    urls = "postgres://reader@replica-a:5432/sdgscore, postgres://reader@replica-b:5433/sdgscore"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); "
            "print(sorted((alias, db['HOST'], db['PORT']) for alias, db in settings.DATABASES.items()))",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "sdgscore.settings",
            "DEBUG": "1",
            "DATABASE_URL": "",
            "DATABASE_REPLICA_URLS": urls,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "[('default', '', ''), ('replica1', 'replica-a', 5432), ('replica2', 'replica-b', 5433)]"
    )


@pytest.mark.parametrize(("value", "expected"), [(None, "True"), ("0", "False"), ("1", "True")])
def test_connection_health_checks_are_on_unless_turned_off(value, expected):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "sdgscore.settings", "DEBUG": "1", "DATABASE_URL": ""}
    env.pop("DB_CONN_HEALTH_CHECKS", None)
    if value is not None:
        env["DB_CONN_HEALTH_CHECKS"] = value
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; from django.conf import settings; django.setup(); "
            "print(settings.DATABASES['default']['CONN_HEALTH_CHECKS'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_bad_boolean_is_named():
    result = run_settings({"DEBUG": "maybe"})
    assert "DEBUG must be a boolean" in result.stderr


def deploy_check(**environment: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
            "DJANGO_SETTINGS_MODULE": "sdgscore.settings",
            "DEBUG": "0",
            "SECRET_KEY": "k" * 20 + "production-like-secret-key-with-enough-entropy-1234567890",
            "ALLOWED_HOSTS": "sdgscore.example",
            **environment,
        },
    )


def test_deploy_check_is_clean_under_production_settings():
    result = deploy_check(REDIS_URL="redis://127.0.0.1:6379/0")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_warns_of_a_per_process_cache_without_redis():
    result = deploy_check(REDIS_URL="")
    assert result.returncode != 0
    assert "sdgscore.W001" in result.stderr + result.stdout
    assert "REDIS_URL is not set" in result.stderr + result.stdout


@pytest.mark.django_db
def test_dev_admin_refuses_without_debug():
    with pytest.raises(CommandError, match="local development only"):
        call_command("dev_admin")


def test_the_image_build_context_leaves_out_tests_benchmarks_and_proofs():
    """The Dockerfile copies the whole context (COPY . .): what .dockerignore names stays out."""
    ignored = {line.strip().rstrip("/") for line in (ROOT / ".dockerignore").read_text().splitlines()}
    assert {"tests", "bench", "proof", ".ci", ".env", ".git"} <= ignored
    assert "COPY --chown=app:app . ." in (ROOT / "Dockerfile").read_text()


def test_a_web_process_starting_without_redis_logs_the_warning(settings, caplog):
    from projects.checks import log_startup_warnings

    settings.DEBUG, settings.REDIS_URL = False, ""
    with caplog.at_level("WARNING", logger="sdgscore.startup"):
        log_startup_warnings()
    assert "REDIS_URL is not set" in caplog.text
    caplog.clear()
    settings.REDIS_URL = "redis://127.0.0.1:6379/0"
    log_startup_warnings()
    assert caplog.text == ""
