"""The OpenAPI schema as a contract for generated clients (issue 11 §1): no security requirement, every field that
is sent is declared and required, "not stated" is null, one enum component per choice set shared by filters and
responses, exact decimal patterns, and the headers and statuses that are really sent.

The response tests load the real dataset and compare every endpoint's real responses (bodies and headers) against
the schema, with the schema made strict (no property beyond the declared ones).
"""

from __future__ import annotations

import copy
import csv
import io
import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import reverse
from jsonschema import Draft202012Validator

from deals.api.schema_enums import enum_varname
from deals.caching import dataset_version_bump
from deals.models import Company, Deal, Facility, Source
from deals.selectors.stats import DEAL_DIMENSIONS, FACILITY_DIMENSIONS
from deals.services.publication import record_merge, record_withdraw
from deals.services.releases import release_create
from tests.factories import DealFactory

IDENTIFIER = re.compile(r"^[A-Z_][A-Z0-9_]*$")
RESOURCES = ("deals", "companies", "facilities", "sources", "commodities")
# Headers the API sets itself (deals/caching.py, deals/api/throttling.py, deals/api/pagination.py, publication.py).
OWN_HEADERS = {"ETag", "Cache-Control", "Link", "Location", "Retry-After", "Content-Disposition"} | {
    f"RateLimit-{name}" for name in ("Limit", "Remaining", "Reset")
}


@pytest.fixture(scope="module")
def schema(tmp_path_factory) -> dict:
    target = tmp_path_factory.mktemp("schema") / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text(encoding="utf-8"))


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def _strict(schema: dict) -> dict:
    """A copy where no object component allows a property it does not declare."""
    strict = copy.deepcopy(schema)
    for component in strict["components"]["schemas"].values():
        if component.get("type") == "object" and "properties" in component:
            component["additionalProperties"] = False
    return strict


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def _check_body(strict: dict, path: str, status: str, body) -> None:
    pointer = _pointer("paths", path, "get", "responses", status, "content", "application/json", "schema")
    validator = Draft202012Validator({**strict, "$ref": pointer})
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, (path, status, [(list(e.absolute_path), e.message[:300]) for e in errors[:5]])


def _check_headers(schema: dict, path: str, response) -> None:
    declared = schema["paths"][path]["get"]["responses"][str(response.status_code)].get("headers", {})
    for name, header in declared.items():
        if header.get("required"):
            assert response.has_header(name), (path, response.status_code, name)
        if not response.has_header(name):
            continue
        value, rule = response[name], header["schema"]
        if rule.get("type") == "integer":
            assert value.isdigit() and int(value) >= rule.get("minimum", 0), (path, name, value)
        if "pattern" in rule:
            assert re.search(rule["pattern"], value), (path, name, value)
    sent = {name for name in OWN_HEADERS if response.has_header(name)}
    assert sent <= set(declared), (path, response.status_code, sent - set(declared))


def _get(client, schema, strict, path: str, url: str, **extra):
    response = client.get(url, **extra)
    status = str(response.status_code)
    assert status in schema["paths"][path]["get"]["responses"], (url, status)
    _check_headers(schema, path, response)
    if not response.streaming and response.content and response["Content-Type"] == "application/json":
        _check_body(strict, path, status, response.json())
    return response


@pytest.fixture
def dataset(db):
    call_command("load_dataset", verbosity=0)


# --- the schema itself -----------------------------------------------------------------------------------------


def test_no_operation_requires_security(schema):
    assert schema["security"] == []
    assert "securitySchemes" not in schema["components"]
    for path, _, operation in operations(schema):
        assert "security" not in operation, path


def test_every_response_property_is_required(schema):
    """Every field is always sent, so a generated client gets plain attributes, not ``X | None | Unset``."""
    for name, component in schema["components"]["schemas"].items():
        if component.get("type") == "object" and "properties" in component:
            assert sorted(component.get("required", [])) == sorted(component["properties"]), name


def test_root_metadata(schema, settings):
    from deals.licensing import DATASET_LICENSE

    assert schema["openapi"] == "3.1.0"
    assert schema["servers"] == [
        {"url": settings.REEXAPI_PUBLIC_URL, "description": "This deployment (`REEXAPI_PUBLIC_URL`)."}
    ]
    assert schema["info"]["license"] == {"name": DATASET_LICENSE["name"], "url": DATASET_LICENSE["url"]}
    assert "Apache License 2.0" in schema["info"]["description"]
    assert schema["info"]["contact"]["url"]
    assert schema["externalDocs"]["url"].endswith("/api/docs/")
    tags = {tag["name"]: tag["description"] for tag in schema["tags"]}
    used = {tag for _, _, operation in operations(schema) for tag in operation["tags"]}
    assert used == set(tags) and all(tags.values())


