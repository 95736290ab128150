"""Read and check the YAML dataset (``fixtures/dataset/``) into a load plan, without writing anything.

The dataset is a directory of YAML files:

- ``sources.yaml``: the source documents (``file`` points at the raw document, relative to the dataset directory);
- ``commodities.yaml``: the commodity vocabulary;
- any other ``*.yaml``: records, one file per source article, with top-level ``source`` (the default source of
  its evidence), ``companies``, ``facilities`` and ``deals``.

:func:`dataset_plan` validates everything a load needs before :func:`deals.services.dataset.dataset_load` writes a row:
every quote is located in its source's normalised text (computed here from the raw bytes), every slug reference
resolves, every choice value is known, and every record passes ``full_clean()``. All problems are collected, each
naming the file, the record and (for evidence) the quote, so one run reports them all.

Modules: :mod:`.reading` (the plan's types, YAML and field checks), :mod:`.records` (evidence, links, sources,
commodities), :mod:`.plan` (:func:`dataset_plan`).
"""

from deals.loader.plan import dataset_plan, stored_evidence_problems
from deals.loader.reading import (
    COMMODITIES_FILE,
    SOURCES_FILE,
    DatasetError,
    DatasetPlan,
    EvidencePlan,
    RecordPlan,
    YamlLoader,
    field_empty,
    plain_fields,
)

__all__ = [
    "COMMODITIES_FILE",
    "DatasetError",
    "DatasetPlan",
    "EvidencePlan",
    "RecordPlan",
    "SOURCES_FILE",
    "YamlLoader",
    "dataset_plan",
    "field_empty",
    "plain_fields",
    "stored_evidence_problems",
]
