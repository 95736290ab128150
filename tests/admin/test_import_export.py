"""Export selected records as CSV and JSON; import a batch with a preview; a bad row rejects the whole batch."""

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from tablib import Dataset

from deals import models
from deals.resources import IMPORT_CHANGE_REASON, EvidenceResource
from tests.admin.conftest import SOURCE_TEXT
from tests.factories import DealFactory, EvidenceFactory

CSV_FORMAT, JSON_FORMAT = "0", "1"


def _export(client, model, pks, file_format):
    changelist = reverse(f"admin:deals_{model._meta.model_name}_changelist")
    # Step 1, as in the browser: the "Export selected" action renders the export form for the selection.
    page = client.post(changelist, {"action": "export_admin_action", "_selected_action": [str(pk) for pk in pks]})
    assert page.status_code == 200
    form = page.context["form"]
    data = {"format": file_format, "resource": "0", "export_items": [str(pk) for pk in pks]}
    data.update({name: "on" for name, field in form.fields.items() if getattr(field, "is_selectable_field", False)})
    # Step 2: the export form posts to the export view, which answers with the file.
    response = client.post(reverse(f"admin:deals_{model._meta.model_name}_export"), data)
    assert response.status_code == 200
    return response


@pytest.mark.django_db
def test_export_selected_evidence_as_csv(editor_client, dataset):
    chosen = list(models.Evidence.objects.filter(deal__isnull=True).order_by("pk"))
    response = _export(editor_client, models.Evidence, [e.pk for e in chosen], CSV_FORMAT)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [int(r["id"]) for r in rows] == [e.pk for e in chosen]
    assert {r["source"] for r in rows} == {"acme-offtake"}
    assert {r["company"] for r in rows} == {"acme-magnets", ""}
    assert rows[0]["occurrence"] == "1"
    assert json.loads(rows[0]["fields"]) == chosen[0].fields


@pytest.mark.django_db
def test_export_selected_deals_as_json(editor_client, dataset):
    response = _export(editor_client, models.Deal, [dataset["deal"].pk], JSON_FORMAT)
    assert response["Content-Type"].startswith("application/json")
    (row,) = json.loads(response.content)
    assert row["slug"] == "acme-beta-offtake"
    assert row["commodities"] == "ndfeb"
    assert row["countries"] == "US"


def _evidence_csv(rows):
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["id", "source", "deal", "company", "facility", "quote", "occurrence"])
    writer.writeheader()
    for row in rows:
        writer.writerow({"id": "", "deal": "", "company": "", "facility": "", "occurrence": "", **row})
    return out.getvalue().encode("utf-8")


GOOD_ROWS = [
    {"source": "acme-offtake", "deal": "acme-beta-offtake", "quote": 'The "magnet plant" in Columbus'},
    {"source": "acme-offtake", "company": "beta-metals", "quote": "Beta Metals will supply oxide.", "occurrence": "2"},
]


def _preview(client, model, content, file_format, name):
    url = reverse(f"admin:deals_{model._meta.model_name}_import")
    upload = SimpleUploadedFile(name, content)
    return client.post(url, {"import_file": upload, "format": file_format, "resource": "0"})


def _confirm(client, model, preview):
    confirm = preview.context["confirm_form"]
    url = reverse(f"admin:deals_{model._meta.model_name}_process_import")
    return client.post(url, {**confirm.initial, "resource": "0"})


@pytest.mark.django_db
def test_evidence_import_previews_then_writes_on_confirm(editor_client, dataset):
    before = models.Evidence.objects.count()
    preview = _preview(editor_client, models.Evidence, _evidence_csv(GOOD_ROWS), CSV_FORMAT, "batch.csv")
    assert preview.status_code == 200
    result = preview.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert result.totals["new"] == 2
    assert models.Evidence.objects.count() == before  # the preview wrote nothing
    response = _confirm(editor_client, models.Evidence, preview)
    assert response.status_code == 302
    assert models.Evidence.objects.count() == before + 2
    plant = models.Evidence.objects.get(quote__contains="magnet plant")
    assert plant.quote == "The \u201cmagnet plant\u201d in Columbus"
    assert SOURCE_TEXT[plant.start : plant.end] == plant.quote
    oxide = models.Evidence.objects.get(company__slug="beta-metals")
    assert oxide.start == SOURCE_TEXT.rindex("Beta Metals will supply oxide.")
    record = plant.history.get()
    assert (record.history_user.username, record.history_change_reason) == ("edna", IMPORT_CHANGE_REASON)