def test_servers_follow_the_setting(settings):
    from drf_spectacular.generators import SchemaGenerator

    settings.REEXAPI_PUBLIC_URL = "https://api.example.org"
    generated = SchemaGenerator().get_schema(request=None, public=True)
    assert generated["servers"][0]["url"] == "https://api.example.org"


def test_no_blank_enum_and_nullable_choices(schema):
    components = schema["components"]["schemas"]
    assert "BlankEnum" not in components and "NullEnum" not in components
    for name, component in components.items():
        assert "" not in component.get("enum", []), name
    qualifier = components["Deal"]["properties"]["value_qualifier"]
    assert qualifier["oneOf"] == [{"$ref": "#/components/schemas/ValueQualifierEnum"}, {"type": "null"}]
    assert components["Deal"]["properties"]["currency"]["type"] == ["string", "null"]
    assert components["Facility"]["properties"]["capacity_unit"]["type"] == ["string", "null"]


def test_one_component_per_choice_set_shared_by_filters_and_responses(schema):
    components = schema["components"]["schemas"]
    # A choice set is its values with their meanings: CapacityPeriodEnum (per day/month/year) and DatePrecisionEnum
    # (to the day/month/year) share values but not meanings.
    enums = {
        name: tuple(sorted(zip(c["enum"], c["x-enum-descriptions"], strict=True)))
        for name, c in components.items()
        if "enum" in c
    }
    assert len(set(enums.values())) == len(enums), "two components hold the same choice set"
    assert len(enums["CountryCodeEnum"]) == 249
    for path, _, operation in operations(schema):
        for parameter in operation["parameters"]:
            value = parameter["schema"].get("items", parameter["schema"])
            assert "enum" not in value, (path, parameter["name"])
    deals = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/deals/"]["get"]["parameters"]}
    ref = "#/components/schemas/"
    assert deals["status"]["items"] == {"$ref": ref + "DealStatusEnum"}
    assert components["Deal"]["properties"]["status"]["allOf"] == [{"$ref": ref + "DealStatusEnum"}]
    assert deals["type"]["items"] == {"$ref": ref + "DealTypeEnum"}
    assert deals["role"]["items"] == {"$ref": ref + "DealPartyRoleEnum"}
    assert deals["country"]["items"] == deals["party_country"]["items"] == {"$ref": ref + "CountryCodeEnum"}
    assert components["Country"]["properties"]["code"]["allOf"] == [{"$ref": ref + "CountryCodeEnum"}]
    assert deals["ordering"]["items"] == {"$ref": ref + "DealOrderingEnum"}
    # The 249 country names are written once, in the component.
    text = yaml.safe_dump(schema)
    assert text.count("Afghanistan") == 1


def test_every_enum_has_varnames_and_descriptions(schema):
    for name, component in schema["components"]["schemas"].items():
        if "enum" not in component:
            continue
        values, varnames = component["enum"], component["x-enum-varnames"]
        assert len(varnames) == len(values) == len(set(varnames)), name
        assert all(IDENTIFIER.match(v) for v in varnames), (name, varnames)
        assert len(component["x-enum-descriptions"]) == len(values), name
    ordering = schema["components"]["schemas"]["DealOrderingEnum"]
    assert ordering["x-enum-varnames"][ordering["enum"].index("-amount_usd")] == "AMOUNT_USD_DESC"
    qualifier = schema["components"]["schemas"]["ValueQualifierEnum"]
    assert qualifier["x-enum-descriptions"][qualifier["enum"].index("up_to")] == "Up to (a ceiling)"
    countries = schema["components"]["schemas"]["CountryCodeEnum"]
    assert countries["x-enum-descriptions"][countries["enum"].index("US")] == "United States of America"


@pytest.mark.parametrize(
    ("value", "name"), [("-amount_usd", "AMOUNT_USD_DESC"), ("up_to", "UP_TO"), ("US", "US"), ("3d", "VALUE_3D")]
)
def test_enum_varname(value, name):
    assert enum_varname(value) == name


