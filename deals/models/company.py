"""Companies, governments and agencies: the parties of deals and the operators of facilities."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django_countries.fields import CountryField

from deals.history import RelationalHistoricalRecords
from deals.models.base import choices_constraint, parent_chain_loops
from deals.models.publication import PublishableModel, publication_constraints

# A company's own descriptive columns, in the order the API, the CSV and the import/export show them (after its slug
# and name).
COMPANY_DESCRIPTIVE_FIELDS = ("kind", "country", "locality", "aliases", "parent", "description", "website")


class Company(PublishableModel):
    """A party to deals: a company, a government, or a government agency (told apart by ``kind``)."""

    class Kind(models.TextChoices):
        COMPANY = "company", "Company"
        STATE_OWNED = "state_owned", "State-owned enterprise"
        GOVERNMENT = "government", "National or regional government"
        AGENCY = "agency", "Government department or agency"
        INVESTOR = "investor", "Investment fund or financial investor"
        RESEARCH = "research", "University or research institute"
        OTHER = "other", "Other organisation"
        # Like the statuses' "unknown": the sources name the organisation but do not say what it is.
        UNKNOWN = "unknown", "Not stated"

    name = models.CharField(max_length=200, help_text="Name as commonly written, e.g. 'Group14 Technologies'.")
    kind = models.CharField(
        max_length=20,
        choices=Kind.choices,
        help_text="Company, government, agency and so on; 'unknown' where the sources do not say what it is.",
    )
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

    # Each version also records the relations (links with roles, lists, evidence): see deals/history.py.
    history = RelationalHistoricalRecords()

    class Meta:
        # Publishing, withdrawing and merging change what the public sees; a right of its own (Editors hold it).
        permissions = [("publish_company", "Can publish, withdraw and merge companies")]
        ordering = ["name", "slug"]
        verbose_name_plural = "companies"
        constraints = [
            models.CheckConstraint(
                condition=~Q(name=""), name="company_name_not_empty", violation_error_message="A company needs a name."
            ),
        ]

    # Meta's body cannot see the choices classes above, so the choice constraints are added from the class body.
    Meta.constraints += [choices_constraint("company", "kind", Kind), *publication_constraints("company")]

    def __str__(self):
        return self.name

    @property
    def parent_public(self) -> Company | None:
        """The parent as the public API shows it: only a published parent (an unpublished one reads as none)."""
        parent = self.parent if self.parent_id is not None else None
        return parent if parent is not None and parent.is_public else None

    def clean(self):
        if not isinstance(self.aliases, list) or not all(isinstance(a, str) and a.strip() for a in self.aliases):
            raise ValidationError({"aliases": "Aliases must be a list of non-empty strings."})
        if self.parent_id is not None and self.parent_id == self.pk:
            raise ValidationError({"parent": "An organisation cannot be its own parent."})
        if parent_chain_loops(self):
            raise ValidationError({"parent": "The parent chain loops back to this organisation."})
