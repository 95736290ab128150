"""History (who, when, what; revert), the Editors group, the create_editor command and staff-only access."""

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.urls import reverse

from deals import models
from deals.editing import EDITORS_GROUP, editor_create, editors_group_ensure
from tests.admin.test_evidence_forms import _deal_change, _deal_post
from tests.factories import CommodityFactory


def _new_quote(dataset, quote: str, fields: str) -> dict:
    """An evidence row for the deal's change page: a changed value of a stored deal needs a quote that states it."""
    return {"deal": dataset["deal"].pk, "source": dataset["source"].pk, "quote": quote, "fields": fields}


@pytest.mark.django_db
def test_a_save_writes_exactly_one_history_row_with_the_editors_name(editor_client, dataset):
    deal = dataset["deal"]
    before = deal.history.count()
    response = editor_client.post(
        _deal_change(deal),
        _deal_post(
            deal,
            parties=[],
            evidence=[_new_quote(dataset, "Acme Magnets said on Monday it signed", "title")],
            title="Acme and Beta sign offtake",
        ),
    )
    assert response.status_code == 302
    assert deal.history.count() == before + 1
    latest = deal.history.latest()
    assert latest.history_user.username == "edna"
    assert latest.history_type == "~"
    assert latest.title == "Acme and Beta sign offtake"
    # The history page lists the change with its author.
    page = editor_client.get(reverse("admin:deals_deal_history", args=[deal.pk])).content.decode()
    assert "edna" in page and "Acme and Beta sign offtake" in page


@pytest.mark.django_db
def test_many_to_many_changes_are_named_in_the_change_reason(editor_client, dataset):
    deal = dataset["deal"]
    other = CommodityFactory(slug="dysprosium", name="Dysprosium")
    data = _deal_post(deal, parties=[], evidence=[_new_quote(dataset, "will make 3,000 tonnes", "commodities")])
    data["commodities"] = [dataset["commodity"].pk, other.pk]
    assert editor_client.post(_deal_change(deal), data).status_code == 302
    latest = deal.history.latest()
    assert latest.history_change_reason == "commodities: dysprosium, ndfeb"
    assert latest.history_user.username == "edna"


