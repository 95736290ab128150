"""The response cache is bounded (deals/caching.py): a client inventing query strings cannot grow it past its
byte budget per window, on the local-memory cache as on Redis (which, here, evicts nothing)."""

from __future__ import annotations

import pickle

import pytest
from django.test import override_settings

from deals import caching
from tests.factories import DealFactory
from tests.redis_dbs import redis_url

REDIS = {
    "BACKEND": "django.core.cache.backends.redis.RedisCache",
    "LOCATION": redis_url(13),  # this module's own Redis database
    "KEY_PREFIX": "reexapi-test-bounds",
}


def _stored_responses(store) -> list[dict]:
    """Every rendered response the cache holds right now."""
    if "Redis" in type(store).__name__:
        client = store._cache.get_client()
        keys = set(client.scan_iter(f"{store.key_prefix}:*{caching.RESPONSE_KEY_PREFIX}*"))  # SCAN may repeat keys
        return [pickle.loads(client.get(key)) for key in keys]
    return [pickle.loads(value) for key, value in store._cache.items() if caching.RESPONSE_KEY_PREFIX in key]


@pytest.fixture(params=["local-memory", "redis"])
def store(request):
    if request.param == "local-memory":
        yield caching.response_cache()
        return
    with override_settings(CACHES={"default": REDIS, "responses": REDIS}):
        store = caching.response_cache()
        store.clear()
        yield store
        store.clear()


@pytest.fixture
def one_window(monkeypatch):
    """The budget's clock stopped inside one window: a test that crossed the top of the hour would otherwise
    start a new window halfway and store again."""
    monkeypatch.setattr(caching.time, "time", lambda: 1_000_000_020.0)


@pytest.mark.django_db
def test_unique_query_strings_fill_at_most_the_budget(client, settings, store, one_window):
    settings.REEXAPI_RESPONSE_CACHE_BUDGET = 20_000
    settings.REEXAPI_RESPONSE_CACHE_WINDOW = 3600
    DealFactory()
    for n in range(200):
        response = client.get("/api/v1/deals/", {"q": f"unique{n}"})  # a 200 (no match) for every new word
        assert response.status_code == 200
    stored = _stored_responses(store)
    size = sum(len(entry["content"]) + sum(len(k) + len(v) for k, v in entry["headers"]) for entry in stored)
    assert 0 < len(stored) < 200
    assert size <= settings.REEXAPI_RESPONSE_CACHE_BUDGET
    # Past the budget responses are still served, just not stored: the cache is an optimisation.
    assert client.get("/api/v1/deals/", {"q": "unique999"}).status_code == 200  # as large as the others
    assert len(_stored_responses(store)) == len(stored)


@pytest.mark.django_db
def test_a_new_window_stores_again(client, settings, store, monkeypatch):
    """The clock is the only thing replaced here: a window of 60 s is moved on without waiting for it."""
    settings.REEXAPI_RESPONSE_CACHE_BUDGET = 2_000  # about 16 of these small responses
    settings.REEXAPI_RESPONSE_CACHE_WINDOW = 60
    now = [1_000_000_020.0]
    monkeypatch.setattr(caching.time, "time", lambda: now[0])
    DealFactory()
    for n in range(40):
        client.get("/api/v1/deals/", {"q": f"first{n}"})
    full = len(_stored_responses(store))
    assert 0 < full < 40
    client.get("/api/v1/deals/", {"q": "same-window"})
    assert len(_stored_responses(store)) == full
    now[0] += 60
    client.get("/api/v1/deals/", {"q": "next-window"})
    assert len(_stored_responses(store)) == full + 1


@pytest.mark.django_db
def test_a_response_too_large_for_the_budget_does_not_spend_it(client, settings, store, one_window):
    settings.REEXAPI_RESPONSE_CACHE_BUDGET = 2_000
    settings.REEXAPI_RESPONSE_CACHE_WINDOW = 3600
    DealFactory()
    assert client.get("/api/schema/").status_code == 200  # far more than 2000 bytes: not stored
    assert _stored_responses(store) == []
    client.get("/api/v1/deals/", {"q": "small"})
    assert len(_stored_responses(store)) == 1


def test_the_documented_bound_follows_from_the_settings(settings):
    """budget x (timeout / window + 1): 8 MiB x 6 = 48 MiB with the defaults, as docs/api.md says."""
    windows = settings.REEXAPI_RESPONSE_CACHE_TIMEOUT // settings.REEXAPI_RESPONSE_CACHE_WINDOW + 1
    assert settings.REEXAPI_RESPONSE_CACHE_BUDGET * windows == 48 * 1024 * 1024
