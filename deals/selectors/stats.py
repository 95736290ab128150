"""Aggregates of deals and facilities: counts and sums per group, computed in the database in a fixed number of
queries whatever the number of records.

Every dimension is turned into *pairs* (record, group key), each pair at most once, and one grouped query counts
and sums them. A record with several keys (a deal concerning two commodities) is a pair in each group, so it
counts in each: those dimensions are *overlapping* and their groups' figures do not add up to the totals.

Sums are of stated figures only, whatever their qualifier (exact, approximate, up to, at least): each group also
counts the records without a figure, so a sum is never mistaken for a total. Money is summed in whole cents and
capacities in thousandths as integers, so SQLite (which stores decimals as floating point) gives the same exact
sums as PostgreSQL's numeric type. Capacities are summed per unit and period, never across them (tonnes per year
and GWh per year are two sums).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.db import connection
from django.db.models import BigIntegerField, Count, F, Q, QuerySet, Sum
from django.db.models.functions import Cast, ExtractYear, Round
from django_countries import countries

from deals.models import Commodity, Company, Deal, DealParty, Facility, PublicationStatus, SupplyChainStage
from deals.selectors.records import PARTY_KIND_INCLUDES

_PUBLISHED = PublicationStatus.PUBLISHED
CENT = Decimal("0.01")
THOUSANDTH = Decimal("0.001")

# group_by values of /api/v1/stats/deals/; "commodity" is rolled up the commodity tree (a deal concerning NdFeB
# magnets counts in permanent-magnets too), "commodity_exact" counts only the commodities a deal names itself.
DEAL_DIMENSIONS = (
    "commodity",
    "commodity_exact",
    "country",
    "party_country",
    "deal_type",
    "status",
    "stage",
    "announced_year",
    "party_kind",
)
DEAL_OVERLAPPING = frozenset({"commodity", "commodity_exact", "country", "party_country", "stage", "party_kind"})
FACILITY_DIMENSIONS = ("kind", "status", "country", "commodity", "commodity_exact")
FACILITY_OVERLAPPING = frozenset({"commodity", "commodity_exact"})


def _sql(queryset: QuerySet) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def _commodity_tree_cte() -> str:
    """``tree(ancestor_id, commodity_id)``: every commodity with itself and each of its ancestors.

    ``UNION`` (not ``UNION ALL``) drops repeated rows, so even a parent chain that loops (only a bare SQL write
    could store one; clean() refuses it) ends instead of recursing forever.
    """
    table = connection.ops.quote_name(Commodity._meta.db_table)
    return (
        "WITH RECURSIVE tree(ancestor_id, commodity_id) AS ("
        f"SELECT id, id FROM {table} "
        f"UNION SELECT tree.ancestor_id, child.id FROM tree JOIN {table} child ON child.parent_id = tree.commodity_id"
        ") "
    )


def _rolled_up_pairs(*, records: QuerySet, through, owner: str, amount: str) -> tuple[str, tuple]:
    """(record, ancestor commodity, figure) pairs, each once: a record counts in every commodity it names and in
    each broader one (the pairs of a record naming both NdFeB magnets and permanent magnets are deduplicated)."""
    quote = connection.ops.quote_name
    record_table = quote(records.model._meta.db_table)
    link_table = quote(through._meta.db_table)
    records_sql, params = _sql(records.order_by().values("pk"))
    sql = (
        f"SELECT DISTINCT link.{owner}_id AS g_record, tree.ancestor_id AS g_key, record.{amount} AS g_amount "
        f"FROM {link_table} link JOIN tree ON tree.commodity_id = link.commodity_id "
        f"JOIN {record_table} record ON record.id = link.{owner}_id "
        f"WHERE link.{owner}_id IN ({records_sql})"
    )
    return sql, params


def _grouped(*, pairs_sql: str, params: tuple, scale: int, cte: str = "", extra_keys: tuple[str, ...] = ()) -> list:
    """Rows of (key, *extra_keys, record count, summed figure as an integer of 1/scale units or None, records
    without a figure) over the pairs."""
    keys = ", ".join(("g_key", *extra_keys))
    sql = (
        f"{cte}SELECT {keys}, COUNT(*), "
        f"SUM(CASE WHEN g_amount IS NULL THEN NULL ELSE CAST(ROUND(g_amount * {scale}) AS BIGINT) END), "
        "SUM(CASE WHEN g_amount IS NULL THEN 1 ELSE 0 END) "
        f"FROM ({pairs_sql}) pairs GROUP BY {keys}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _scaled_sum(field: str, scale: int, **kwargs) -> Sum:
    """Sum of ``field`` in integer 1/scale units (exact on SQLite too), like :func:`_grouped`."""
    return Sum(Cast(Round(F(field) * scale), BigIntegerField()), **kwargs)


def _decimal(value, unit: Decimal, scale: int) -> Decimal:
    return (Decimal(int(value or 0)) / scale).quantize(unit)


def _deal_pairs(*, queryset: QuerySet[Deal], group_by: str) -> tuple[str, tuple, str]:
    """The pairs SQL of a deal dimension, its parameters and a CTE it needs (or "")."""
    deals = queryset.order_by()
    ids = deals.values("pk")
    if group_by == "commodity":
        sql, params = _rolled_up_pairs(
            records=deals, through=Deal.commodities.through, owner="deal", amount="amount_usd"
        )
        return sql, params, _commodity_tree_cte()
    if group_by in ("commodity_exact", "stage"):
        through = Deal.commodities.through if group_by == "commodity_exact" else Deal.stages.through
        column = "commodity_id" if group_by == "commodity_exact" else "supplychainstage_id"
        pairs = through.objects.filter(deal_id__in=ids).values(
            g_record=F("deal_id"), g_key=F(column), g_amount=F("deal__amount_usd")
        )
    elif group_by in ("party_kind", "party_country"):
        column = "company__kind" if group_by == "party_kind" else "company__country"
        # No ordering: DealParty's default one would add its columns to the DISTINCT below.
        links = DealParty.objects.filter(deal_id__in=ids, company__publication_status=_PUBLISHED).order_by()
        if group_by == "party_country":
            links = links.exclude(company__country="")
        # A deal with two parties of the same kind (or country) is one pair.
        pairs = links.values(g_record=F("deal_id"), g_key=F(column), g_amount=F("deal__amount_usd")).distinct()
    elif group_by == "announced_year":
        pairs = deals.filter(announced_date__isnull=False).values(
            g_record=F("pk"), g_key=ExtractYear("announced_date"), g_amount=F("amount_usd")
        )
    elif group_by == "country":
        # The stored value is the comma-joined list of codes ("KR,US"); deals are grouped by list here and the
        # lists split afterwards (each code appears once in a list, so each deal counts once per country).
        pairs = deals.exclude(countries="").values(g_record=F("pk"), g_key=F("countries"), g_amount=F("amount_usd"))
    elif group_by in ("deal_type", "status"):
        pairs = deals.values(g_record=F("pk"), g_key=F(group_by), g_amount=F("amount_usd"))
    else:
        raise ValueError(f"Unknown deal dimension {group_by!r}; expected one of {', '.join(DEAL_DIMENSIONS)}.")
    sql, params = _sql(pairs)
    return sql, params, ""


def _labels(*, group_by: str, keys: list) -> dict:
    """Key (slug, code, choice value or year) and label of each group key as the database returned it."""
    if group_by in ("commodity", "commodity_exact"):
        rows = Commodity.objects.filter(pk__in=keys).values_list("pk", "slug", "name")
        return {pk: (slug, name) for pk, slug, name in rows}
    if group_by == "stage":
        rows = SupplyChainStage.objects.filter(pk__in=keys).values_list("pk", "slug", "name")
        return {pk: (slug, name) for pk, slug, name in rows}
    choices = {
        "deal_type": Deal.Type,
        "status": Deal.Status,
        "party_kind": Company.Kind,
        "facility_kind": Facility.Kind,
        "facility_status": Facility.Status,
    }.get(group_by)
    if choices is not None:
        return {key: (key, choices(key).label) for key in keys}
    if group_by in ("country", "party_country"):
        # Country codes: no query.
        return {key: (key, countries.name(key) or key) for key in keys}
    return {key: (str(key), str(key)) for key in keys}


def _ordered(groups: list[dict], *, count: str, value: str | None) -> list[dict]:
    """Largest first: by summed value (deals) or count, then count, then key."""
    if value:
        return sorted(groups, key=lambda g: (-g[value], -g[count], g["key"]))
    return sorted(groups, key=lambda g: (-g[count], g["key"]))


def _party_kinds_included(*, queryset: QuerySet[Deal], rows: list) -> list:
    """Like the party_kind filter, a kind that includes others (``government`` also holds the deals of departments
    and agencies: PARTY_KIND_INCLUDES) counts the deals with a published party of any of those kinds, each once.
    One aggregate query per such kind (one today), cheaper than deduplicating every pair a second time."""
    rows = [row for row in rows if row[0] not in PARTY_KIND_INCLUDES]
    for kind, included in PARTY_KIND_INCLUDES.items():
        links = DealParty.objects.filter(company__kind__in=included, company__publication_status=_PUBLISHED)
        deals = Deal.objects.filter(pk__in=queryset.order_by().values("pk")).filter(pk__in=links.values("deal_id"))
        figures = deals.aggregate(
            count=Count("pk"),
            cents=_scaled_sum("amount_usd", 100),
            without=Count("pk", filter=Q(amount_usd__isnull=True)),
        )
        if figures["count"]:
            rows.append((str(kind), figures["count"], figures["cents"], figures["without"]))
    return rows


def deal_stats(*, queryset: QuerySet[Deal], group_by: str) -> list[dict]:
    """Per group of ``group_by`` (one of :data:`DEAL_DIMENSIONS`) over the deals of ``queryset``: ``key``,
    ``label``, ``deal_count``, ``value_usd_sum`` (Decimal, the sum of the stated USD values ``amount_usd``) and
    ``deals_without_value`` (deals of the group with no stated USD value). Only groups with at least one deal;
    largest value first, then most deals, then key. Two queries (the grouped figures, then the labels; for
    party_kind the grouped figures and the government group's)."""
    sql, params, cte = _deal_pairs(queryset=queryset, group_by=group_by)
    rows = _grouped(pairs_sql=sql, params=params, scale=100, cte=cte)
    if group_by == "country":
        split: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for codes, count, cents, without in rows:
            for code in codes.split(","):
                split[code][0] += count
                split[code][1] += int(cents or 0)
                split[code][2] += without
        rows = [(code, *figures) for code, figures in split.items()]
    if group_by == "party_kind":
        rows = _party_kinds_included(queryset=queryset, rows=rows)
    labels = _labels(group_by=group_by, keys=[row[0] for row in rows]) if rows else {}
    groups = []
    for raw_key, count, cents, without in rows:
        key, label = labels.get(raw_key, (str(raw_key), str(raw_key)))
        groups.append(
            {
                "key": key,
                "label": label,
                "deal_count": count,
                "value_usd_sum": _decimal(cents, CENT, 100),
                "deals_without_value": without,
            }
        )
    return _ordered(groups, count="deal_count", value="value_usd_sum")


def _has_group(group_by: str) -> Q:
    """Deals that fall in at least one group of ``group_by``."""
    if group_by in ("commodity", "commodity_exact"):
        return Q(pk__in=Deal.commodities.through.objects.values("deal_id"))
    if group_by == "stage":
        return Q(pk__in=Deal.stages.through.objects.values("deal_id"))
    if group_by in ("party_kind", "party_country"):
        links = DealParty.objects.filter(company__publication_status=_PUBLISHED)
        if group_by == "party_country":
            links = links.exclude(company__country="")
        return Q(pk__in=links.values("deal_id"))
    if group_by == "announced_year":
        return Q(announced_date__isnull=False)
    if group_by == "country":
        return ~Q(countries="")
    return Q(pk__isnull=False)  # a single-valued dimension: every deal has a group


def deal_stats_totals(*, queryset: QuerySet[Deal], group_by: str) -> dict:
    """Figures over the distinct deals of ``queryset`` (each deal once, whatever the dimension): ``deal_count``,
    ``value_usd_sum``, ``deals_without_value``, and ``not_grouped``, the same three figures for the deals that fall
    in no group of ``group_by`` (e.g. deals naming no commodity). One query."""
    if group_by not in DEAL_DIMENSIONS:
        raise ValueError(f"Unknown deal dimension {group_by!r}; expected one of {', '.join(DEAL_DIMENSIONS)}.")
    no_value = Q(amount_usd__isnull=True)
    outside = ~_has_group(group_by)
    # Over the ids, so that no annotation or ordering of the list's queryset reaches the aggregate.
    figures = Deal.objects.filter(pk__in=queryset.order_by().values("pk")).aggregate(
        deal_count=Count("pk"),
        cents=_scaled_sum("amount_usd", 100),
        without=Count("pk", filter=no_value),
        outside_count=Count("pk", filter=outside),
        outside_cents=_scaled_sum("amount_usd", 100, filter=outside),
        outside_without=Count("pk", filter=outside & no_value),
    )
    return {
        "deal_count": figures["deal_count"],
        "value_usd_sum": _decimal(figures["cents"], CENT, 100),
        "deals_without_value": figures["without"],
        "not_grouped": {
            "deal_count": figures["outside_count"],
            "value_usd_sum": _decimal(figures["outside_cents"], CENT, 100),
            "deals_without_value": figures["outside_without"],
        },
    }


def _facility_pairs(*, queryset: QuerySet[Facility], group_by: str) -> tuple[str, tuple, str]:
    """The pairs SQL of a facility dimension (with the capacity's unit and period), its parameters and a CTE."""
    facilities = queryset.order_by()
    ids = facilities.values("pk")
    if group_by == "commodity":
        quote = connection.ops.quote_name
        link_table = quote(Facility.commodities.through._meta.db_table)
        facility_table = quote(Facility._meta.db_table)
        records_sql, params = _sql(ids)
        sql = (
            "SELECT DISTINCT link.facility_id AS g_record, tree.ancestor_id AS g_key, "
            "record.capacity_unit AS g_unit, record.capacity_period AS g_period, record.capacity_amount AS g_amount "
            f"FROM {link_table} link JOIN tree ON tree.commodity_id = link.commodity_id "
            f"JOIN {facility_table} record ON record.id = link.facility_id "
            f"WHERE link.facility_id IN ({records_sql})"
        )
        return sql, params, _commodity_tree_cte()
    capacity = {"g_unit": F("capacity_unit"), "g_period": F("capacity_period"), "g_amount": F("capacity_amount")}
    if group_by == "commodity_exact":
        pairs = Facility.commodities.through.objects.filter(facility_id__in=ids).values(
            g_record=F("facility_id"),
            g_key=F("commodity_id"),
            g_unit=F("facility__capacity_unit"),
            g_period=F("facility__capacity_period"),
            g_amount=F("facility__capacity_amount"),
        )
    elif group_by == "country":
        pairs = facilities.exclude(country="").values(g_record=F("pk"), g_key=F("country"), **capacity)
    elif group_by in ("kind", "status"):
        pairs = facilities.values(g_record=F("pk"), g_key=F(group_by), **capacity)
    else:
        raise ValueError(f"Unknown facility dimension {group_by!r}; expected one of {', '.join(FACILITY_DIMENSIONS)}.")
    sql, params = _sql(pairs)
    return sql, params, ""


def _capacity_entry(unit: str, period: str, thousandths, count: int) -> dict:
    return {
        "unit": unit,
        "period": period or None,
        "capacity_sum": _decimal(thousandths, THOUSANDTH, 1000),
        "facility_count": count,
    }


def facility_stats(*, queryset: QuerySet[Facility], group_by: str) -> list[dict]:
    """Per group of ``group_by`` (one of :data:`FACILITY_DIMENSIONS`) over the facilities of ``queryset``:
    ``key``, ``label``, ``facility_count``, ``capacity`` (one entry per unit and period: ``unit``, ``period``,
    ``capacity_sum`` (Decimal) and ``facility_count``, never a sum across units) and
    ``facilities_without_capacity``. Only groups with at least one facility; most facilities first, then key. Two
    queries (the grouped figures, then the labels)."""
    sql, params, cte = _facility_pairs(queryset=queryset, group_by=group_by)
    rows = _grouped(pairs_sql=sql, params=params, scale=1000, cte=cte, extra_keys=("g_unit", "g_period"))
    by_key: dict = defaultdict(lambda: {"count": 0, "without": 0, "capacity": []})
    for raw_key, unit, period, count, thousandths, without in rows:
        group = by_key[raw_key]
        group["count"] += count
        group["without"] += without
        if count > without:  # the facilities of this unit and period that state a capacity
            group["capacity"].append(_capacity_entry(unit, period, thousandths, count - without))
    label_dimension = {"kind": "facility_kind", "status": "facility_status"}.get(group_by, group_by)
    labels = _labels(group_by=label_dimension, keys=list(by_key)) if by_key else {}
    groups = []
    for raw_key, group in by_key.items():
        key, label = labels.get(raw_key, (str(raw_key), str(raw_key)))
        groups.append(
            {
                "key": key,
                "label": label,
                "facility_count": group["count"],
                "capacity": sorted(group["capacity"], key=lambda c: (c["unit"], c["period"] or "")),
                "facilities_without_capacity": group["without"],
            }
        )
    return _ordered(groups, count="facility_count", value=None)


def facility_stats_totals(*, queryset: QuerySet[Facility], group_by: str) -> dict:
    """Figures over the distinct facilities of ``queryset``: ``facility_count``, ``capacity`` (per unit and period)
    and ``facilities_without_capacity``, and ``not_grouped``: the facilities in no group of ``group_by`` (no
    commodity, or no stated country). One query."""
    if group_by not in FACILITY_DIMENSIONS:
        raise ValueError(f"Unknown facility dimension {group_by!r}; expected one of {', '.join(FACILITY_DIMENSIONS)}.")
    if group_by in ("commodity", "commodity_exact"):
        outside = ~Q(pk__in=Facility.commodities.through.objects.values("facility_id"))
    elif group_by == "country":
        outside = Q(country="")
    else:
        outside = Q(pk__isnull=True)
    no_capacity = Q(capacity_amount__isnull=True)
    rows = (
        Facility.objects.filter(pk__in=queryset.order_by().values("pk"))
        .values("capacity_unit", "capacity_period")
        .annotate(
            count=Count("pk"),
            thousandths=_scaled_sum("capacity_amount", 1000),
            without=Count("pk", filter=no_capacity),
            outside=Count("pk", filter=outside),
        )
        .order_by("capacity_unit", "capacity_period")
    )
    capacity, count, without, outside_count = [], 0, 0, 0
    for row in rows:
        count += row["count"]
        without += row["without"]
        outside_count += row["outside"]
        if row["count"] > row["without"]:
            capacity.append(
                _capacity_entry(
                    row["capacity_unit"], row["capacity_period"], row["thousandths"], row["count"] - row["without"]
                )
            )
    return {
        "facility_count": count,
        "capacity": capacity,
        "facilities_without_capacity": without,
        "not_grouped": {"facility_count": outside_count},
    }