@pytest.mark.django_db
def test_revert_from_history_restores_the_earlier_version(editor_client, dataset):
    deal = dataset["deal"]
    original = deal.history.latest()
    wrong = _new_quote(dataset, "Acme Magnets said on Monday", "title")
    editor_client.post(_deal_change(deal), _deal_post(deal, parties=[], evidence=[wrong], title="A wrong title"))
    deal.refresh_from_db()
    assert deal.title == "A wrong title"
    revert_url = reverse("admin:deals_deal_simple_history", args=[deal.pk, original.history_id])
    page = editor_client.get(revert_url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert form.initial["title"] == "Acme and Beta offtake"
    data = _deal_post(deal, parties=[], evidence=[], title=form.initial["title"])
    response = editor_client.post(revert_url, data)
    assert response.status_code == 302
    deal.refresh_from_db()
    assert deal.title == "Acme and Beta offtake"
    assert deal.history.latest().history_user.username == "edna"


@pytest.mark.django_db
def test_editor_cannot_open_user_or_group_management(editor_client):
    for name in ("auth_user_changelist", "auth_user_add", "auth_group_changelist", "auth_group_add"):
        assert editor_client.get(reverse(f"admin:{name}")).status_code == 403, name
    index = editor_client.get(reverse("admin:index")).content.decode()
    assert "/admin/auth/user/" not in index


@pytest.mark.django_db
def test_editor_cannot_delete_sources_but_can_delete_evidence(editor_client, dataset):
    source = dataset["source"]
    assert editor_client.get(reverse("admin:deals_source_delete", args=[source.pk])).status_code == 403
    assert editor_client.get(reverse("admin:deals_deal_delete", args=[dataset["deal"].pk])).status_code == 403
    evidence = models.Evidence.objects.get(deal=dataset["deal"])
    response = editor_client.post(reverse("admin:deals_evidence_delete", args=[evidence.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not models.Evidence.objects.filter(pk=evidence.pk).exists()
    # The deletion is in the history too, with its author.
    assert models.Evidence.history.filter(id=evidence.pk, history_type="-").get().history_user.username == "edna"


@pytest.mark.django_db
def test_supply_chain_stages_are_read_only_for_editors(editor_client):
    stage = models.SupplyChainStage.objects.first()
    assert stage is not None, "seeded by migration 0002"
    assert editor_client.get(reverse("admin:deals_supplychainstage_add")).status_code == 403
    response = editor_client.post(reverse("admin:deals_supplychainstage_change", args=[stage.pk]), {"name": "Renamed"})
    assert response.status_code == 403


@pytest.mark.django_db
def test_non_staff_user_is_sent_to_login(client):
    user = User.objects.create_user("reader", password="a-long-reader-pass-42")
    client.force_login(user)
    for url in (reverse("admin:index"), reverse("admin:deals_deal_changelist"), reverse("admin:deals_source_add")):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.django_db
def test_anonymous_post_is_refused_and_csrf_is_enforced(client, editor, dataset):
    from django.test import Client

    response = client.post(reverse("admin:deals_deal_add"), {"title": "x"})
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(editor)
    response = csrf_client.post(reverse("admin:deals_deal_add"), {"title": "x"})
    assert response.status_code == 403
    assert not models.Deal.objects.filter(title="x").exists()


@pytest.mark.django_db
def test_editors_group_has_exactly_the_documented_rights():
    group = editors_group_ensure()
    codenames = set(group.permissions.values_list("codename", flat=True))
    for model in ("source", "company", "facility", "deal", "commodity"):
        assert {f"add_{model}", f"change_{model}", f"view_{model}"} <= codenames
        assert f"delete_{model}" not in codenames
    for model in ("dealparty", "facilitycompany", "evidence"):
        assert {f"add_{model}", f"change_{model}", f"delete_{model}", f"view_{model}"} <= codenames
    assert codenames & {"add_supplychainstage", "change_supplychainstage", "delete_supplychainstage"} == set()
    assert not any(c.endswith(("_user", "_group", "_permission")) for c in codenames)
    # A right granted by hand is removed when the group is ensured again.
    from django.contrib.auth.models import Permission

    group.permissions.add(Permission.objects.get(codename="change_user"))
    editors_group_ensure()
    assert not group.permissions.filter(codename="change_user").exists()
    assert Group.objects.filter(name=EDITORS_GROUP).count() == 1


@pytest.mark.django_db
def test_create_editor_command_is_idempotent(monkeypatch):
    call_command("create_editor", "nora", "--email", "nora@example.org", "--password", "a-long-editor-pass-42")
    user = User.objects.get(username="nora")
    assert user.is_staff and not user.is_superuser
    assert user.check_password("a-long-editor-pass-42")
    assert list(user.groups.values_list("name", flat=True)) == [EDITORS_GROUP]
    # Again, without a password: the account stays as it was.
    call_command("create_editor", "nora", "--no-password")
    user.refresh_from_db()
    assert user.check_password("a-long-editor-pass-42")
    assert User.objects.filter(username="nora").count() == 1
    monkeypatch.setenv("REEXAPI_EDITOR_PASSWORD", "another-long-pass-43")
    call_command("create_editor", "nora")
    user.refresh_from_db()
    assert user.check_password("another-long-pass-43")
    with pytest.raises(CommandError, match="Password rejected"):
        call_command("create_editor", "nora", "--password", "123")


@pytest.mark.django_db
def test_editor_made_by_the_service_can_log_in_through_the_form(client):
    editor_create(username="lea", password="a-long-editor-pass-42")
    response = client.post(
        reverse("admin:login"), {"username": "lea", "password": "a-long-editor-pass-42", "next": "/admin/"}
    )
    assert response.status_code == 302
    assert client.get(reverse("admin:deals_deal_changelist")).status_code == 200


@pytest.mark.django_db
def test_fixture_loads_show_their_change_reason_in_the_admin_history(editor_client):
    from io import StringIO

    call_command("load_dataset", stdout=StringIO())
    deal = models.Deal.objects.order_by("slug").first()
    assert deal is not None, "the seed dataset has deals"
    record = deal.history.get()
    assert (record.history_change_reason, record.history_user) == ("load_dataset", None)
    page = editor_client.get(reverse("admin:deals_deal_history", args=[deal.pk])).content.decode()
    assert "load_dataset" in page
    # And every changelist still loads with the real dataset in it.
    for model in ("source", "company", "facility", "deal", "dealparty", "facilitycompany", "evidence", "commodity"):
        assert editor_client.get(reverse(f"admin:deals_{model}_changelist")).status_code == 200, model
    source = models.Source.objects.filter(evidence__isnull=False).first()
    page = editor_client.get(reverse("admin:deals_source_change", args=[source.pk])).content.decode()
    assert page.count("<mark ") >= 1
