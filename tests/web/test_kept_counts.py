"""The rankings' count of published projects is kept per site generation: read once, then
served until a publication changes what the public sees."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from tests.support.builders import make_project
from tests.web.pages import page

pytestmark = pytest.mark.django_db


def caption(client, url="/en/") -> str:
    return page(client.get(url)).find("caption", id="rankings-caption").clean_text


@override_settings(RESPONSE_CACHE=False)
def test_the_rankings_count_is_read_once_and_moves_with_a_publication(client):
    make_project("alpha", name="Alpha")
    make_project("beta", name="Beta")
    assert caption(client).startswith("2 published projects")
    with CaptureQueriesContext(connection) as captured:
        assert caption(client).startswith("2 published projects")
    assert not [query for query in captured if "COUNT(" in query["sql"].upper()]
    make_project("gamma", name="Gamma")
    assert caption(client).startswith("3 published projects")
    assert caption(client, "/en/?body=mars").startswith("0 published projects")
    make_project("draft", name="Draft", publish=False)
    assert caption(client).startswith("3 published projects")
