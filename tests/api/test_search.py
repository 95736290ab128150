"""``q`` search: the same matching semantics on SQLite (FTS5, porter) and PostgreSQL (stored tsvector, Porter
stemming), and the same relevance order on both."""

from __future__ import annotations

import datetime

import pytest

from deals.selectors import search_terms
from tests.factories import (
    CitedSourceFactory,
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    EvidenceFactory,
    FacilityFactory,
    SourceFactory,
)


def found(client, collection: str, q: str, **params) -> list[str]:
    response = client.get(f"/api/v1/{collection}/", {"q": q, "page_size": 100, **params})
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def quote_for(record_field: str, record, text: str):
    """Evidence whose quote is ``text`` (the whole text of a fresh source) for the given record."""
    source = SourceFactory(text=text)
    targets = {"deal": None, "company": None, "facility": None, record_field: record}
    return EvidenceFactory(source=source, start=0, end=len(text), quote=text, **targets)


def test_search_terms_are_runs_of_letters_and_digits():
    assert search_terms(q="  Rare-earth  MAGNETS, rare_earth! Group14 ") == ["rare", "earth", "magnets", "group14"]
    assert search_terms(q="... !!!") == []
    assert search_terms(q="Nd–Fe–B") == ["nd", "fe", "b"]


@pytest.mark.django_db
class TestMatchingSemantics:
    """Each test runs on both databases and must give the same answer on both."""

    def test_whole_words_case_insensitive_stemmed_no_prefixes(self, client):
        deal = DealFactory(title="Lithium offtake signed")
        assert found(client, "deals", "LITHIUM") == [deal.slug]
        assert found(client, "deals", "lith") == []
        assert found(client, "deals", "offtakes") == [deal.slug]
        assert found(client, "deals", "sign") == [deal.slug]
        assert found(client, "deals", "signing") == [deal.slug]
        assert found(client, "deals", "signal") == []

    def test_plural_finds_what_singular_finds(self, client):
        plural = DealFactory(title="Rare earth magnets plant")
        singular = DealFactory(title="A magnet offtake")
        DealFactory(title="Magnesium supply")
        expected = sorted([plural.slug, singular.slug])
        assert sorted(found(client, "deals", "magnet")) == expected
        assert sorted(found(client, "deals", "magnets")) == expected

    def test_no_stop_words(self, client):
        deal = DealFactory(title="The offtake")
        DealFactory(title="An offtake")
        assert found(client, "deals", "the") == [deal.slug]
        assert found(client, "deals", "the offtake") == [deal.slug]

    def test_every_term_must_match_somewhere(self, client):
        both = DealFactory(title="Lithium offtake", summary="Graphite anode supply too.")
        DealFactory(title="Lithium offtake", summary="Only lithium.")
        assert found(client, "deals", "lithium graphite") == [both.slug]
        assert found(client, "deals", "graphite lithium") == [both.slug]

    def test_evidence_quotes_are_searched(self, client):
        deal = DealFactory(title="Offtake")
        DealFactory(title="Offtake")
        quote_for("deal", deal, "The plant in Columbus will make magnets.")
        assert found(client, "deals", "columbus") == [deal.slug]
        # One term in the title, the other in a quote.
        assert found(client, "deals", "offtake columbus") == [deal.slug]

    def test_punctuation_separates_terms(self, client):
        hyphen = DealFactory(title="Rare-earth magnets")
        space = DealFactory(title="Rare earth oxide")
        DealFactory(title="Rarely seen earthworks")
        assert sorted(found(client, "deals", "rare-earth")) == sorted([hyphen.slug, space.slug])
        assert sorted(found(client, "deals", "earth")) == sorted([hyphen.slug, space.slug])

    def test_letters_and_digits_form_one_word(self, client):
        company = CompanyFactory(name="Group14 Technologies")
        assert found(client, "companies", "group14") == [company.slug]
        assert found(client, "companies", "group") == []

    def test_company_names_aliases_descriptions_and_quotes(self, client):
        by_alias = CompanyFactory(name="Vacuumschmelze", aliases=["VAC", "VAC Group"])
        by_description = CompanyFactory(name="Other", description="Makes permanent magnets.")
        by_quote = CompanyFactory(name="Third")
        quote_for("company", by_quote, "Third is headquartered in Seoul.")
        assert found(client, "companies", "vac") == [by_alias.slug]
        assert found(client, "companies", "permanent") == [by_description.slug]
        assert found(client, "companies", "seoul") == [by_quote.slug]

    def test_facility_names_descriptions_and_quotes(self, client):
        plant = FacilityFactory(name="Sumter plant", description="Magnet recycling line.")
        quote_for("facility", plant, "The Sumter plant will recycle swarf.")
        FacilityFactory(name="Other plant")
        assert found(client, "facilities", "recycling") == [plant.slug]
        assert found(client, "facilities", "swarf") == [plant.slug]
        assert len(found(client, "facilities", "plant")) == 2

    def test_sources_by_title_publisher_and_the_quotes_taken_from_them(self, client):
        source = CitedSourceFactory(title="Graphite deal", publisher="Mining Weekly")
        SourceFactory(title="Other")
        text_source = SourceFactory(text="Lynas will expand Kalgoorlie.")
        EvidenceFactory(source=text_source, start=0, end=5, quote="Lynas")
        assert found(client, "sources", "graphite") == [source.slug]
        assert found(client, "sources", "weekly") == [source.slug]
        # Only the quoted span is searched, not the whole text.
        assert found(client, "sources", "lynas") == [text_source.slug]
        assert found(client, "sources", "kalgoorlie") == []

    def test_commodity_names_and_symbols(self, client):
        dy = CommodityFactory(slug="dysprosium", name="Dysprosium", symbol="Dy")
        CommodityFactory(slug="terbium", name="Terbium", symbol="Tb")
        assert found(client, "commodities", "dy") == [dy.slug]
        assert found(client, "commodities", "DYSPROSIUM") == [dy.slug]

    def test_search_combines_with_filters_pagination_and_csv(self, client):
        a = DealFactory(title="Lithium deal", status="closed")
        DealFactory(title="Lithium deal", status="signed")
        DealFactory(title="Copper deal", status="closed")
        assert found(client, "deals", "lithium", status="closed") == [a.slug]
        body = client.get("/api/v1/deals/", {"q": "lithium", "page_size": 1}).json()
        assert body["count"] == 2 and len(body["results"]) == 1
        csv = client.get("/api/v1/deals.csv", {"q": "lithium"}).content.decode()
        assert csv.count("\r\n") == 3  # header and two rows


