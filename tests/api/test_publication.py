"""Only published records are public: drafts are invisible everywhere, withdrawn records answer 410, merged and
renamed ones 301."""

from __future__ import annotations

import pytest
from django.urls import reverse

from deals.caching import dataset_version_bump
from deals.models import Company, Deal, Facility, PublicationStatus
from deals.services.publication import record_merge, record_withdraw
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

pytestmark = pytest.mark.django_db
DRAFT = PublicationStatus.DRAFT


def _list(client, resource: str, **params) -> list[str]:
    response = client.get(reverse(f"api:{resource}-list"), params)
    assert response.status_code == 200, response.content
    return [row["slug"] for row in response.json()["results"]]


def _detail(client, resource: str, slug: str):
    return client.get(reverse(f"api:{resource}-detail", kwargs={"slug": slug}))


@pytest.mark.parametrize(
    ("resource", "factory"), [("deal", DealFactory), ("company", CompanyFactory), ("facility", FacilityFactory)]
)
def test_a_draft_is_not_listed_and_its_detail_is_a_404_like_a_missing_slug(client, resource, factory):
    public = factory()
    draft = factory(publication_status=DRAFT)
    assert _list(client, resource) == [public.slug]
    missing = _detail(client, resource, "no-such-record")
    response = _detail(client, resource, draft.slug)
    assert response.status_code == 404 == missing.status_code
    assert response.json() == missing.json()
    csv = client.get(reverse(f"api:{resource}-csv")).content.decode()
    assert public.slug in csv and draft.slug not in csv


def test_drafts_are_left_out_of_counts_and_nested_briefs(client):
    company = CompanyFactory()
    commodity = CommodityFactory()
    public_deal = DealFactory()
    draft_deal = DealFactory(publication_status=DRAFT)
    for deal in (public_deal, draft_deal):
        DealPartyFactory(deal=deal, company=company)
        deal.commodities.add(commodity)
    draft_plant = FacilityFactory(publication_status=DRAFT)
    FacilityCompanyFactory(facility=draft_plant, company=company)
    public_deal.facilities.add(draft_plant)
    draft_party = CompanyFactory(publication_status=DRAFT)
    DealPartyFactory(deal=public_deal, company=draft_party, role="supplier")
    child = CompanyFactory(parent=CompanyFactory(publication_status=DRAFT))

    body = _detail(client, "company", company.slug).json()
    assert body["deal_count"] == 1 and body["facility_count"] == 0
    assert [d["slug"] for d in body["deals"]] == [public_deal.slug] and body["facilities"] == []
    deal = _detail(client, "deal", public_deal.slug).json()
    assert [p["slug"] for p in deal["parties"]] == [company.slug]
    assert deal["facilities"] == []
    assert _detail(client, "company", child.slug).json()["parent"] is None
    company_csv = client.get(reverse("api:company-csv")).content.decode()
    assert draft_party.slug not in company_csv
    row = next(r for r in client.get(reverse("api:commodity-list")).json()["results"] if r["slug"] == commodity.slug)
    assert row["deal_count"] == 1
    deal_csv = client.get(reverse("api:deal-csv")).content.decode()
    assert draft_party.slug not in deal_csv and draft_plant.slug not in deal_csv


def test_a_facility_does_not_show_draft_deals_or_draft_companies(client):
    plant = FacilityFactory()
    DealFactory(publication_status=DRAFT).facilities.add(plant)
    FacilityCompanyFactory(facility=plant, company=CompanyFactory(publication_status=DRAFT))
    body = _detail(client, "facility", plant.slug).json()
    assert body["deals"] == [] and body["companies"] == []


def test_filters_treat_a_draft_slug_as_unknown_and_never_match_through_drafts(client):
    draft = CompanyFactory(publication_status=DRAFT, country="JP")
    deal = DealFactory()
    DealPartyFactory(deal=deal, company=draft)
    response = client.get(reverse("api:deal-list"), {"company": draft.slug})
    assert response.status_code == 404  # as for a slug that does not exist (docs/api.md, "Errors")
    assert "company" in response.json() and draft.slug in str(response.json())
    assert _list(client, "deal", party_country="JP") == []
    facility_response = client.get(reverse("api:facility-list"), {"company": draft.slug})
    assert facility_response.status_code == 404


def test_search_finds_only_published_records(client):
    DealFactory(title="Lanthanum offtake", publication_status=DRAFT)
    public = DealFactory(title="Lanthanum refinery grant")
    assert _list(client, "deal", q="lanthanum") == [public.slug]