def test_decimals_are_strings_with_their_exact_pattern(schema):
    components = schema["components"]["schemas"]
    assert components["Deal"]["properties"]["amount_usd"]["pattern"] == r"^[0-9]{1,16}\.[0-9]{2}$"
    assert components["Facility"]["properties"]["capacity_amount"]["pattern"] == r"^[0-9]{1,13}\.[0-9]{3}$"
    assert components["Facility"]["properties"]["latitude"]["pattern"] == r"^-?[0-9]{1,3}\.[0-9]{6}$"
    for name, component in components.items():
        for field, definition in component.get("properties", {}).items():
            assert "number" not in str(definition.get("type")), f"{name}.{field} is a number: send a decimal string"
    deals = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/deals/"]["get"]["parameters"]}
    assert deals["value_usd_min"] == {"type": "string", "pattern": r"^[0-9]{1,16}(\.[0-9]{1,2})?$"}
    # A filter on money or a quantity is a decimal string with a pattern too (a float would round).
    for path, _, operation in operations(schema):
        for parameter in operation["parameters"]:
            assert parameter["schema"].get("type") != "number", (path, parameter["name"])
            if parameter["schema"].get("type") == "string" and parameter["name"].endswith(("_min", "_max")):
                assert parameter["schema"].get("pattern"), (path, parameter["name"])


def test_headers_and_statuses_are_declared(schema):
    for path, _, operation in operations(schema):
        responses = operation["responses"]
        assert {"200", "304", "400", "406", "429", "503"} <= set(responses), path
        assert {"ETag", "Cache-Control"} <= set(responses["200"]["headers"]), path
        assert set(responses["304"]["headers"]) >= {"ETag", "Cache-Control", "RateLimit-Limit"}, path
        assert "content" not in responses["304"], path
        assert "If-None-Match" in {p["name"] for p in operation["parameters"] if p["in"] == "header"}, path
        # The licence link (deals/api/license_link.py) is on every response, whatever its status, and last.
        for status, response in responses.items():
            link = response["headers"]["Link"]
            assert link["required"] is True and link["schema"]["pattern"].endswith('rel="license"$'), (path, status)
        paged = any(p["name"] == "page" for p in operation["parameters"]) or path == "/api/v1/changes/"
        assert ('rel="next"' in responses["200"]["headers"]["Link"]["description"]) is paged, path
        if path.split("/")[3] in ("deals", "companies", "facilities") and "{" in path:
            assert responses["301"]["headers"]["Location"]["required"] is True, path
            assert responses["410"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/RecordGone"
            }


def test_every_list_example_links_its_own_path(schema):
    for path, _, operation in operations(schema):
        content = operation["responses"]["200"]["content"].get("application/json", {})
        for example in content.get("examples", {}).values():
            if "next" in example["value"] and any(p["name"] == "page" for p in operation["parameters"]):
                url = f"http://127.0.0.1:8000{re.sub(r'{[^}]+}', 'example', path)}?page=2"
                assert example["value"]["next"] == url, path


# --- real responses against the schema ---------------------------------------------------------------------------


@pytest.mark.usefixtures("dataset")
def test_every_endpoint_sends_what_the_schema_says(client, schema):
    strict = _strict(schema)
    _get(client, schema, strict, "/api/v1/", "/api/v1/")
    details = 0
    for resource in RESOURCES:
        path = f"/api/v1/{resource}/"
        first = _get(client, schema, strict, path, path, data={"page_size": 2})
        assert first.status_code == 200 and first.json()["count"] > 0, resource
        if first.json()["count"] > 2:
            assert 'rel="next"' in first["Link"], resource
        body = _get(client, schema, strict, path, path, data={"page_size": 100}).json()
        for row in body["results"]:
            response = _get(client, schema, strict, f"/api/v1/{resource}/{{slug}}/", row["url"])
            assert response.status_code == 200
            details += 1
    assert details >= 20
    # The other formats of the lists (CSV, GeoJSON) send the headers their operations declare.
    for path in schema["paths"]:
        if path.endswith((".csv", ".geojson")):
            response = _get(client, schema, strict, path, path, data={"page_size": 2})
            assert response.status_code == 200 and response.has_header("ETag"), path
    # Errors are bodies of the schema too.
    _get(client, schema, strict, "/api/v1/deals/", "/api/v1/deals/", data={"status": "pending"})
    _get(client, schema, strict, "/api/v1/deals/", "/api/v1/deals/", data={"commodity": "no-such-commodity"})
    _get(client, schema, strict, "/api/v1/deals/{slug}/", "/api/v1/deals/no-such-deal/")


