"""Deals and their parties (each with a role)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from deals.history import RelationalHistoricalRecords
from deals.models.base import (
    CURRENCY_VALIDATOR,
    DatePrecision,
    ValueQualifier,
    choices_constraint,
    date_precision_clean,
    date_precision_constraint,
    needs_figure_constraint,
)
from deals.models.company import Company
from deals.models.facility import Facility
from deals.models.publication import PublishableModel, publication_constraints
from deals.models.vocabulary import Commodity, SupplyChainStage


class Deal(PublishableModel):
    """A transaction or agreement between parties: a funding round, an offtake, an MOU, a grant…"""

    class Type(models.TextChoices):
        EQUITY_FUNDING = "equity_funding", "Equity funding round"
        DEBT_FINANCING = "debt_financing", "Debt financing or loan"
        GRANT = "grant", "Grant or award"
        OFFTAKE = "offtake", "Offtake or supply agreement"
        MOU = "mou", "Memorandum of understanding or letter of intent"
        PARTNERSHIP = "partnership", "Partnership or joint development"
        JOINT_VENTURE = "joint_venture", "Joint venture"
        ACQUISITION = "acquisition", "Acquisition or stake purchase"
        PLANT_INVESTMENT = "plant_investment", "Plant investment"
        GOVERNMENT_AGREEMENT = "government_agreement", "Government agreement or framework"
        GOVERNMENT_DIRECTIVE = "government_directive", "Government directive or programme"

    class Status(models.TextChoices):
        ANNOUNCED = "announced", "Announced (terms not yet signed)"
        NON_BINDING = "non_binding", "Non-binding (MOU, LOI, framework)"
        SIGNED = "signed", "Signed (binding)"
        CLOSED = "closed", "Closed or completed"
        TERMINATED = "terminated", "Terminated or lapsed"
        UNKNOWN = "unknown", "Not stated"

    title = models.CharField(
        max_length=300, help_text="Short descriptive title, e.g. 'Group14 Technologies raises $463M led by SK Inc.'."
    )
    deal_type = models.CharField(max_length=30, choices=Type.choices, help_text="Kind of deal.")
    status = models.CharField(
        max_length=20,
        choices=Status.choices,
        help_text=(
            "Commitment status: non-binding versus signed, closed or terminated; 'unknown' where the sources do "
            "not state it."
        ),
    )
    announced_date = models.DateField(
        null=True, blank=True, help_text="When the deal was announced, first day of the stated period."
    )
    announced_date_precision = models.CharField(
        max_length=5,
        choices=DatePrecision.choices,
        blank=True,
        help_text="Precision of announced_date: day, month or year ('late August 2025' is month).",
    )
    amount = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Stated value of the deal, in `currency`.",
    )
    currency = models.CharField(
        max_length=3, blank=True, validators=[CURRENCY_VALIDATOR], help_text="ISO 4217 currency of `amount`, e.g. USD."
    )
    amount_usd = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="The value in US dollars (equal to amount for USD deals).",
    )
    value_qualifier = models.CharField(
        max_length=12,
        choices=ValueQualifier.choices,
        blank=True,
        help_text="How to read the value: exact, approximate, up to, at least.",
    )
    summary = models.TextField(
        blank=True, help_text="One or two sentences on what was agreed, paraphrasing the evidence."
    )
    stages = models.ManyToManyField(
        SupplyChainStage, blank=True, related_name="deals", help_text="Supply-chain stages the deal concerns."
    )
    commodities = models.ManyToManyField(
        Commodity, blank=True, related_name="deals", help_text="Commodities the deal concerns."
    )
    countries = CountryField(
        multiple=True, blank=True, help_text="Countries the deal concerns (ISO 3166-1 alpha-2 codes)."
    )
    parties = models.ManyToManyField(
        Company, through="DealParty", related_name="deals", blank=True, help_text="Parties, each with a role."
    )
    facilities = models.ManyToManyField(
        Facility, blank=True, related_name="deals", help_text="Facilities the deal concerns."
    )

    # Each version also records the relations (links with roles, lists, evidence): see deals/history.py.
    history = RelationalHistoricalRecords()

    class Meta:
        # Publishing, withdrawing and merging change what the public sees; a right of its own (Editors hold it).
        permissions = [("publish_deal", "Can publish, withdraw and merge deals")]
        ordering = ["-announced_date", "slug"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | (Q(amount__gte=0) & ~Q(currency="")),
                name="deal_amount_nonnegative_with_currency",
                violation_error_message="A deal amount must be non-negative and have a currency.",
            ),
            models.CheckConstraint(
                condition=Q(amount_usd__isnull=True) | Q(amount_usd__gte=0),
                name="deal_amount_usd_nonnegative",
                violation_error_message="The USD amount must be non-negative.",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=False) | Q(value_qualifier=""),
                name="deal_qualifier_needs_amount",
                violation_error_message="A value qualifier needs an amount.",
            ),
            date_precision_constraint("deal", "announced_date", "announced_date_precision"),
            needs_figure_constraint("deal", "currency", "amount"),
            choices_constraint("deal", "announced_date_precision", DatePrecision, blank=True),
            choices_constraint("deal", "value_qualifier", ValueQualifier, blank=True),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [
        choices_constraint("deal", "deal_type", Type),
        choices_constraint("deal", "status", Status),
        *publication_constraints("deal"),
    ]

    def __str__(self):
        return self.title

    def clean(self):
        errors = date_precision_clean(self.announced_date, self.announced_date_precision, "announced_date")
        if (
            self.amount is not None
            and self.currency == "USD"
            and self.amount_usd is not None
            and self.amount_usd != self.amount
        ):
            errors["amount_usd"] = "For a USD deal the USD amount equals the amount."
        if self.deal_type == self.Type.MOU and self.status in (self.Status.SIGNED, self.Status.CLOSED):
            errors["status"] = "An MOU is non-binding; use a different deal type for a binding agreement."
        # The constraints below (amount with currency, figures without an amount) hold in the database too; here each
        # is said on the field the editor has to fill or empty, since a constraint's message has no field.
        if self.amount is not None and not self.currency:
            errors["currency"] = "An amount needs its currency: enter the ISO 4217 code, e.g. USD."
        elif self.amount is None and self.currency:
            errors["currency"] = "A currency goes with an amount: enter the amount, or leave the currency empty."
        if self.amount is None and self.value_qualifier:
            errors["value_qualifier"] = "A value qualifier needs an amount: enter the amount, or leave it empty."
        if errors:
            raise ValidationError(errors)


class DealParty(models.Model):
    """A company's or government's role in a deal (investor, buyer, grantor…)."""

    class Role(models.TextChoices):
        LEAD_INVESTOR = "lead_investor", "Lead investor"
        INVESTOR = "investor", "Investor"
        RECIPIENT = "recipient", "Recipient of funds"
        BUYER = "buyer", "Buyer or offtaker"
        SUPPLIER = "supplier", "Supplier or seller"
        PARTNER = "partner", "Partner"
        GRANTOR = "grantor", "Grantor"
        GRANTEE = "grantee", "Grantee"
        ACQUIRER = "acquirer", "Acquirer"
        TARGET = "target", "Target"
        DEVELOPER = "developer", "Developer"
        GOVERNMENT = "government", "Government party or signatory"

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="party_links", help_text="The deal.")
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="deal_links", help_text="The company or government."
    )
    role = models.CharField(max_length=20, choices=Role.choices, help_text="The party's role in the deal.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["deal__slug", "role", "company__slug"]
        verbose_name = "deal party"
        verbose_name_plural = "deal parties"
        constraints = [
            models.UniqueConstraint(fields=["deal", "company", "role"], name="deal_party_role_unique"),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [choices_constraint("deal_party", "role", Role)]

    def __str__(self):
        return f"{self.company} – {self.get_role_display()} – {self.deal}"
