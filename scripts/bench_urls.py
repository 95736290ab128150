"""Benchmark-only URL conf (scripts/bench_api.py): the project's routes plus ``/bench/plain/<name>/``.

``/bench/plain/<name>/`` returns the bytes of one API response, rendered beforehand by bench_api.py into the file
``<name>.body`` (its content type in ``<name>.type``) of the folder named by ``REEXAPI_BENCH_BODY_DIR``: the floor
that Django itself costs, to compare the API's requests per second with. It lies outside /api/, so no API
middleware (caching, CORS, rate limit) applies to it. Each body is read once per worker.
"""

import os
from functools import cache
from pathlib import Path

from django.http import Http404, HttpResponse
from django.urls import path

from reexapi.urls import urlpatterns as project_urlpatterns


@cache
def _body(name: str) -> tuple[bytes, str]:
    folder = Path(os.environ["REEXAPI_BENCH_BODY_DIR"])
    body, content_type = folder / f"{name}.body", folder / f"{name}.type"
    if not name.isidentifier() or not body.is_file():
        raise Http404(name)
    return body.read_bytes(), content_type.read_text() if content_type.is_file() else "application/json"


def plain_view(request, name: str):
    """The same bytes as the API response ``name``, without any of the API's work."""
    content, content_type = _body(name)
    return HttpResponse(content, content_type=content_type)


urlpatterns = [path("bench/plain/<str:name>/", plain_view), *project_urlpatterns]
