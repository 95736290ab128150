"""A seeded random dataset of deals for the fast read path's equivalence tests (tests/api/test_fast_*.py).

Every field varies: nulls and blanks, decimals with every number of significant places, dates of each precision,
every publication state, zero to several parties, facilities, commodities, stages, countries and quotes, published
and unpublished related records, slugs that sort differently by byte and by collation (``a-b``, ``a_b``, ``ab``),
and quotes whose stated value is no longer current (claims in the detail's field provenance).
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from deals import models
from deals.coverage import coverage_field_names
from tests.factories import (
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    EvidenceFactory,
    FacilityFactory,
    SourceFactory,
)

SEED = 20261202
_COUNTRIES = ["US", "CA", "AU", "DE", "JP", "CN", "BR", "ZA", "GB", "FR"]
_TEXTS = ["", "Offtake of oxide.", "Café “quoted” — naïve 日本 text", 'Line\u2028separator and \\ back"slash']


def _decimal(rng: random.Random, *, places: int, maximum: int) -> Decimal:
    digits = rng.choice([0, 1, places])  # 12, 12.5, 12.25…: DRF pads every one to the field's places
    return Decimal(rng.randint(1, maximum)) + Decimal(rng.randint(0, 10**digits - 1)) / (10**digits or 1)


def _slug(rng: random.Random, stem: str, n: int) -> str:
    return rng.choice([f"{stem}-{n}", f"{stem}_{n}", f"{stem}{n}", f"a-{stem}-{n}", f"a_{stem}_{n}"])


def _publication(rng: random.Random) -> dict:
    state = rng.choices(["published", "draft", "withdrawn"], weights=[7, 2, 1])[0]
    if state == "withdrawn":
        return {
            "publication_status": models.PublicationStatus.WITHDRAWN,
            "withdrawn_at": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            "withdrawn_reason": "A duplicate.",
        }
    return {"publication_status": state}


def _date(rng: random.Random) -> tuple[datetime.date | None, str]:
    precision = rng.choice(["", "day", "month", "year"])
    if not precision:
        return None, ""
    year, month, day = rng.randint(1995, 2030), rng.randint(1, 12), rng.randint(1, 28)
    if precision == "year":
        return datetime.date(year, 1, 1), precision
    if precision == "month":
        return datetime.date(year, month, 1), precision
    return datetime.date(year, month, day), precision


def _deal_fields(rng: random.Random, n: int) -> dict:
    announced, precision = _date(rng)
    fields = {
        "slug": _slug(rng, "deal", n),
        "title": rng.choice(["Deal", "Ünïcode deal", "Zeta deal", "alpha deal"]) + f" {n}",
        "deal_type": rng.choice(models.Deal.Type.values),
        "status": rng.choice(models.Deal.Status.values),
        "announced_date": announced,
        "announced_date_precision": precision,
        "amount": None,
        "currency": "",
        "amount_usd": rng.choice([None, _decimal(rng, places=2, maximum=10**9)]),
        "value_qualifier": "",
        "summary": rng.choice(_TEXTS),
        "countries": rng.sample(_COUNTRIES, rng.choice([0, 0, 1, 2, 3])),
        **_publication(rng),
    }
    if fields["deal_type"] == models.Deal.Type.MOU and fields["status"] in ("signed", "closed"):
        fields["status"] = models.Deal.Status.NON_BINDING
    if rng.random() < 0.7:
        fields["amount"] = _decimal(rng, places=2, maximum=10**12)
        fields["currency"] = rng.choice(["USD", "EUR", "CAD"])
        fields["value_qualifier"] = rng.choice(["", *models.ValueQualifier.values])
        if fields["currency"] == "USD" and fields["amount_usd"] is not None:
            fields["amount_usd"] = fields["amount"]
    if rng.random() < 0.4:
        fields |= {
            "unit_price": _decimal(rng, places=4, maximum=10**6),
            "unit_price_currency": "USD",
            "unit_price_unit": rng.choice(models.Deal.PriceUnit.values),
        }
    if rng.random() < 0.4:
        fields |= {"term_length": rng.randint(1, 40), "term_unit": rng.choice(models.Deal.TermUnit.values)}
    if rng.random() < 0.4:
        share = min(_decimal(rng, places=2, maximum=99), Decimal("100"))
        fields |= {"output_share_percent": share, "output_share_of": rng.choice(["magnets", "the plant's output"])}
    if rng.random() < 0.5:
        fields["instrument"] = rng.choice(models.Deal.Instrument.values)
    return fields


def random_deals_create(*, seed: int = SEED, deals: int = 220) -> list[models.Deal]:
    """Create ``deals`` random deals (about 70 % published) with their relations and quotes; deterministic."""
    rng = random.Random(seed)
    companies = [
        CompanyFactory(slug=_slug(rng, "co", i), name=f"Company {rng.randint(0, 999)}", **_publication(rng))
        for i in range(40)
    ]
    facilities = [FacilityFactory(slug=_slug(rng, "fac", i), **_publication(rng)) for i in range(15)]
    commodities = [CommodityFactory(slug=_slug(rng, "com", i), name=f"Commodity {i}") for i in range(12)]
    sources = []
    for i in range(10):
        published = rng.choice([None, datetime.date(2025, 9, 12)])
        sources.append(
            SourceFactory(
                slug=_slug(rng, "src", i),
                publisher=rng.choice(["", "Reuters"]),
                published_date=published,
                published_date_precision="day" if published else "",
                url=rng.choice(["", f"https://example.org/{i}"]),
            )
        )
    stages = list(models.SupplyChainStage.objects.all())
    quotable = coverage_field_names(model=models.Deal)
    created = []
    for n in range(deals):
        deal = DealFactory(**_deal_fields(rng, n))
        for company in rng.sample(companies, rng.choice([0, 1, 2, 3, 5])):
            models.DealParty.objects.create(deal=deal, company=company, role=rng.choice(models.DealParty.Role.values))
        deal.facilities.add(*rng.sample(facilities, rng.choice([0, 0, 1, 2, 4])))
        deal.commodities.add(*rng.sample(commodities, rng.choice([0, 1, 2, 5])))
        deal.stages.add(*rng.sample(stages, rng.choice([0, 1, 3])))
        for source in rng.sample(sources, rng.choice([0, 1, 2, 4])):
            EvidenceFactory(deal=deal, source=source, fields=rng.sample(quotable, rng.randint(0, 6)))
        if rng.random() < 0.3:
            # A later edit: the quotes taken before now state old values (claims beside the current ones).
            models.Deal.objects.filter(pk=deal.pk).update(
                title=deal.title + " (renamed)", deal_type=rng.choice(models.Deal.Type.values)
            )
            if rng.random() < 0.5:
                deal.commodities.add(rng.choice(commodities))
                deal.parties.clear()
        created.append(deal)
    return created
