"""HTTP caching of the API (deals/caching.py, deals/signals.py): ETags, 304s, the response cache, invalidation.

The dataset version is a database row (deals.models.DatasetVersion), so revalidation and cached hits cost exactly
one query: reading it.

Writes are wrapped in ``django_capture_on_commit_callbacks(execute=True)``: the test runs inside a transaction that
never commits, so that is how a test sees what a committed write would trigger. Most tests use a tiny test-only
view behind the middleware (``ROOT_URLCONF`` of this module) so that they count exactly what the middleware does;
the ``/api/v1/deals/`` tests check the same behaviour end to end on the real endpoint.
"""

import json
import re

import pytest
from django.db import transaction
from django.http import JsonResponse
from django.test import RequestFactory, override_settings
from django.urls import path

from deals import caching, models
from deals.caching import (
    RESPONSE_KEY_PREFIX,
    dataset_version_bump,
    dataset_version_get,
    negotiated_format_get,
    response_cache,
    response_cache_key_get,
)
from tests.factories import CommodityFactory, CompanyFactory, DealFactory, DealPartyFactory, EvidenceFactory
from tests.redis_dbs import redis_url

VIEW_CALLS = []


def _deals_view(request):
    """Test-only view: one query, the deals' slugs, titles and commodities, so that any write shows."""
    VIEW_CALLS.append(request.get_full_path())
    deals = [
        {"slug": d.slug, "title": d.title, "commodities": [c.slug for c in d.commodities.all()]}
        for d in models.Deal.objects.prefetch_related("commodities").order_by("slug")
    ]
    return JsonResponse({"deals": deals, "format": request.GET.get("format", "json")})


def _missing_view(request):
    VIEW_CALLS.append(request.get_full_path())
    return JsonResponse({"detail": "Not found."}, status=404)


def _cookie_view(request):
    response = JsonResponse({"ok": True})
    response.set_cookie("tracking", "1")
    return response


urlpatterns = [
    path("api/test/deals/", _deals_view),
    path("api/test/missing/", _missing_view),
    path("api/test/cookie/", _cookie_view),
    path("outside/deals/", _deals_view),
]

TEST_URL = "/api/test/deals/"
ETAG_RE = re.compile(r'^"[0-9a-f]{40}"$')


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__
    VIEW_CALLS.clear()
    yield
    VIEW_CALLS.clear()


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Context manager standing for one committed transaction: its on_commit callbacks (the bump) run at exit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def deal(committed):
    with committed():
        deal = DealFactory(slug="alpha", title="Alpha offtake")
    return deal


def _body(response):
    return json.loads(response.content)


# --- dataset version ---------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_version_is_created_once_and_is_stable():
    assert not models.DatasetVersion.objects.exists()
    version = dataset_version_get()
    assert re.fullmatch(r"[0-9a-f]{32}", version)
    assert dataset_version_get() == version
    assert list(models.DatasetVersion.objects.values_list("id", "token")) == [(1, version)]


@pytest.mark.django_db
def test_a_lost_version_is_replaced_by_a_new_random_one():
    """If the row is lost (e.g. a database rebuilt from a dump without it), the version never comes back to an old
    value; clearing the caches (a restart) does not change it at all."""
    first = dataset_version_get()
    for alias_cache in caching.caches.all():
        alias_cache.clear()
    assert dataset_version_get() == first
    models.DatasetVersion.objects.all().delete()
    assert dataset_version_get() != first


@pytest.mark.django_db
def test_bump_changes_the_version():
    before = dataset_version_get()
    after = dataset_version_bump()
    assert after != before
    assert dataset_version_get() == after
    assert models.DatasetVersion.objects.get().token == after


@pytest.mark.django_db
def test_bump_creates_the_row_when_missing():
    assert not models.DatasetVersion.objects.exists()
    bumped = dataset_version_bump()
    assert models.DatasetVersion.objects.get().token == bumped == dataset_version_get()


