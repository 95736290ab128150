"""``<Model>BriefSerializer``: how a record appears inside another (slug, name, absolute URL)."""

from __future__ import annotations

from deals.api.serializers.fields import (
    OptionalUrlField,
    PublicModelSerializer,
    detail_url_field,
)
from deals.models import (
    Commodity,
    Company,
    Deal,
    Facility,
    Source,
    SupplyChainStage,
)


class CommodityBriefSerializer(PublicModelSerializer):
    """A commodity in brief."""

    url = detail_url_field("commodity")

    class Meta:
        model = Commodity
        fields = ["slug", "name", "url"]


class SupplyChainStageBriefSerializer(PublicModelSerializer):
    """A supply-chain stage (a fixed vocabulary; it has no endpoint of its own)."""

    class Meta:
        model = SupplyChainStage
        fields = ["slug", "name", "segment"]


class CompanyBriefSerializer(PublicModelSerializer):
    """A company, government or agency in brief."""

    url = detail_url_field("company")

    class Meta:
        model = Company
        fields = ["slug", "name", "url"]


class FacilityBriefSerializer(PublicModelSerializer):
    """A facility in brief."""

    url = detail_url_field("facility")

    class Meta:
        model = Facility
        fields = ["slug", "name", "url"]


class DealBriefSerializer(PublicModelSerializer):
    """A deal in brief."""

    url = detail_url_field("deal")

    class Meta:
        model = Deal
        fields = ["slug", "title", "url"]


class SourceBriefSerializer(PublicModelSerializer):
    """A source document in brief."""

    url = detail_url_field("source")
    document_url = OptionalUrlField(source="url", help_text="Where the document is published; null when unknown.")

    class Meta:
        model = Source
        fields = ["slug", "title", "publisher", "published_date", "url", "document_url"]
