"""CORS: any origin may read /api/ without credentials; nothing else (the admin) is exposed cross-origin.

A tiny test-only view under /api/ sits beside the real routes, so that these tests do not depend on the endpoints'
own behaviour; 304s and cached hits come from deals/caching.py and must carry the same CORS headers.
"""

import pytest
from django.http import JsonResponse
from django.urls import path

from reexapi.urls import urlpatterns as project_urlpatterns
from tests.factories import DealFactory


def _ping_view(request):
    return JsonResponse({"ping": "pong"})


urlpatterns = [path("api/test/ping/", _ping_view), *project_urlpatterns]

PING = "/api/test/ping/"
ORIGINS = ["https://example.org", "http://localhost:3000", "null"]


@pytest.fixture
def cors_urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ORIGINS)
def test_api_allows_any_origin_without_credentials(client, cors_urls, origin):
    response = client.get(PING, headers={"Origin": origin})
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert not response.has_header("Access-Control-Allow-Credentials")
    assert "ETag" in response["Access-Control-Expose-Headers"]


@pytest.mark.django_db
def test_preflight_allows_get_and_if_none_match(client, cors_urls):
    response = client.options(
        PING,
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match, accept",
        },
    )
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    methods = {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "HEAD", "OPTIONS"}
    allowed_headers = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {"if-none-match", "accept"} <= allowed_headers
    assert int(response["Access-Control-Max-Age"]) > 0
    assert not response.has_header("Access-Control-Allow-Credentials")


@pytest.mark.django_db
def test_304_and_cached_hits_carry_cors_headers(client, cors_urls, django_assert_num_queries):
    DealFactory()
    origin = {"Origin": "https://example.org"}
    first = client.get(PING, headers=origin)
    with django_assert_num_queries(2):  # the dataset version row, once per request
        not_modified = client.get(PING, headers={**origin, "If-None-Match": first["ETag"]})
        hit = client.get(PING, headers=origin)
    assert not_modified.status_code == 304
    assert hit.status_code == 200
    for response in (not_modified, hit):
        assert response["Access-Control-Allow-Origin"] == "*"
        assert "origin" in response["Vary"].lower()


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/admin/", "/admin/login/"])
def test_admin_gets_no_cors_headers(client, cors_urls, url):
    response = client.get(url, headers={"Origin": "https://example.org"})
    assert response.status_code in (200, 302)
    assert not any(name.lower().startswith("access-control-") for name in response.headers)
    preflight = client.options(url, headers={"Origin": "https://example.org", "Access-Control-Request-Method": "POST"})
    assert not any(name.lower().startswith("access-control-") for name in preflight.headers)


@pytest.mark.django_db
def test_pagination_link_header_is_exposed_to_scripts(client):
    """Pagination links travel in ``Link``, rate limits in ``RateLimit-*`` and ``Retry-After``; none is
    CORS-safelisted, so a browser app reads them only if exposed."""
    from tests.factories import DealFactory

    DealFactory.create_batch(2)
    response = client.get("/api/v1/deals/", {"page_size": 1}, headers={"Origin": "https://example.org"})
    assert response.status_code == 200
    assert response["Link"] == (
        '<http://testserver/api/v1/deals/?page=2&page_size=1>; rel="next", '
        '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    )
    exposed = [name.strip() for name in response["Access-Control-Expose-Headers"].split(",")]
    assert exposed == ["ETag", "Link", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]
