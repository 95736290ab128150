"""/api/v1/<resource>/<slug>/history/: a record's public versions, newest first, with old and new values."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from deals.services.publication import record_merge, record_withdraw
from tests.factories import CompanyFactory, DealFactory, DealPartyFactory, EvidenceFactory, FacilityFactory

pytestmark = pytest.mark.django_db


def _history(client, resource: str, slug: str, **params):
    return client.get(f"/api/v1/{resource}/{slug}/history/", params)


def test_a_deals_history_shows_each_public_version_with_old_and_new_values_and_no_drafts(
    client, django_capture_on_commit_callbacks, editor_user
):
    with django_capture_on_commit_callbacks(execute=True):
        deal = DealFactory(slug="offtake", title="Draft title", publication_status="draft")
        deal.title = "Draft title, edited"
        deal._history_user = editor_user
        deal.save()
        deal.title, deal.publication_status = "Acme offtake", "published"
        deal._change_reason = "published"
        deal.save()
        company = CompanyFactory(slug="acme")
        DealPartyFactory(deal=deal, company=company, role="buyer")
        deal.amount = 12000000
        deal._change_reason = "amount corrected"
        deal._history_user = editor_user
        deal.save()
    response = _history(client, "deals", "offtake")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 3 and body["next"] is None and body["previous"] is None
    amount, parties, created = body["results"]
    assert [v["action"] for v in body["results"]] == ["updated", "updated", "created"]
    assert amount["reason"] == "amount corrected"
    assert amount["changes"] == [{"field": "amount", "old": "10000000.00", "new": "12000000.00"}]
    assert parties["changes"] == [{"field": "parties", "old": [], "new": ["acme (buyer)"]}]
    assert amount["sequence"] > parties["sequence"] > created["sequence"]
    assert created["reason"] == "published"
    fields = {c["field"]: c for c in created["changes"]}
    assert fields["title"] == {"field": "title", "old": None, "new": "Acme offtake"}
    assert fields["countries"]["new"] == ["US"] and fields["announced_date"]["new"] == "2025-09-01"
    text = response.content.decode()
    assert "Draft title" not in text, "a draft version is not public"
    assert editor_user.username not in text


@pytest.fixture
def editor_user(django_user_model):
    return django_user_model.objects.create_user(username="edna-the-editor", password="x-long-password-1")


def test_company_and_facility_histories_render_relations_as_slugs(client):
    parent = CompanyFactory(slug="parent-co")
    company = CompanyFactory(slug="child-co")
    plant = FacilityFactory(slug="plant")
    company.parent = parent
    company.save()
    EvidenceFactory(deal=None, facility=plant, fields=["name"])
    company_body = _history(client, "companies", "child-co").json()
    assert company_body["results"][0]["changes"] == [{"field": "parent", "old": None, "new": "parent-co"}]
    plant_body = _history(client, "facilities", "plant").json()
    [change] = plant_body["results"][0]["changes"]
    assert change["field"] == "evidence" and change["old"] == [] and len(change["new"]) == 1
    assert change["new"][0].startswith("source-") and ":0-" in change["new"][0]


def test_withdrawn_merged_and_renamed_records_answer_as_their_detail_does(client):
    gone, twin, keep = DealFactory(slug="gone"), DealFactory(slug="twin"), DealFactory(slug="keep")
    record_withdraw(record=gone, reason="Never happened.")
    record_merge(duplicate=twin, survivor=keep)
    assert _history(client, "deals", "gone").status_code == 410
    moved = _history(client, "deals", "twin")
    assert moved.status_code == 301 and moved["Location"] == "http://testserver/api/v1/deals/keep/history/"
    keep.slug = "kept"
    keep.save()
    renamed = _history(client, "deals", "keep")
    assert renamed.status_code == 301 and renamed["Location"].endswith("/api/v1/deals/kept/history/")
    body = _history(client, "deals", "kept").json()
    assert body["results"][0]["action"] == "renamed"
    assert body["results"][0]["changes"] == [{"field": "slug", "old": "keep", "new": "kept"}]
    assert _history(client, "deals", "no-such-deal").status_code == 404
    draft = DealFactory(slug="a-draft", publication_status="draft")
    assert _history(client, "deals", draft.slug).status_code == 404


def test_history_is_paginated_and_its_query_count_does_not_grow_with_the_page_size(client):
    deal = DealFactory(slug="busy")
    for i in range(6):
        deal.title = f"Title {i}"
        deal.save()
    page = _history(client, "deals", "busy", page_size=3).json()
    assert page["count"] == 7 and len(page["results"]) == 3 and "page=2" in page["next"]
    assert [v["changes"][0]["new"] for v in page["results"]] == ["Title 5", "Title 4", "Title 3"]
    counts = []
    for size in (1, 7):
        with CaptureQueriesContext(connection) as queries:
            assert len(_history(client, "deals", "busy", page_size=size).json()["results"]) == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert _history(client, "deals", "busy", page=9).status_code == 404
    bad = _history(client, "deals", "busy", page_size="0")
    assert bad.status_code == 400 and list(bad.json()) == ["page_size"]
    unknown = _history(client, "deals", "busy", since="1")
    assert unknown.status_code == 400 and list(unknown.json()) == ["since"]


def test_a_deals_history_records_its_terms(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        deal = DealFactory(slug="floor")
        deal.instrument, deal.unit_price, deal.unit_price_currency, deal.unit_price_unit = (
            "price_floor",
            110,
            "USD",
            "kg",
        )
        deal._change_reason = "price floor stated"
        deal.save()
        deal.term_length, deal.term_unit = 10, "years"
        deal.save()
    body = _history(client, "deals", "floor").json()
    term, price, _created = body["results"]
    # (The history shows a blank text or choice column's old value as "", as for every other field.)
    assert sorted((c["field"], c["new"]) for c in term["changes"]) == [("term_length", 10), ("term_unit", "years")]
    assert sorted((c["field"], c["new"]) for c in price["changes"]) == [
        ("instrument", "price_floor"),
        ("unit_price", "110.0000"),
        ("unit_price_currency", "USD"),
        ("unit_price_unit", "kg"),
    ]
    assert price["reason"] == "price floor stated"