@pytest.mark.django_db
def test_evidence_batch_with_one_bad_row_is_rejected_naming_the_row(editor_client, dataset):
    before = models.Evidence.objects.count()
    rows = [*GOOD_ROWS, {"source": "acme-offtake", "deal": "acme-beta-offtake", "quote": "a $20 million offtake"}]
    preview = _preview(editor_client, models.Evidence, _evidence_csv(rows), CSV_FORMAT, "bad.csv")
    assert preview.status_code == 200
    result = preview.context["result"]
    assert [row.number for row in result.invalid_rows] == [3]
    assert result.invalid_rows[0].error.message_dict == {
        "quote": [
            "Row 3: Not found in source “Acme signs offtake”: The quote does not occur in the source text: "
            "'a $20 million offtake'."
        ]
    }
    assert "confirm_form" not in preview.context
    page = preview.content.decode()
    assert "Row 3: Not found in source" in page
    assert models.Evidence.objects.count() == before


@pytest.mark.django_db
def test_ambiguous_quote_and_unknown_slug_are_rejected(editor_client, dataset):
    rows = [
        {"source": "acme-offtake", "deal": "acme-beta-offtake", "quote": "Beta Metals will supply oxide."},
        {"source": "no-such-source", "deal": "acme-beta-offtake", "quote": "Acme"},
    ]
    preview = _preview(editor_client, models.Evidence, _evidence_csv(rows), CSV_FORMAT, "bad.csv")
    result = preview.context["result"]
    messages = {row.number: " ".join(row.error.messages) for row in result.invalid_rows}
    assert "occurs 2 times" in messages[1]
    assert "No source with slug “no-such-source”" in messages[2]


@pytest.mark.django_db
def test_confirmed_batch_that_turned_bad_writes_nothing(editor_client, dataset):
    before = models.Evidence.objects.count()
    preview = _preview(editor_client, models.Evidence, _evidence_csv(GOOD_ROWS), CSV_FORMAT, "batch.csv")
    # Between preview and confirm another editor stores the second row's quote for the same company.
    text = SOURCE_TEXT
    start = text.rindex("Beta Metals will supply oxide.")
    EvidenceFactory(
        source=dataset["source"],
        deal=None,
        company=dataset["beta"],
        start=start,
        end=start + len("Beta Metals will supply oxide."),
        quote="Beta Metals will supply oxide.",
    )
    response = _confirm(editor_client, models.Evidence, preview)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:deals_evidence_import")
    assert models.Evidence.objects.count() == before + 1  # only the other editor's row; row 1 was rolled back
    assert not models.Evidence.objects.filter(quote__contains="magnet plant").exists()
    messages = [str(m) for m in editor_client.get(response["Location"]).context["messages"]]
    assert any("Nothing was imported" in m and "row 2" in m for m in messages)


@pytest.mark.django_db
def test_resource_import_is_all_or_nothing(dataset):
    dataset_rows = Dataset(headers=["id", "source", "deal", "company", "facility", "quote", "occurrence"])
    dataset_rows.append(["", "acme-offtake", "acme-beta-offtake", "", "", "Acme Magnets said", ""])
    dataset_rows.append(["", "acme-offtake", "acme-beta-offtake", "", "", "nowhere in the text", ""])
    before = models.Evidence.objects.count()
    result = EvidenceResource().import_data(dataset_rows, dry_run=False)
    assert result.has_validation_errors()
    assert models.Evidence.objects.count() == before


@pytest.mark.django_db
def test_deal_json_import_round_trips_an_export(editor_client, dataset):
    exported = json.loads(_export(editor_client, models.Deal, [dataset["deal"].pk], JSON_FORMAT).content)
    exported[0].update({"slug": "acme-beta-offtake-2", "title": "A second offtake", "countries": "US,AU"})
    preview = _preview(editor_client, models.Deal, json.dumps(exported).encode(), JSON_FORMAT, "deals.json")
    assert preview.context["result"].totals["new"] == 1
    assert _confirm(editor_client, models.Deal, preview).status_code == 302
    deal = models.Deal.objects.get(slug="acme-beta-offtake-2")
    assert sorted(c.code for c in deal.countries) == ["AU", "US"]
    assert list(deal.commodities.values_list("slug", flat=True)) == ["ndfeb"]
    # A deal that breaks a model rule is rejected with the row named, and nothing is written.
    exported[0].update({"slug": "bad-mou", "deal_type": "mou", "status": "signed"})
    preview = _preview(editor_client, models.Deal, json.dumps(exported).encode(), JSON_FORMAT, "deals.json")
    (invalid,) = preview.context["result"].invalid_rows
    assert invalid.number == 1 and "non-binding" in " ".join(invalid.error.messages)
    assert not models.Deal.objects.filter(slug="bad-mou").exists()


