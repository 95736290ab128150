"""The licences under which ReexAPI publishes its dataset and its code, in one place: the OpenAPI ``info``, the API
index, the ``Link: rel="license"`` header, every release and the landing page all read them from here."""

from __future__ import annotations

# The dataset: records, evidence quotes and the editors' text. Source articles stay their publishers' property and
# are not covered (see docs/provenance.md, "Rights").
DATASET_LICENSE = {
    "id": "CC-BY-4.0",
    "name": "Creative Commons Attribution 4.0 International",
    "url": "https://creativecommons.org/licenses/by/4.0/",
}

# The code of this repository.
CODE_LICENSE = {
    "id": "Apache-2.0",
    "name": "Apache License 2.0",
    "url": "https://www.apache.org/licenses/LICENSE-2.0",
}
