"""Facilities (mines, plants, refineries) and the companies linked to them with a role."""

from __future__ import annotations

import decimal

import pycountry
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Concat, Upper
from django.utils.text import capfirst
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
from deals.models.publication import PublishableModel, publication_constraints
from deals.models.vocabulary import Commodity

# A facility's own descriptive columns, in the order the API, the CSV and the import/export show them (between its
# slug and name and its links to companies, commodities and deals).
FACILITY_DESCRIPTIVE_FIELDS = (
    "kind",
    "status",
    "country",
    "region",
    "region_code",
    "locality",
    "latitude",
    "longitude",
    "location_precision",
    "capacity_amount",
    "capacity_unit",
    "capacity_period",
    "capacity_qualifier",
    "planned_start",
    "planned_start_precision",
    "jobs",
    "jobs_qualifier",
    "investment_amount",
    "investment_currency",
    "investment_amount_usd",
    "investment_qualifier",
    "description",
)


def region_code_problem(*, region_code: str, country: str, region: str) -> str | None:
    """What is wrong with ``region_code`` for a facility in ``country`` with the stated ``region`` (None if nothing).

    The code must be an ISO 3166-2 subdivision code (pycountry's list) of the facility's own country, and it
    encodes a stated region, so the region's name must be stated too.
    """
    if not region_code:
        return None
    if not country:
        return "A region code needs the facility's country."
    if not region_code.startswith(f"{country}-"):
        return f"'{region_code}' is not a region of {country}: its ISO 3166-2 codes start with '{country}-'."
    if pycountry.subdivisions.get(code=region_code) is None:
        return f"'{region_code}' is not an ISO 3166-2 subdivision code (e.g. US-GA for Georgia, CA-QC for Quebec)."
    if not region:
        return "A region code encodes a stated region: fill in the region as the source states it."
    return None