@pytest.mark.django_db
def test_file_level_errors_show_a_message_not_a_traceback(editor_client, dataset):
    content = b"source,deal,quote\nacme-offtake,no-such-deal,Acme Magnets said\n"
    preview = _preview(editor_client, models.DealParty, content, CSV_FORMAT, "parties.csv")
    page = preview.content.decode()
    assert preview.status_code == 200
    assert "Traceback" not in page
    assert "are not present in the file headers" in page
    assert "Nothing from this file was imported." in page


@pytest.mark.django_db
def test_evidence_batch_without_an_id_column_creates_rows(dataset):
    rows = Dataset(headers=["source", "company", "quote"])
    rows.append(["acme-offtake", "beta-metals", "Beta Metals will supply oxide. Beta Metals"])
    result = EvidenceResource().import_data(rows, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert models.Evidence.objects.filter(company__slug="beta-metals").count() == 1


def _row_errors(result) -> dict[int, dict]:
    return {row.number: row.error.message_dict for row in result.invalid_rows}


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["2.7", "1e999", "inf", "-inf", "nan", "0", "-1", "two", "1,5", "9" * 12])
def test_occurrence_that_is_not_a_whole_number_from_one_is_a_row_error(dataset, value):
    rows = Dataset(headers=["source", "company", "quote", "occurrence"])
    rows.append(["acme-offtake", "beta-metals", "Beta Metals", "1"])
    rows.append(["acme-offtake", "beta-metals", "Beta Metals will supply oxide.", value])
    before = models.Evidence.objects.count()
    result = EvidenceResource().import_data(rows, dry_run=False)
    assert not result.has_errors()
    assert _row_errors(result) == {
        2: {"occurrence": [f"Row 2: occurrence must be a whole number ≥ 1, not {value[:20]!r}."]}
    }
    assert models.Evidence.objects.count() == before


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "start"), [("2", "last"), ("2.0", "last"), (2, "last"), (2.0, "last"), ("", None)])
def test_whole_number_occurrences_are_accepted(dataset, value, start):
    rows = Dataset(headers=["source", "company", "quote", "occurrence"])
    quote = "Beta Metals will supply oxide." if start else "The \u201cmagnet plant\u201d"
    rows.append(["acme-offtake", "beta-metals", quote, value])
    result = EvidenceResource().import_data(rows, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), _row_errors(result)
    evidence = models.Evidence.objects.get(company__slug="beta-metals")
    assert evidence.start == (SOURCE_TEXT.rindex(quote) if start else SOURCE_TEXT.index(quote))


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Row 1: id must be the whole-number id of existing evidence, not 'abc'."),
        ("2.5", "Row 1: id must be the whole-number id of existing evidence, not '2.5'."),
        ("9" * 30, f"Row 1: id must be the whole-number id of existing evidence, not {('9' * 20)!r}."),
        ("999999", "Row 1: no evidence with id 999999; leave the id empty to add new evidence."),
    ],
)
def test_evidence_id_that_names_no_evidence_is_a_row_error(dataset, value, message):
    rows = Dataset(headers=["id", "source", "company", "quote"])
    rows.append([value, "acme-offtake", "beta-metals", "Beta Metals will supply oxide. Beta Metals"])
    before = set(models.Evidence.objects.values_list("pk", flat=True))
    result = EvidenceResource().import_data(rows, dry_run=False)
    assert not result.has_errors()
    assert _row_errors(result) == {1: {"id": [message]}}
    assert set(models.Evidence.objects.values_list("pk", flat=True)) == before


