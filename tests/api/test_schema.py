"""The OpenAPI schema: equal to the committed docs/openapi.yaml, valid without warnings, complete (every
operation, parameter and field described, an example per operation, 400/404 bodies documented), and served
with Swagger UI and ReDoc from the sidecar (no request leaves the server)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.management import call_command

SNAPSHOT = Path(settings.BASE_DIR) / "docs" / "openapi.yaml"
OPERATIONS = 28  # the index, list + CSV + detail of five collections, the facilities' GeoJSON, four of releases (their
# `latest` is the version `latest` of the detail and the file), the two statistics, the change feed, three histories,
# the search across resources
RELEASES = "/api/v1/releases/"  # not collections of records: checked by tests/api/test_releases.py
STATS = "/api/v1/stats/"
FEED = "/api/v1/changes/"
SEARCH = "/api/v1/search/"


def _is_detail(path: str) -> bool:
    return path.endswith(("{slug}/", "{slug}/history/"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> str:
    """The schema exactly as `manage.py spectacular --validate --fail-on-warn` writes it (fails on a warning)."""
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return target.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def schema(generated) -> dict:
    return yaml.safe_load(generated)


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_committed_snapshot_is_current(generated):
    assert SNAPSHOT.read_text(encoding="utf-8") == generated, (
        "docs/openapi.yaml is stale: run `.venv/bin/python manage.py spectacular --file docs/openapi.yaml`"
    )


def test_operations_are_the_read_endpoints(schema):
    found = sorted((path, method) for path, method, _ in operations(schema))
    assert len(found) == OPERATIONS
    assert {method for _, method in found} == {"get"}
    assert ("/api/v1/", "get") in found and ("/api/v1/deals/{slug}/", "get") in found


def test_every_operation_has_a_description_an_example_and_error_bodies(schema):
    for path, _, operation in operations(schema):
        if path.startswith(RELEASES):
            continue
        assert operation.get("summary") and operation.get("description"), path
        ok = operation["responses"]["200"]
        assert ok["description"], path
        for media_type, content in ok["content"].items():
            assert content.get("examples") or content.get("example"), (path, media_type)
        bad = operation["responses"]["400"]["content"]["application/json"]["schema"]
        assert bad == {"$ref": "#/components/schemas/ValidationError"}, path
        if _is_detail(path):
            missing = operation["responses"]["404"]["content"]["application/json"]["schema"]
            assert missing == {"$ref": "#/components/schemas/ErrorDetail"}, path
        elif path not in ("/api/v1/", FEED):  # the feed has no pages to run past, and no slugs
            # A page past the end ({"detail": …}) or an unknown slug in a filter (keyed like a 400).
            missing = operation["responses"]["404"]["content"]["application/json"]["schema"]
            assert missing["oneOf"] == [
                {"$ref": "#/components/schemas/ErrorDetail"},
                {"$ref": "#/components/schemas/ValidationError"},
            ], path
        for status in ("406", "429", "503"):
            error = operation["responses"][status]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/ErrorDetail"}, (path, status)
        assert set(operation["responses"]["429"]["headers"]) == {
            "Link",  # the licence, on every response
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        }
        assert set(operation["responses"]["503"]["headers"]) == {
            "Link",  # the licence, on every response
            "Retry-After",
            "RateLimit-Limit",
            "RateLimit-Remaining",
            "RateLimit-Reset",
        }


def test_each_operation_answers_one_media_type(schema):
    """JSON operations are JSON only (generated clients get one type); CSV and GeoJSON are operations of their own,
    and the JSON lists' `format` takes json only."""
    from django.urls import resolve

    for path, _, operation in operations(schema):
        if path.startswith(RELEASES):
            continue
        content = operation["responses"]["200"]["content"]
        if path.endswith(".csv"):
            assert list(content) == ["text/csv"], path
            assert content["text/csv"]["schema"]["type"] == "string"
            columns = resolve(path).func.cls.csv_serializer_class.Meta.fields
            assert content["text/csv"]["schema"]["description"].endswith(f"Columns: {', '.join(columns)}."), path
        elif path.endswith(".geojson"):
            assert list(content) == ["application/geo+json"], path
            assert content["application/geo+json"]["schema"]["properties"]["type"]["enum"] == ["FeatureCollection"]
        else:
            assert list(content) == ["application/json"], path
        formats = [
            schema["components"]["schemas"][p["schema"]["$ref"].rsplit("/", 1)[1]]["enum"]
            for p in operation.get("parameters", [])
            if p["name"] == "format"
        ]
        if path.endswith((".csv", ".geojson")):
            assert formats == [], path
        elif path != "/api/v1/" and not path.endswith("{slug}/"):
            assert formats == [["json"]], path
    assert {path for path, _, _ in operations(schema) if path.endswith((".csv", ".geojson"))} == {
        "/api/v1/deals.csv",
        "/api/v1/companies.csv",
        "/api/v1/facilities.csv",
        "/api/v1/sources.csv",
        "/api/v1/commodities.csv",
        "/api/v1/facilities.geojson",
    }


