"""Benchmark-only: grow the deals table of a scratch database with copies of the loaded dataset's deals.

Run inside Django (``manage.py shell -c "import bench_seed; bench_seed.deals_copy(total=1000)"`` with scripts/ on
the Python path) by scripts/bench_api.py, only against the throw-away database it creates. Copies keep every
relation of their original (parties, commodities, stages, facilities, evidence), so that serialising a page costs
what it costs on real data; their slugs and titles say they are copies.
"""

import copy as copy_module

from django.db import transaction

from deals import models


@transaction.atomic
def deals_copy(*, total: int) -> int:
    """Copy the existing deals round-robin until the table holds ``total`` deals; return the new count."""
    originals = list(
        models.Deal.objects.prefetch_related("party_links", "commodities", "stages", "facilities", "evidence")
    )
    if not originals:
        raise SystemExit("No deals to copy: load the dataset first.")
    needed = total - models.Deal.objects.count()
    copies, plans = [], []
    for n in range(max(needed, 0)):
        original = originals[n % len(originals)]
        copy = models.Deal.objects.get(pk=original.pk)
        copy.pk = None
        copy.slug = f"{original.slug[:100]}-bench-{n}"
        copy.title = f"{original.title[:270]} (bench copy {n})"
        copies.append(copy)
        plans.append(original)
    models.Deal.objects.bulk_create(copies, batch_size=500)
    parties, evidence = [], []
    m2m = {name: getattr(models.Deal, name) for name in ("commodities", "stages", "facilities")}
    through = {name: descriptor.through for name, descriptor in m2m.items()}
    target_column = {name: descriptor.field.m2m_reverse_field_name() + "_id" for name, descriptor in m2m.items()}
    links = {name: [] for name in through}
    for copy, original in zip(copies, plans, strict=True):
        for link in original.party_links.all():
            parties.append(models.DealParty(deal=copy, company_id=link.company_id, role=link.role))
        for item in original.evidence.all():
            clone = copy_module.copy(item)  # a new object per copy: the prefetched one is shared
            clone.pk = None
            clone.deal = copy
            evidence.append(clone)
        for name, model in through.items():
            for related in getattr(original, name).all():
                links[name].append(model(deal_id=copy.pk, **{target_column[name]: related.pk}))
    models.DealParty.objects.bulk_create(parties, batch_size=1000)
    models.Evidence.objects.bulk_create(evidence, batch_size=1000)
    for name, model in through.items():
        model.objects.bulk_create(links[name], batch_size=1000)
    return models.Deal.objects.count()
