"""The landing page ``/`` (deals/web/landing.py): published counts only, the latest release or a "none yet" note,
the charts' figures as text, the schema.org Dataset JSON-LD, caching and headers. The real browser test is
tests/browser/test_landing_page.py."""

from __future__ import annotations

import datetime
import hashlib
import importlib
import json
import re
from decimal import Decimal
from urllib.parse import urlsplit

import pytest

from deals.models import Commodity, Company, Deal, PublicationStatus, SupplyChainStage
from deals.services.releases import release_create
from deals.web.landing import jsonld_script, usd_text
from tests.factories import CommodityFactory, CompanyFactory, DealFactory, EvidenceFactory, SourceFactory

JSONLD_RE = re.compile(r'<script type="application/ld\+json">\n(.*?)\n</script>', re.S)


def jsonld(response) -> dict:
    [block] = JSONLD_RE.findall(response.content.decode())
    return json.loads(block)


def count_of(html: str, path: str) -> int:
    match = re.search(rf'<a href="{re.escape(path)}">[^<]+</a></th><td class="num">(\d+)</td>', html)
    assert match, path
    return int(match.group(1))


def svg_texts(html: str, figure: str) -> list[str]:
    block = html.split(f'<figure id="{figure}">', 1)[1].split("</figure>", 1)[0]
    return re.findall(r"<text [^>]*>([^<]*)</text>", block)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def dataset(db, committed):
    """Two published deals with values, commodities and stages; a draft and a withdrawn deal that must not count."""
    with committed():
        magnets = CommodityFactory(slug="magnets", name="Permanent magnets", kind=Commodity.Kind.PRODUCT)
        ndfeb = CommodityFactory(slug="ndfeb", name="NdFeB magnets", kind=Commodity.Kind.PRODUCT, parent=magnets)
        lithium = CommodityFactory(slug="lithium", name="Lithium")
        mining = SupplyChainStage.objects.get(slug="mining")
        magnet_stage = SupplyChainStage.objects.get(slug="magnets")
        a = DealFactory(slug="a", amount=Decimal("20000000"), amount_usd=Decimal("20000000"))
        a.commodities.add(ndfeb)
        a.stages.add(magnet_stage)
        b = DealFactory(slug="b", amount=Decimal("10000000"), amount_usd=Decimal("10000000"))
        b.commodities.add(magnets, lithium)
        b.stages.add(magnet_stage, mining)
        c = DealFactory(slug="c", amount=None, amount_usd=None, currency="", value_qualifier="")
        c.commodities.add(lithium)
        draft = DealFactory(slug="draft", publication_status=PublicationStatus.DRAFT, amount_usd=Decimal("9e9"))
        draft.commodities.add(lithium)
        draft.stages.add(mining)
        DealFactory(
            slug="gone",
            publication_status=PublicationStatus.WITHDRAWN,
            withdrawn_reason="Duplicate.",
            withdrawn_at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
        )
        for deal in (a, b, c):
            EvidenceFactory(deal=deal, source=SourceFactory())
        CompanyFactory(slug="acme")
        CompanyFactory(slug="draft-co", publication_status=PublicationStatus.DRAFT)


def test_usd_text():
    assert usd_text(Decimal("30000000")) == "$30 million"
    assert usd_text(Decimal("463500000")) == "$463.5 million"
    assert usd_text(Decimal("1250000000")) == "$1.2 billion"  # Decimal rounds half to even
    assert usd_text(Decimal("2000000000")) == "$2 billion"
    assert usd_text(Decimal("12500")) == "$12,500"


def test_jsonld_cannot_close_its_script_element():
    html = jsonld_script({"name": "</script><script>alert(1)</script> & more"})
    assert html.count("</script>") == 1 and "<script>" not in html
    assert json.loads(JSONLD_RE.findall(str(html))[0])["name"] == "</script><script>alert(1)</script> & more"


@pytest.mark.django_db
def test_counts_only_published_records(client, dataset):
    html = client.get("/").content.decode()
    assert count_of(html, "/api/v1/deals/") == 3 == Deal.objects.public().count() != Deal.objects.count()
    assert count_of(html, "/api/v1/companies/") == Company.objects.public().count() < Company.objects.count()
    assert count_of(html, "/api/v1/facilities/") == 0
    assert count_of(html, "/api/v1/sources/") == 3
    assert count_of(html, "/api/v1/commodities/") == Commodity.objects.count()


@pytest.mark.django_db
def test_charts_show_their_figures_as_text_from_published_deals(client, dataset):
    html = client.get("/").content.decode()
    # Rolled up: NdFeB's $20 million counts in permanent magnets too; the draft's $9 billion counts nowhere.
    assert svg_texts(html, "value-by-commodity") == [
        "Permanent magnets",
        "$30 million (2 deals)",
        "NdFeB magnets",
        "$20 million (1 deal)",
        "Lithium",
        "$10 million (2 deals, 1 without a value)",
    ]
    assert svg_texts(html, "deals-by-stage") == ["Magnets", "2 deals", "Mining and exploration", "1 deal"]
    # Bars are proportional to the figures: the largest is the full width.
    widths = [int(w) for w in re.findall(r'<rect [^>]*width="(\d+)"', html.split('id="deals-by-stage"')[1])]
    assert widths == [300, 150]


@pytest.mark.django_db
def test_without_a_release_the_page_says_so(client, dataset):
    response = client.get("/")
    html = response.content.decode()
    assert 'id="no-release"' in html and "No release has been published yet." in html
    assert 'id="release-files"' not in html
    data = jsonld(response)
    assert "version" not in data and data["distribution"] == []
    assert data["license"] == "https://creativecommons.org/licenses/by/4.0/"


