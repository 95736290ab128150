"""Shared pytest fixtures."""

import pytest
from django.core.cache import caches

from deals import caching, outages, version_listener
from deals.api.fast.compiled import compiled_clear
from deals.api.fast.record_cache import record_cache


def _reset():
    for cache in caches.all():
        cache.clear()
    outages.database_breaker.reset()
    outages.cache_breaker.reset()
    caching._last_version = None
    version_listener.listener_stop()
    record_cache().clear()
    compiled_clear()


@pytest.fixture(autouse=True)
def _plain_static_files(settings):
    """In-process tests need no ``collectstatic``: plain static storage instead of WhiteNoise's manifest (the
    gunicorn tests, tests/serving/, run the real set-up with the manifest)."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture(autouse=True)
def _no_version_listener(settings):
    """The dataset version is read per request in tests: most run inside a transaction that the listener's own
    connection cannot see. tests/test_version_listener.py turns it on, with transactions that really commit."""
    settings.REEXAPI_DATASET_VERSION_LISTEN = False


@pytest.fixture(autouse=True)
def _clear_cache():
    """Each test starts with empty caches and closed breakers, so that a cached response, a dataset version or an
    outage seen by one test cannot leak into the next."""
    _reset()
    yield
    _reset()