def test_every_parameter_is_described(schema):
    for path, _, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (path, parameter["name"])


def test_list_parameters_are_the_accepted_query_parameters(schema):
    """The schema documents exactly what the strict validation accepts, so a generated client is never 400'd
    for a documented parameter."""
    from django.urls import resolve

    for path, _, operation in operations(schema):
        documented = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if path == FEED:
            assert documented == resolve(path).func.cls.allowed_query_params, path
            continue
        if path.endswith("{slug}/history/"):
            assert documented == {"page", "page_size", "format"}, path
            continue
        if _is_detail(path) or path == "/api/v1/" or path.startswith(RELEASES):
            continue
        view = resolve(path).func.cls
        if path == SEARCH:  # q, type, the pages and format
            assert documented == view().allowed_query_params() == {"q", "type", "page", "page_size", "format"}
            continue
        if path.startswith(STATS):  # the list's filters, group_by and format
            accepted = view().allowed_query_params()
            assert accepted == set(view.filterset_class.base_filters) | {"group_by", "format"}
        else:
            accepted = set(view.filterset_class.base_filters) | {"ordering", "page", "page_size", "cursor"}
            if not path.endswith((".csv", ".geojson")):
                accepted.add("format")  # json only: the other formats are their own operations
        assert documented == accepted, path


def test_every_field_and_component_is_described(schema):
    for name, component in schema["components"]["schemas"].items():
        assert component.get("description"), name
        for field, definition in component.get("properties", {}).items():
            assert definition.get("description"), f"{name}.{field}"


def test_page_size_bounds_are_documented(schema):
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/deals/"]["get"]["parameters"]}
    assert parameters["page_size"]["schema"] == {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}
    assert parameters["ordering"]["schema"]["items"] == {"$ref": "#/components/schemas/DealOrderingEnum"}
    assert "-announced_date" in schema["components"]["schemas"]["DealOrderingEnum"]["enum"]


