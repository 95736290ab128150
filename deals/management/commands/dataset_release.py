"""``manage.py dataset_release [--base-url URL]``: thin wrapper over :func:`deals.services.releases.release_create`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from deals.services.dataset_lock import DatasetBusy
from deals.services.releases import ReleaseRefused, release_create


class Command(BaseCommand):
    help = (
        "Make an immutable, numbered release of the published dataset: a Frictionless Data Package v2 (CSVs with "
        "Table Schemas), records.jsonl, CHANGES.json and checksums, served at /api/v1/releases/. Refused (exit 1) "
        "when nothing changed since the previous release."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            help="Public address the records' absolute URLs are built on (default: REEXAPI_PUBLIC_URL).",
        )

    def handle(self, *args, base_url=None, **options):
        try:
            release = release_create(base_url=base_url)
        except (ReleaseRefused, DatasetBusy) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        self.stdout.write(self.style.SUCCESS(f"Release {release.version} made:"))
        for file in release.files.defer("content").order_by("position"):
            self.stdout.write(f"  {file.name:<28} {file.size:>9} bytes  sha256 {file.sha256}")
