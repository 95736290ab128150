"""With DEBUG on (what scripts/serve.sh writes into .env) the API still answers every client mistake as JSON:
writes to a path without its trailing slash, too many query parameters, paths no route matches."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.factories import DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("debug_on")]


@pytest.fixture
def debug_on():
    with override_settings(DEBUG=True):
        yield


def assert_json(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json"
    return response.json()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/deals", "/api/v1/deals/some-deal", "/api/v1", "/api/schema"])
def test_write_without_trailing_slash_is_json_405(client, method, path):
    response = getattr(client, method)(path, data={"title": "x"}, content_type="application/json")
    assert assert_json(response, 405) == {"detail": f'Method "{method.upper()}" not allowed.'}
    assert response["Allow"] == "GET, HEAD, OPTIONS"


def test_write_with_trailing_slash_is_json_405(client):
    assert assert_json(client.post("/api/v1/deals/", data={}), 405) == {"detail": 'Method "POST" not allowed.'}


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/api/v1/deals", "/api/v1/deals/"),
        ("/api/v1/deals?status=signed", "/api/v1/deals/?status=signed"),
        ("/api/v1", "/api/v1/"),
        ("/api/docs", "/api/docs/"),
    ],
)
def test_read_without_trailing_slash_redirects(client, path, target):
    response = client.get(path)
    assert response.status_code == 301
    assert response["Location"] == target


def test_more_query_parameters_than_django_parses_is_json_400(client, settings):
    DealFactory()
    # 1001 bare names ("p&p&…", 2001 bytes): within the 4096-byte query-string limit, over Django's field count.
    query = "&".join("p" for _ in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    assert len(query) <= settings.REEXAPI_MAX_QUERY_STRING
    for path in ("/api/v1/deals/", "/api/v1/", "/api/v1/deals/x/", "/api/schema/"):
        body = assert_json(client.get(f"{path}?{query}"), 400)
        assert body == {
            "query": [f"Too many query parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} are allowed."]
        }


@pytest.mark.parametrize(
    "path",
    ["/api/v1/deals/no.such/", "/api/v2/", "/api/", "/api/v1//deals/", "/api/v1/deals/a/b/", "/api/nothing"],
)
def test_unknown_api_paths_are_json_404(client, path):
    assert assert_json(client.get(path), 404) == {"detail": "Not found: no API resource at this path."}


def test_unknown_slug_is_json_404(client):
    assert assert_json(client.get("/api/v1/deals/no-such-deal/"), 404) == {"detail": "No Deal matches the given query."}


def test_pages_outside_the_api_keep_djangos_behaviour(client):
    assert client.get("/admin").status_code == 301
    assert client.get("/nothing/").status_code == 404
    assert client.get("/nothing/")["Content-Type"].startswith("text/html")
