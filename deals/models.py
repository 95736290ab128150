"""The ReexAPI data model: sources, companies and governments, facilities, deals, and the evidence tying them.

Design notes (see docs/data-model.md for every field and choice):
- Every record has a unique, human-readable ``slug``: the natural key in fixtures and the id in URLs.
- Dates carry a precision (day, month, year), as in Wikidata; a month-precision date is stored as the first day
  of that month.
- Money carries an ISO 4217 currency, a USD amount only where the source states one, and a qualifier for
  "about" and "up to" figures (OCDS-style values).
- Roles live on the link rows (deal parties, facility companies), as in OCDS's party roles.
- Structural rules are database constraints; rules that need Python (quote matching, ordering of fields that
  depend on other rows) live in ``clean()``.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

SHA256_VALIDATOR = RegexValidator(r"^[0-9a-f]{64}$", "Enter a lower-case hexadecimal SHA-256 digest (64 characters).")
CURRENCY_VALIDATOR = RegexValidator(r"^[A-Z]{3}$", "Enter an ISO 4217 currency code, e.g. USD.")


class DatePrecision(models.TextChoices):
    """How much of a date the source states; the stored date is the first day of the stated period."""

    DAY = "day", "Day"
    MONTH = "month", "Month"
    YEAR = "year", "Year"


class ValueQualifier(models.TextChoices):
    """How a stated figure should be read."""

    EXACT = "exact", "Exact"
    APPROXIMATE = "approximate", "Approximate (about, roughly)"
    UP_TO = "up_to", "Up to (a ceiling)"
    AT_LEAST = "at_least", "At least (e.g. 500+)"


def _date_precision_constraint(prefix: str, field: str, precision: str) -> models.CheckConstraint:
    """A date and its precision are set together or not at all."""
    return models.CheckConstraint(
        condition=(Q(**{f"{field}__isnull": True}) & Q(**{precision: ""}))
        | (Q(**{f"{field}__isnull": False}) & ~Q(**{precision: ""})),
        name=f"{prefix}_{field}_precision_together",
        violation_error_message=f"{field} and {precision} must be given together.",
    )


def _date_precision_clean(date, precision, field: str) -> dict[str, str]:
    """Month and year precision dates must be stored as the first day of their period."""
    errors: dict[str, str] = {}
    # A value that is not a date already failed clean_fields(); full_clean() still calls clean() afterwards.
    if not isinstance(date, datetime.date) or not precision:
        return errors
    if precision == DatePrecision.MONTH and date.day != 1:
        errors[field] = "A month-precision date is stored as the first day of the month."
    if precision == DatePrecision.YEAR and (date.month, date.day) != (1, 1):
        errors[field] = "A year-precision date is stored as 1 January of the year."
    return errors


def _choices_constraint(
    prefix: str, field: str, choices: type[models.TextChoices], *, blank: bool = False
) -> models.CheckConstraint:
    """The database refuses a value outside ``choices`` (and "" unless the field may be blank).

    Choices are otherwise checked only by ``full_clean()``; a bare ``save()``, ``update()`` or SQL write would
    store any string.
    """
    condition = Q(**{f"{field}__in": choices.values})
    allowed = ", ".join(choices.values)
    if blank:
        condition |= Q(**{field: ""})
        allowed += " or empty"
    return models.CheckConstraint(
        condition=condition,
        name=f"{prefix}_{field}_valid",
        violation_error_message=f"{field} must be one of: {allowed}.",
    )


def _needs_figure_constraint(prefix: str, field: str, figure: str) -> models.CheckConstraint:
    """A qualifier, period or currency describes a figure, so it stays empty when the figure is not stated."""
    return models.CheckConstraint(
        condition=Q(**{f"{figure}__isnull": False}) | Q(**{field: ""}),
        name=f"{prefix}_{field}_needs_{figure}",
        violation_error_message=f"{field} needs {figure}: leave it empty when no figure is stated.",
    )


def _parent_chain_loops(instance: models.Model) -> bool:
    """Whether following ``parent`` up from ``instance`` comes back to it (a cycle through the stored rows).

    Only a saved row can be on a cycle: nothing can point at a row that does not exist yet. A loop elsewhere in
    the stored chain (one that does not pass through ``instance``) ends the walk rather than spinning forever.
    """
    if instance.pk is None:
        return False
    model = type(instance)
    seen: set = set()
    parent_id = instance.parent_id
    while parent_id is not None and parent_id not in seen:
        if parent_id == instance.pk:
            return True
        seen.add(parent_id)
        parent_id = model._default_manager.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return False


class SlugModel(models.Model):
    """Abstract base: a stable slug (natural key) and timestamps."""

    slug = models.SlugField(
        max_length=120,
        unique=True,
        help_text="Stable, human-readable identifier; the natural key in fixtures and the id in API URLs.",
    )
    created = models.DateTimeField(auto_now_add=True, help_text="When the record was first stored.")
    updated = models.DateTimeField(auto_now=True, help_text="When the record was last changed.")

    class Meta:
        abstract = True

    def natural_key(self):
        return (self.slug,)


class Commodity(SlugModel):
    """A controlled vocabulary of what deals and facilities concern: elements, groups, materials, products."""

    class Kind(models.TextChoices):
        ELEMENT = "element", "Element"
        GROUP = "group", "Group of elements"
        MATERIAL = "material", "Material (ore, oxide, metal, alloy, chemical)"
        PRODUCT = "product", "Product or component"

    name = models.CharField(max_length=120, unique=True, help_text="Common English name, e.g. 'Dysprosium'.")
    kind = models.CharField(
        max_length=20, choices=Kind.choices, help_text="Whether this is an element, a group, a material or a product."
    )
    symbol = models.CharField(
        max_length=5, blank=True, help_text="Chemical symbol for elements, e.g. 'Dy'; empty otherwise."
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="Broader commodity this one belongs to, e.g. dysprosium → rare earth elements.",
    )
    description = models.TextField(blank=True, help_text="Short definition of the commodity.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "commodities"

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints = [_choices_constraint("commodity", "kind", Kind)]

    def __str__(self):
        return self.name

    def clean(self):
        if self.parent_id is not None and (self.parent_id == self.pk or _parent_chain_loops(self)):
            raise ValidationError({"parent": "The parent chain loops back to this commodity; choose a broader one."})


class SupplyChainStage(SlugModel):
    """A stage of the critical-mineral supply chain; a fixed vocabulary seeded by a migration."""

    class Segment(models.TextChoices):
        UPSTREAM = "upstream", "Upstream"
        MIDSTREAM = "midstream", "Midstream"
        DOWNSTREAM = "downstream", "Downstream"
        RECYCLING = "recycling", "Recycling (circular)"

    name = models.CharField(max_length=80, unique=True, help_text="Name of the stage, e.g. 'Separation and refining'.")
    segment = models.CharField(
        max_length=20, choices=Segment.choices, help_text="Upstream, midstream, downstream or recycling."
    )
    position = models.PositiveSmallIntegerField(help_text="Order of the stage along the chain, from mine to recycling.")
    description = models.TextField(blank=True, help_text="What activities the stage covers.")

    class Meta:
        ordering = ["position"]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints = [_choices_constraint("stage", "segment", Segment)]

    def __str__(self):
        return self.name


class Source(SlugModel):
    """A document that records are derived from: the raw file's digest and its normalised text."""

    class Kind(models.TextChoices):
        NEWS = "news", "News article"
        ANALYSIS = "analysis", "Analysis or commentary"
        ROUNDUP = "roundup", "News roundup or newsletter"
        AI_GENERATED = "ai_generated", "AI-generated article"
        PRESS_RELEASE = "press_release", "Press release"
        FILING = "filing", "Regulatory filing or official document"

    title = models.CharField(
        max_length=300,
        help_text=(
            "Title of the document as published; where it has no headline, an editors' description in square "
            "brackets, e.g. '[Untitled] Rare earth update …'."
        ),
    )
    publisher = models.CharField(
        max_length=200, blank=True, help_text="Who published it; empty if the document does not say."
    )
    author = models.CharField(
        max_length=200,
        blank=True,
        help_text="The byline's names, spelled out where the document runs words together; empty if none.",
    )
    published_date = models.DateField(null=True, blank=True, help_text="Publication date, as stated in the document.")
    published_date_precision = models.CharField(
        max_length=5,
        choices=DatePrecision.choices,
        blank=True,
        help_text="Precision of published_date: day, month or year.",
    )
    url = models.URLField(
        max_length=500, blank=True, help_text="Where the document is published; empty when unknown (never guessed)."
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, help_text="What sort of document this is.")
    original_filename = models.CharField(
        max_length=255, blank=True, help_text="File name of the raw document as received."
    )
    raw_sha256 = models.CharField(
        max_length=64,
        unique=True,
        validators=[SHA256_VALIDATOR],
        help_text="SHA-256 of the raw document's bytes, as received.",
    )
    text = models.TextField(
        help_text="The normalised text (mojibake repaired, white space normalised); evidence offsets index into it."
    )
    text_sha256 = models.CharField(
        max_length=64, validators=[SHA256_VALIDATOR], help_text="SHA-256 of the UTF-8 bytes of `text`."
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["slug"]
        constraints = [
            _date_precision_constraint("source", "published_date", "published_date_precision"),
            _choices_constraint("source", "published_date_precision", DatePrecision, blank=True),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [_choices_constraint("source", "kind", Kind)]

    def __str__(self):
        return self.title

    def clean(self):
        errors = _date_precision_clean(self.published_date, self.published_date_precision, "published_date")
        if errors:
            raise ValidationError(errors)


class Company(SlugModel):
    """A party to deals: a company, a government, or a government agency (told apart by ``kind``)."""

    class Kind(models.TextChoices):
        COMPANY = "company", "Company"
        STATE_OWNED = "state_owned", "State-owned enterprise"
        GOVERNMENT = "government", "National or regional government"
        AGENCY = "agency", "Government department or agency"
        INVESTOR = "investor", "Investment fund or financial investor"
        RESEARCH = "research", "University or research institute"
        OTHER = "other", "Other organisation"

    name = models.CharField(max_length=200, help_text="Name as commonly written, e.g. 'Group14 Technologies'.")
    kind = models.CharField(max_length=20, choices=Kind.choices, help_text="Company, government, agency and so on.")
    country = CountryField(
        blank=True, help_text="Country of headquarters or jurisdiction (ISO 3166-1 alpha-2), if stated."
    )
    locality = models.CharField(max_length=120, blank=True, help_text="Headquarters city, if stated, e.g. 'Seattle'.")
    aliases = models.JSONField(default=list, blank=True, help_text="Other names the sources use, e.g. ['VAC'].")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="subsidiaries",
        help_text="Parent organisation, e.g. an agency's government.",
    )
    description = models.TextField(blank=True, help_text="What the organisation does, as the sources describe it.")
    website = models.URLField(blank=True, help_text="Official website; empty unless a source states it.")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name", "slug"]
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""), name="company_name_not_empty", violation_error_message="A company needs a name."
            ),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [_choices_constraint("company", "kind", Kind)]

    def __str__(self):
        return self.name

    def clean(self):
        if not isinstance(self.aliases, list) or not all(isinstance(a, str) and a.strip() for a in self.aliases):
            raise ValidationError({"aliases": "Aliases must be a list of non-empty strings."})
        if self.parent_id is not None and self.parent_id == self.pk:
            raise ValidationError({"parent": "An organisation cannot be its own parent."})
        if _parent_chain_loops(self):
            raise ValidationError({"parent": "The parent chain loops back to this organisation."})


