"""The receiver README shows verifies a real delivery, drops a repeated one and refuses a forged
one: the example is run as written (its code block read from README.md)."""

import re
from pathlib import Path

import pytest

from projects.models import ApiKey
from projects.services.webhooks import subscription_create
from tests.support.actors import key_owner
from tests.support.builders import make_project
from tests.support.receiver import run_tasks, url

pytestmark = pytest.mark.django_db
README = Path(__file__).resolve().parents[2] / "README.md"


def readme_receiver(secret: str, monkeypatch) -> dict:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    (code,) = [block for block in blocks if "verifier = Webhook(" in block]
    monkeypatch.setenv("SDGSCORE_WEBHOOK_SECRET", secret)
    calls = []
    namespace = {
        "update_project": lambda slug, data: calls.append(("update", slug)),
        "remove_project": lambda slug: calls.append(("remove", slug)),
        "start_a_cursor_sync": lambda: calls.append(("sync",)),
        "calls": calls,
    }
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (our own README's example)
    return namespace


def test_the_readme_receiver_verifies_dedupes_and_refuses_forgeries(receiver, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_PRIVATE = settings.WEBHOOK_ALLOW_HTTP = True
    key = ApiKey.issue(owner=key_owner(), name="Desk", scope="read")[0]
    _subscription, secret = subscription_create(key, {"url": url(receiver), "events": ["project.published"]})
    make_project("alpha")
    run_tasks()
    _path, headers, body = receiver.received[0]
    headers = {name.lower(): value for name, value in headers.items()}
    example = readme_receiver(secret, monkeypatch)

    assert example["receive"](body, headers) == 204
    assert example["calls"] == [("update", "alpha")]
    assert example["receive"](body, headers) == 200  # the same id again: nothing done twice
    assert example["calls"] == [("update", "alpha")]
    forged = body.replace(b'"alpha"', b'"gamma"')
    assert example["receive"](forged, headers) == 400
