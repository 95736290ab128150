"""Benchmark-only URL conf (scripts/bench_api.py): the project's routes plus ``/bench/plain/``.

``/bench/plain/`` returns the bytes of one API response, rendered beforehand and read from the file named by
``REEXAPI_BENCH_BODY``: the floor that Django itself costs, to compare the API's requests per second with.
It lies outside /api/, so no API middleware (caching, CORS) applies to it.
"""

import os
from functools import cache

from django.http import HttpResponse
from django.urls import path

from reexapi.urls import urlpatterns as project_urlpatterns


@cache
def _body() -> tuple[bytes, str]:
    with open(os.environ["REEXAPI_BENCH_BODY"], "rb") as handle:
        return handle.read(), os.environ.get("REEXAPI_BENCH_CONTENT_TYPE", "application/json")


def plain_view(request):
    """The same bytes as the API response, without any of the API's work."""
    content, content_type = _body()
    return HttpResponse(content, content_type=content_type)


urlpatterns = [path("bench/plain/", plain_view), *project_urlpatterns]
