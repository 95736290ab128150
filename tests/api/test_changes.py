"""The change feed (/api/v1/changes/): entries for public changes only, in order, keyset-paged, resumable."""

import json

import pytest

from tests.factories import DealFactory

pytestmark = pytest.mark.django_db

FEED = "/api/v1/changes/"


def _feed(client, **params):
    response = client.get(FEED, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_smoke(client):
    deal = DealFactory()
    deal.title = "New title"
    deal.save()
    body = _feed(client)
    print(json.dumps(body, indent=1))
    assert [e["action"] for e in body["results"]] == ["created", "updated"]
