"""deals.response_cycles: a sent API response is freed by reference counting, not left for the cyclic collector.

Without the middleware, DRF's view and response refer to each other (``view.response``, the response's
``renderer_context``), so a closed response with its page of records stays in memory, with the garbage collector
off, after its last outside reference is gone. ``ClientHandler`` is the WSGI handler the test client uses (it
closes the response as a WSGI server does) without the client's own additions to the response.
"""

from __future__ import annotations

import gc
import weakref

import pytest
from django.test.client import ClientHandler, RequestFactory

from tests.factories import DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_cyclic_gc():
    enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    yield
    if enabled:
        gc.enable()


def _sent(path: str):
    """The closed response of a GET of ``path`` through the whole middleware stack."""
    response = ClientHandler(enforce_csrf_checks=False)(RequestFactory().get(path).environ)
    assert response.status_code == 200, response.content[:300]
    assert response.closed
    return response


@pytest.mark.parametrize(
    "path",
    ["/api/v1/deals/?page_size=5", "/api/v1/deals/?page_size=5&cursor=", "/api/v1/deals.csv", "/api/v1/"],
)
def test_a_sent_response_is_freed_without_the_cyclic_collector(no_cyclic_gc, path, settings):
    settings.REEXAPI_RESPONSE_CACHE = False
    DealFactory.create_batch(2)
    response = _sent(path)
    assert not {"view", "request", "response"} & set(response.renderer_context)
    gone = weakref.ref(response)
    del response
    # Its page of records and its body went with it (nothing else refers to them).
    assert gone() is None


def test_a_plain_django_response_is_left_alone(no_cyclic_gc):
    """Not a DRF response (no renderer context): the middleware adds no closer."""
    response = ClientHandler(enforce_csrf_checks=False)(RequestFactory().get("/favicon.ico").environ)
    assert response.status_code == 301 and response.closed
    gone = weakref.ref(response)
    del response
    assert gone() is None