# --- ETag, Cache-Control, 304 ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_response_has_a_strong_etag_and_public_cache_control(client, test_urls, deal):
    response = client.get(TEST_URL)
    assert response.status_code == 200
    assert ETAG_RE.match(response["ETag"]), response["ETag"]  # strong: no W/ prefix
    assert response["Cache-Control"] == "public, max-age=60"
    vary = {v.strip().lower() for v in response["Vary"].split(",")}
    assert {"accept", "origin"} <= vary


@pytest.mark.django_db
def test_same_request_same_etag(client, test_urls, deal):
    assert client.get(TEST_URL)["ETag"] == client.get(TEST_URL)["ETag"]


@pytest.mark.django_db
def test_if_none_match_gives_304_with_one_query_and_no_view_call(client, test_urls, deal, django_assert_num_queries):
    etag = client.get(TEST_URL)["ETag"]
    VIEW_CALLS.clear()
    with django_assert_num_queries(1):  # the version row
        response = client.get(TEST_URL, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag
    assert response["Cache-Control"] == "public, max-age=60"
    assert "accept" in response["Vary"].lower()
    assert VIEW_CALLS == []


@pytest.mark.django_db
def test_if_none_match_accepts_a_list_a_weak_form_and_star(client, test_urls, deal):
    etag = client.get(TEST_URL)["ETag"]
    for header in (f'"nope", {etag}', f"W/{etag}", "*"):
        assert client.get(TEST_URL, headers={"If-None-Match": header}).status_code == 304, header


@pytest.mark.django_db
def test_if_none_match_star_on_a_missing_record_is_404_not_304(client, deal, settings):
    """``*`` matches only a current representation: the view decides, cached or not."""
    assert client.get("/api/v1/deals/no-such-deal/", headers={"If-None-Match": "*"}).status_code == 404
    settings.REEXAPI_RESPONSE_CACHE = False
    assert client.get("/api/v1/deals/alpha/", headers={"If-None-Match": "*"}).status_code == 304


@pytest.mark.django_db
def test_a_stale_etag_gets_the_full_response(client, test_urls, deal):
    response = client.get(TEST_URL, headers={"If-None-Match": '"0000000000000000000000000000000000000000"'})
    assert response.status_code == 200
    assert _body(response)["deals"][0]["slug"] == "alpha"


@pytest.mark.django_db
def test_head_gets_the_same_etag_and_304(client, test_urls, deal):
    etag = client.get(TEST_URL)["ETag"]
    head = client.head(TEST_URL)
    assert head.status_code == 200
    assert head["ETag"] == etag
    assert client.head(TEST_URL, headers={"If-None-Match": etag}).status_code == 304


@pytest.mark.django_db
def test_query_string_accept_and_format_give_different_etags(client, test_urls, deal):
    etags = {
        client.get(TEST_URL)["ETag"],
        client.get(TEST_URL + "?page=2")["ETag"],
        client.get(TEST_URL + "?format=csv")["ETag"],
        client.get(TEST_URL, headers={"Accept": "text/csv"})["ETag"],
        client.get(TEST_URL, headers={"Accept": "application/json"})["ETag"],
        client.get(TEST_URL, headers={"Host": "localhost"})["ETag"],  # absolute URLs in bodies depend on the host
    }
    assert len(etags) == 6
    # An ETag for one URL does not validate another.
    etag = client.get(TEST_URL)["ETag"]
    assert client.get(TEST_URL + "?page=2", headers={"If-None-Match": etag}).status_code == 200


@pytest.mark.django_db
def test_a_new_release_gets_new_etags_and_misses_the_old_cache(client, test_urls, deal, monkeypatch):
    """Redis outlives a deployment: what the old code rendered must not be served, or 304-confirmed, by the new."""
    old = client.get(TEST_URL)
    monkeypatch.setattr(caching, "code_fingerprint_get", lambda: "another-release")
    VIEW_CALLS.clear()
    new = client.get(TEST_URL, headers={"If-None-Match": old["ETag"]})
    assert new.status_code == 200
    assert new["ETag"] != old["ETag"]
    assert VIEW_CALLS == [TEST_URL]


def test_code_fingerprint_is_stable_and_follows_the_code(tmp_path, settings):
    for name in ("deals/api/views.py", "reexapi/settings.py", "pyproject.toml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    settings.BASE_DIR = tmp_path

    def fingerprint():
        caching.code_fingerprint_get.cache_clear()
        return caching.code_fingerprint_get()

    try:
        first = fingerprint()
        assert fingerprint() == first
        (tmp_path / "deals/api/views.py").write_text("# changed\n")
        assert fingerprint() != first
    finally:
        caching.code_fingerprint_get.cache_clear()


@pytest.mark.django_db
def test_errors_are_neither_cached_nor_tagged(client, test_urls):
    first = client.get("/api/test/missing/")
    second = client.get("/api/test/missing/")
    assert first.status_code == second.status_code == 404
    assert not first.has_header("ETag")
    assert "public" not in first.get("Cache-Control", "")
    assert len(VIEW_CALLS) == 2


@pytest.mark.django_db
def test_responses_setting_cookies_are_not_cached(client, test_urls):
    response = client.get("/api/test/cookie/")
    assert "tracking" in response.cookies
    assert not response.has_header("ETag")


@pytest.mark.django_db
def test_paths_outside_the_api_are_left_alone(client, test_urls, deal):
    response = client.get("/outside/deals/")
    assert not response.has_header("ETag")
    client.get("/outside/deals/")
    assert len(VIEW_CALLS) == 2


@pytest.mark.django_db
def test_write_methods_pass_through(client, test_urls, deal):
    etag = client.get(TEST_URL)["ETag"]
    response = client.post(TEST_URL, headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert not response.has_header("ETag")


# --- response cache -----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cached_hit_serves_identical_bytes_with_one_query(client, test_urls, deal, django_assert_num_queries):
    first = client.get(TEST_URL)
    VIEW_CALLS.clear()
    with django_assert_num_queries(1):  # the version row
        second = client.get(TEST_URL)
    assert second.status_code == 200
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["ETag"] == first["ETag"]
    assert VIEW_CALLS == []


@pytest.mark.django_db
def test_response_cache_can_be_turned_off(client, test_urls, deal, settings):
    settings.REEXAPI_RESPONSE_CACHE = False
    first = client.get(TEST_URL)
    second = client.get(TEST_URL)
    assert second.content == first.content
    assert second["ETag"] == first["ETag"]
    assert len(VIEW_CALLS) == 2
    assert client.get(TEST_URL, headers={"If-None-Match": first["ETag"]}).status_code == 304


# --- invalidation: every committed write, no stale data --------------------------------------------------------------


def _assert_fresh_after(client, committed, write):
    """Prime ETag and cache, run ``write`` as a committed transaction, then check nothing stale is served."""
    before = client.get(TEST_URL)
    assert client.get(TEST_URL, headers={"If-None-Match": before["ETag"]}).status_code == 304
    with committed():
        write()
    revalidated = client.get(TEST_URL, headers={"If-None-Match": before["ETag"]})
    assert revalidated.status_code == 200
    assert revalidated["ETag"] != before["ETag"]
    assert revalidated.content != before.content
    return _body(revalidated)


@pytest.mark.django_db
def test_model_save_invalidates(client, test_urls, committed, deal):
    def write():
        deal.title = "Alpha offtake, amended"
        deal.save()

    body = _assert_fresh_after(client, committed, write)
    assert body["deals"][0]["title"] == "Alpha offtake, amended"


@pytest.mark.django_db
def test_create_invalidates(client, test_urls, committed, deal):
    body = _assert_fresh_after(client, committed, lambda: DealFactory(slug="beta"))
    assert [d["slug"] for d in body["deals"]] == ["alpha", "beta"]


@pytest.mark.django_db
def test_delete_invalidates(client, test_urls, committed, deal):
    with committed():
        DealFactory(slug="beta")
    body = _assert_fresh_after(client, committed, lambda: models.Deal.objects.get(slug="beta").delete())
    assert [d["slug"] for d in body["deals"]] == ["alpha"]


@pytest.mark.django_db
def test_m2m_change_invalidates(client, test_urls, committed, deal):
    with committed():
        magnet = CommodityFactory(slug="ndfeb-magnets")
    body = _assert_fresh_after(client, committed, lambda: deal.commodities.add(magnet))
    assert body["deals"][0]["commodities"] == ["ndfeb-magnets"]
    body = _assert_fresh_after(client, committed, lambda: deal.commodities.clear())
    assert body["deals"][0]["commodities"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "write",
    [
        pytest.param(lambda deal: EvidenceFactory(deal=deal), id="evidence-create"),
        pytest.param(lambda deal: DealPartyFactory(deal=deal), id="through-model-create"),
        pytest.param(lambda deal: CompanyFactory(), id="other-model-create"),
        pytest.param(lambda deal: models.Evidence.objects.filter(deal=deal).delete(), id="evidence-queryset-delete"),
    ],
)
def test_every_dataset_write_bumps_the_version(committed, deal, write):
    """Writes that the test view does not show still change the version: any of them can change an API answer."""
    with committed():
        EvidenceFactory(deal=deal)
    before = dataset_version_get()
    with committed():
        write(deal)
    assert dataset_version_get() != before


@pytest.mark.django_db
def test_evidence_edit_bumps_the_version(committed, deal):
    with committed():
        evidence = EvidenceFactory(deal=deal)
    before = dataset_version_get()
    with committed():
        evidence.note = "The amount is in the second sentence."
        evidence.save()
    assert dataset_version_get() != before


@pytest.mark.django_db
def test_rolled_back_write_does_not_bump(client, test_urls, committed, deal):
    before = client.get(TEST_URL)
    version = dataset_version_get()
    with committed() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            DealFactory(slug="ghost")
            raise RuntimeError("editor cancelled")
    assert callbacks == []
    assert dataset_version_get() == version
    assert client.get(TEST_URL, headers={"If-None-Match": before["ETag"]}).status_code == 304


@pytest.mark.django_db
def test_a_transaction_of_many_writes_bumps_once(committed, deal):
    with committed() as callbacks:
        with transaction.atomic():
            for n in range(20):
                DealFactory(slug=f"bulk-{n}").commodities.add(CommodityFactory(slug=f"c-{n}"))
    assert len(callbacks) == 1


@pytest.mark.django_db
def test_write_is_not_visible_as_a_bump_before_commit(deal):
    """Until commit the version stays: readers keep getting the old, still-consistent answer."""
    version = dataset_version_get()
    with transaction.atomic():
        DealFactory(slug="pending")
        assert dataset_version_get() == version


# --- Redis -----------------------------------------------------------------------------------------------------------


@pytest.fixture
def redis_cache(request):
    """The response cache on the local Redis (db 13, this helper's own), under a key prefix of this test's own."""
    prefix = f"reexapi-test-{request.node.name}-{id(request)}"
    redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": redis_url(13),
        "KEY_PREFIX": prefix,
    }
    with override_settings(CACHES={"default": redis, "responses": redis}):
        from django.core.cache import caches as cache_handler

        backend = cache_handler["responses"]
        assert "Redis" in type(backend).__name__
        yield backend
        client = backend._cache.get_client(write=True)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)


@pytest.mark.django_db
def test_redis_backend_serves_304_hits_and_invalidates(
    client, test_urls, committed, deal, redis_cache, django_assert_num_queries
):
    version = dataset_version_get()
    first = client.get(TEST_URL)
    VIEW_CALLS.clear()
    with django_assert_num_queries(2):  # the version row, once per request
        assert client.get(TEST_URL, headers={"If-None-Match": first["ETag"]}).status_code == 304
        hit = client.get(TEST_URL)
    assert hit.content == first.content
    assert VIEW_CALLS == []
    assert redis_cache.get(caching.LAST_VERSION_KEY) == version
    stored = [k for k in redis_cache._cache.get_client().scan_iter(f"{redis_cache.key_prefix}:*") if b"response:" in k]
    assert len(stored) == 1
    with committed():
        DealFactory(slug="beta")
    fresh = client.get(TEST_URL, headers={"If-None-Match": first["ETag"]})
    assert fresh.status_code == 200
    assert [d["slug"] for d in _body(fresh)["deals"]] == ["alpha", "beta"]


# --- the real endpoints -------------------------------------------------------------------------------------------

DEALS_URL = "/api/v1/deals/"
DEALS_CSV_URL = "/api/v1/deals.csv"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url, queries",
    [
        ("/api/v1/", 2),  # the version row, once per request
        ("/api/v1/deals/", 2),
        ("/api/v1/deals/alpha/", 2),
        ("/api/v1/companies/", 2),
        ("/api/v1/facilities/", 2),
        ("/api/v1/sources/", 2),
        ("/api/v1/commodities/", 2),
        ("/api/v1/stats/deals/?group_by=commodity", 2),
        ("/api/v1/stats/facilities/?group_by=kind", 2),
        ("/api/schema/", 0),  # depends on the code only: no version needed
        ("/api/docs/", 0),
        ("/api/redoc/", 0),
    ],
)
def test_every_api_endpoint_revalidates_with_one_query(client, deal, url, queries, django_assert_num_queries):
    first = client.get(url)
    assert first.status_code == 200
    assert ETAG_RE.match(first["ETag"])
    with django_assert_num_queries(queries):
        not_modified = client.get(url, headers={"If-None-Match": first["ETag"]})
        hit = client.get(url)
    assert not_modified.status_code == 304
    assert hit.content == first.content


