"""The deals' search levels (deals/search_levels.py, PostgreSQL) follow every write path, and a deals list asked for
only ``q`` answers from them (on SQLite: from the FTS5 table alone) exactly what ranking every match in the general
list answers (deals.selectors.search.deal_search_page)."""

from __future__ import annotations

import random

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from deals import models, search_levels
from deals.search_index import search_index_install, search_index_uninstall
from deals.search_levels import INT4_MAX, LEVELS_TABLE
from deals.selectors.search import deal_search_page, records_search
from tests.factories import CommodityFactory, DealFactory, EvidenceFactory, SourceFactory
from tests.test_loader import edit, load
from tests.test_search_index import fixture_copy  # noqa: F401 (a fixture)

_POSTGRESQL = connection.vendor == "postgresql"
_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/{name}"


def levels_table() -> dict[tuple[str, float], list[int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT term, score, ids FROM {LEVELS_TABLE}")
        return {(term, score): list(ids) for term, score, ids in cursor.fetchall()}


def levels_expected() -> dict[tuple[str, float], list[int]]:
    """The levels recomputed from the stored documents of the published deals."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT u.lexeme, ts_rank(s.document, quote_literal(u.lexeme)::tsquery) AS score, "
            "array_agg(s.record_id ORDER BY s.record_id) FROM deals_search_deal s JOIN deals_deal d ON d.id = "
            "s.record_id CROSS JOIN LATERAL unnest(s.document) u WHERE d.publication_status = 'published' "
            "GROUP BY 1, 2"
        )
        return {(term, score): list(ids) for term, score, ids in cursor.fetchall()}


def ranked_by_levels(q: str, *, offset: int = 0, limit: int = 100) -> tuple[int, list[int]] | None:
    page = deal_search_page(q=q, offset=offset, limit=limit)
    return None if page is None else (page.count, page.ids)


def ranked_by_database(q: str, *, offset: int = 0, limit: int = 100) -> tuple[int, list[int]]:
    """What ranking every match gives (the general path of the deals list)."""
    queryset = records_search(queryset=models.Deal.objects.public(), q=q)
    return queryset.count(), list(queryset.values_list("pk", flat=True)[offset : offset + limit])


def assert_current(*queries: str) -> None:
    """On PostgreSQL the levels are what the documents give; on both databases the ranked page (levels, or the FTS5
    table alone on SQLite) answers ``queries`` as ranking every match in the general list does."""
    if _POSTGRESQL:
        assert levels_table() == levels_expected()
    for q in queries:
        assert ranked_by_levels(q) == ranked_by_database(q), q


@pytest.mark.django_db
def test_levels_follow_publication_edits_evidence_commodities_and_deletion():
    draft = DealFactory(title="Tantalum offtake", publication_status=models.PublicationStatus.DRAFT)
    assert_current("tantalum")
    assert ranked_by_database("tantalum")[0] == 0
    draft.publication_status = models.PublicationStatus.PUBLISHED
    draft.save()
    assert_current("tantalum", "offtake")
    assert ranked_by_database("tantalum") == (1, [draft.pk])
    other = DealFactory(title="Tantalum and niobium offtake", summary="Tantalum for capacitors.")
    assert_current("tantalum", "tantalum offtake", "niobium")
    draft.title = "Niobium offtake"
    draft.save()
    assert_current("tantalum", "niobium", "niobium offtake")
    source = SourceFactory(text="Capacitors need tantalum powder.")
    evidence = EvidenceFactory(source=source, deal=draft, start=0, end=32, quote="Capacitors need tantalum powder.")
    assert_current("tantalum", "powder", "capacitors")
    evidence.delete()
    assert_current("tantalum", "powder")
    cobalt = CommodityFactory(slug="cobalt", name="Cobalt", symbol="Co")
    other.commodities.add(cobalt)
    assert_current("cobalt", "tantalum cobalt")
    cobalt.name = "Kobalt"
    cobalt.save()
    assert_current("cobalt", "kobalt")
    other.publication_status = models.PublicationStatus.WITHDRAWN
    other.withdrawn_reason, other.withdrawn_at = "Duplicate.", timezone.now()
    other.save()
    assert_current("tantalum", "kobalt")
    draft.delete()
    assert_current("niobium", "offtake")


@pytest.mark.django_db
def test_levels_follow_the_loader(fixture_copy):  # noqa: F811 (the fixture)
    load(fixture_copy)
    assert_current("magnet", "magnets", "rare earth", "graphite", "the", "us")
    edit(
        fixture_copy,
        "rare-earth-update-2025-09-08-12.yaml",
        "JS Link announces a $223",
        "JS Link of Kalimantan announces a $223",
    )
    load(fixture_copy)
    assert_current("kalimantan", "magnet", "rare earth magnet")


@pytest.mark.django_db
def test_levels_rank_a_seeded_random_dataset_as_the_database_does():
    """A few hundred deals of random words (titles, summaries, quotes, commodities; some drafts) and random
    queries of one to four terms, at several offsets: the same count and the same ids in the same order."""
    rng = random.Random(9)
    words = "lithium graphite magnet magnets rare earth nickel cobalt plant offtake refinery anode us as the".split()
    commodities = [CommodityFactory(name=name) for name in ("Tungsten", "Vanadium", "Gallium")]
    source = SourceFactory(text="Lithium graphite magnet rare earth nickel cobalt plant offtake refinery anode.")
    for n in range(300):
        deal = DealFactory(
            title=" ".join(rng.choices(words, k=rng.randint(1, 4))),
            summary=" ".join(rng.choices(words, k=rng.randint(0, 12))),
            publication_status=rng.choice([models.PublicationStatus.PUBLISHED] * 4 + [models.PublicationStatus.DRAFT]),
        )
        if n % 7 == 0:
            deal.commodities.add(rng.choice(commodities))
        if n % 11 == 0:
            EvidenceFactory(source=source, deal=deal, start=0, end=7, quote="Lithium")
    queries = [" ".join(rng.sample(words, k=rng.randint(1, 4))) for _ in range(40)] + ["tungsten lithium", "zzz"]
    if _POSTGRESQL:
        assert levels_table() == levels_expected()
    for q in queries:
        for offset, limit in ((0, 25), (3, 7), (40, 100), (500, 10)):
            assert ranked_by_levels(q, offset=offset, limit=limit) == ranked_by_database(q, offset=offset, limit=limit)


@pytest.mark.django_db
def test_the_ranked_list_answers_what_the_filtered_list_answers(client):
    """Through the API: `q` alone (levels on PostgreSQL) against `q` with a filter every deal passes (the general
    path); the same pages, counts and links, in a constant number of queries whatever the page size."""
    for n in range(30):
        DealFactory(title=f"Graphite {'anode ' * (n % 3)}offtake", summary="Graphite." if n % 4 else "")
    for params in ({"q": "graphite"}, {"q": "graphite anode", "page_size": 5, "page": 2}, {"q": "offtake anode"}):
        ranked = client.get("/api/v1/deals/", params)
        general = client.get("/api/v1/deals/", {**params, "status": "signed"})
        assert ranked.status_code == general.status_code == 200
        body, other = ranked.json(), general.json()
        assert [r["slug"] for r in body["results"]] == [r["slug"] for r in other["results"]]
        assert body["count"] == other["count"]
        assert (body["next"] is None) == (other["next"] is None)
    counts = []
    for size in (1, 10, 50):
        client.get("/api/v1/deals/", {"q": "graphite", "page_size": size})  # the page's records cached (fast/)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/deals/", {"q": "graphite", "page_size": size}).status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1 and counts[0] <= 4, counts
    assert client.get("/api/v1/deals/", {"q": "graphite", "page": 9}).status_code == 404
    # Pages whose offset no int holds (the levels' arrays are int4-indexed) are past the end like any other.
    for page, size in ((100_000_000, 25), (21_474_837, 100), (2**70, 1)):
        response = client.get("/api/v1/deals/", {"q": "graphite", "page": page, "page_size": size})
        assert response.status_code == 404, (page, size, response.content)


@pytest.mark.django_db
def test_a_deal_id_beyond_int4_makes_the_list_rank_every_match(client):
    DealFactory(title="Graphite offtake")
    big = DealFactory(id=INT4_MAX + 1, title="Graphite offtake", summary="Graphite anodes.")
    assert (ranked_by_levels("graphite") is None) == _POSTGRESQL  # int4[] cannot hold it; SQLite has no levels
    response = client.get("/api/v1/deals/", {"q": "graphite"})
    assert response.status_code == 200
    assert response.json()["count"] == 2
    # Ranked by the database, like any filtered list.
    order = ranked_by_database("graphite")[1]
    assert [row["slug"] for row in response.json()["results"]] == [models.Deal.objects.get(pk=pk).slug for pk in order]
    assert big.pk in order


@pytest.mark.django_db(transaction=True)
def test_without_the_extension_there_are_no_levels_and_lists_rank_every_match(client, monkeypatch):
    """An install that finds no ``intarray`` (not shipped, or refused) drops the levels, so that nothing reads stale
    ones; the list answers the same. The next install with the extension builds them again. (SQLite has no levels:
    its ranked page reads the FTS5 table, with or without.)"""
    # A title weighs more than a summary, on both databases.
    first, second = DealFactory(title="Anode offtake", summary="Graphite."), DealFactory(title="Graphite offtake")
    expected = [second.slug, first.slug]
    monkeypatch.setattr(search_levels, "deal_levels_extension_ensure", lambda *, cursor: False)
    search_index_install()
    try:
        assert (ranked_by_levels("graphite") is None) == _POSTGRESQL
        if _POSTGRESQL:
            with connection.cursor() as cursor:
                cursor.execute("SELECT to_regclass(%s)", [LEVELS_TABLE])
                assert cursor.fetchone()[0] is None
        response = client.get("/api/v1/deals/", {"q": "graphite"})
        assert response.json()["count"] == 2
        assert [row["slug"] for row in response.json()["results"]] == expected
    finally:
        monkeypatch.undo()
        search_index_install()
    assert_current("graphite", "anode")
    assert ranked_by_levels("graphite") == (2, [second.pk, first.pk])


@pytest.mark.django_db(transaction=True)
def test_levels_dropped_under_a_running_worker_are_not_read(client):
    """Uninstalling (as every migrate does first) drops the levels. A worker that knew them, whose query now finds no
    table (another process dropped it), answers from the general list instead of a 500, and the install builds them
    again."""
    first, second = DealFactory(title="Anode offtake", summary="Graphite."), DealFactory(title="Graphite offtake")
    expected = [second.slug, first.slug]
    assert client.get("/api/v1/deals/", {"q": "graphite"}).json()["count"] == 2
    if not _POSTGRESQL:
        return  # no levels: SQLite's page reads the FTS5 table (compared in the tests above)
    assert search_levels.deal_levels_present(connection=connection)
    with psycopg.connect(_ADMIN_URL.format(name=connection.settings_dict["NAME"]), autocommit=True) as other:
        other.execute(f"DROP TABLE {LEVELS_TABLE}")
    try:
        assert search_levels.deal_levels_present(connection=connection)  # this process has not looked again yet
        # Other URLs than the first (whose response is cached).
        response = client.get("/api/v1/deals/", {"q": "graphite", "page_size": 10})
        assert response.status_code == 200
        assert [row["slug"] for row in response.json()["results"]] == expected
        assert not search_levels.deal_levels_present(connection=connection)
        search_index_uninstall()
        response = client.get("/api/v1/deals/", {"q": "graphite", "page_size": 11})
        assert [row["slug"] for row in response.json()["results"]] == expected
    finally:
        search_index_install()
    assert search_levels.deal_levels_present(connection=connection)
    assert ranked_by_levels("graphite") == (2, [second.pk, first.pk])
