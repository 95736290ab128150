"""What the landing page ``/`` shows: published counts, the latest release, and two aggregates for its charts.

Read-only. Only published records count (what the API lists), and the charts are computed by the statistics
selectors (:func:`deals.selectors.stats.deal_stats`) over the published deals, so the page and
``/api/v1/stats/deals/`` always agree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from deals.models import DatasetRelease, DatasetVersion
from deals.selectors.records import commodity_list, company_list, deal_list, facility_list, source_list
from deals.selectors.releases import release_latest
from deals.selectors.stats import deal_stats


@dataclass(frozen=True)
class ResourceCount:
    """One resource of the API with the number of records it lists."""

    name: str
    basename: str
    count: int


@dataclass(frozen=True)
class LandingSummary:
    """Everything the landing page shows that comes from the database."""

    counts: list[ResourceCount]
    release: DatasetRelease | None
    value_by_commodity: list[dict]
    deals_by_stage: list[dict]
    dataset_changed: datetime.datetime | None


def landing_counts() -> list[ResourceCount]:
    """Records per API collection, exactly as the lists count them: published deals, companies and facilities;
    sources cited by a published record; the commodity vocabulary. One query each."""
    return [
        ResourceCount("Deals", "deal", deal_list().count()),
        ResourceCount("Companies, governments and agencies", "company", company_list().count()),
        ResourceCount("Facilities", "facility", facility_list().count()),
        ResourceCount("Source documents", "source", source_list().count()),
        ResourceCount("Commodities", "commodity", commodity_list().count()),
    ]


def landing_summary() -> LandingSummary:
    """The landing page's data: counts, the latest release with its files (or ``None`` before the first), the
    announced USD value per commodity (rolled up the commodity tree) and the deals per supply-chain stage."""
    deals = deal_list()
    return LandingSummary(
        counts=landing_counts(),
        release=release_latest(),
        value_by_commodity=[g for g in deal_stats(queryset=deals, group_by="commodity") if g["value_usd_sum"]],
        # A count chart: most deals first (deal_stats orders by value), ties by name.
        deals_by_stage=sorted(
            deal_stats(queryset=deals, group_by="stage"), key=lambda g: (-g["deal_count"], g["label"])
        ),
        dataset_changed=DatasetVersion.objects.filter(pk=1).values_list("changed", flat=True).first(),
    )
