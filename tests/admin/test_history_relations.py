"""The admin's history pages show each version's relations, and revert restores them, in one version."""

import pytest
from django.urls import reverse

from deals import models
from deals.resources import IMPORT_CHANGE_REASON
from tests.admin.conftest import SOURCE_TEXT
from tests.admin.test_evidence_forms import _deal_change, _deal_post
from tests.admin.test_import_export import CSV_FORMAT, _confirm, _evidence_csv, _preview
from tests.factories import CommodityFactory, CompanyFactory
from tests.test_history import LONG_AGO


def _latest(record):
    return record.history.order_by("-history_date", "-history_id").first()


def _history_page(client, record) -> str:
    response = client.get(reverse(f"admin:deals_{record._meta.model_name}_history", args=[record.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _edit_deal(editor_client, deal, dataset):
    """One admin save: title, a new party, the buyer removed, another commodity, a quote removed and one added.

    The deal is made a draft first (a status write that sends no signal and writes no version): a draft changes
    freely, while each changed value of a published deal would need a quote of the new value first.
    """
    models.Deal.objects.filter(pk=deal.pk).update(publication_status=models.PublicationStatus.DRAFT)
    deal.refresh_from_db()
    dysprosium = CommodityFactory(slug="dysprosium", name="Dysprosium")
    gamma = CompanyFactory(slug="gamma-capital", name="Gamma Capital")
    data = _deal_post(
        deal,
        parties=[{"deal": deal.pk, "company": gamma.pk, "role": "investor"}],
        evidence=[
            {
                "deal": deal.pk,
                "source": dataset["source"].pk,
                "quote": "Beta Metals will supply oxide.",
                "occurrence": "2",
                "fields": "parties",
            }
        ],
        title="Acme, Beta and Gamma offtake",
        commodities=[dysprosium.pk],
    )
    buyer = deal.party_links.get(role="buyer")
    index = [k for k, v in data.items() if k.startswith("party_links-") and k.endswith("-id") and v == buyer.pk][0]
    data[index.replace("-id", "-DELETE")] = "on"
    old = deal.evidence.get()
    index = [k for k, v in data.items() if k.startswith("evidence-") and k.endswith("-id") and v == old.pk][0]
    data[index.replace("-id", "-DELETE")] = "on"
    response = editor_client.post(_deal_change(deal), data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else response
    return old


@pytest.mark.django_db
def test_one_admin_save_writes_one_version_naming_the_editor_with_the_saved_relations(editor_client, dataset):
    deal = dataset["deal"]
    before = deal.history.count()
    old_evidence = _edit_deal(editor_client, deal, dataset)
    assert deal.history.count() == before + 1
    version = _latest(deal)
    assert version.history_user.username == "edna"
    assert version.title == "Acme, Beta and Gamma offtake"
    relations = version.history_relations
    assert [(p["slug"], p["role"]) for p in relations["parties"]] == [
        ("beta-metals", "supplier"),
        ("gamma-capital", "investor"),
    ]
    assert [c["slug"] for c in relations["commodities"]] == ["dysprosium"]
    [quote] = relations["evidence"]
    assert quote["quote"] == "Beta Metals will supply oxide." and quote["fields"] == ["parties"]
    assert quote["start"] == SOURCE_TEXT.rindex("Beta Metals will supply oxide.")
    assert old_evidence.pk not in {e["id"] for e in relations["evidence"]}


@pytest.mark.django_db
def test_the_history_page_shows_relations_added_and_removed_per_version(editor_client, dataset):
    deal = dataset["deal"]
    _edit_deal(editor_client, deal, dataset)
    page = _history_page(editor_client, deal)
    assert "<strong>parties:</strong>" in page
    assert "+ gamma-capital (investor)" in page
    assert "− acme-magnets (buyer)" in page
    assert "+ dysprosium" in page and "− ndfeb" in page
    assert "+ #" in page and "“Beta Metals will supply oxide.” (parties)" in page
    assert "“signed a $10 million offtake with Beta Metals” (amount)" in page  # the removed quote
    # The facility and company pages show their links and evidence too.
    link_page = _history_page(editor_client, dataset["facility"])
    assert "+ acme-magnets (owner)" in link_page
    assert "“Acme Magnets” (name)" in _history_page(editor_client, dataset["acme"])


@pytest.mark.django_db
def test_evidence_saved_on_its_own_page_is_one_version_of_its_deal_naming_the_editor(editor_client, dataset):
    deal = dataset["deal"]
    models.Deal.objects.filter(pk=deal.pk).update(updated=LONG_AGO)
    before = deal.history.count()
    response = editor_client.post(
        reverse("admin:deals_evidence_add"),
        {
            "source": dataset["source"].pk,
            "quote": "Beta Metals will supply oxide.",
            "occurrence": "1",
            "fields": "parties",
            "note": "",
            "deal": deal.pk,
        },
    )
    assert response.status_code == 302
    assert deal.history.count() == before + 1
    version = _latest(deal)
    assert version.history_user.username == "edna"
    assert len(version.history_relations["evidence"]) == 2
    deal.refresh_from_db()
    assert deal.updated > LONG_AGO and version.updated == deal.updated


@pytest.mark.django_db
def test_revert_restores_parties_with_roles_lists_and_evidence_in_one_version(editor_client, dataset):
    deal = dataset["deal"]
    original = _latest(deal)
    original_evidence = {e["id"]: (e["quote"], e["fields"]) for e in original.history_relations["evidence"]}
    _edit_deal(editor_client, deal, dataset)
    url = reverse("admin:deals_deal_simple_history", args=[deal.pk, original.history_id])
    page = editor_client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Relations at this version (restored on Revert)" in text
    assert "acme-magnets (buyer)" in text and "beta-metals (supplier)" in text
    form = page.context["adminform"].form
    assert form.initial["title"] == "Acme and Beta offtake"
    assert list(form.initial["commodities"]) == [dataset["commodity"].pk], "the version's list, not today's"

    before = deal.history.count()
    data = _deal_post(
        deal, parties=[], evidence=[], title=form.initial["title"], commodities=form.initial["commodities"]
    )
    response = editor_client.post(url, data)
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Acme and Beta offtake"
    assert sorted(deal.party_links.values_list("company__slug", "role")) == [
        ("acme-magnets", "buyer"),
        ("beta-metals", "supplier"),
    ]
    assert list(deal.commodities.values_list("slug", flat=True)) == ["ndfeb"]
    assert {e.pk: (e.quote, e.fields) for e in deal.evidence.all()} == original_evidence
    assert deal.history.count() == before + 1
    version = _latest(deal)
    assert version.history_user.username == "edna"
    assert version.history_change_reason.startswith("reverted to the version of ")
    assert version.history_relations == original.history_relations


@pytest.mark.django_db
def test_revert_of_a_facility_restores_its_company_links(editor_client, dataset):
    facility = dataset["facility"]
    original = _latest(facility)
    facility.company_links.update(role="operator")  # a shell edit, not versioned: the revert still restores
    data = {
        "slug": facility.slug,
        "name": facility.name,
        "kind": facility.kind,
        "status": facility.status,
        "country": "US",
        "description": "",
    }
    url = reverse("admin:deals_facility_simple_history", args=[facility.pk, original.history_id])
    assert editor_client.post(url, data).status_code == 302
    assert list(facility.company_links.values_list("company__slug", "role")) == [("acme-magnets", "owner")]


@pytest.mark.django_db
def test_revert_whose_evidence_no_longer_verifies_is_refused_and_changes_nothing(editor_client, dataset):
    deal = dataset["deal"]
    original = _latest(deal)
    _edit_deal(editor_client, deal, dataset)
    # The removed quote's passage is gone from the source (a repaired text); restoring it would be a false quote.
    source = dataset["source"]
    models.Source.objects.filter(pk=source.pk).update(text=source.text.replace("$10 million", "$12 million"))
    state = (deal.history.count(), sorted(deal.party_links.values_list("company__slug", "role")))
    url = reverse("admin:deals_deal_simple_history", args=[deal.pk, original.history_id])
    data = _deal_post(deal, parties=[], evidence=[], title="Acme and Beta offtake")
    response = editor_client.post(url, data, follow=True)
    assert response.status_code == 200
    assert "Nothing was reverted" in response.content.decode()
    deal.refresh_from_db()
    assert deal.title == "Acme, Beta and Gamma offtake"
    assert (deal.history.count(), sorted(deal.party_links.values_list("company__slug", "role"))) == state


@pytest.mark.django_db
def test_the_changelist_delete_action_on_evidence_is_one_version_per_deal(editor_client, dataset):
    deal = dataset["deal"]
    extra = models.Evidence.objects.create(
        source=dataset["source"],
        deal=deal,
        quote="Beta Metals will supply oxide.",
        start=SOURCE_TEXT.index("Beta Metals will supply oxide."),
        end=SOURCE_TEXT.index("Beta Metals will supply oxide.") + len("Beta Metals will supply oxide."),
        fields=["parties"],
    )
    before = deal.history.count()
    ids = [extra.pk, *deal.evidence.exclude(pk=extra.pk).values_list("pk", flat=True)]
    response = editor_client.post(
        reverse("admin:deals_evidence_changelist"),
        {"action": "delete_selected", "_selected_action": ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert not deal.evidence.exists()
    assert deal.history.count() == before + 1
    assert _latest(deal).history_relations["evidence"] == []


@pytest.mark.django_db
def test_an_import_batch_is_one_version_per_deal_after_the_whole_batch_and_its_preview_none(editor_client, dataset):
    deal = dataset["deal"]
    models.Deal.objects.filter(pk=deal.pk).update(updated=LONG_AGO)
    before = deal.history.count()
    rows = [
        {"source": "acme-offtake", "deal": "acme-beta-offtake", "quote": 'The "magnet plant" in Columbus'},
        {
            "source": "acme-offtake",
            "deal": "acme-beta-offtake",
            "quote": "Beta Metals will supply oxide.",
            "occurrence": "2",
        },
    ]
    preview = _preview(editor_client, models.Evidence, _evidence_csv(rows), CSV_FORMAT, "batch.csv")
    assert preview.status_code == 200 and "confirm_form" in preview.context
    assert deal.history.count() == before, "the preview is rolled back, its versions with it"
    assert _confirm(editor_client, models.Evidence, preview).status_code == 302
    assert deal.history.count() == before + 1
    version = _latest(deal)
    assert (version.history_user.username, version.history_change_reason) == ("edna", IMPORT_CHANGE_REASON)
    assert len(version.history_relations["evidence"]) == 3
    deal.refresh_from_db()
    assert deal.updated > LONG_AGO


@pytest.mark.django_db
def test_a_history_page_compares_its_oldest_version_with_the_one_on_the_next_page(editor_client, dataset, monkeypatch):
    from deals.admin.deals import DealAdmin

    deal = dataset["deal"]
    models.DealParty.objects.create(deal=deal, company=CompanyFactory(slug="gamma-capital"), role="investor")
    monkeypatch.setattr(DealAdmin, "history_list_per_page", 1)
    page = _history_page(editor_client, deal)
    assert "+ gamma-capital (investor)" in page
    assert "+ acme-magnets (buyer)" not in page, "the parties already there are not shown as added"


@pytest.mark.django_db
def test_a_party_changed_or_deleted_on_its_own_page_is_one_version_of_its_deal(editor_client, dataset):
    deal = dataset["deal"]
    link = deal.party_links.get(role="buyer")
    before = deal.history.count()
    url = reverse("admin:deals_dealparty_change", args=[link.pk])
    response = editor_client.post(url, {"deal": deal.pk, "company": link.company_id, "role": "partner"})
    assert response.status_code == 302
    assert deal.history.count() == before + 1
    version = _latest(deal)
    assert version.history_user.username == "edna"
    assert ("acme-magnets", "partner") in [(p["slug"], p["role"]) for p in version.history_relations["parties"]]
    response = editor_client.post(reverse("admin:deals_dealparty_delete", args=[link.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert deal.history.count() == before + 2
    assert [p["slug"] for p in _latest(deal).history_relations["parties"]] == ["beta-metals"]