@pytest.mark.django_db
def test_deals_cached_hit_keeps_headers_and_bytes(client, deal, django_assert_num_queries):
    first = client.get(DEALS_URL, {"page_size": 1})
    with django_assert_num_queries(1):
        hit = client.get(DEALS_URL, {"page_size": 1})
    assert hit.content == first.content
    # The request id and the rate-limit headers belong to each request (set around the cache, never replayed).
    per_request = ("Content-Length", "X-Request-ID", "RateLimit-Remaining", "RateLimit-Reset")
    replayed = {name: value for name, value in hit.items() if name not in per_request}
    original = {name: value for name, value in first.items() if name not in per_request}
    assert replayed == original
    assert int(hit["RateLimit-Remaining"]) == int(first["RateLimit-Remaining"]) - 1


@pytest.mark.django_db
def test_deals_json_and_csv_are_cached_apart(client, deal):
    as_json = client.get(DEALS_URL)
    as_csv = client.get(DEALS_CSV_URL)
    csv_by_accept = client.get(DEALS_CSV_URL, headers={"Accept": "text/csv"})
    assert as_json["Content-Type"].startswith("application/json")
    assert as_csv["Content-Type"].startswith("text/csv")
    # The CSV operation has one renderer: with or without an Accept header it is the same response.
    assert as_json["ETag"] != as_csv["ETag"] == csv_by_accept["ETag"]
    # Cached hits keep their own content type and body.
    assert client.get(DEALS_CSV_URL).content == as_csv.content
    again = client.get(DEALS_CSV_URL, headers={"Accept": "text/csv"})
    assert again["Content-Type"].startswith("text/csv")
    assert client.get(DEALS_URL)["Content-Type"].startswith("application/json")


