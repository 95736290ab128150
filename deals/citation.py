"""How to cite the dataset, read from the repository's ``CITATION.cff`` (the one place the citation is written).

The API index and the landing page show it; a change to CITATION.cff changes both (and, because the response
cache keys on the code and pyproject only, the file is read once per process: a deployment restarts the process).
"""

from __future__ import annotations

import functools
from pathlib import Path

import yaml
from django.conf import settings

from deals.licensing import DATASET_LICENSE


@functools.cache
def citation_metadata_get() -> dict:
    """The parsed ``CITATION.cff`` beside manage.py (Citation File Format 1.2.0)."""
    return yaml.safe_load((Path(settings.BASE_DIR) / "CITATION.cff").read_text(encoding="utf-8"))


def citation_authors_get() -> list[str]:
    """The authors' names as CITATION.cff gives them: an entity's ``name``, or a person's given and family names."""
    names = []
    for author in citation_metadata_get()["authors"]:
        if "name" in author:
            names.append(author["name"])
        else:
            names.append(" ".join(part for part in (author.get("given-names"), author.get("family-names")) if part))
    return names


def citation_text_get(*, url: str, version: str | None = None) -> str:
    """A one-line citation: authors, title, "[Data set]", the version if given, the licence, and ``url``.

    ``url`` is where the reader found the dataset (the landing page's absolute URL); ``version`` the release.
    """
    meta = citation_metadata_get()
    parts = [", ".join(citation_authors_get()) + ".", f"{meta['title']} [Data set]."]
    if version:
        parts.append(f"Version {version}.")
    parts.append(f"{DATASET_LICENSE['name']} ({DATASET_LICENSE['id']}).")
    parts.append(url)
    return " ".join(parts)
