"""The companies' and deals' forms, and the deal's parties formset."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from deals import models
from deals.forms.fields import (
    NameListField,
)
from deals.models.deal_terms import DEAL_TERM_FIELDS
from deals.services.duplicates import deal_duplicates_find, record_admin_link


class CompanyAdminForm(forms.ModelForm):
    """Companies with their aliases edited as comma-separated names."""

    aliases = NameListField(
        required=False, help_text="Other names the sources use, comma-separated, e.g. VAC, Vacuumschmelze."
    )

    class Meta:
        model = models.Company
        fields = ["slug", "name", "kind", "country", "locality", "parent", "aliases", "description", "website"]


# The deal form's confirmation checkbox; the party formset reads it from the same POST.
CONFIRM_DIFFERENT_DEAL = "confirm_different_deal"


class DealAdminForm(forms.ModelForm):
    """Deals, with the confirmation a new deal needs when an existing deal has the same type and parties."""

    confirm_different_deal = forms.BooleanField(
        required=False,
        label="This is a different deal",
        help_text="Tick only if an existing deal with the same type and the same parties is not this deal.",
    )

    class Meta:
        model = models.Deal
        fields = [
            "slug",
            "title",
            "deal_type",
            "status",
            "summary",
            "announced_date",
            "announced_date_precision",
            "amount",
            "currency",
            "value_qualifier",
            "amount_usd",
            *DEAL_TERM_FIELDS,
            "stages",
            "commodities",
            "facilities",
            "countries",
        ]


class DealPartyInlineFormSet(forms.BaseInlineFormSet):
    """The parties of a deal; refuses a *new* deal whose type and parties match an existing deal's, linking it.

    The check lives on the parties' formset because only it sees the parties being added with the deal.
    """

    def clean(self):
        super().clean()
        deal = self.instance
        if not deal._state.adding or self.data.get(CONFIRM_DIFFERENT_DEAL) in ("on", "true", "1"):
            return
        company_ids = {
            form.cleaned_data["company"].pk
            for form in self.forms
            if form.cleaned_data.get("company") is not None and not form.cleaned_data.get("DELETE")
        }
        duplicates = deal_duplicates_find(deal_type=deal.deal_type, company_ids=company_ids)
        if duplicates:
            links = format_html_join(", ", "{}", ((record_admin_link(record=d),) for d in duplicates))
            message = format_html(
                "A deal of this type with the same parties already exists: {}. Add your evidence there, or tick "
                "“This is a different deal” if it is not the same deal.",
                links,
            )
            # Said on the checkbox the editor may tick, too; the error here is what keeps the page from saving.
            deal_form = getattr(deal, "_coverage_form", None)
            if deal_form is not None and CONFIRM_DIFFERENT_DEAL in deal_form.fields:
                deal_form.add_error(CONFIRM_DIFFERENT_DEAL, message)
            raise ValidationError(message, code="duplicate_deal")
