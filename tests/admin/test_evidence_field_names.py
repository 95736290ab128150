"""Evidence ``fields`` name the supported record's own data and many-to-many fields, and nothing else."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from deals import models
from deals.models import evidence_field_names
from tests.factories import CompanyFactory, DealFactory, EvidenceFactory, FacilityFactory


@pytest.mark.parametrize(
    ("model", "allowed", "refused"),
    [
        (
            models.Deal,
            {"title", "amount", "countries", "parties", "stages", "commodities", "facilities"},
            {"id", "slug", "created", "updated", "evidence", "party_links", "history"},
        ),
        (
            models.Company,
            {"name", "aliases", "country", "parent"},
            {"id", "slug", "evidence", "deal_links", "facility_links", "deals", "facilities", "subsidiaries"},
        ),
        (
            models.Facility,
            {"name", "capacity_amount", "latitude", "commodities", "companies"},
            {"id", "slug", "created", "evidence", "company_links", "deals"},
        ),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_known_field_names_are_data_and_many_to_many_fields_only(model, allowed, refused):
    names = evidence_field_names(model=model)
    assert allowed <= names
    assert not refused & names


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("target", "factory", "bad"),
    [
        ("deal", DealFactory, ["evidence", "id", "party_links"]),
        ("company", CompanyFactory, ["deal_links", "slug", "subsidiaries"]),
        ("facility", FacilityFactory, ["company_links", "created", "deals"]),
    ],
)
def test_model_clean_refuses_ids_slugs_timestamps_and_reverse_relations(target, factory, bad):
    evidence = EvidenceFactory.build(**{"deal": None, target: factory()}, fields=bad)
    evidence.source.save()
    evidence.source_id = evidence.source.pk
    with pytest.raises(ValidationError) as excinfo:
        evidence.full_clean()
    assert excinfo.value.message_dict == {"fields": [f"Not fields of {target}: {', '.join(sorted(bad))}."]}


@pytest.mark.django_db
def test_evidence_page_refuses_reverse_relations_and_malformed_lists(editor_client, dataset):
    url = reverse("admin:deals_evidence_add")
    data = {"source": dataset["source"].pk, "deal": dataset["deal"].pk, "quote": "Acme Magnets said", "note": ""}
    response = editor_client.post(url, {**data, "fields": "amount, party_links, id"})
    assert response.context["adminform"].form.errors["fields"] == ["Not fields of deal: id, party_links."]
    response = editor_client.post(url, {**data, "fields": "['amount']"})
    assert response.context["adminform"].form.errors["fields"] == [
        "Give field names separated by commas, e.g. amount, parties; not a field name: \"['amount']\"."
    ]
    assert not models.Evidence.objects.filter(quote="Acme Magnets said").exists()
    assert editor_client.post(url, {**data, "fields": "amount, parties"}).status_code == 302


@pytest.mark.django_db
def test_fields_are_ticked_from_the_records_fields_with_their_labels(editor_client, dataset):
    deal = dataset["deal"]
    page = editor_client.get(reverse("admin:deals_deal_change", args=[deal.pk])).content.decode()
    # Checkboxes storing the API name, labelled as the editor sees the field on the page.
    assert 'type="checkbox" name="evidence-0-fields" value="announced_date"' in page
    assert "Announced date</label>" in page
    assert 'value="party_links"' not in page and 'name="evidence-0-fields" value="slug"' not in page
    # Ticking boxes (several values) or typing the on-screen labels both store the API names.
    url = reverse("admin:deals_evidence_add")
    data = {"source": dataset["source"].pk, "deal": deal.pk, "note": ""}
    assert (
        editor_client.post(url, {**data, "quote": "Acme Magnets said", "fields": ["amount", "parties"]}).status_code
        == 302
    )
    assert models.Evidence.objects.get(quote="Acme Magnets said").fields == ["amount", "parties"]
    models.Evidence.objects.filter(quote="Acme Magnets said").delete()
    assert (
        editor_client.post(
            url, {**data, "quote": "Acme Magnets said", "fields": "Announced date, Deal type"}
        ).status_code
        == 302
    )
    evidence = models.Evidence.objects.get(quote="Acme Magnets said")
    assert evidence.fields == ["announced_date", "deal_type"]
    # …and each ticked field keeps the value the deal had when it was ticked.
    assert evidence.values == {"announced_date": deal.announced_date.isoformat(), "deal_type": deal.deal_type}
