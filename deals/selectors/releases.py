"""Read-side selectors of dataset releases (see :mod:`deals.models.release`).

Listings never load a file's bytes (``content`` is deferred); only :func:`release_file_get` with ``content=True``
does, for a download that is not answered 304.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from deals.models import DatasetRelease, ReleaseFile


def _files_prefetch() -> Prefetch:
    return Prefetch("files", queryset=ReleaseFile.objects.defer("content").order_by("position"))


def release_list() -> QuerySet[DatasetRelease]:
    """Every release, newest first, with its files (bytes deferred): two queries whatever the number of releases."""
    return DatasetRelease.objects.order_by("-number").prefetch_related(_files_prefetch())


def release_latest() -> DatasetRelease | None:
    """The newest release with its files (bytes deferred), or ``None`` before the first release."""
    return release_list().first()


def release_get(*, version: str) -> DatasetRelease | None:
    """The release named ``version`` with its files (bytes deferred), or ``None``."""
    return release_list().filter(version=version).first()


def release_file_get(*, version: str, name: str, content: bool = False) -> ReleaseFile | None:
    """The file ``name`` of release ``version``, or ``None``; its bytes are loaded only when ``content`` is true."""
    queryset = ReleaseFile.objects.select_related("release").filter(release__version=version, name=name)
    if not content:
        queryset = queryset.defer("content")
    return queryset.first()
