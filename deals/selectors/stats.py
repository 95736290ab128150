"""Aggregates of deals and facilities: counts and sums per group, computed in the database in a fixed number of
queries whatever the number of records.

A record with several keys (a deal concerning two commodities) counts in each of its groups: those dimensions are
*overlapping* and their groups' figures do not add up to the totals. Deals (the large table) are read once per
request: one query groups them by their set of keys (totals and groups both come from its rows, see
:func:`_deal_figures`) and Python spreads each set over its groups, rolling commodities up the tree. Facilities
(few) are turned into *pairs* (record, group key), each pair at most once, which one grouped query counts and sums.

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
    "instrument",
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
        "instrument": Deal.Instrument,
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


def _distinct_records(queryset: QuerySet) -> QuerySet:
    """The records of ``queryset`` as a query to join, each once and without ordering or annotations.

    The list's filters narrow by subqueries (``pk__in``), so the filtered queryset itself has one row per record and
    is joined as it is: an unfiltered request scans the table once, with no ``IN (subquery)`` over its own ids. A
    queryset that joins or annotates (none of the API's) is narrowed to its ids first, so no join can repeat a
    record."""
    queryset = queryset.order_by()
    if queryset.query.distinct or queryset.query.annotations or len(queryset.query.alias_map) > 1:
        queryset = queryset.model.objects.filter(pk__in=queryset.values("pk")).order_by()
    return queryset


def _key_list(expression: str) -> str:
    """SQL aggregate of a record's keys as one comma-separated string (NULL when it has none), in any order and
    possibly repeated: the sets are made in Python. Keys never contain commas (ids, choice values, country codes)."""
    if connection.vendor == "postgresql":
        return f"string_agg(CAST({expression} AS text), ',')"
    return f"group_concat({expression}, ',')"


def _deal_links(group_by: str) -> QuerySet:
    """The link rows (deal, key) that a many-valued dimension gathers each deal's keys from."""
    if group_by in ("commodity", "commodity_exact"):
        return Deal.commodities.through.objects.values(g_owner=F("deal_id"), g_link=F("commodity_id"))
    if group_by == "stage":
        return Deal.stages.through.objects.values(g_owner=F("deal_id"), g_link=F("supplychainstage_id"))
    links = DealParty.objects.filter(company__publication_status=_PUBLISHED).order_by()
    if group_by == "party_country":
        return links.exclude(company__country="").values(g_owner=F("deal_id"), g_link=F("company__country"))
    return links.values(g_owner=F("deal_id"), g_link=F("company__kind"))


def _deal_figures(*, queryset: QuerySet[Deal], group_by: str) -> list:
    """Rows of (raw key, deal count, summed USD cents, deals without a value), each deal in exactly one row, so the
    rows give the totals as well as the groups. One query.

    Single-valued dimensions group the deals by the column (NULL or "" is a deal in no group). Many-valued ones
    first gather each deal's keys into one string (LEFT JOIN: NULL for a deal with none) and group the deals by
    that string: the rows are as few as the distinct key sets, and each deal is in one of them, so a deal in two
    groups is never summed twice and no (deal, group) pair needs deduplicating in the database. The key sets are
    expanded (and the commodity tree rolled up) in Python, see :func:`_deal_groups`."""
    deals = _distinct_records(queryset)
    if group_by in _DEAL_COLUMNS:
        sql, params = _sql(deals.values(g_key=_DEAL_COLUMNS[group_by], g_amount=F("amount_usd")))
        return _grouped(pairs_sql=sql, params=params, scale=100)
    if group_by not in DEAL_DIMENSIONS:
        raise ValueError(f"Unknown deal dimension {group_by!r}; expected one of {', '.join(DEAL_DIMENSIONS)}.")
    records_sql, records_params = _sql(deals.values(g_record=F("pk"), g_deal_amount=F("amount_usd")))
    links_sql, links_params = _sql(_deal_links(group_by))
    sql = (
        f"SELECT {_key_list('link.g_link')} AS g_key, record.g_deal_amount AS g_amount "
        f"FROM ({records_sql}) record LEFT JOIN ({links_sql}) link ON link.g_owner = record.g_record "
        "GROUP BY record.g_record, record.g_deal_amount"
    )
    return _grouped(pairs_sql=sql, params=records_params + links_params, scale=100)


_DEAL_COLUMNS = {
    "deal_type": F("deal_type"),
    "status": F("status"),
    "instrument": F("instrument"),  # "" (not stated) is a deal in no group, counted in not_grouped
    "announced_year": ExtractYear("announced_date"),
    # The stored value is the comma-joined list of codes ("KR,US"), split like the many-valued key lists.
    "country": F("countries"),
}


def _commodity_tree() -> tuple[dict[int, set[int]], dict]:
    """Every commodity's id with itself and its broader commodities' ids, and the labels: the tree is small, one
    query. A parent chain that loops (only a bare SQL write could store one; clean() refuses it) ends at the first
    repeat."""
    rows = Commodity.objects.values_list("pk", "parent_id", "slug", "name")
    parents = {pk: parent for pk, parent, _, _ in rows}
    ancestors = {}
    for pk in parents:
        chain, node = set(), pk
        while node is not None and node not in chain:
            chain.add(node)
            node = parents.get(node)
        ancestors[pk] = chain
    return ancestors, {pk: (slug, name) for pk, _, slug, name in rows}


def _deal_groups(*, group_by: str, raw_key) -> set:
    """The group keys of one figures row (the raw key of :func:`_deal_figures`); empty for deals in no group."""
    if raw_key is None or raw_key == "":
        return set()
    if group_by in ("deal_type", "status", "announced_year"):
        return {raw_key}
    keys = set(raw_key.split(","))  # a key list (or the stored country list): each key once
    if group_by in ("commodity", "commodity_exact", "stage"):
        return {int(key) for key in keys}
    if group_by == "party_kind":
        # Like the party_kind filter: a kind that includes others (``government`` holds the deals of agencies too).
        keys |= {kind for kind, included in PARTY_KIND_INCLUDES.items() if keys & set(included)}
    return keys


def _deal_summary(*, queryset: QuerySet[Deal], group_by: str) -> tuple[dict, list[dict]]:
    """Totals and groups of ``group_by`` over the deals of ``queryset``, from one figures query and (commodities
    and stages) one query of their labels."""
    rows = _deal_figures(queryset=queryset, group_by=group_by)
    ancestors, labels = _commodity_tree() if group_by == "commodity" else (None, None)
    totals, outside = [0, 0, 0], [0, 0, 0]
    grouped: dict = defaultdict(lambda: [0, 0, 0])
    for raw_key, count, cents, without in rows:
        keys = _deal_groups(group_by=group_by, raw_key=raw_key)
        if ancestors is not None:  # rolled up: a deal counts once in each commodity it names or falls under
            keys = {ancestor for key in keys for ancestor in ancestors.get(key, {key})}
        targets = [totals, *(grouped[key] for key in keys)] if keys else [totals, outside]
        for target in targets:
            target[0] += count
            target[1] += int(cents or 0)
            target[2] += without
    if labels is None:
        labels = _labels(group_by=group_by, keys=list(grouped)) if grouped else {}
    groups = []
    for raw_key, figures in grouped.items():
        key, label = labels.get(raw_key, (str(raw_key), str(raw_key)))
        groups.append({"key": key, "label": label, **_deal_figures_dict(*figures)})
    summary = {**_deal_figures_dict(*totals), "not_grouped": _deal_figures_dict(*outside)}
    return summary, _ordered(groups, count="deal_count", value="value_usd_sum")


def _deal_figures_dict(count: int, cents: int, without: int) -> dict:
    return {"deal_count": count, "value_usd_sum": _decimal(cents, CENT, 100), "deals_without_value": without}


def deal_stats_summary(*, queryset: QuerySet[Deal], group_by: str) -> dict:
    """``totals`` and ``groups`` of ``group_by`` (one of :data:`DEAL_DIMENSIONS`) over the deals of ``queryset``.

    ``totals``: figures over the distinct deals (each deal once, whatever the dimension): ``deal_count``,
    ``value_usd_sum`` (Decimal, the sum of the stated USD values ``amount_usd``), ``deals_without_value``, and
    ``not_grouped``, the same three figures for the deals in no group (e.g. naming no commodity).

    ``groups``: per group ``key``, ``label`` and the same three figures; only groups with at least one deal;
    largest value first, then most deals, then key. ``commodity`` is rolled up the commodity tree; ``party_kind``'s
    ``government`` holds the agencies' deals too.

    One figures query, plus the labels' for commodities and stages: totals and groups come from the same rows (see
    :func:`_deal_figures`), so each request reads the deals once."""
    totals, groups = _deal_summary(queryset=queryset, group_by=group_by)
    return {"totals": totals, "groups": groups}


def deal_stats(*, queryset: QuerySet[Deal], group_by: str) -> list[dict]:
    """The groups of :func:`deal_stats_summary`."""
    return _deal_summary(queryset=queryset, group_by=group_by)[1]


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
