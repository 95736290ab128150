"""The releases API (deals/api/releases.py): list with a stable latest, detail, downloads with strong ETags and 304s,
index.json, JSON 404s, strict query strings, pinned query counts, and the schema of these operations."""

from __future__ import annotations

import hashlib
import re
from io import StringIO

import pytest
import yaml
from django.core.management import call_command

from deals.caching import dataset_version_get
from deals.models import Deal
from deals.services.releases import release_create

pytestmark = pytest.mark.django_db
BASE_URL = "https://reexapi.example.org"


@pytest.fixture
def releases(django_capture_on_commit_callbacks):
    """Two releases of the fixtures (the second after an edit), oldest first; the commits' callbacks (dataset
    version bumps) run as they would in production."""
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_dataset", stdout=StringIO())
        first = release_create(base_url=BASE_URL)
        deal = Deal.objects.public().order_by("slug").first()
        deal.title += " (corrected)"
        deal.save()
        second = release_create(base_url=BASE_URL)
    dataset_version_get()  # the version row exists, as on a running server: query counts below are per request
    return first, second


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_list_is_newest_first_with_latest(client, releases, django_assert_num_queries):
    first, second = releases
    with django_assert_num_queries(3):  # dataset version, releases, their files (bytes not loaded)
        response = client.get("/api/v1/releases/")
    assert response.status_code == 200
    body = response.json()
    assert body["latest"] == {"version": second.version, "url": f"http://testserver/api/v1/releases/{second.version}/"}
    assert body["count"] == 2
    assert [r["version"] for r in body["results"]] == [second.version, first.version]
    names = [f["name"] for f in body["results"][0]["files"]]
    assert names[:3] == ["datapackage.json", "CHANGES.json", "records.jsonl"] and names[-1] == "checksums.sha256"
    assert body["results"][0]["license"]["id"] == "CC-BY-4.0"


def test_latest_redirects_to_the_newest_release_and_its_files(client, releases):
    _first, second = releases
    response = client.get("/api/v1/releases/latest/")
    assert response.status_code == 302
    assert response["Location"] == f"/api/v1/releases/{second.version}/"
    response = client.get("/api/v1/releases/latest/deals.csv")
    assert response.status_code == 302
    assert response["Location"] == f"/api/v1/releases/{second.version}/deals.csv"


def test_detail_lists_files_with_sizes_checksums_media_types_and_urls(client, releases, django_assert_num_queries):
    first, _second = releases
    with django_assert_num_queries(3):
        response = client.get(f"/api/v1/releases/{first.version}/")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == first.version and body["number"] == 1
    files = {f["name"]: f for f in body["files"]}
    stored = {f.name: f for f in first.files.all()}
    assert files.keys() == stored.keys()
    for name, entry in files.items():
        content = bytes(stored[name].content)
        assert entry["size"] == len(content)
        assert entry["sha256"] == hashlib.sha256(content).hexdigest()
        assert entry["url"] == f"http://testserver/api/v1/releases/{first.version}/{name}"
    assert files["deals.csv"]["media_type"] == "text/csv"
    assert files["records.jsonl"]["media_type"] == "application/jsonl"


def test_download_has_strong_etag_length_type_and_disposition(client, releases, django_assert_num_queries):
    first, _second = releases
    stored = first.files.get(name="deals.csv")
    with django_assert_num_queries(2):  # dataset version (cache middleware), the file with its bytes
        response = client.get(f"/api/v1/releases/{first.version}/deals.csv")
    assert response.status_code == 200
    assert _body(response) == bytes(stored.content)
    assert response["ETag"] == f'"{stored.sha256}"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Length"] == str(stored.size)
    assert response["Content-Disposition"] == 'attachment; filename="deals.csv"'
    assert "immutable" in response["Cache-Control"]
    # Whatever Accept says, the file is the answer.
    assert client.get(f"/api/v1/releases/{first.version}/deals.csv", headers={"Accept": "text/csv"}).status_code == 200


@pytest.mark.parametrize("tag", ['"{sha}"', 'W/"{sha}"', '"other", "{sha}"', "*"])
def test_if_none_match_is_304_without_the_bytes(client, releases, django_assert_num_queries, tag):
    first, _second = releases
    stored = first.files.get(name="records.jsonl")
    with django_assert_num_queries(2):
        response = client.get(
            f"/api/v1/releases/{first.version}/records.jsonl",
            headers={"If-None-Match": tag.format(sha=stored.sha256)},
        )
    assert response.status_code == 304
    assert response["ETag"] == f'"{stored.sha256}"'
    assert _body(response) == b""


def test_a_stale_etag_gets_the_file(client, releases):
    first, _second = releases
    response = client.get(f"/api/v1/releases/{first.version}/deals.csv", headers={"If-None-Match": '"0123"'})
    assert response.status_code == 200 and _body(response)