@pytest.mark.django_db
def test_deals_edit_is_never_served_stale(client, committed, deal):
    detail = f"{DEALS_URL}alpha/"
    list_before = client.get(DEALS_URL)
    detail_before = client.get(detail)
    with committed():
        deal.title = "Alpha offtake, terminated"
        deal.save()
    for url, before in ((DEALS_URL, list_before), (detail, detail_before)):
        response = client.get(url, headers={"If-None-Match": before["ETag"]})
        assert response.status_code == 200
        assert "Alpha offtake, terminated" in response.content.decode()
        assert response["ETag"] != before["ETag"]


@pytest.mark.django_db
def test_deals_evidence_change_is_never_served_stale(client, committed, deal):
    detail = f"{DEALS_URL}alpha/"
    before = client.get(detail)
    with committed():
        evidence = EvidenceFactory(deal=deal)
    response = client.get(detail)
    assert response["ETag"] != before["ETag"]
    assert evidence.quote in response.content.decode()


def _key(request) -> str:
    return response_cache_key_get(
        request=request, version=dataset_version_get(), negotiated=negotiated_format_get(request=request)
    )


@pytest.mark.django_db
def test_accept_parameters_do_not_make_new_cache_entries(client, deal, monkeypatch):
    """Accept headers that choose the same renderer share one cached response and ETag; JSON and CSV differ."""
    stored: list[str] = []
    real_set = response_cache().set

    def spy(key, *args, **kwargs):
        if key.startswith(RESPONSE_KEY_PREFIX):
            stored.append(key)
        return real_set(key, *args, **kwargs)

    monkeypatch.setattr(response_cache(), "set", spy)
    first = client.get(DEALS_URL, headers={"Accept": "application/json"})
    for i in range(5):
        for accept in (f"application/json; x={i}", f"application/json; indent={i}", f"*/*; q=0.{i}", "*/*"):
            response = client.get(DEALS_URL, headers={"Accept": accept})
            assert response["ETag"] == first["ETag"], accept
            assert response["Content-Type"] == "application/json"
            assert response.content == first.content
    assert client.get(DEALS_URL)["ETag"] == first["ETag"]  # no Accept header at all
    as_csv = client.get(DEALS_CSV_URL, headers={"Accept": "text/csv; x=1"})
    assert as_csv["Content-Type"].startswith("text/csv") and as_csv["ETag"] != first["ETag"]
    assert client.get(DEALS_CSV_URL, headers={"Accept": "text/csv; x=2"})["ETag"] == as_csv["ETag"]
    assert len(stored) == 2


