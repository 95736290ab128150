"""Bump the dataset version after every committed write to a dataset model.

This is cache invalidation, not business logic: nothing here changes data or decides anything about it, it only
tells deals/caching.py that ETags and cached API responses issued so far are out of date. Signals are the one hook
that sees every write path (admin, loader, shell, services) without each of them having to remember the cache.

The bump runs in ``transaction.on_commit``: a loader transaction that writes thousands of rows bumps once, at
commit, and a rolled-back write does not bump at all. Historical (django-simple-history) models are ignored: they
are not served by the API and are only written together with a dataset model that already bumps.

Writes that send no signal (``QuerySet.update()``, ``bulk_create()``, raw SQL) must call
``deals.caching.dataset_version_bump()`` themselves, in ``transaction.on_commit``.
"""

from __future__ import annotations

from django.apps import apps
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

from deals.caching import dataset_version_bump

_M2M_ACTIONS = {"post_add", "post_remove", "post_clear"}


def _dataset_models():
    """Every concrete model of the deals app, including explicit through models, minus history tables and the
    version row itself."""
    for model in apps.get_app_config("deals").get_models():
        if model.__name__.startswith("Historical") or model._meta.label == "deals.DatasetVersion":
            continue
        yield model


def _queued_bump():
    """A bump to queue on a transaction; ``done`` once it ran, so that a later write queues anew even where
    callbacks run without leaving ``run_on_commit`` (Django's ``captureOnCommitCallbacks`` in tests)."""

    def bump() -> None:
        bump.done = True
        dataset_version_bump()

    bump.done = False
    bump.reexapi_dataset_bump = True
    return bump


def _bump_on_commit(*, using: str | None) -> None:
    """Queue one version bump for when the current transaction commits (at once in autocommit mode).

    A bump still queued in this transaction, at this savepoint or an enclosing one, makes another redundant: both
    would run on the same commit and both would be dropped by the same rollback. Reading ``run_on_commit`` (a list
    of ``(savepoint_ids, func, robust)`` in Django 5.2) is what keeps a loader run of thousands of rows at one bump.
    """
    connection = transaction.get_connection(using)
    current = set(connection.savepoint_ids)
    for savepoint_ids, func, _robust in connection.run_on_commit:
        if getattr(func, "reexapi_dataset_bump", False) and not func.done and savepoint_ids <= current:
            return
    # robust: a cache outage must not turn an editor's committed save into an error page; Django logs the failure.
    transaction.on_commit(_queued_bump(), using=using, robust=True)


def _on_save_or_delete(sender, using=None, **kwargs) -> None:
    _bump_on_commit(using=using)


def _on_m2m_changed(sender, action, using=None, **kwargs) -> None:
    if action in _M2M_ACTIONS:
        _bump_on_commit(using=using)


def dataset_signals_connect() -> None:
    """Connect the bump to post_save/post_delete of every dataset model and to every M2M field of the app.

    ``dispatch_uid`` makes this idempotent, so calling it twice (tests, autoreload) connects once.
    """
    for model in _dataset_models():
        uid = f"reexapi-dataset-version:{model._meta.label}"
        post_save.connect(_on_save_or_delete, sender=model, dispatch_uid=f"{uid}:save")
        post_delete.connect(_on_save_or_delete, sender=model, dispatch_uid=f"{uid}:delete")
        for field in model._meta.local_many_to_many:
            through = field.remote_field.through
            m2m_changed.connect(_on_m2m_changed, sender=through, dispatch_uid=f"{uid}:m2m:{field.name}")
