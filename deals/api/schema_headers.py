"""OpenAPI: the headers every response carries, 304 on every cacheable GET, list examples, and the schema's root.

What is declared here is what the middleware sends (tests/api/test_schema.py compares real responses against it):

- ``ETag`` and ``Cache-Control`` on every 200 and 304 of the API (deals/caching.py, ``ApiCacheMiddleware``); a
  request with a matching ``If-None-Match`` is answered 304 with no body;
- ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` on every response while the rate limit is on
  (deals/api/throttling.py); not ``required``, since ``REEXAPI_API_RATE_LIMIT=off`` turns them off;
- ``Link`` on every response of the API, whatever its status: the dataset licence's ``rel="license"``
  (deals/api/license_link.py), after the ``rel="next"``/``rel="prev"`` of a list page that has a neighbour
  (deals/api/pagination.py);
- ``Location`` on a 301 (deals/api/publication.py) and on the 302 of a release's ``latest`` alias;
- a release file's own ``ETag`` (its SHA-256) and ``Cache-Control`` (immutable), set by deals/api/releases.py.
"""

from __future__ import annotations

import copy
import re

from django.conf import settings

from deals.api.license_link import LICENSE_LINK
from deals.api.schema import RATE_LIMIT_HEADERS

IF_NONE_MATCH_PARAMETER = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "An `ETag` from an earlier 200 of the same URL (or `*`): if it is still current, the answer is a "
    "304 without a body. ETags change whenever the dataset changes.",
    # Any string: a value that matches no current ETag is simply a 200 (no maxLength the server would not enforce;
    # gunicorn's own header limit, 8190 bytes, is in docs/api.md, "Limits").
    "schema": {"type": "string"},
}
ETAG_HEADER = {
    "description": "Strong validator of this representation (a quoted hash of the dataset version and the request); "
    "send it back in `If-None-Match` to get a 304 while it is current.",
    "required": True,
    "schema": {"type": "string", "pattern": '^"[0-9a-f]{40}"$'},
}
CACHE_CONTROL_HEADER = {
    "description": "`public, max-age=N` (N: `REEXAPI_API_CACHE_MAX_AGE`, 60 s by default).",
    "required": True,
    "schema": {"type": "string", "pattern": "^public, max-age=[0-9]+$"},
}
# The licence's link-value is always there, and always last (deals/api/license_link.py appends it).
_LICENSE_LINK_PATTERN = re.escape(LICENSE_LINK) + "$"
LINK_HEADER = {
    "description": f"RFC 8288 links: the dataset licence, `{LICENSE_LINK}`, on every response.",
    "required": True,
    "schema": {"type": "string", "pattern": _LICENSE_LINK_PATTERN},
}
LIST_LINK_HEADER = {
    "description": 'RFC 8288 links: the neighbouring pages, e.g. `<…?page=3>; rel="next", <…?page=1>; rel="prev"` '
    "(`cursor=` links on a cursor page; none on a single page), then the dataset licence, "
    f"`{LICENSE_LINK}`, which every response carries.",
    "required": True,
    "schema": {"type": "string", "pattern": _LICENSE_LINK_PATTERN},
}
CURSOR_LINK_HEADER = {
    "description": 'RFC 8288 links: the next page, `<…?since=N>; rel="next"` (always: new changes may come), then '
    f"the dataset licence, `{LICENSE_LINK}`, which every response carries.",
    "required": True,
    "schema": {"type": "string", "pattern": '^<[^>]+>; rel="next", ' + _LICENSE_LINK_PATTERN},
}
# A release file (deals/api/releases.py, ReleaseFileView) is not cached by the middleware: its ETag is the file's
# SHA-256 and it never changes, so it may be cached for a year.
FILE_ETAG_HEADER = {
    "description": "Strong validator: the file's SHA-256, quoted (the same as `sha256` in the release's `files`); "
    "send it back in `If-None-Match` to get a 304.",
    "required": True,
    "schema": {"type": "string", "pattern": '^"[0-9a-f]{64}"$'},
}
FILE_CACHE_CONTROL_HEADER = {
    "description": "`public, max-age=31536000, immutable`: a release file never changes.",
    "required": True,
    "schema": {"type": "string", "pattern": "^public, max-age=31536000, immutable$"},
}
FILE_CONTENT_DISPOSITION_HEADER = {
    "description": '`attachment; filename="<name>"`: a browser saves the file under its name.',
    "required": True,
    "schema": {"type": "string", "pattern": '^attachment; filename="[^"]+"$'},
}
REDIRECT_LOCATION_HEADER = {
    "description": "Where the alias points now (a path on this server): the newest release, or its file.",
    "required": True,
    "schema": {"type": "string", "format": "uri-reference"},
}
# Headers only some operations' 200 carries.
OWN_200_HEADERS = {"releases_file": {"Content-Disposition": FILE_CONTENT_DISPOSITION_HEADER}}
# Operations whose 200 and 304 carry their own validators instead of the response cache's.
OWN_VALIDATORS = {
    "releases_file": {"ETag": FILE_ETAG_HEADER, "Cache-Control": FILE_CACHE_CONTROL_HEADER},
}
LOCATION_HEADER = {
    "description": "The record's current URL (the same as `location` in the body).",
    "required": True,
    "schema": {"type": "string", "format": "uri"},
}


