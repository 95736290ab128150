"""Writes are a JSON 405 with ``Allow`` before anything looks at the query string (issue 8 §3, "limits agree")."""

from __future__ import annotations

import pytest

from tests.factories import DealFactory

WRITE_METHODS = ["post", "put", "patch", "delete", "trace"]
# Each with a query string that, on a GET, would be a 400 (unknown parameter, bad value, NUL byte).
URLS = [
    "/api/v1/deals/?commodities=x",
    "/api/v1/deals/?status=pending&page=0",
    "/api/v1/companies/?q=%00",
    "/api/v1/deals/{slug}/?ordering=title",
    "/api/v1/?foo=1",
    "/api/schema/?version=2",
]


@pytest.mark.django_db
@pytest.mark.parametrize("method", WRITE_METHODS)
@pytest.mark.parametrize("url", URLS)
def test_write_with_a_query_string_is_405_without_a_query(client, django_assert_num_queries, method, url):
    deal = DealFactory()
    with django_assert_num_queries(0):
        response = client.generic(method.upper(), url.format(slug=deal.slug))
    assert response.status_code == 405, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": f'Method "{method.upper()}" not allowed.'}
    assert {m.strip() for m in response["Allow"].split(",")} == {"GET", "HEAD", "OPTIONS"}


@pytest.mark.django_db
def test_read_with_the_same_query_string_is_still_400(client):
    response = client.get("/api/v1/deals/?commodities=x")
    assert response.status_code == 400
    assert list(response.json()) == ["commodities"]
