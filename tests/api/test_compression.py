"""Compression: public answers are compressed as the client accepts, each encoding with its own
strong ETag that conditional requests and If-Match understand; nothing is compressed for a
request carrying our cookies (BREACH: the admin's CSRF tokens)."""

import gzip

import brotli
import pytest

from tests.support.actors import staff_user
from tests.support.openapi import DECODERS as DECODE


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


@pytest.mark.parametrize("encoding", ["br", "gzip", "zstd"])
def test_an_api_list_is_compressed_as_accepted_with_a_tag_of_its_own(anon, published, encoding):
    plain = anon.get("/api/v1/projects")
    packed = anon.get("/api/v1/projects", HTTP_ACCEPT_ENCODING=encoding)
    assert "Content-Encoding" not in plain
    assert packed["Content-Encoding"] == encoding
    assert "Accept-Encoding" in packed["Vary"]
    assert DECODE[encoding](packed.content) == plain.content
    assert packed["ETag"] == plain["ETag"][:-1] + f'-{encoding}"'
    again = anon.get("/api/v1/projects", HTTP_ACCEPT_ENCODING=encoding, HTTP_IF_NONE_MATCH=packed["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == packed["ETag"]


def test_a_client_preferring_nothing_gets_the_plain_answer(anon, published):
    response = anon.get("/api/v1/projects", HTTP_ACCEPT_ENCODING="identity")
    assert "Content-Encoding" not in response


def test_the_streamed_csv_export_is_compressed_too(anon, published):
    plain = body_of(anon.get("/api/v1/export/scores.csv"))
    packed = anon.get("/api/v1/export/scores.csv", HTTP_ACCEPT_ENCODING="gzip")
    assert packed["Content-Encoding"] == "gzip"
    assert gzip.decompress(body_of(packed)) == plain


def test_a_write_with_the_tag_of_a_compressed_read_is_accepted(writer, published):
    url = "/api/v1/projects/alpha"
    tag = writer.get(url, HTTP_ACCEPT_ENCODING="br")["ETag"]
    assert tag.endswith('-br"')
    response = writer.patch(url, {"name": "Selene Renamed"}, format="json", HTTP_IF_MATCH=tag)
    assert response.status_code == 200, response.content[:300]
    stale = writer.patch(url, {"name": "Again"}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412


def test_public_pages_are_compressed(client, published):
    response = client.get("/en/", HTTP_ACCEPT_ENCODING="br")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "br"
    assert b"</html>" in brotli.decompress(response.content)


def test_nothing_is_compressed_for_a_signed_in_session(client, published):
    client.force_login(staff_user("compressed-admin"))
    for url in ("/admin/", "/en/", "/api/v1/projects"):
        response = client.get(url, HTTP_ACCEPT_ENCODING="br, gzip")
        assert response.status_code == 200, url
        assert "Content-Encoding" not in response, url
