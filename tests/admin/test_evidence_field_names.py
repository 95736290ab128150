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