class Facility(SlugModel):
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

    history = HistoricalRecords()

    class Meta:
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
            _date_precision_constraint("facility", "planned_start", "planned_start_precision"),
            _needs_figure_constraint("facility", "capacity_period", "capacity_amount"),
            _needs_figure_constraint("facility", "capacity_qualifier", "capacity_amount"),
            _needs_figure_constraint("facility", "jobs_qualifier", "jobs"),
            _needs_figure_constraint("facility", "investment_qualifier", "investment_amount"),
            _needs_figure_constraint("facility", "investment_currency", "investment_amount"),
            _choices_constraint("facility", "capacity_qualifier", ValueQualifier, blank=True),
            _choices_constraint("facility", "planned_start_precision", DatePrecision, blank=True),
            _choices_constraint("facility", "jobs_qualifier", ValueQualifier, blank=True),
            _choices_constraint("facility", "investment_qualifier", ValueQualifier, blank=True),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [
        _choices_constraint("facility", "kind", Kind),
        _choices_constraint("facility", "status", Status),
        _choices_constraint("facility", "location_precision", LocationPrecision, blank=True),
        _choices_constraint("facility", "capacity_period", CapacityPeriod, blank=True),
    ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = _date_precision_clean(self.planned_start, self.planned_start_precision, "planned_start")
        if self.latitude is not None and not self.location_precision:
            errors["location_precision"] = "Coordinates need a location precision."
        if self.capacity_amount is not None and not self.capacity_period:
            errors["capacity_period"] = "A capacity needs a period (per year, month or day)."
        if self.jobs is None and self.jobs_qualifier:
            errors["jobs_qualifier"] = "A jobs qualifier needs a jobs figure."
        if errors:
            raise ValidationError(errors)


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
    Meta.constraints += [_choices_constraint("facility_company", "role", Role)]

    def __str__(self):
        return f"{self.company} – {self.get_role_display()} – {self.facility}"


class Deal(SlugModel):
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

    history = HistoricalRecords()

    class Meta:
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
            _date_precision_constraint("deal", "announced_date", "announced_date_precision"),
            _needs_figure_constraint("deal", "currency", "amount"),
            _choices_constraint("deal", "announced_date_precision", DatePrecision, blank=True),
            _choices_constraint("deal", "value_qualifier", ValueQualifier, blank=True),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [_choices_constraint("deal", "deal_type", Type), _choices_constraint("deal", "status", Status)]

    def __str__(self):
        return self.title

    def clean(self):
        errors = _date_precision_clean(self.announced_date, self.announced_date_precision, "announced_date")
        if (
            self.amount is not None
            and self.currency == "USD"
            and self.amount_usd is not None
            and self.amount_usd != self.amount
        ):
            errors["amount_usd"] = "For a USD deal the USD amount equals the amount."
        if self.deal_type == self.Type.MOU and self.status in (self.Status.SIGNED, self.Status.CLOSED):
            errors["status"] = "An MOU is non-binding; use a different deal type for a binding agreement."
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
    Meta.constraints += [_choices_constraint("deal_party", "role", Role)]

    def __str__(self):
        return f"{self.company} – {self.get_role_display()} – {self.deal}"


# Bookkeeping columns a quote never supports: the database id, the slug we chose, and the timestamps.
_EVIDENCE_UNSUPPORTABLE = frozenset({"id", "slug", "created", "updated"})


def evidence_field_names(*, model: type[models.Model]) -> frozenset[str]:
    """The names an evidence row may list in ``fields`` for a record of ``model``.

    The model's own data fields (foreign keys such as ``parent`` included) and its forward many-to-many fields
    (``parties``, ``commodities``…), minus the bookkeeping columns. Reverse relations (``evidence``,
    ``party_links``…) are other records, each with evidence of its own, so they are not fields a quote supports.
    """
    names = {f.name for f in model._meta.concrete_fields} | {f.name for f in model._meta.many_to_many}
    return frozenset(names - _EVIDENCE_UNSUPPORTABLE)


def evidence_fields_unknown(*, model: type[models.Model], names) -> list[str]:
    """The names in ``names`` that are not :func:`evidence_field_names` of ``model``, sorted; shared by
    :meth:`Evidence.clean` and the admin's evidence inline (which checks against the parent model)."""
    return sorted(set(names) - evidence_field_names(model=model))


class Evidence(models.Model):
    """A verbatim quote from a source that supports one record (a deal, a company or a facility).

    ``start``/``end`` index into the source's normalised text; ``clean()`` checks ``text[start:end] == quote``.
    ``fields`` names the record's fields the quote supports.
    """

    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="evidence", help_text="The source the quote comes from."
    )
    deal = models.ForeignKey(
        Deal,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
        help_text="The deal supported (exactly one target).",
    )
    company = models.ForeignKey(
        Company,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
        help_text="The company supported (exactly one target).",
    )
    facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="evidence",
        help_text="The facility supported (exactly one target).",
    )
    quote = models.TextField(help_text="The verbatim passage, exactly as it stands in the source's normalised text.")
    start = models.PositiveIntegerField(
        help_text="Offset of the quote's first character in the source's normalised text."
    )
    end = models.PositiveIntegerField(help_text="Offset just past the quote's last character (exclusive).")
    fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Names of the record's fields this quote supports, e.g. ['amount', 'parties'].",
    )
    note = models.TextField(blank=True, help_text="Editor's note on how the quote supports the fields, if not obvious.")

    history = HistoricalRecords()

    TARGETS = ("deal", "company", "facility")

    class Meta:
        ordering = ["source__slug", "start", "id"]
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(
                condition=Q(deal__isnull=False, company__isnull=True, facility__isnull=True)
                | Q(deal__isnull=True, company__isnull=False, facility__isnull=True)
                | Q(deal__isnull=True, company__isnull=True, facility__isnull=False),
                name="evidence_exactly_one_target",
                violation_error_message="Evidence supports exactly one record: a deal, a company or a facility.",
            ),
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")),
                name="evidence_start_before_end",
                violation_error_message="The start offset must be before the end offset.",
            ),
            models.CheckConstraint(
                condition=Q(start__gte=0),
                name="evidence_start_nonnegative",
                violation_error_message="Offsets are non-negative.",
            ),
            models.CheckConstraint(
                condition=~Q(quote=""), name="evidence_quote_not_empty", violation_error_message="A quote is required."
            ),
            models.UniqueConstraint(
                fields=["source", "deal", "start", "end"],
                condition=Q(deal__isnull=False),
                name="evidence_unique_deal_span",
                violation_error_message="This source already has evidence for this deal at these offsets.",
            ),
            models.UniqueConstraint(
                fields=["source", "company", "start", "end"],
                condition=Q(company__isnull=False),
                name="evidence_unique_company_span",
                violation_error_message="This source already has evidence for this company at these offsets.",
            ),
            models.UniqueConstraint(
                fields=["source", "facility", "start", "end"],
                condition=Q(facility__isnull=False),
                name="evidence_unique_facility_span",
                violation_error_message="This source already has evidence for this facility at these offsets.",
            ),
        ]

    def __str__(self):
        return f"{self.target_label}: “{self.quote[:60]}”"

    @property
    def target(self):
        """The one record this evidence supports."""
        return self.deal or self.company or self.facility

    @property
    def target_label(self) -> str:
        for name in self.TARGETS:
            if getattr(self, f"{name}_id"):
                return name
        return "none"

    def clean(self):
        errors: dict[str, str] = {}
        # Offsets that are not integers, or a source id that does not exist, already failed clean_fields();
        # full_clean() still calls clean(), which must report, not crash.
        try:
            source = self.source if self.source_id is not None else None
        except Source.DoesNotExist:
            source = None
        if source is not None and isinstance(self.start, int) and isinstance(self.end, int):
            text = source.text
            if self.end > len(text):
                errors["end"] = (
                    f"The end offset {self.end} lies past the end of the source text ({len(text)} characters)."
                )
            elif text[self.start : self.end] != self.quote:
                errors["quote"] = (
                    f"The quote does not match the source text at {self.start}-{self.end}: "
                    f"the source has {text[self.start : self.end][:80]!r}."
                )
        target = next((name for name in self.TARGETS if getattr(self, f"{name}_id")), None)
        if not isinstance(self.fields, list) or not all(isinstance(f, str) for f in self.fields):
            errors["fields"] = "Fields must be a list of field names."
        elif target:
            unknown = evidence_fields_unknown(model=type(self)._meta.get_field(target).related_model, names=self.fields)
            if unknown:
                errors["fields"] = f"Not fields of {target}: {', '.join(unknown)}."
        if errors:
            raise ValidationError(errors)