@pytest.mark.django_db
def test_negotiated_format_follows_the_views_renderers(rf):
    assert negotiated_format_get(request=rf.get(DEALS_URL)) == "json application/json"
    assert negotiated_format_get(request=rf.get(DEALS_CSV_URL, HTTP_ACCEPT="text/csv; q=1")) == "csv text/csv"
    assert negotiated_format_get(request=rf.get(DEALS_CSV_URL)) == "csv text/csv"
    geojson = rf.get("/api/v1/facilities.geojson")
    assert negotiated_format_get(request=geojson) == "geojson application/geo+json"
    # Each list is JSON only: CSV is its own operation, so asking the JSON list for it fails negotiation.
    assert negotiated_format_get(request=rf.get(DEALS_URL, HTTP_ACCEPT="text/csv")) is None
    assert negotiated_format_get(request=rf.get(DEALS_URL, {"format": "csv"})) is None
    # Details are JSON only: CSV is not acceptable there, and nothing is cached for it.
    assert negotiated_format_get(request=rf.get(f"{DEALS_URL}alpha/", HTTP_ACCEPT="text/csv")) is None
    assert negotiated_format_get(request=rf.get("/api/schema/")) == "yaml application/vnd.oai.openapi"
    assert negotiated_format_get(request=rf.get("/api/v1/deals/", {"format": "xml"})) is None


