"""``updated_since`` on every list: records changed at or after a date or date-time; relations count."""

import datetime

import pytest
from django.utils import timezone

from deals import models
from tests.factories import (
    CitedSourceFactory,
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    EvidenceFactory,
    FacilityFactory,
)

pytestmark = pytest.mark.django_db
LONG_AGO = datetime.datetime(2020, 1, 1, 12, 0, tzinfo=datetime.UTC)

FACTORIES = {
    "deals": DealFactory,
    "companies": CompanyFactory,
    "facilities": FacilityFactory,
    "sources": CitedSourceFactory,
    "commodities": CommodityFactory,
}


def _slugs(client, resource: str, **params) -> list[str]:
    response = client.get(f"/api/v1/{resource}/", params)
    assert response.status_code == 200, response.content
    return sorted(row["slug"] for row in response.json()["results"])


@pytest.mark.parametrize("resource", sorted(FACTORIES))
def test_each_list_keeps_the_records_changed_since_a_date_or_date_time(client, resource):
    old, new = FACTORIES[resource](), FACTORIES[resource]()
    type(old).objects.filter(pk=old.pk).update(updated=LONG_AGO)
    everything = _slugs(client, resource)
    assert old.slug in everything and new.slug in everything
    assert _slugs(client, resource, updated_since="2021-01-01") == [new.slug]
    assert _slugs(client, resource, updated_since="2020-01-01T12:00:00Z") == sorted(everything)  # inclusive
    assert _slugs(client, resource, updated_since="2020-01-01T12:00:01") == [new.slug]  # no offset: UTC
    assert _slugs(client, resource, updated_since="2020-01-01T13:00:00+01:00") == sorted(everything)
    assert _slugs(client, resource, updated_since="2020-01-01T13:00:00 01:00") == sorted(everything)  # unencoded +
    assert _slugs(client, resource, updated_since=(timezone.now() + datetime.timedelta(days=1)).isoformat()) == []


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "2025-01-01T25:00", "1735689600", "2025-1-1", "2025"])
@pytest.mark.parametrize("resource", sorted(FACTORIES))
def test_an_invalid_value_is_a_400_naming_the_parameter(client, resource, value):
    response = client.get(f"/api/v1/{resource}/", {"updated_since": value})
    assert response.status_code == 400, response.content
    assert list(response.json()) == ["updated_since"]
    assert "ISO 8601" in response.json()["updated_since"][0]


def test_a_change_to_evidence_or_relations_alone_brings_the_record_back(client, django_capture_on_commit_callbacks):
    # Writes are committed (their callbacks run), so the response cache sees each new dataset version.
    with django_capture_on_commit_callbacks(execute=True):
        deal, company = DealFactory(), CompanyFactory()
        for record in (deal, company):
            type(record).objects.filter(pk=record.pk).update(updated=LONG_AGO)
    assert _slugs(client, "deals", updated_since="2021-01-01") == []
    with django_capture_on_commit_callbacks(execute=True):
        EvidenceFactory(deal=deal, fields=["title"])
        models.DealParty.objects.create(deal=deal, company=company, role="buyer")
    assert _slugs(client, "deals", updated_since="2021-01-01") == [deal.slug]
    assert _slugs(client, "companies", updated_since="2021-01-01") == [company.slug]
