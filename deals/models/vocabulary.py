"""Controlled vocabularies: commodities and supply-chain stages."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from simple_history.models import HistoricalRecords

from deals.models.base import SlugModel, choices_constraint, parent_chain_loops


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
    Meta.constraints = [choices_constraint("commodity", "kind", Kind)]

    def __str__(self):
        return self.name

    def clean(self):
        if self.parent_id is not None and (self.parent_id == self.pk or parent_chain_loops(self)):
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
    Meta.constraints = [choices_constraint("stage", "segment", Segment)]

    def __str__(self):
        return self.name