@pytest.fixture
def released(db, django_capture_on_commit_callbacks):
    """The dataset and one release of it (the commits' callbacks run, as in production)."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_dataset", verbosity=0)
        return release_create(base_url="http://testserver")


def test_the_feed_histories_statistics_and_releases_send_what_the_schema_says(client, schema, released):
    strict = _strict(schema)
    # The change feed: a page, the page its Link names, and a cursor ahead of the feed (an empty page whose `latest`
    # tells the client that the database was rebuilt).
    first = _get(client, schema, strict, "/api/v1/changes/", "/api/v1/changes/", data={"page_size": 5})
    assert first.status_code == 200 and len(first.json()["results"]) == 5
    assert first["Link"].startswith(f'<{first.json()["next"]}>; rel="next", ')
    assert _get(client, schema, strict, "/api/v1/changes/", first.json()["next"]).status_code == 200
    ahead = _get(client, schema, strict, "/api/v1/changes/", "/api/v1/changes/", data={"since": 10**9})
    assert ahead.status_code == 200 and ahead.json()["results"] == [] and ahead.json()["latest"] < 10**9
    # Every record's history (paged by one, so that `next` and the Link are there).
    for resource in ("deals", "companies", "facilities"):
        for row in client.get(f"/api/v1/{resource}/", {"page_size": 100}).json()["results"]:
            path = f"/api/v1/{resource}/{{slug}}/history/"
            response = _get(client, schema, strict, path, f"{row['url']}history/", data={"page_size": 1})
            assert response.status_code == 200 and response.json()["results"], row["url"]
    # Statistics by every dimension, and without one (a 400).
    for path, dimensions in (
        ("/api/v1/stats/deals/", DEAL_DIMENSIONS),
        ("/api/v1/stats/facilities/", FACILITY_DIMENSIONS),
    ):
        for dimension in dimensions:
            response = _get(client, schema, strict, path, path, data={"group_by": dimension})
            assert response.status_code == 200 and response.json()["groups"], (path, dimension)
        assert _get(client, schema, strict, path, path).status_code == 400
    # Releases: list, index, detail, every file (and its 304), `latest` (302s) and an unknown version (404).
    for path in ("/api/v1/releases/", "/api/v1/releases/index.json"):
        assert _get(client, schema, strict, path, path).status_code == 200
    detail = "/api/v1/releases/{version}/"
    body = _get(client, schema, strict, detail, f"/api/v1/releases/{released.version}/").json()
    assert body["files"]
    download = "/api/v1/releases/{version}/{name}"
    for file in body["files"]:
        response = _get(client, schema, strict, download, file["url"])
        assert response.status_code == 200 and response["ETag"] == f'"{file["sha256"]}"', file["name"]
        again = _get(client, schema, strict, download, file["url"], headers={"If-None-Match": response["ETag"]})
        assert again.status_code == 304 and again["ETag"] == response["ETag"], file["name"]
    latest = _get(client, schema, strict, detail, "/api/v1/releases/latest/")
    assert latest.status_code == 302 and latest["Location"].endswith(f"/{released.version}/")
    name = body["files"][0]["name"]
    latest = _get(client, schema, strict, download, f"/api/v1/releases/latest/{name}")
    assert latest.status_code == 302 and latest["Location"].endswith(f"/{released.version}/{name}")
    assert _get(client, schema, strict, detail, "/api/v1/releases/1999.01.01.1/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/facilities/", "/api/v1/stats/facilities/?group_by=country"])
def test_a_percent_sign_in_an_unknown_slug_is_a_4xx_naming_it(client, path):
    """django-filter %-formats every filter error; a client's "%" in the quoted value was a TypeError (a 500)."""
    response = client.get(path, {"commodity": "x%t", "region_code": "u%"})
    assert response.status_code == 400
    assert "x%t" in response.json()["commodity"][0] and "U%" in response.json()["region_code"][0]


@pytest.mark.usefixtures("dataset")
def test_withdrawn_and_merged_records_answer_as_documented(client, schema):
    strict = _strict(schema)
    deal, other = Deal.objects.public().order_by("slug")[:2]
    record_withdraw(record=deal, reason="Entered twice.")
    companies = list(Company.objects.public().order_by("slug")[:2])
    record_merge(duplicate=companies[0], survivor=companies[1])
    dataset_version_bump()
    gone = _get(client, schema, strict, "/api/v1/deals/{slug}/", f"/api/v1/deals/{deal.slug}/")
    assert gone.status_code == 410
    moved = _get(client, schema, strict, "/api/v1/companies/{slug}/", f"/api/v1/companies/{companies[0].slug}/")
    assert moved.status_code == 301 and moved["Location"].endswith(f"/api/v1/companies/{companies[1].slug}/")
    # Their histories answer as their details do.
    gone = _get(client, schema, strict, "/api/v1/deals/{slug}/history/", f"/api/v1/deals/{deal.slug}/history/")
    assert gone.status_code == 410
    history = f"/api/v1/companies/{companies[0].slug}/history/"
    moved = _get(client, schema, strict, "/api/v1/companies/{slug}/history/", history)
    assert moved.status_code == 301 and moved["Location"].endswith(f"/api/v1/companies/{companies[1].slug}/history/")
    assert other.slug