def test_index_lists_every_version_oldest_first(client, releases, django_assert_num_queries):
    first, second = releases
    with django_assert_num_queries(3):
        response = client.get("/api/v1/releases/index.json")
    body = response.json()
    assert response.status_code == 200
    assert body["latest"] == second.version
    assert [v["version"] for v in body["versions"]] == [first.version, second.version]
    assert body["license"]["url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert all(f["sha256"] and f["url"] for v in body["versions"] for f in v["files"])


def test_making_a_release_refreshes_the_cached_list(client, releases, django_capture_on_commit_callbacks):
    _first, second = releases
    assert client.get("/api/v1/releases/").json()["count"] == 2  # now in the response cache
    deal = Deal.objects.public().order_by("slug").last()
    deal.title += " (corrected)"
    with django_capture_on_commit_callbacks(execute=True):  # what the commits run: the dataset version bumps
        deal.save()
        third = release_create(base_url=BASE_URL)
    body = client.get("/api/v1/releases/").json()
    assert body["count"] == 3 and body["latest"]["version"] == third.version != second.version


@pytest.mark.parametrize(
    "path,message",
    [
        ("/api/v1/releases/2001.01.01.1/", "No release has version '2001.01.01.1'."),
        ("/api/v1/releases/2001.01.01.1/deals.csv", "Release '2001.01.01.1' has no file 'deals.csv'."),
        ("/api/v1/releases/{version}/nothing.csv", "Release '{version}' has no file 'nothing.csv'."),
        ("/api/v1/releases/not-a-version/", "Not found: no API resource at this path."),
        ("/api/v1/releases/{version}/../secret", "Not found: no API resource at this path."),
    ],
)
def test_unknown_version_or_file_is_a_json_404(client, releases, path, message):
    version = releases[0].version
    response = client.get(path.format(version=version))
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": message.format(version=version)}


def test_before_the_first_release(client, django_assert_num_queries):
    assert client.get("/api/v1/releases/").json() == {"latest": None, "count": 0, "results": []}
    assert client.get("/api/v1/releases/index.json").json()["versions"] == []
    response = client.get("/api/v1/releases/latest/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No release has been made yet."}


@pytest.mark.parametrize("path", ["/api/v1/releases/", "/api/v1/releases/index.json"])
def test_unknown_query_parameter_is_400(client, path):
    response = client.get(path, {"page": "2"})
    assert response.status_code == 400
    assert "page" in response.json()


def test_writes_are_405(client, releases):
    response = client.post(f"/api/v1/releases/{releases[0].version}/deals.csv")
    assert response.status_code == 405


def test_the_schema_describes_every_release_operation(tmp_path):
    target = tmp_path / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    operations = {path: methods["get"] for path, methods in schema["paths"].items() if "/releases/" in path}
    assert set(operations) == {
        "/api/v1/releases/",
        "/api/v1/releases/index.json",
        "/api/v1/releases/{version}/",
        "/api/v1/releases/{version}/{name}",
    }
    for path, operation in operations.items():
        assert operation["summary"] and operation["description"], path
        assert operation["tags"] == ["releases"]
        responses = operation["responses"]
        assert responses["400"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ValidationError"
        }
        if "{" in path:
            assert responses["404"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorDetail"
            }, path
        ok = responses.get("200")
        if ok and "application/json" in ok["content"]:
            assert ok["content"]["application/json"]["examples"], path
    download = operations["/api/v1/releases/{version}/{name}"]["responses"]
    assert download["200"]["content"]["application/octet-stream"]["schema"] == {"type": "string", "format": "binary"}
    assert "304" in download
    # `latest/` and `latest/<name>` are the version `latest` of the detail's and the download's paths (two more
    # path templates would be ambiguous with `{version}/`): a 302 with Location.
    for path in ("/api/v1/releases/{version}/", "/api/v1/releases/{version}/{name}"):
        responses = operations[path]["responses"]
        assert responses["302"]["headers"]["Location"]["required"] is True, path
        version = next(p for p in operations[path]["parameters"] if p["name"] == "version")
        assert re.fullmatch(version["schema"]["pattern"].strip("^$"), "latest"), path
    assert download["200"]["headers"]["ETag"]["schema"]["pattern"] == '^"[0-9a-f]{64}"$'
    assert download["304"]["headers"]["ETag"] == download["200"]["headers"]["ETag"]
    for name in ("DatasetRelease", "ReleaseFile", "ReleaseList", "ReleaseIndex"):
        component = (
            schema["components"]["schemas"].get(name)
            or schema["components"]["schemas"][name.replace("DatasetRelease", "Release")]
        )
        assert component["description"]
        for field, definition in component["properties"].items():
            assert definition.get("description"), f"{name}.{field}"