class Facility(PublishableModel):
    """A physical site: a mine or deposit, a separation plant, a magnet plant, a battery-materials plant…"""

    class Kind(models.TextChoices):
        MINE = "mine", "Mine or deposit"
        SEPARATION = "separation", "Separation or refinery"
        METAL_ALLOY = "metal_alloy", "Metal and alloy plant"
        MAGNET = "magnet", "Magnet plant"
        BATTERY_MATERIALS = "battery_materials", "Battery-materials plant"
        RECYCLING = "recycling", "Recycling plant"
        OTHER = "other", "Other facility"

    class Status(models.TextChoices):
        ANNOUNCED = "announced", "Announced"
        PLANNED = "planned", "Planned (permitting, design)"
        UNDER_CONSTRUCTION = "under_construction", "Under construction"
        COMMISSIONING = "commissioning", "Commissioning (starting up)"
        OPERATING = "operating", "Operating"
        IDLE = "idle", "Idle or mothballed"
        CANCELLED = "cancelled", "Cancelled"
        CLOSED = "closed", "Closed"
        EXPLORATION = "exploration", "Exploration or development (deposits)"
        UNKNOWN = "unknown", "Not stated"

    class LocationPrecision(models.TextChoices):
        EXACT = "exact", "Exact site"
        LOCALITY = "locality", "City or town"
        REGION = "region", "State, province or region"
        COUNTRY = "country", "Country only"

    class CapacityPeriod(models.TextChoices):
        YEAR = "year", "Per year"
        MONTH = "month", "Per month"
        DAY = "day", "Per day"

    name = models.CharField(max_length=200, help_text="Name of the facility as the sources give it.")
    kind = models.CharField(max_length=20, choices=Kind.choices, help_text="What the facility does.")
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.UNKNOWN, help_text="Development status, as last reported."
    )
    country = CountryField(blank=True, help_text="Country (ISO 3166-1 alpha-2).")
    region = models.CharField(
        max_length=120, blank=True, help_text="State, province or region, e.g. 'Georgia' or 'Quebec'."
    )
    region_code = models.CharField(
        max_length=6,
        blank=True,
        help_text="ISO 3166-2 code of the stated region, e.g. 'US-GA' for Georgia; empty unless a region is stated. "
        "It must belong to the facility's country.",
    )
    locality = models.CharField(max_length=120, blank=True, help_text="City or town, e.g. 'Columbus'.")
    latitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="WGS84 latitude; only where a source states coordinates.",
    )
    longitude = models.DecimalField(
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        help_text="WGS84 longitude; only where a source states coordinates.",
    )
    location_precision = models.CharField(
        max_length=10,
        choices=LocationPrecision.choices,
        blank=True,
        help_text="How precisely the location is known: exact site, locality, region or country.",
    )
    capacity_amount = models.DecimalField(
        max_digits=16,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Stated production capacity, e.g. 3000.",
    )
    capacity_unit = models.CharField(max_length=40, blank=True, help_text="Unit of the capacity, e.g. 'tonnes'.")
    capacity_period = models.CharField(
        max_length=10, choices=CapacityPeriod.choices, blank=True, help_text="Period of the capacity, e.g. per year."
    )
    capacity_qualifier = models.CharField(
        max_length=12,
        choices=ValueQualifier.choices,
        blank=True,
        help_text="How to read the capacity figure (exact, approximate, up to, at least).",
    )
    planned_start = models.DateField(
        null=True, blank=True, help_text="Planned start of production, first day of the stated period."
    )
    planned_start_precision = models.CharField(
        max_length=5,
        choices=DatePrecision.choices,
        blank=True,
        help_text="Precision of planned_start: day, month or year.",
    )
    jobs = models.PositiveIntegerField(null=True, blank=True, help_text="Number of jobs stated for the facility.")
    jobs_qualifier = models.CharField(
        max_length=12,
        choices=ValueQualifier.choices,
        blank=True,
        help_text="How to read the jobs figure, e.g. 'at least' for 500+.",
    )
    investment_amount = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="Stated investment in the facility, in investment_currency.",
    )
    investment_currency = models.CharField(
        max_length=3, blank=True, validators=[CURRENCY_VALIDATOR], help_text="ISO 4217 currency of the investment."
    )
    investment_amount_usd = models.DecimalField(
        max_digits=18,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text="The investment in US dollars.",
    )
    investment_qualifier = models.CharField(
        max_length=12, choices=ValueQualifier.choices, blank=True, help_text="How to read the investment figure."
    )
    description = models.TextField(blank=True, help_text="What the sources say about the facility.")
    commodities = models.ManyToManyField(
        Commodity, blank=True, related_name="facilities", help_text="What the facility mines, processes or makes."
    )
    companies = models.ManyToManyField(
        Company,
        through="FacilityCompany",
        related_name="facilities",
        blank=True,
        help_text="Companies involved, each with a role.",
    )

    # Each version also records the relations (links with roles, lists, evidence): see deals/history.py.
    history = RelationalHistoricalRecords()

    class Meta:
        # Publishing, withdrawing and merging change what the public sees; a right of its own (Editors hold it).
        permissions = [("publish_facility", "Can publish, withdraw and merge facilities")]
        ordering = ["name", "slug"]
        verbose_name_plural = "facilities"
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | (Q(latitude__gte=-90) & Q(latitude__lte=90)),
                name="facility_latitude_range",
                violation_error_message="Latitude must lie between -90 and 90.",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | (Q(longitude__gte=-180) & Q(longitude__lte=180)),
                name="facility_longitude_range",
                violation_error_message="Longitude must lie between -180 and 180.",
            ),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
                name="facility_coordinates_together",
                violation_error_message="Latitude and longitude must be given together.",
            ),
            models.CheckConstraint(
                condition=Q(capacity_amount__isnull=True) | (Q(capacity_amount__gte=0) & ~Q(capacity_unit="")),
                name="facility_capacity_nonnegative_with_unit",
                violation_error_message="Capacity must be non-negative and have a unit.",
            ),
            models.CheckConstraint(
                condition=Q(investment_amount__isnull=True)
                | (Q(investment_amount__gte=0) & ~Q(investment_currency="")),
                name="facility_investment_nonnegative_with_currency",
                violation_error_message="Investment must be non-negative and have a currency.",
            ),
            models.CheckConstraint(
                condition=Q(investment_amount_usd__isnull=True) | Q(investment_amount_usd__gte=0),
                name="facility_investment_usd_nonnegative",
                violation_error_message="The USD investment must be non-negative.",
            ),
            models.CheckConstraint(
                condition=Q(region_code="")
                | (
                    ~Q(country="")
                    & Q(region_code__startswith=Concat(F("country"), Value("-")))
                    & ~Q(region_code=Concat(F("country"), Value("-")))
                    & Q(region_code=Upper("region_code"))
                ),
                name="facility_region_code_matches_country",
                violation_error_message="The region code must be an upper-case ISO 3166-2 code of the facility's "
                "country, e.g. US-GA for a facility in US.",
            ),
            date_precision_constraint("facility", "planned_start", "planned_start_precision"),
            needs_figure_constraint("facility", "capacity_period", "capacity_amount"),
            needs_figure_constraint("facility", "capacity_qualifier", "capacity_amount"),
            needs_figure_constraint("facility", "jobs_qualifier", "jobs"),
            needs_figure_constraint("facility", "investment_qualifier", "investment_amount"),
            needs_figure_constraint("facility", "investment_currency", "investment_amount"),
            choices_constraint("facility", "capacity_qualifier", ValueQualifier, blank=True),
            choices_constraint("facility", "planned_start_precision", DatePrecision, blank=True),
            choices_constraint("facility", "jobs_qualifier", ValueQualifier, blank=True),
            choices_constraint("facility", "investment_qualifier", ValueQualifier, blank=True),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [
        choices_constraint("facility", "kind", Kind),
        choices_constraint("facility", "status", Status),
        choices_constraint("facility", "location_precision", LocationPrecision, blank=True),
        choices_constraint("facility", "capacity_period", CapacityPeriod, blank=True),
        *publication_constraints("facility"),
    ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = date_precision_clean(self.planned_start, self.planned_start_precision, "planned_start")
        if self.latitude is not None and not self.location_precision:
            errors["location_precision"] = "Coordinates need a location precision."
        if self.capacity_amount is not None and not self.capacity_period:
            errors["capacity_period"] = "A capacity needs a period (per year, month or day)."
        if self.jobs is None and self.jobs_qualifier:
            errors["jobs_qualifier"] = "A jobs qualifier needs a jobs figure."
        errors.update(self._figure_problems())
        region_code_error = region_code_problem(
            region_code=self.region_code, country=self.country.code if self.country else "", region=self.region
        )
        if region_code_error:
            errors["region_code"] = region_code_error
        if errors:
            raise ValidationError(errors)

    def _figure_problems(self) -> dict[str, str]:
        """The constraints on coordinates, capacity and investment, each said on the field the editor has to fill
        or empty (the database constraints hold the same rules, but their messages have no field)."""
        errors: dict[str, str] = {}
        for name, limit in (("latitude", 90), ("longitude", 180)):
            value = getattr(self, name)
            # A value that is not a number already failed clean_fields(); full_clean() still calls clean().
            if isinstance(value, decimal.Decimal | int | float) and not -limit <= value <= limit:
                errors[name] = f"{capfirst(name)} must lie between -{limit} and {limit}."
        if self.latitude is not None and self.longitude is None:
            errors["longitude"] = "Coordinates come in pairs: enter the longitude too, or leave the latitude empty."
        elif self.latitude is None and self.longitude is not None:
            errors["latitude"] = "Coordinates come in pairs: enter the latitude too, or leave the longitude empty."
        if self.capacity_amount is not None and not self.capacity_unit:
            errors["capacity_unit"] = "A capacity needs its unit, e.g. tonnes."
        if self.capacity_amount is None:
            for name in ("capacity_period", "capacity_qualifier"):
                if getattr(self, name):
                    errors[name] = "This describes a capacity: enter the capacity, or leave this empty."
        if self.investment_amount is not None and not self.investment_currency:
            errors["investment_currency"] = "An investment needs its currency: enter the ISO 4217 code, e.g. USD."
        if self.investment_amount is None:
            for name in ("investment_currency", "investment_qualifier"):
                if getattr(self, name):
                    errors[name] = "This describes an investment: enter the investment, or leave this empty."
        return errors


class FacilityCompany(models.Model):
    """A company's role at a facility (owner, operator, developer…)."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        OPERATOR = "operator", "Operator"
        DEVELOPER = "developer", "Developer"
        PARTNER = "partner", "Partner"
        INVESTOR = "investor", "Investor"
        OFFTAKER = "offtaker", "Offtaker"
        SUPPLIER = "supplier", "Supplier"

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="company_links", help_text="The facility."
    )
    company = models.ForeignKey(
        Company, on_delete=models.PROTECT, related_name="facility_links", help_text="The company."
    )
    role = models.CharField(max_length=20, choices=Role.choices, help_text="The company's role at the facility.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["facility__slug", "company__slug", "role"]
        verbose_name = "facility company"
        verbose_name_plural = "facility companies"
        constraints = [
            models.UniqueConstraint(fields=["facility", "company", "role"], name="facility_company_role_unique"),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [choices_constraint("facility_company", "role", Role)]

    def __str__(self):
        return f"{self.company} – {self.get_role_display()} – {self.facility}"