def test_a_source_is_public_once_a_published_record_cites_it(client):
    uncited = SourceFactory()
    draft_only = SourceFactory()
    EvidenceFactory(source=draft_only, deal=DealFactory(publication_status=DRAFT))
    cited = SourceFactory()
    EvidenceFactory(source=cited, deal=DealFactory(publication_status=DRAFT), start=1)
    published = EvidenceFactory(source=cited).deal
    assert _list(client, "source") == [cited.slug]
    for source in (uncited, draft_only):
        assert _detail(client, "source", source.slug).status_code == 404
    body = _detail(client, "source", cited.slug).json()
    assert [d["slug"] for d in body["deals"]] == [published.slug]
    assert body["evidence_count"] == 1
    assert client.get(reverse("api:deal-list"), {"source": uncited.slug}).status_code == 404
    # Withdrawing the only published record that cites it takes the source out again.
    record_withdraw(record=published, reason="Duplicate entry.")
    dataset_version_bump()  # what the commit does; the test's transaction never commits
    assert _list(client, "source") == []


@pytest.mark.parametrize(
    ("resource", "factory"), [("deal", DealFactory), ("company", CompanyFactory), ("facility", FacilityFactory)]
)
def test_a_withdrawn_record_answers_410_with_the_reason_and_the_date(client, resource, factory):
    record = factory()
    record_withdraw(record=record, reason="Entered twice; the other entry is correct.")
    record.refresh_from_db()
    response = _detail(client, resource, record.slug)
    assert response.status_code == 410
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["reason"] == "Entered twice; the other entry is correct."
    assert body["slug"] == record.slug
    assert body["withdrawn_at"].startswith(record.withdrawn_at.strftime("%Y-%m-%dT%H:%M"))
    assert "withdrawn" in body["detail"]
    assert record.slug not in _list(client, resource)


@pytest.mark.parametrize(
    ("resource", "factory"), [("deal", DealFactory), ("company", CompanyFactory), ("facility", FacilityFactory)]
)
def test_a_merged_duplicate_answers_301_to_the_survivor(client, resource, factory):
    survivor, duplicate = factory(), factory()
    record_merge(duplicate=duplicate, survivor=survivor)
    response = _detail(client, resource, duplicate.slug)
    assert response.status_code == 301
    location = reverse(f"api:{resource}-detail", kwargs={"slug": survivor.slug})
    assert response["Location"].endswith(location)
    assert response.json()["slug"] == survivor.slug and response.json()["location"] == response["Location"]
    assert client.get(response["Location"]).status_code == 200
    assert _list(client, resource) == [survivor.slug]


def test_merge_chains_resolve_to_the_final_record_in_one_hop(client):
    a, b, c = DealFactory(), DealFactory(), DealFactory()
    record_merge(duplicate=a, survivor=b)
    record_merge(duplicate=b, survivor=c)
    for old in (a, b):
        response = _detail(client, "deal", old.slug)
        assert response.status_code == 301
        assert response["Location"].endswith(reverse("api:deal-detail", kwargs={"slug": c.slug}))


@pytest.mark.parametrize("model", [Deal, Company, Facility])
def test_a_renamed_record_keeps_its_old_url_as_a_301(client, model):
    resource = model._meta.model_name
    factory = {Deal: DealFactory, Company: CompanyFactory, Facility: FacilityFactory}[model]
    record = factory(slug="old-name")
    record.slug = "new-name"
    record.save()
    record.slug = "newest-name"
    record.save()
    for old in ("old-name", "new-name"):
        response = _detail(client, resource, old)
        assert response.status_code == 301, old
        assert response["Location"].endswith(reverse(f"api:{resource}-detail", kwargs={"slug": "newest-name"}))
        assert "Renamed" in response.json()["detail"]
    assert _detail(client, resource, "newest-name").status_code == 200


def test_a_rename_of_a_draft_does_not_reveal_it(client):
    record = DealFactory(slug="secret-old", publication_status=DRAFT)
    record.slug = "secret-new"
    record.save()
    assert _detail(client, "deal", "secret-old").status_code == 404


def test_the_schema_documents_410_and_301_on_every_publishable_detail(client):
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    gone = schema["components"]["schemas"]["RecordGone"]
    assert set(gone["required"]) >= {"detail", "slug", "withdrawn_at", "reason"}
    for path in ("/api/v1/deals/{slug}/", "/api/v1/companies/{slug}/", "/api/v1/facilities/{slug}/"):
        responses = schema["paths"][path]["get"]["responses"]
        assert responses["410"]["content"]["application/json"]["schema"]["$ref"].endswith("/RecordGone")
        assert responses["301"]["content"]["application/json"]["schema"]["$ref"].endswith("/RecordMoved")
