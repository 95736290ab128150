"""Publish, withdraw and merge in the admin, as an editor: buttons on the change page and changelist actions."""

from __future__ import annotations

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from deals.editing import editors_group_ensure
from deals.models import Company, Deal, PublicationStatus
from tests.factories import CompanyFactory, DealFactory, DealPartyFactory, EvidenceFactory, SourceFactory

pytestmark = pytest.mark.django_db
DRAFT = PublicationStatus.DRAFT


def _url(name: str, record) -> str:
    return reverse(f"admin:deals_{record._meta.model_name}_{name}", args=[record.pk])


def _draft_deal_with_gaps() -> Deal:
    """A draft deal whose title is quoted but whose type, status, date, amount… are not, with a draft party."""
    deal = DealFactory(publication_status=DRAFT, slug="draft-offtake", title="Draft offtake")
    EvidenceFactory(deal=deal, fields=["title"])
    DealPartyFactory(
        deal=deal, company=CompanyFactory(slug="draft-party", name="Draft Party", publication_status=DRAFT)
    )
    return deal


def test_editors_hold_the_publish_right_and_still_cannot_delete():
    codenames = set(editors_group_ensure().permissions.values_list("codename", flat=True))
    for model in ("deal", "company", "facility"):
        assert f"publish_{model}" in codenames and f"delete_{model}" not in codenames


def test_the_change_page_shows_the_buttons_and_the_lifecycle_read_only(editor_client):
    deal = _draft_deal_with_gaps()
    page = editor_client.get(_url("change", deal)).content.decode()
    for name in ("publish", "withdraw", "merge"):
        assert _url(name, deal) in page
    # The status is shown but is not a form field: only the lifecycle views change it.
    assert 'name="publication_status"' not in page and "Draft (not public)" in page


def test_publishing_is_refused_with_each_missing_piece_named_then_succeeds(editor_client):
    deal = _draft_deal_with_gaps()
    page = editor_client.get(_url("publish", deal)).content.decode()
    for label in ("Deal type", "Status", "Announced date", "Amount"):
        assert f"{label}: no current quote supports" in page, label
    assert "Title: no current quote" not in page  # the quoted field is covered
    assert "“draft-party”" in page and "publish it first" in page
    response = editor_client.post(_url("publish", deal), follow=True)
    assert "was not published" in response.content.decode()
    deal.refresh_from_db()
    assert deal.publication_status == DRAFT

    # Quote every filled field and publish the party: now it goes through.
    filled = ["title", "deal_type", "status", "announced_date", "announced_date_precision", "amount", "currency"]
    filled += ["amount_usd", "value_qualifier", "countries", "parties"]
    EvidenceFactory(deal=deal, fields=filled, start=1)  # the factory stores each field's current value, as the admin
    party = Company.objects.get(slug="draft-party")
    EvidenceFactory(deal=None, company=party, fields=["name", "kind", "country"])
    assert editor_client.post(_url("publish", party)).status_code == 302
    response = editor_client.post(_url("publish", deal), follow=True)
    assert "is published" in response.content.decode()
    deal.refresh_from_db()
    assert deal.publication_status == PublicationStatus.PUBLISHED and deal.published_at is not None
    assert editor_client.get(reverse("api:deal-detail", kwargs={"slug": deal.slug})).status_code == 200


def test_withdraw_asks_for_a_reason_and_the_api_then_answers_410(editor_client):
    deal = DealFactory()
    assert "reason" in editor_client.get(_url("withdraw", deal)).content.decode()
    response = editor_client.post(_url("withdraw", deal), {"reason": ""})
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    editor_client.post(_url("withdraw", deal), {"reason": "Entered twice."})
    deal.refresh_from_db()
    assert deal.publication_status == PublicationStatus.WITHDRAWN and deal.withdrawn_reason == "Entered twice."
    assert deal.history.first().history_change_reason == "withdrawn: Entered twice."
    assert editor_client.get(reverse("api:deal-detail", kwargs={"slug": deal.slug})).status_code == 410


def test_the_withdraw_action_shows_an_intermediate_form_then_withdraws_every_selected_record(editor_client):
    a, b, kept = DealFactory(), DealFactory(), DealFactory()
    changelist = reverse("admin:deals_deal_changelist")
    data = {"action": "withdraw_selected", ACTION_CHECKBOX_NAME: [a.pk, b.pk]}
    page = editor_client.post(changelist, data)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    editor_client.post(changelist, {**data, "reason": "Not a deal: a rumour."})
    statuses = dict(Deal.objects.values_list("slug", "publication_status"))
    assert statuses == {a.slug: "withdrawn", b.slug: "withdrawn", kept.slug: "published"}


def test_the_publish_action_publishes_what_checks_out_and_names_what_does_not(editor_client):
    ready = CompanyFactory(publication_status=DRAFT, name="Ready Co", country="")
    EvidenceFactory(deal=None, company=ready, fields=["name", "kind"])
    not_ready = CompanyFactory(publication_status=DRAFT, name="Unquoted Co")
    response = editor_client.post(
        reverse("admin:deals_company_changelist"),
        {"action": "publish_selected", ACTION_CHECKBOX_NAME: [ready.pk, not_ready.pk]},
        follow=True,
    )
    page = response.content.decode()
    assert (
        "1 record(s) published" in page
        and "“Unquoted Co” was not published" in page
        and "Name: no current quote supports" in page
    )
    ready.refresh_from_db()
    not_ready.refresh_from_db()
    assert ready.is_public and not not_ready.is_public