@pytest.mark.django_db
def test_empty_dataset_has_no_charts_but_says_why(client):
    html = client.get("/").content.decode()
    assert "No published deal states a USD value yet." in html
    assert "No published deal names a supply-chain stage yet." in html
    assert "<svg" not in html


@pytest.fixture
def stages_restored(django_db_blocker):
    """What migration 0002 seeds (the supply-chain stages), before a transactional test (an earlier one's flush may
    have removed them) and after it (for the tests that follow). serialized_rollback would do the same, but it
    reloads content types that an earlier transactional test's flush has already recreated, and fails on their
    unique constraint."""
    from django.apps import apps

    seed = importlib.import_module("deals.migrations.0002_seed_supply_chain_stages").seed
    with django_db_blocker.unblock():
        seed(apps, None)
    yield
    with django_db_blocker.unblock():
        seed(apps, None)


# A real transaction: on PostgreSQL release_create sets its snapshot's isolation level, which must be the
# transaction's first statement (inside the test's own transaction it would be a savepoint).
@pytest.mark.django_db(transaction=True)
def test_latest_release_with_download_links_and_jsonld_distribution(stages_restored, client, dataset, committed):
    with committed():
        release = release_create(base_url="http://testserver")
    response = client.get("/")
    html = response.content.decode()
    assert f'<strong id="release-version">{release.version}</strong>' in html
    files = list(release.files.order_by("position"))
    assert len(files) > 3
    data = jsonld(response)
    assert data["@context"] == "https://schema.org" and data["@type"] == "Dataset"
    assert data["name"] == "ReexAPI: critical-mineral deals with verbatim provenance"
    assert data["description"].startswith("An open dataset and REST API of critical-mineral deals")
    assert data["creator"] == [{"@type": "Organization", "name": "ReexAPI editors"}]
    assert data["version"] == release.version
    assert data["dateModified"] == release.created.isoformat().replace("+00:00", "Z")
    assert f"Version {release.version}." in data["citation"]
    assert [d["name"] for d in data["distribution"]] == [f.name for f in files]
    for download, file in zip(data["distribution"], files, strict=True):
        assert download["@type"] == "DataDownload"
        assert download["encodingFormat"] == file.media_type
        assert download["contentSize"] == f"{file.size} B"
        assert download["sha256"] == file.sha256
        assert f'<a href="{download["contentUrl"]}" download>{file.name}</a>' in html
        served = client.get(urlsplit(download["contentUrl"]).path)
        assert served.status_code == 200
        body = b"".join(served.streaming_content) if served.streaming else served.content
        assert len(body) == file.size and hashlib.sha256(body).hexdigest() == file.sha256


@pytest.mark.django_db
def test_page_is_cached_like_the_api_and_carries_the_licence(client, dataset, django_assert_num_queries):
    first = client.get("/")
    assert first["Content-Type"] == "text/html; charset=utf-8"
    assert first["Link"] == '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    assert first["Cache-Control"] == "public, max-age=60" and first["ETag"]
    with django_assert_num_queries(1):  # the dataset version: replayed from the response cache
        again = client.get("/")
    assert again.content == first.content
    with django_assert_num_queries(1):
        assert client.get("/", headers={"If-None-Match": first["ETag"]}).status_code == 304
    # Everything on the page comes from this server: the CSP allows nothing else, and the page links no asset
    # elsewhere (links to the licences' sites are plain hyperlinks, never loaded).
    assert "script-src 'self'" in first["Content-Security-Policy"]
    html = first.content.decode()
    tags = re.findall(r"<(?:img|script|iframe|link)\b([^>]*)>", html)
    fetched = [attrs for attrs in tags if 'rel="license"' not in attrs]  # a licence link is never fetched
    assert fetched and not [attrs for attrs in fetched if re.search(r'(?:src|href)="(?:https?:)?//', attrs)]
    assert client.post("/").status_code == 405


@pytest.mark.django_db
def test_a_write_changes_the_page(client, dataset, committed):
    html = client.get("/").content.decode()
    assert count_of(html, "/api/v1/deals/") == 3
    with committed():
        Deal.objects.filter(slug="draft").update(publication_status=PublicationStatus.PUBLISHED)
        EvidenceFactory(deal=Deal.objects.get(slug="draft"), source=SourceFactory())
    assert count_of(client.get("/").content.decode(), "/api/v1/deals/") == 4


@pytest.mark.django_db
def test_uncached_page_query_count(client, dataset, django_assert_num_queries, settings):
    settings.REEXAPI_RESPONSE_CACHE = False
    with django_assert_num_queries(12):
        assert client.get("/").status_code == 200


def test_the_cache_key_follows_the_template_and_the_citation(tmp_path, settings):
    """The page's ETag and cached copy are keyed on the code: its template and CITATION.cff count as code."""
    from deals import caching

    for name in ("deals/web/landing.py", "deals/templates/deals/landing.html", "CITATION.cff", "pyproject.toml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(f"# {name}\n")
    settings.BASE_DIR = tmp_path

    def fingerprint():
        caching.code_fingerprint_get.cache_clear()
        return caching.code_fingerprint_get()

    try:
        first = fingerprint()
        (tmp_path / "deals/templates/deals/landing.html").write_text("<p>changed</p>\n")
        second = fingerprint()
        (tmp_path / "CITATION.cff").write_text("title: changed\n")
        assert len({first, second, fingerprint()}) == 3
    finally:
        caching.code_fingerprint_get.cache_clear()
