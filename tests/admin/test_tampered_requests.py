"""Stale, repeated or hand-edited admin requests get a 404, a form error or a message: never a 500."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from deals import models
from tests.admin.conftest import inline_data
from tests.admin.test_import_export import CSV_FORMAT, GOOD_ROWS, _confirm, _evidence_csv, _preview


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- import confirm ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_confirming_an_import_twice_says_so_and_writes_nothing_more(editor_client, dataset):
    before = models.Evidence.objects.count()
    preview = _preview(editor_client, models.Evidence, _evidence_csv(GOOD_ROWS), CSV_FORMAT, "batch.csv")
    assert _confirm(editor_client, models.Evidence, preview).status_code == 302
    assert models.Evidence.objects.count() == before + 2
    again = _confirm(editor_client, models.Evidence, preview)
    assert again.status_code == 302
    assert again["Location"] == reverse("admin:deals_evidence_import")
    assert _messages(again)[-1] == (
        "This import was already confirmed, or its uploaded file has expired: nothing was imported. "
        "Upload the file again to import it."
    )
    assert models.Evidence.objects.count() == before + 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("format", "7", "The import format “7” is not one this page offers"),
        ("format", "x", "The import format “x” is not one this page offers"),
        ("resource", "3", "The import resource “3” is not one this page offers"),
    ],
)
def test_a_tampered_confirm_form_is_a_message(editor_client, dataset, field, value, message):
    before = models.Evidence.objects.count()
    preview = _preview(editor_client, models.Evidence, _evidence_csv(GOOD_ROWS), CSV_FORMAT, "batch.csv")
    data = {**preview.context["confirm_form"].initial, "resource": "0", field: value}
    response = editor_client.post(reverse("admin:deals_evidence_process_import"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:deals_evidence_import")
    assert _messages(response) == [f"{message}: nothing was imported. Upload the file again to import it."]
    assert models.Evidence.objects.count() == before
    # The untampered form still works: the check did not consume the stored file.
    assert _confirm(editor_client, models.Evidence, preview).status_code == 302
    assert models.Evidence.objects.count() == before + 2


# --- history and export URLs ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("model", [models.Deal, models.Source, models.Evidence], ids=lambda m: m.__name__)
def test_history_urls_with_ids_that_are_not_numbers_are_404(editor_client, dataset, model):
    obj = model.objects.order_by("pk").first()
    name = model._meta.model_name
    assert editor_client.get(f"/admin/deals/{name}/abc/history/").status_code == 404
    assert editor_client.get(f"/admin/deals/{name}/{obj.pk}/history/abc/").status_code == 404
    assert editor_client.get(f"/admin/deals/{name}/abc/history/1/").status_code == 404
    assert editor_client.get(f"/admin/deals/{name}/{'9' * 30}/history/").status_code == 404
    assert editor_client.get(f"/admin/deals/{name}/{obj.pk}/history/{'9' * 30}/").status_code == 404
    version = obj.history.latest().history_id
    assert editor_client.get(f"/admin/deals/{name}/{obj.pk}/history/{version}/").status_code == 200
    assert editor_client.get(f"/admin/deals/{name}/{obj.pk}/history/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "query"),
    [
        (models.Deal, "announced_date__year=abc"),
        (models.Deal, "announced_date__gte=yesterday"),
        (models.Source, "published_date__month=13x"),
        (models.SupplyChainStage, "position=first"),
    ],
)
def test_export_with_invalid_filters_is_a_message(editor_client, dataset, model, query):
    name = model._meta.model_name
    response = editor_client.get(reverse(f"admin:deals_{name}_export") + "?" + query)
    assert response.status_code == 302
    assert response["Location"] == reverse(f"admin:deals_{name}_changelist")
    assert _messages(response) == [
        "The export's filters are not valid (for example a year that is not a number); nothing was exported. "
        "Choose the filters on the list again."
    ]
    # A valid filter still exports.
    assert editor_client.get(reverse("admin:deals_deal_export") + "?announced_date__year=2025").status_code == 200


# --- tampered ids in forms and actions -----------------------------------------------------------------------------


def _deal_add(**overrides):
    data = {"slug": "new-deal", "title": "New deal", "deal_type": "offtake", "status": "signed", "summary": ""}
    data.update(inline_data("party_links", [{"company": "x", "role": "buyer"}]))
    data.update(inline_data("evidence", []))
    data.update(overrides)
    return data


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "where"),
    [
        ({}, "party"),
        ({"party_links-0-company": "1.5"}, "party"),
        ({"party_links-0-company": "9" * 30}, "party"),
        ({"party_links-0-company": "", "party_links-0-role": "", "commodities": "abc"}, "commodities"),
        ({"party_links-0-company": "", "party_links-0-role": "", "facilities": ["1", "x"]}, "facilities"),
        ({"party_links-0-company": "", "party_links-0-role": "", "stages": "9" * 30}, "stages"),
    ],
)
def test_non_numeric_ids_in_autocomplete_fields_are_form_errors(editor_client, dataset, overrides, where):
    response = editor_client.post(reverse("admin:deals_deal_add"), _deal_add(**overrides))
    assert response.status_code == 200
    if where == "party":
        formset = [f for f in response.context["inline_admin_formsets"] if f.formset.prefix == "party_links"][0]
        assert "Select a valid choice" in formset.formset.errors[0]["company"][0]
    else:
        assert response.context["adminform"].form.errors[where]
    assert not models.Deal.objects.filter(slug="new-deal").exists()


@pytest.mark.django_db
def test_non_numeric_ids_in_evidence_autocomplete_are_form_errors(editor_client, dataset):
    data = {"source": "abc", "deal": "x", "quote": "Acme Magnets said", "fields": "", "note": ""}
    response = editor_client.post(reverse("admin:deals_evidence_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Select a valid choice" in errors["source"][0] and "Select a valid choice" in errors["deal"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("model", [models.Deal, models.Evidence, models.SupplyChainStage], ids=lambda m: m.__name__)
def test_non_numeric_selected_action_is_a_message(editor_client, dataset, model):
    url = reverse(f"admin:deals_{model._meta.model_name}_changelist")
    response = editor_client.post(url, {"action": "export_admin_action", "_selected_action": ["1", "abc", "9" * 30]})
    assert response.status_code == 302
    assert _messages(response) == [
        f"The selection contains values that are not record ids (abc, {'9' * 30}); nothing was done. "
        "Select the records again."
    ]
    pk = str(model.objects.order_by("pk").first().pk)
    response = editor_client.post(url, {"action": "export_admin_action", "_selected_action": [pk]})
    assert response.status_code == 200