def _not_modified_response(validators: dict) -> dict:
    return {
        "description": "Not Modified: the `If-None-Match` ETag is current. No body; the ETag and Cache-Control are "
        "sent again.",
        "headers": {**validators, "Link": LINK_HEADER, **RATE_LIMIT_HEADERS},
    }


def _is_list(operation: dict) -> bool:
    """A paginated list: it takes ``page``."""
    return any(p.get("name") == "page" and p.get("in") == "query" for p in operation.get("parameters", []))


# Keyset-paged operations: their 200 links the next page in ``Link`` (deals/api/changes.py), without ``page``.
CURSOR_PAGED = {"v1_changes_list"}


def _list_examples_link(path: str, content: dict) -> None:
    """drf-spectacular builds every list example from the paginator's schema, so each ``next`` pointed at the deals
    list; point it at the operation's own path."""
    for example in content.get("examples", {}).values():
        value = example.get("value")
        if isinstance(value, dict) and "next" in value:
            # A copy: one example dict may serve several operations (the history of deals, companies, facilities).
            example["value"] = {**copy.deepcopy(value), "next": f"http://127.0.0.1:8000{_example_path(path)}?page=2"}


def _example_path(path: str) -> str:
    """The path with its parameters filled in (a ``next`` link is a URI, without ``{slug}``)."""
    return re.sub(r"\{[^}]+\}", "example", path)


def _pagination_example_link(path: str, operation: dict, schemas: dict) -> None:
    """The ``next`` example of the list's own ``Paginated<Model>List`` component."""
    content = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    name = content.get("schema", {}).get("$ref", "").removeprefix("#/components/schemas/")
    next_link = schemas.get(name, {}).get("properties", {}).get("next")
    if next_link is not None and "example" in next_link:
        next_link["example"] = f"http://127.0.0.1:8000{_example_path(path)}?page=2"


def responses_headers_declare(result, generator, request, public):
    """Postprocessing hook: the headers and statuses of the module docstring on every operation, the list examples'
    ``next`` links, and the root's ``servers``, ``security`` (none) and ``externalDocs``."""
    for path, methods in result.get("paths", {}).items():
        for operation in methods.values():
            validators = OWN_VALIDATORS.get(
                operation.get("operationId"), {"ETag": ETAG_HEADER, "Cache-Control": CACHE_CONTROL_HEADER}
            )
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == IF_NONE_MATCH_PARAMETER["name"] for p in parameters):
                parameters.append(IF_NONE_MATCH_PARAMETER)
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                for name, header in RATE_LIMIT_HEADERS.items():
                    headers.setdefault(name, header)
                headers["Link"] = LINK_HEADER
                if status == "200":
                    headers.update(validators)
                    headers.update(OWN_200_HEADERS.get(operation.get("operationId"), {}))
                    if operation.get("operationId") in CURSOR_PAGED:
                        headers["Link"] = CURSOR_LINK_HEADER
                    elif _is_list(operation):
                        headers["Link"] = LIST_LINK_HEADER
                        _list_examples_link(path, response.get("content", {}).get("application/json", {}))
                        _pagination_example_link(path, operation, result["components"]["schemas"])
                elif status == "301":
                    headers["Location"] = LOCATION_HEADER
                elif status == "302":
                    headers["Location"] = REDIRECT_LOCATION_HEADER
            responses["304"] = _not_modified_response(validators)
            operation["responses"] = dict(sorted(responses.items()))
    base = settings.REEXAPI_PUBLIC_URL
    result["servers"] = [{"url": base, "description": "This deployment (`REEXAPI_PUBLIC_URL`)."}]
    # No authentication anywhere: an explicit empty requirement (generated clients need no credentials).
    result["security"] = []
    result["externalDocs"] = {
        "description": "Interactive documentation (Swagger UI); the guide is docs/api.md in the repository.",
        "url": f"{base}/api/docs/",
    }
    return result
