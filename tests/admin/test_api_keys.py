"""API keys in the admin: issued with the key shown once, stored hashed, revoked at once."""

import re

import pytest
from django.core.management import call_command

from projects.models import ApiKey
from tests.support.actors import key_owner

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/projects/apikey/add/"


def issue_in_admin(admin_client, **fields) -> tuple[ApiKey, str]:
    data = {
        "name": "Data desk",
        "owner": key_owner().pk,
        "scope": "write",
        "throttle_rate": "500/hour",
        "expires_at_0": "",
        "expires_at_1": "",
        **fields,
    }
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200, response.content[:500]
    key = re.search(rb'id="issued-api-key">(sdg_[^<]+)<', response.content).group(1).decode()
    assert "no-store" in response["Cache-Control"]
    return ApiKey.objects.get(name=fields.get("name", "Data desk")), key


def test_a_key_issued_in_the_admin_is_shown_once_and_stored_only_hashed(admin_client, client):
    api_key, key = issue_in_admin(admin_client)
    assert (api_key.scope, api_key.throttle_rate) == ("write", "500/hour")
    stored = " ".join(str(value) for value in ApiKey.objects.filter(pk=api_key.pk).values().get().values())
    assert key not in stored and key.split("_", 2)[2] not in stored  # the secret may itself hold "_"
    # it works for the API ...
    assert client.get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    # ... and the change page never shows it again
    page = admin_client.get(f"/admin/projects/apikey/{api_key.pk}/change/").content.decode()
    assert key not in page and f"sdg_{api_key.prefix}_…" in page


def test_a_bad_rate_is_refused_naming_the_field(admin_client):
    response = admin_client.post(ADD_URL, {"name": "X", "scope": "read", "throttle_rate": "lots"})
    assert response.status_code == 200
    assert b"e.g. 1000/hour" in response.content
    assert not ApiKey.objects.exists()


def test_revoking_in_the_admin_takes_effect_on_the_next_request(admin_client, client):
    api_key, key = issue_in_admin(admin_client)
    assert client.get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
    response = admin_client.post(
        "/admin/projects/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}, follow=True
    )
    assert b"1 key revoked." in response.content
    denied = client.get("/api/v1/projects", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert denied.status_code == 401
    assert denied.json()["detail"] == "Invalid API key."


def test_keys_cannot_be_deleted_only_revoked(admin_client):
    api_key, _ = issue_in_admin(admin_client)
    assert admin_client.get(f"/admin/projects/apikey/{api_key.pk}/delete/").status_code == 403


def test_the_command_prints_a_working_key(capsys, client):
    call_command(
        "issue_api_key", "Researcher", "--owner", key_owner().username, "--scope", "read", "--days", "30"
    )
    key = capsys.readouterr().out.strip()
    assert re.fullmatch(r"sdg_[0-9a-f]{12}_[A-Za-z0-9_-]{43}", key)
    assert ApiKey.objects.get().expires_at is not None
    assert client.get("/api/v1/operators", HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 200
