"""The dataset version: one row that every committed write to the dataset replaces (see deals/caching.py)."""

from __future__ import annotations

from django.db import models


class DatasetVersion(models.Model):
    """The current dataset version, a random token stored in the database so that every process sees it.

    There is exactly one row (``id = 1``). Every committed write to a dataset model replaces ``token`` with a new
    random one (deals/signals.py); the API's ETags and cached responses are keyed by it. It lives in the
    database, not in a cache, because the database is the one thing every writer (admin, shell, loader, import,
    another server) and every server process share, with the default settings as well as with Redis.
    """

    id = models.SmallIntegerField(primary_key=True, default=1, editable=False)
    token = models.CharField(max_length=32, help_text="Random hexadecimal token; a new one after every write.")
    changed = models.DateTimeField(auto_now=True, help_text="When the token was last replaced.")

    class Meta:
        verbose_name = "dataset version"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(id=1),
                name="datasetversion_single_row",
                violation_error_message="There is only one dataset version row: its id is 1.",
            )
        ]

    def __str__(self) -> str:
        return self.token
