"""Read-only serializers of the public API: explicit field lists, related records as ``<Model>BriefSerializer``.

The querysets come from :mod:`deals.selectors` with everything prefetched, so serializing a page issues no
query. ``url`` is always the absolute URL of the record's API detail; a source's own web address is
``document_url``.

- :mod:`.fields`: links by slug, blank-as-null fields, the public model serializer base, countries;
- :mod:`.brief`: the brief serializers of related records;
- :mod:`.provenance`: quotes, per-field provenance and the role links between records;
- :mod:`.records`: the resources, list and detail;
- :mod:`.index`: the API root and the error body.
"""

from deals.api.serializers.brief import (
    CommodityBriefSerializer,
    CompanyBriefSerializer,
    DealBriefSerializer,
    FacilityBriefSerializer,
    SourceBriefSerializer,
    SupplyChainStageBriefSerializer,
)
from deals.api.serializers.fields import (
    BlankAsNullCharField,
    BlankAsNullChoiceField,
    CountrySerializer,
    OptionalUrlField,
    PublicModelSerializer,
    SlugIdentityLink,
    SlugRelatedLink,
)
from deals.api.serializers.index import ApiIndexSerializer, ErrorDetailSerializer, LicenseSerializer
from deals.api.serializers.provenance import (
    CompanyDealRoleSerializer,
    CompanyFacilityRoleSerializer,
    DealPartySerializer,
    FacilityCompanyRoleSerializer,
    FieldClaimSerializer,
    FieldProvenanceSerializer,
    FieldQuoteSerializer,
    ProvenanceSerializer,
)
from deals.api.serializers.records import (
    CommoditySerializer,
    CompanyDetailSerializer,
    CompanySerializer,
    DealDetailSerializer,
    DealSerializer,
    FacilityDetailSerializer,
    FacilitySerializer,
    PublicSourceTextField,
    SourceDetailSerializer,
    SourceSerializer,
)

__all__ = [
    "ApiIndexSerializer",
    "BlankAsNullCharField",
    "BlankAsNullChoiceField",
    "CommodityBriefSerializer",
    "CommoditySerializer",
    "CompanyBriefSerializer",
    "CompanyDealRoleSerializer",
    "CompanyDetailSerializer",
    "CompanyFacilityRoleSerializer",
    "CompanySerializer",
    "CountrySerializer",
    "DealBriefSerializer",
    "DealDetailSerializer",
    "DealPartySerializer",
    "DealSerializer",
    "ErrorDetailSerializer",
    "FacilityBriefSerializer",
    "FacilityCompanyRoleSerializer",
    "FacilityDetailSerializer",
    "FacilitySerializer",
    "FieldClaimSerializer",
    "FieldProvenanceSerializer",
    "FieldQuoteSerializer",
    "LicenseSerializer",
    "OptionalUrlField",
    "ProvenanceSerializer",
    "PublicModelSerializer",
    "PublicSourceTextField",
    "SlugIdentityLink",
    "SlugRelatedLink",
    "SourceBriefSerializer",
    "SourceDetailSerializer",
    "SourceSerializer",
    "SupplyChainStageBriefSerializer",
]
