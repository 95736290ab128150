"""factory_boy factories for the dataset models; every test builds its data through these."""

import datetime
import hashlib
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from deals import models
from deals.coverage import evidence_values_take


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CommodityFactory(DjangoModelFactory):
    class Meta:
        model = models.Commodity
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"commodity-{n}")
    name = factory.Sequence(lambda n: f"Commodity {n}")
    kind = models.Commodity.Kind.ELEMENT


class SourceFactory(DjangoModelFactory):
    class Meta:
        model = models.Source

    slug = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"Source article {n}")
    publisher = "Example Publisher"
    kind = models.Source.Kind.NEWS
    published_date = datetime.date(2025, 9, 12)
    published_date_precision = models.DatePrecision.DAY
    text = factory.Sequence(
        lambda n: (
            f"Article {n}. Acme Magnets signed a $10 million offtake with Beta Metals. "
            "The plant in Columbus will make 3,000 tonnes per year."
        )
    )
    raw_sha256 = factory.LazyAttribute(lambda o: _sha("raw:" + o.text))
    text_sha256 = factory.LazyAttribute(lambda o: _sha(o.text))
    original_filename = factory.LazyAttribute(lambda o: f"{o.slug}.txt")


class CompanyFactory(DjangoModelFactory):
    class Meta:
        model = models.Company

    # Published by default, as the fixtures load; tests that need a draft ask for one.
    publication_status = models.PublicationStatus.PUBLISHED
    slug = factory.Sequence(lambda n: f"company-{n}")
    name = factory.Sequence(lambda n: f"Company {n}")
    kind = models.Company.Kind.COMPANY
    country = "US"


class FacilityFactory(DjangoModelFactory):
    class Meta:
        model = models.Facility

    # Published by default, as the fixtures load; tests that need a draft ask for one.
    publication_status = models.PublicationStatus.PUBLISHED
    slug = factory.Sequence(lambda n: f"facility-{n}")
    name = factory.Sequence(lambda n: f"Facility {n}")
    kind = models.Facility.Kind.MAGNET
    status = models.Facility.Status.PLANNED
    country = "US"


class DealFactory(DjangoModelFactory):
    class Meta:
        model = models.Deal

    # Published by default, as the fixtures load; tests that need a draft ask for one.
    publication_status = models.PublicationStatus.PUBLISHED
    slug = factory.Sequence(lambda n: f"deal-{n}")
    title = factory.Sequence(lambda n: f"Deal {n}")
    deal_type = models.Deal.Type.OFFTAKE
    status = models.Deal.Status.SIGNED
    announced_date = datetime.date(2025, 9, 1)
    announced_date_precision = models.DatePrecision.MONTH
    amount = Decimal("10000000")
    currency = "USD"
    amount_usd = Decimal("10000000")
    value_qualifier = models.ValueQualifier.EXACT
    countries = ["US"]

    class Params:
        # Every term stated (deals/models/deal_terms.py), as in "a price floor of $110 per kilogram for ten years
        # covering 100% of the magnets"; DealFactory(terms=True).
        terms = factory.Trait(
            unit_price=Decimal("110"),
            unit_price_currency="USD",
            unit_price_unit=models.Deal.PriceUnit.KILOGRAM,
            term_length=10,
            term_unit=models.Deal.TermUnit.YEARS,
            output_share_percent=Decimal("100"),
            output_share_of="magnets produced at the plant",
            instrument=models.Deal.Instrument.PRICE_FLOOR,
        )


class DealPartyFactory(DjangoModelFactory):
    class Meta:
        model = models.DealParty

    deal = factory.SubFactory(DealFactory)
    company = factory.SubFactory(CompanyFactory)
    role = models.DealParty.Role.BUYER


class FacilityCompanyFactory(DjangoModelFactory):
    class Meta:
        model = models.FacilityCompany

    facility = factory.SubFactory(FacilityFactory)
    company = factory.SubFactory(CompanyFactory)
    role = models.FacilityCompany.Role.OWNER


class EvidenceFactory(DjangoModelFactory):
    """Evidence quoting the first sentence-sized span of its source, for a deal unless told otherwise."""

    class Meta:
        model = models.Evidence

    source = factory.SubFactory(SourceFactory)
    deal = factory.SubFactory(DealFactory)
    company = None
    facility = None
    start = 0
    end = factory.LazyAttribute(lambda o: o.source.text.index(".") + 1)
    quote = factory.LazyAttribute(lambda o: o.source.text[o.start : o.end])
    fields = factory.LazyFunction(lambda: ["title"])
    # What the admin, the import and the loader store: the target's current value of every ticked field.
    values = factory.LazyAttribute(
        lambda o: (
            evidence_values_take(record=o.deal or o.company or o.facility, fields=o.fields)
            if (o.deal or o.company or o.facility) is not None
            else {}
        )
    )


class CitedSourceFactory(SourceFactory):
    """A public source: one published deal cites it (a source is public once a published record cites it)."""

    class Meta:
        skip_postgeneration_save = True

    cited_by = factory.RelatedFactory(EvidenceFactory, factory_related_name="source")