@pytest.mark.django_db
def test_order_is_relevance_on_both_databases(client):
    """Title (weight A) beats summary (B) beats a quote (C), whatever the default order says."""
    in_quote = DealFactory(slug="a-in-quote", title="Offtake", announced_date=datetime.date(2025, 9, 1))
    quote_for("deal", in_quote, "The lithium comes from Nevada.")
    in_summary = DealFactory(
        slug="c-in-summary", title="Offtake", summary="Lithium from Chile.", announced_date=datetime.date(2025, 1, 1)
    )
    in_title = DealFactory(slug="b-in-title", title="Lithium offtake", announced_date=datetime.date(2024, 1, 1))
    assert found(client, "deals", "lithium") == [in_title.slug, in_summary.slug, in_quote.slug]
    # An explicit ordering wins over relevance on both databases.
    assert found(client, "deals", "lithium", ordering="-slug") == [in_summary.slug, in_title.slug, in_quote.slug]
    assert found(client, "deals", "lithium", ordering="announced_date") == [
        in_title.slug,
        in_summary.slug,
        in_quote.slug,
    ]


@pytest.mark.django_db
def test_linked_commodity_names_are_searched(client):
    dy = CommodityFactory(slug="dysprosium", name="Dysprosium", symbol="Dy")
    deal = DealFactory(title="Offtake")
    deal.commodities.add(dy)
    DealFactory(title="Offtake")
    plant = FacilityFactory(name="Plant")
    plant.commodities.add(dy)
    assert found(client, "deals", "dysprosium") == [deal.slug]
    assert found(client, "facilities", "dysprosium") == [plant.slug]


@pytest.mark.django_db
def test_relevance_ties_are_broken_by_creation_order(client):
    """Ties come in the order the records were created (their id), not by slug: on PostgreSQL a deals list asked
    for only `q` is ranked from the search levels, which order ties by id (deals.search_levels)."""
    for slug in ("tie-b", "tie-c", "tie-a"):
        DealFactory(slug=slug, title="Graphite offtake", announced_date=datetime.date(2025, 9, 1))
    assert found(client, "deals", "graphite") == ["tie-b", "tie-c", "tie-a"]
    # The same order with a filter, which takes the general path (every match ranked by the database).
    assert found(client, "deals", "graphite", announced_after="2025-01-01") == ["tie-b", "tie-c", "tie-a"]
    for slug in ("tie-y", "tie-x"):
        CompanyFactory(slug=slug, name="Graphite Co")
    assert found(client, "companies", "graphite") == ["tie-y", "tie-x"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "q", ["²", "中文 text", "naïve", "e\u0301", "ﬁre", "Straße", "x" * 200, "a b c d e f g h i j", "3e5"]
)
def test_unusual_queries_never_fail(client, q):
    """Odd but valid queries (superscripts, CJK, combining marks, ligatures) are 200 on both databases."""
    DealFactory(title="Straße naïve 中文 text")
    response = client.get("/api/v1/deals/", {"q": q})
    assert response.status_code == 200, response.content


