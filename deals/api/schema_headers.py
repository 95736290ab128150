"""OpenAPI: the headers every response carries, 304 on every cacheable GET, list examples, and the schema's root.

What is declared here is what the middleware sends (tests/api/test_schema.py compares real responses against it):

- ``ETag`` and ``Cache-Control`` on every 200 and 304 of the API (deals/caching.py, ``ApiCacheMiddleware``); a
  request with a matching ``If-None-Match`` is answered 304 with no body;
- ``RateLimit-Limit``, ``RateLimit-Remaining`` and ``RateLimit-Reset`` on every response while the rate limit is on
  (deals/api/throttling.py); not ``required``, since ``REEXAPI_API_RATE_LIMIT=off`` turns them off;
- ``Link`` (RFC 8288 ``rel="next"``/``rel="prev"``) on a list page that has a neighbour (deals/api/pagination.py);
- ``Location`` on a 301 (deals/api/publication.py).
"""

from __future__ import annotations

from django.conf import settings

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
LINK_HEADER = {
    "description": 'RFC 8288 links to the neighbouring pages, e.g. `<…?page=3>; rel="next", <…?page=1>; rel="prev"`; '
    "absent on a single page.",
    "schema": {"type": "string"},
}
LOCATION_HEADER = {
    "description": "The record's current URL (the same as `location` in the body).",
    "required": True,
    "schema": {"type": "string", "format": "uri"},
}
NOT_MODIFIED_RESPONSE = {
    "description": "Not Modified: the `If-None-Match` ETag is current. No body; the ETag and Cache-Control are "
    "sent again.",
    "headers": {"ETag": ETAG_HEADER, "Cache-Control": CACHE_CONTROL_HEADER, **RATE_LIMIT_HEADERS},
}


def _is_list(operation: dict) -> bool:
    """A paginated list: it takes ``page``."""
    return any(p.get("name") == "page" and p.get("in") == "query" for p in operation.get("parameters", []))


def _list_examples_link(path: str, content: dict) -> None:
    """drf-spectacular builds every list example from the paginator's schema, so each ``next`` pointed at the deals
    list; point it at the operation's own path."""
    for example in content.get("examples", {}).values():
        value = example.get("value")
        if isinstance(value, dict) and "next" in value:
            value["next"] = f"http://127.0.0.1:8000{path}?page=2"


def _pagination_example_link(path: str, operation: dict, schemas: dict) -> None:
    """The ``next`` example of the list's own ``Paginated<Model>List`` component."""
    content = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    name = content.get("schema", {}).get("$ref", "").removeprefix("#/components/schemas/")
    next_link = schemas.get(name, {}).get("properties", {}).get("next")
    if next_link is not None and "example" in next_link:
        next_link["example"] = f"http://127.0.0.1:8000{path}?page=2"


def responses_headers_declare(result, generator, request, public):
    """Postprocessing hook: the headers and statuses of the module docstring on every operation, the list examples'
    ``next`` links, and the root's ``servers``, ``security`` (none) and ``externalDocs``."""
    for path, methods in result.get("paths", {}).items():
        for operation in methods.values():
            parameters = operation.setdefault("parameters", [])
            if not any(p.get("name") == IF_NONE_MATCH_PARAMETER["name"] for p in parameters):
                parameters.append(IF_NONE_MATCH_PARAMETER)
            responses = operation.setdefault("responses", {})
            for status, response in responses.items():
                headers = response.setdefault("headers", {})
                for name, header in RATE_LIMIT_HEADERS.items():
                    headers.setdefault(name, header)
                if status == "200":
                    headers["ETag"] = ETAG_HEADER
                    headers["Cache-Control"] = CACHE_CONTROL_HEADER
                    if _is_list(operation):
                        headers["Link"] = LINK_HEADER
                        _list_examples_link(path, response.get("content", {}).get("application/json", {}))
                        _pagination_example_link(path, operation, result["components"]["schemas"])
                elif status == "301":
                    headers["Location"] = LOCATION_HEADER
            responses["304"] = NOT_MODIFIED_RESPONSE
            operation["responses"] = dict(sorted(responses.items()))
    base = settings.REEXAPI_PUBLIC_BASE_URL
    result["servers"] = [{"url": base, "description": "This deployment (`REEXAPI_PUBLIC_BASE_URL`)."}]
    # No authentication anywhere: an explicit empty requirement (generated clients need no credentials).
    result["security"] = []
    result["externalDocs"] = {
        "description": "Interactive documentation (Swagger UI); the guide is docs/api.md in the repository.",
        "url": f"{base}/api/docs/",
    }
    return result
