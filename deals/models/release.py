"""Dataset releases: immutable, numbered snapshots of the published dataset, with their files stored in the database.

A release is made once by :func:`deals.services.releases.release_create` and never changes: there is no update
path in the services, the admin shows releases read-only, and the database refuses an UPDATE of either table
(triggers in migration 0014). Deleting a whole release stays possible for an operator (retention), but nothing in
the application does it.

Version strings are CalVer: ``YYYY.MM.DD.N`` where ``N`` counts the releases made that UTC day (1, 2, …). They
are public and stable (a version is never reused). They sort by ``number``, the release's sequence number (1, 2,
3, … across all releases); comparing versions as tuples of integers gives the same order.
"""

from __future__ import annotations

from django.db import models

from deals.models.base import SHA256_VALIDATOR


class DatasetRelease(models.Model):
    """One immutable release of the published dataset: its version, when it was made, its metadata and its files."""

    number = models.PositiveIntegerField(
        unique=True, help_text="Sequence number of the release (1, 2, 3, …); releases sort by it."
    )
    version = models.CharField(
        max_length=32,
        unique=True,
        help_text="Public, stable version string: YYYY.MM.DD.N, N counting the releases made that UTC day.",
    )
    created = models.DateTimeField(help_text="When the release was made (UTC).")
    dataset_sha256 = models.CharField(
        max_length=64,
        validators=[SHA256_VALIDATOR],
        help_text="SHA-256 of the published dataset the release was made from; a release with nothing changed is "
        "refused.",
    )
    metadata = models.JSONField(
        default=dict, help_text="The release's metadata: licence, how to cite, counts of records per table."
    )

    class Meta:
        ordering = ["-number"]
        verbose_name = "dataset release"

    def __str__(self) -> str:
        return self.version


class ReleaseFile(models.Model):
    """A file of a release, bytes included.

    The bytes live in the database so that every server process (and every server behind the proxy) serves them
    without shared storage, and a backup of the database backs the releases up. Today a release is well under a
    megabyte; PostgreSQL stores ``bytea`` out of line (TOAST, compressed) up to 1 GB per value, so this scales to
    datasets a thousand times larger. Beyond that (or to serve from a CDN), move ``content`` to object storage and
    keep ``sha256`` and ``size`` here: the API reads only those two to list files and to answer 304s.
    """

    release = models.ForeignKey(
        DatasetRelease, on_delete=models.CASCADE, related_name="files", help_text="The release the file belongs to."
    )
    position = models.PositiveSmallIntegerField(help_text="Order of the file in the release's listing.")
    name = models.CharField(max_length=100, help_text="File name, e.g. deals.csv; unique within the release.")
    media_type = models.CharField(max_length=100, help_text="IANA media type, e.g. text/csv.")
    size = models.PositiveBigIntegerField(help_text="Size of the file in bytes.")
    sha256 = models.CharField(max_length=64, validators=[SHA256_VALIDATOR], help_text="SHA-256 of the file's bytes.")
    content = models.BinaryField(help_text="The file's bytes.")

    class Meta:
        ordering = ["release", "position"]
        constraints = [
            models.UniqueConstraint(fields=["release", "name"], name="releasefile_name_unique"),
            models.UniqueConstraint(fields=["release", "position"], name="releasefile_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.release.version}/{self.name}"
