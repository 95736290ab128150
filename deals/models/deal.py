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
from deals.models.deal_terms import (
    DEAL_TERM_FIELDS,
    Instrument,
    PriceUnit,
    TermUnit,
    deal_terms_clean,
    deal_terms_constraints,
)
from deals.models.facility import Facility
from deals.models.publication import PublishableModel, publication_constraints
from deals.models.vocabulary import Commodity, SupplyChainStage

# A deal's own descriptive columns, in the order the API, the CSV and the import/export show them (between its
# slug and title and its links to commodities, stages, parties and facilities).
DEAL_DESCRIPTIVE_FIELDS = (
    "deal_type",
    "status",
    "announced_date",
    "announced_date_precision",
    "amount",
    "currency",
    "amount_usd",
    "value_qualifier",
    *DEAL_TERM_FIELDS,
    "summary",
    "countries",
)


class Deal(PublishableModel):
    """A transaction or agreement between parties: a funding round, an offtake, an MOU, a grant…"""

    class Type(models.TextChoices):
        EQUITY_FUNDING = "equity_funding", "Equity funding round"
        DEBT_FINANCING = "debt_financing", "Debt financing (notes, bonds, credit facilities)"
        LOAN = "loan", "Loan (a lender lends to a borrower)"
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

    # The terms' choices live with their rules in deals/models/deal_terms.py; reachable as Deal.Instrument etc.
    Instrument = Instrument
    PriceUnit = PriceUnit
    TermUnit = TermUnit

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
    unit_price = models.DecimalField(
        max_digits=18,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=(
            "Stated price per unit of a product, in `unit_price_currency` per `unit_price_unit`, e.g. 110 for "
            "'$110 per kilogram'; a price floor's guaranteed price is a unit price. Empty when not stated."
        ),
    )
    unit_price_currency = models.CharField(
        max_length=3,
        blank=True,
        validators=[CURRENCY_VALIDATOR],
        help_text="ISO 4217 currency of `unit_price`, e.g. USD; empty unless a unit price is stated.",
    )
    unit_price_unit = models.CharField(
        max_length=8,
        choices=PriceUnit.choices,
        blank=True,
        help_text="What `unit_price` is per, e.g. per kilogram; empty unless a unit price is stated.",
    )
    term_length = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=(
            "Stated length of the deal's term or commitment, in `term_unit`, e.g. 10 for 'ten years'. Empty when "
            "not stated."
        ),
    )
    term_unit = models.CharField(
        max_length=6,
        choices=TermUnit.choices,
        blank=True,
        help_text="Unit of `term_length` as stated (months or years); empty unless a term is stated.",
    )
    output_share_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        verbose_name="share of output (percent)",
        help_text=(
            "Stated share of an output the deal covers, in percent (more than 0, at most 100), e.g. 100 for "
            "'100% of the magnets'; what it is a share of is `output_share_of`. Empty when not stated."
        ),
    )
    output_share_of = models.CharField(
        max_length=200,
        blank=True,
        verbose_name="share of output: of what",
        help_text=(
            "What `output_share_percent` is a share of, in the source's words, e.g. 'magnets produced at the "
            "plant'; empty unless a share is stated."
        ),
    )
    instrument = models.CharField(
        max_length=25,
        choices=Instrument.choices,
        blank=True,
        help_text=(
            "The instrument the deal uses as stated: equity, convertible preferred stock, loan, grant, price floor "
            "or offtake. Empty when not stated."
        ),
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
            *deal_terms_constraints(),
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
        errors |= deal_terms_clean(self)
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
        LENDER = "lender", "Lender"
        BORROWER = "borrower", "Borrower"
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