@pytest.mark.django_db
def test_schema_is_served_as_yaml_and_json(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert yaml.safe_load(response.content)["openapi"].startswith("3.")
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200 and response.json()["info"]["title"] == "ReexAPI"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_everything_from_this_server(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    # No script, style or font from another origin: every src/href is a path on this server.
    for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html):
        assert url.startswith("/"), url
    assert "cdn" not in html.lower()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "body"),
    [
        ({"foo": "bar"}, {"foo": ["Unknown query parameter. Valid parameters: format."]}),
        ({"version": "2"}, {"version": ["Unknown query parameter. Valid parameters: format."]}),
        ({"lang": "de"}, {"lang": ["Unknown query parameter. Valid parameters: format."]}),
        ({"format": "xml"}, {"format": ["Unknown format 'xml'. Allowed here: yaml, json."]}),
    ],
)
def test_schema_view_is_strict(client, query, body):
    response = client.get("/api/schema/", query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json() == body


@pytest.mark.django_db
def test_schema_query_strings_do_not_fill_the_response_cache(client, settings, monkeypatch):
    """Only the accepted forms of the schema URL are rendered and cached; anything else is a cheap 400."""
    from deals import caching

    settings.REEXAPI_RESPONSE_CACHE = True
    stored: list[str] = []
    real_set = caching.response_cache().set

    def spy(key, *args, **kwargs):
        if key.startswith(caching.RESPONSE_KEY_PREFIX):
            stored.append(key)
        return real_set(key, *args, **kwargs)

    monkeypatch.setattr(caching.response_cache(), "set", spy)
    for i in range(5):
        assert client.get("/api/schema/", {"foo": str(i), "version": str(i)}).status_code == 400
    assert stored == []
    assert client.get("/api/schema/", {"format": "yaml"}).status_code == 200
    assert client.get("/api/schema/", {"format": "yaml"}).status_code == 200
    assert len(stored) == 1


def test_every_operation_documents_406_with_its_body(schema):
    for path, _, operation in operations(schema):
        not_acceptable = operation["responses"]["406"]
        assert not_acceptable["description"], path
        assert not_acceptable["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorDetail"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/deals/", "/api/v1/"])
def test_406_is_json_as_documented(client, path):
    response = client.get(path, headers={"Accept": "application/xml"})
    assert response.status_code == 406
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Could not satisfy the request Accept header."}


def test_query_parameter_limits_are_documented(schema):
    from deals.api.query import MAX_PARAM_LENGTH, PARAM_MAX_LENGTHS
    from deals.api.schema import NO_NUL_PATTERN, PATTERN_PARAMETERS, SLUG_PATTERN
    from deals.range_filters import PERIOD_PATTERN, QUANTITY_PATTERN, WHOLE_PATTERN

    deals = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/deals/"]["get"]["parameters"]}
    assert deals["ordering"]["uniqueItems"] is True
    assert deals["ordering"]["minItems"] == 1
    usd = {"type": "string", "pattern": r"^[0-9]{1,16}(\.[0-9]{1,2})?$"}
    assert deals["value_usd_min"] == usd
    assert deals["value_usd_max"] == usd
    assert deals["q"] == {"type": "string", "maxLength": MAX_PARAM_LENGTH, "pattern": NO_NUL_PATTERN}
    assert deals["commodity"]["items"] == {"type": "string", "maxLength": MAX_PARAM_LENGTH, "pattern": SLUG_PATTERN}
    sources = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/sources/"]["get"]["parameters"]}
    assert sources["publisher"]["maxLength"] == MAX_PARAM_LENGTH
    # Facility bounds: the exact shapes deals.range_filters reads (bounded by their patterns).
    facilities = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/facilities/"]["get"]["parameters"]}
    assert facilities["jobs_min"] == {"type": "string", "pattern": WHOLE_PATTERN}
    assert facilities["capacity_max"] == {"type": "string", "pattern": QUANTITY_PATTERN}
    assert facilities["planned_start_after"] == {
        "oneOf": [{"type": "string", "pattern": PERIOD_PATTERN}, {"type": "string", "format": "date"}]
    }
    # Every free-text query parameter of every operation is bounded.
    for path, _, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            if parameter["in"] != "query":
                continue
            value = parameter["schema"].get("items", parameter["schema"])
            if value.get("type") == "string" and "enum" not in value and "format" not in value:
                if parameter["name"] not in ("value_usd_min", "value_usd_max", *PATTERN_PARAMETERS):
                    assert value["maxLength"] == PARAM_MAX_LENGTHS.get(parameter["name"], MAX_PARAM_LENGTH), (
                        path,
                        parameter["name"],
                    )
                assert value["pattern"], (path, parameter["name"])
            # Empty means "no filter" for filters only: an empty ordering, page, page_size, format or group_by
            # (statistics) is a 400.
            empty_is_no_filter = parameter["name"] not in ("ordering", "page", "page_size", "format", "group_by")
            if path == SEARCH and parameter["name"] == "q":  # required: empty is a 400
                empty_is_no_filter = False
            assert parameter["allowEmptyValue"] is empty_is_no_filter, (path, parameter["name"])


def test_405_is_documented(schema):
    """A read-only API has no write operation to attach a 405 to (and an unused component is a lint warning): the
    API's description states it."""
    assert "is a 405 with `Allow` (`GET, HEAD, OPTIONS`)" in schema["info"]["description"]
    assert "responses" not in schema["components"]