@pytest.mark.django_db
def test_evidence_row_with_an_existing_id_updates_it(dataset):
    evidence = models.Evidence.objects.get(company__slug="acme-magnets")
    rows = Dataset(headers=["id", "source", "company", "quote", "fields"])
    rows.append([str(evidence.pk), "acme-offtake", "acme-magnets", "Acme Magnets said", '["name"]'])
    result = EvidenceResource().import_data(rows, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), _row_errors(result)
    evidence.refresh_from_db()
    assert (evidence.quote, evidence.fields) == ("Acme Magnets said", ["name"])


@pytest.mark.django_db
def test_bad_occurrence_in_the_admin_preview_names_the_row(editor_client, dataset):
    rows = [{**GOOD_ROWS[1], "occurrence": "2.7"}]
    preview = _preview(editor_client, models.Evidence, _evidence_csv(rows), CSV_FORMAT, "batch.csv")
    assert "Row 1: occurrence must be a whole number ≥ 1, not &#x27;2.7&#x27;." in preview.content.decode()
    assert "confirm_form" not in preview.context


@pytest.mark.django_db
def test_an_imported_change_of_a_published_deal_needs_a_quote_of_the_new_value(dataset):
    from deals.resources import DealResource

    deal = dataset["deal"]
    export = DealResource().export(queryset=models.Deal.objects.filter(pk=deal.pk))
    row = dict(export.dict[0], amount="12000000", amount_usd="12000000")
    rows = Dataset(headers=export.headers)
    rows.append([row[h] for h in export.headers])
    result = DealResource().import_data(rows, dry_run=False)
    (invalid,) = result.invalid_rows
    assert invalid.error.message_dict["amount"][0].startswith(
        "Amount: no current quote supports the value '12000000' (the quotes that name it state another value)."
    )
    deal.refresh_from_db()
    assert deal.amount == 10_000_000

    # Import the quote of the new value first (a claim until the deal changes), then the deal.
    quotes = Dataset(headers=["id", "source", "deal", "company", "facility", "quote", "occurrence", "fields", "values"])
    quotes.append(
        [
            "",
            "acme-offtake",
            deal.slug,
            "",
            "",
            "Acme Magnets said on Monday",
            "",
            '["amount", "amount_usd"]',
            '{"amount": "12000000", "amount_usd": "12000000"}',
        ]
    )
    assert not EvidenceResource().import_data(quotes, dry_run=False).has_validation_errors()
    result = DealResource().import_data(rows, dry_run=False)
    assert not result.has_validation_errors() and not result.has_errors()
    deal.refresh_from_db()
    assert deal.amount == 12_000_000


@pytest.mark.django_db
def test_imported_evidence_states_the_current_value_of_each_listed_field(dataset):
    quotes = Dataset(headers=["id", "source", "deal", "company", "facility", "quote", "occurrence", "fields"])
    quotes.append(["", "acme-offtake", dataset["deal"].slug, "", "", "Acme Magnets said", "", '["parties", "title"]'])
    assert not EvidenceResource().import_data(quotes, dry_run=False).has_validation_errors()
    evidence = models.Evidence.objects.get(quote="Acme Magnets said")
    assert evidence.values == {
        "parties": [["acme-magnets", "buyer"], ["beta-metals", "supplier"]],
        "title": "Acme and Beta offtake",
    }


@pytest.mark.django_db
def test_deal_terms_are_exported_and_a_half_stated_import_is_a_row_error(dataset):
    from deals.resources import DealResource

    draft = DealFactory(slug="floor-draft", terms=True, publication_status="draft")
    export = DealResource().export(queryset=models.Deal.objects.filter(pk=draft.pk))
    row = export.dict[0]
    assert (row["unit_price"], row["unit_price_currency"], row["unit_price_unit"]) == ("110.0000", "USD", "kg")
    assert (row["term_length"], row["term_unit"], row["instrument"]) == ("10", "years", "price_floor")
    assert (row["output_share_percent"], row["output_share_of"]) == ("100.00", "magnets produced at the plant")

    # A price without its currency: the row is refused with the field's message; nothing is written.
    bad = dict(row, unit_price_currency="")
    rows = Dataset(headers=export.headers)
    rows.append([bad[h] for h in export.headers])
    result = DealResource().import_data(rows, dry_run=False)
    (invalid,) = result.invalid_rows
    assert invalid.error.message_dict["unit_price_currency"] == ["Enter the currency of the unit price, e.g. USD."]
    draft.refresh_from_db()
    assert draft.unit_price_currency == "USD"