@pytest.mark.usefixtures("dataset")
def test_304_on_every_cacheable_get(client, schema):
    strict = _strict(schema)
    deal = Deal.objects.public().first()
    for path, url in (
        ("/api/v1/", "/api/v1/"),
        ("/api/v1/deals/", "/api/v1/deals/"),
        ("/api/v1/deals/{slug}/", f"/api/v1/deals/{deal.slug}/"),
        ("/api/v1/commodities/", "/api/v1/commodities/"),
        ("/api/v1/changes/", "/api/v1/changes/"),
        ("/api/v1/deals/{slug}/history/", f"/api/v1/deals/{deal.slug}/history/"),
        ("/api/v1/stats/deals/", "/api/v1/stats/deals/?group_by=commodity"),
        ("/api/v1/stats/facilities/", "/api/v1/stats/facilities/?group_by=kind"),
        ("/api/v1/releases/", "/api/v1/releases/"),
    ):
        first = _get(client, schema, strict, path, url)
        assert first.status_code == 200
        again = _get(client, schema, strict, path, url, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304 and again.content == b"", path
        assert again["ETag"] == first["ETag"]


@pytest.mark.django_db
def test_429_headers_are_declared(client, schema, settings):
    settings.REEXAPI_API_RATE_LIMIT = "1/minute"
    strict = _strict(schema)
    _get(client, schema, strict, "/api/v1/", "/api/v1/")
    limited = _get(client, schema, strict, "/api/v1/", "/api/v1/")
    assert limited.status_code == 429 and limited.has_header("Retry-After")


@pytest.mark.usefixtures("dataset")
def test_not_stated_is_null_in_json_and_empty_in_csv(client):
    deal = DealFactory(
        slug="undated-unvalued",
        announced_date=None,
        announced_date_precision="",
        amount=None,
        currency="",
        amount_usd=None,
        value_qualifier="",
    )
    body = client.get(reverse("api:deal-detail", kwargs={"slug": deal.slug})).json()
    for field in ("announced_date", "announced_date_precision", "amount", "currency", "amount_usd", "value_qualifier"):
        assert body[field] is None, field
    facility = Facility.objects.public().filter(jobs_qualifier="").first()
    assert facility is not None
    body = client.get(reverse("api:facility-detail", kwargs={"slug": facility.slug})).json()
    assert body["jobs_qualifier"] is None
    for row in body["field_provenance"]:
        assert row["value"] != "" or row["field"] in ("region", "locality", "description"), row
    # CSV keeps an empty cell for what is not stated.
    response = client.get(reverse("api:deal-csv"), {"page_size": 100})
    rows = {row["slug"]: row for row in csv.DictReader(io.StringIO(response.content.decode()))}
    row = rows[deal.slug]
    assert row["value_qualifier"] == row["currency"] == row["amount_usd"] == row["announced_date"] == ""
    sources = client.get(reverse("api:source-list"), {"page_size": 100}).json()["results"]
    assert all(s["published_date_precision"] is not None for s in sources if s["published_date"])
    assert Source.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["0.30000000000000004", "1e6", "-5", "12.345"])
def test_a_usd_bound_outside_the_documented_pattern_is_a_400_naming_it(client, value):
    response = client.get(reverse("api:deal-list"), {"value_usd_min": value})
    assert response.status_code == 400
    assert list(response.json()) == ["value_usd_min"]


@pytest.mark.django_db
def test_a_usd_bound_as_a_decimal_string_filters(client):
    from decimal import Decimal

    DealFactory(slug="cheap", amount=Decimal("0.30"), currency="USD", amount_usd=Decimal("0.30"))
    DealFactory(slug="dear", amount=Decimal("0.31"), currency="USD", amount_usd=Decimal("0.31"))
    response = client.get(reverse("api:deal-list"), {"value_usd_min": "0.31"})
    assert [row["slug"] for row in response.json()["results"]] == ["dear"]
    assert response.json()["results"][0]["amount_usd"] == "0.31"