@pytest.mark.django_db
def test_deals_bad_request_is_not_cached(client, deal):
    first = client.get(DEALS_URL, {"nonsense": "1"})
    assert first.status_code == 400
    assert not first.has_header("ETag")
    request = RequestFactory().get(DEALS_URL, {"nonsense": "1"})
    assert response_cache().get(RESPONSE_KEY_PREFIX + _key(request)) is None
    ok = client.get(DEALS_URL)
    request = RequestFactory().get(DEALS_URL)
    stored = response_cache().get(RESPONSE_KEY_PREFIX + _key(request))
    assert stored["content"] == ok.content  # the same lookup does find a 200: the check above is not vacuous


@pytest.mark.django_db
def test_cache_outage_serves_uncached_and_writes_still_commit(client, test_urls, committed, deal, caplog):
    """With the response cache unreachable the API answers uncached (ETags and 304s still work: the version is in
    the database), and a write is not turned into an error."""
    unreachable = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
    }
    with override_settings(CACHES={"default": unreachable, "responses": unreachable}):
        response = client.get(TEST_URL)
        assert response.status_code == 200
        assert ETAG_RE.match(response["ETag"])
        assert _body(response)["deals"][0]["slug"] == "alpha"
        assert client.get(TEST_URL, headers={"If-None-Match": response["ETag"]}).status_code == 304
        with committed():
            DealFactory(slug="beta")
        assert [d["slug"] for d in _body(client.get(TEST_URL))["deals"]] == ["alpha", "beta"]
        assert len(VIEW_CALLS) == 2
    assert "API response cache unavailable" in caplog.text
