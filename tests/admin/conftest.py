"""Fixtures for the admin tests: an editor made by the project's own service, logged in, and a small dataset."""

import pytest

from deals.editing import editor_create
from tests.factories import (
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
    SourceFactory,
)

SOURCE_TEXT = (
    "Acme Magnets said on Monday it signed a $10 million offtake with Beta Metals. "
    "The \u201cmagnet plant\u201d in Columbus will make 3,000 tonnes per year. "
    "Beta Metals will supply oxide. Beta Metals will supply oxide."
)


@pytest.fixture
def editor(db):
    return editor_create(username="edna", email="edna@example.org", password="a-long-editor-pass-42")


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


def inline_data(prefix: str, rows: list[dict], *, initial: int = 0) -> dict:
    """POST data for one admin inline formset: the management form plus one dict of fields per row."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data


@pytest.fixture
def dataset(db):
    """One record of every model, linked together, with evidence for a deal, a company and a facility."""
    source = SourceFactory(slug="acme-offtake", title="Acme signs offtake", text=SOURCE_TEXT)
    acme = CompanyFactory(slug="acme-magnets", name="Acme Magnets")
    beta = CompanyFactory(slug="beta-metals", name="Beta Metals")
    facility = FacilityFactory(slug="columbus-plant", name="Columbus magnet plant")
    commodity = CommodityFactory(slug="ndfeb", name="NdFeB magnets")
    deal = DealFactory(slug="acme-beta-offtake", title="Acme and Beta offtake")
    deal.commodities.add(commodity)
    DealPartyFactory(deal=deal, company=acme, role="buyer")
    DealPartyFactory(deal=deal, company=beta, role="supplier")
    FacilityCompanyFactory(facility=facility, company=acme, role="owner")
    quote = "signed a $10 million offtake with Beta Metals"
    start = SOURCE_TEXT.index(quote)
    EvidenceFactory(source=source, deal=deal, start=start, end=start + len(quote), quote=quote, fields=["amount"])
    quote = "Acme Magnets"
    EvidenceFactory(source=source, deal=None, company=acme, start=0, end=len(quote), quote=quote, fields=["name"])
    quote = "in Columbus will make 3,000 tonnes per year"
    start = SOURCE_TEXT.index(quote)
    EvidenceFactory(
        source=source, deal=None, facility=facility, start=start, end=start + len(quote), quote=quote, fields=[]
    )
    return {"source": source, "acme": acme, "beta": beta, "facility": facility, "commodity": commodity, "deal": deal}