def test_merge_from_the_change_page_moves_evidence_and_links(editor_client):
    survivor, duplicate = DealFactory(slug="the-deal"), DealFactory(slug="the-deal-again")
    source = SourceFactory()
    EvidenceFactory(deal=duplicate, source=source)
    party = DealPartyFactory(deal=duplicate).company
    page = editor_client.get(_url("merge", duplicate)).content.decode()
    assert "the-deal" in page
    response = editor_client.post(_url("merge", duplicate), {"survivor": survivor.pk})
    assert response.status_code == 302 and response["Location"] == _url("change", survivor)
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor
    assert survivor.evidence.filter(source=source).exists() and survivor.parties.filter(pk=party.pk).exists()


def test_the_merge_action_needs_exactly_one_record(editor_client):
    a, b = DealFactory(), DealFactory()
    changelist = reverse("admin:deals_deal_changelist")
    response = editor_client.post(changelist, {"action": "merge_selected", ACTION_CHECKBOX_NAME: [a.pk, b.pk]})
    assert response.status_code == 302
    one = editor_client.post(changelist, {"action": "merge_selected", ACTION_CHECKBOX_NAME: [a.pk]})
    assert one["Location"] == _url("merge", a)


def test_staff_without_the_publish_right_get_no_actions_and_a_403(client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="a-long-viewer-pass-42", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_deal", "change_deal"]))
    client.force_login(user)
    deal = DealFactory()
    assert client.post(_url("withdraw", deal), {"reason": "No."}).status_code == 403
    page = client.get(reverse("admin:deals_deal_changelist")).content.decode()
    assert "withdraw_selected" not in page
    deal.refresh_from_db()
    assert deal.is_public


def _new_deal_post(**extra) -> dict:

    data = {"slug": "acme-beta-offtake-2", "title": "Acme and Beta offtake (again)", "deal_type": "offtake"}
    data.update(status="signed", summary="", countries=[])
    data.update(extra)
    return data


def test_a_new_deal_with_the_type_and_parties_of_an_existing_one_is_refused_unless_confirmed(editor_client, dataset):
    from tests.admin.conftest import inline_data

    existing = Deal.objects.get(slug="acme-beta-offtake")
    parties = [{"company": str(link.company_id), "role": link.role} for link in existing.party_links.all()]
    post = {**_new_deal_post(), **inline_data("party_links", parties), **inline_data("evidence", [])}
    add = reverse("admin:deals_deal_add")
    response = editor_client.post(add, post)
    assert response.status_code == 200
    page = response.content.decode()
    assert "A deal of this type with the same parties already exists" in page
    assert f'<a href="{_url("change", existing)}">“acme-beta-offtake”</a>' in page
    # Said on the checkbox that resolves it as well, not only above the parties.
    confirm_errors = response.context["adminform"].form.errors["confirm_different_deal"]
    assert "tick “This is a different deal”" in confirm_errors[0]
    assert not Deal.objects.filter(slug="acme-beta-offtake-2").exists()
    # Another type, or one party fewer, is a different deal.
    response = editor_client.post(add, {**post, "deal_type": "partnership", "slug": "acme-beta-partnership"})
    assert response.status_code == 302
    # The editor confirms it is a different deal: it is saved, as a draft.
    assert editor_client.post(add, {**post, "confirm_different_deal": "on"}).status_code == 302
    new = Deal.objects.get(slug="acme-beta-offtake-2")
    assert new.publication_status == DRAFT and new.parties.count() == 2


def test_a_new_record_may_not_take_a_slug_that_redirects_to_a_renamed_record(editor_client):
    company = CompanyFactory(slug="old-co", name="Old Co")
    company.slug = "new-co"
    company.save()
    data = {"slug": "old-co", "name": "Another Co", "kind": "company", "country": "", "locality": ""}
    data.update(aliases="", description="", website="")
    from tests.admin.conftest import inline_data

    data.update(inline_data("facility_links", []), **inline_data("evidence", []))
    response = editor_client.post(reverse("admin:deals_company_add"), data)
    assert response.status_code == 200
    assert "is the old slug of" in response.content.decode()
    assert not Company.objects.filter(slug="old-co").exists()
    assert editor_client.post(reverse("admin:deals_company_add"), {**data, "slug": "another-co"}).status_code == 302


def test_an_import_creates_drafts_and_leaves_the_status_of_existing_records_alone():
    from tablib import Dataset

    from deals.resources import CompanyResource

    existing = CompanyFactory(
        slug="kept-public", name="Kept", kind="company", country="US", locality="", aliases=[], description=""
    )
    rows = Dataset(headers=["slug", "name", "kind", "country", "locality", "aliases", "parent", "description"])
    rows.append(["imported-co", "Imported Co", "company", "US", "", "", "", ""])
    # The published record's row restates its values: a changed value would need a quote of the new value first.
    rows.append(["kept-public", "Kept", "company", "US", "", "", "", ""])
    result = CompanyResource().import_data(rows, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert Company.objects.get(slug="imported-co").publication_status == DRAFT
    existing.refresh_from_db()
    assert existing.name == "Kept" and existing.is_public