@pytest.mark.django_db
def test_non_ascii_words_match_case_insensitively(client):
    deal = DealFactory(title="Straße Örebro")
    DealFactory(title="Other")
    assert found(client, "deals", "straße") == [deal.slug]
    assert found(client, "deals", "örebro") == [deal.slug]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("alias", "q"),
    [("Société Générale", "société"), ("北方稀土", "北方稀土"), ("ÉCOLE des Mines", "école"), ("École", "ÉCOLE")],
)
def test_non_ascii_aliases_are_found_on_both_databases(client, alias, q):
    """SQLite stores non-ASCII JSON \\u-escaped: aliases are matched item by item, not in the stored text."""
    company = CompanyFactory(name="Plain name", aliases=["Other", alias])
    CompanyFactory(name="Unrelated", aliases=["Société"[:4]])
    assert found(client, "companies", q) == [company.slug]


@pytest.mark.django_db
def test_alias_words_do_not_run_across_items(client):
    company = CompanyFactory(name="Plain", aliases=["Rare", "Earth Co"])
    assert found(client, "companies", "rare earth") == [company.slug]
    assert found(client, "companies", "rareearth") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("U.S.", ["abbrev", "spaced"]),
        ("u s", ["abbrev", "spaced"]),
        ("us", ["plain-us"]),
        ("3.5", ["decimal", "digits"]),
        ("3", ["decimal", "digits"]),
        ("35", []),
        ("example", ["host"]),
        ("example.org", ["host"]),
    ],
)
def test_punctuated_tokens_split_the_same_way_on_both_databases(client, q, expected):
    """PostgreSQL's parser keeps "U.S.", "3.5" and host names whole; both databases split them into words."""
    DealFactory(slug="abbrev", title="U.S. magnet offtake")
    DealFactory(slug="spaced", title="Offtake", summary="A deal with u s partners.")
    DealFactory(slug="plain-us", title="Offtake for us")
    DealFactory(slug="decimal", title="A 3.5 billion loan")
    DealFactory(slug="digits", title="Loan", summary="Phase 3 of 5.")
    DealFactory(slug="host", title="Grant", summary="See example.org for details.")
    assert sorted(found(client, "deals", q)) == expected


@pytest.mark.django_db
def test_punctuated_alias_and_quote_split_the_same_way(client):
    company = CompanyFactory(name="Plain", aliases=["U.S. DoD"])
    other = CompanyFactory(name="Other")
    quote_for("company", other, "Capacity of 3.5 kt.")
    assert found(client, "companies", "U.S.") == [company.slug]
    assert found(client, "companies", "dod") == [company.slug]
    assert found(client, "companies", "3.5") == [other.slug]


# A small corpus and what each query finds in it: the same on both databases (each test run checks its own).
CORPUS = {
    "magnet-plant": ("NdFeB magnet plant in Columbus", "The plant will make sintered magnets."),
    "magnets-offtake": ("Magnets offtake signed", "GM agreed to buy magnets for ten years."),
    "rare-earth-hub": ("U.S. rare earth separation hub", "Separating rare-earth oxides, 3.5 kt a year."),
    "rarely": ("Rarely seen earthworks", "Mining equipment supply."),
    "lithium-loan": ("Lithium loan", "A loan for the lithium refinery; the lenders signed."),
    "graphite": ("Graphite anode supply", "Anodes from natural graphite for us."),
    "recycling": ("Magnet recycling partnership", "Recycled swarf becomes new magnets."),
    "generic": ("The agreements", "General terms were agreed."),
}
CORPUS_QUERIES = [
    ("magnet", ["magnet-plant", "magnets-offtake", "recycling"]),
    ("magnets", ["magnet-plant", "magnets-offtake", "recycling"]),
    ("MAGNETIC", ["magnet-plant", "magnets-offtake", "recycling"]),  # Porter: magnetic -> magnet
    ("rare earth", ["rare-earth-hub"]),
    ("rare-earth oxide", ["rare-earth-hub"]),
    ("earth", ["rare-earth-hub"]),
    ("separate", ["rare-earth-hub"]),
    ("3.5", ["rare-earth-hub"]),
    ("sign", ["lithium-loan", "magnets-offtake"]),
    ("lender", ["lithium-loan"]),
    ("loans lithium", ["lithium-loan"]),
    ("anode", ["graphite"]),
    ("us", ["graphite"]),
    ("u s", ["rare-earth-hub"]),
    ("recycle", ["recycling"]),
    ("agreement", ["generic"]),
    ("agreed", ["generic", "magnets-offtake"]),
    ("the", ["generic", "lithium-loan", "magnet-plant"]),
    ("mine", ["rarely"]),
    ("lith", []),
]


@pytest.mark.django_db
def test_the_corpus_gives_the_same_results_on_both_databases(client):
    for slug, (title, summary) in CORPUS.items():
        DealFactory(slug=slug, title=title, summary=summary)
    results = {q: sorted(found(client, "deals", q)) for q, _ in CORPUS_QUERIES}
    assert results == {q: sorted(expected) for q, expected in CORPUS_QUERIES}
