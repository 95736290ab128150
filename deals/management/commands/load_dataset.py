"""``manage.py load_dataset``: a thin wrapper over :func:`deals.services.dataset.dataset_load`."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deals.loader import DatasetError
from deals.services.dataset import dataset_load


class Command(BaseCommand):
    help = (
        "Load the YAML dataset (sources, commodities, companies, facilities, deals and their evidence) in one "
        "transaction. Every quote is verified first; on any problem nothing is written and the command exits 1. "
        "Idempotent: a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            type=Path,
            default=Path(settings.BASE_DIR) / "fixtures" / "dataset",
            help="Dataset directory (default: fixtures/dataset).",
        )

    def handle(self, *args, path: Path, **options):
        try:
            report = dataset_load(path=path)
        except DatasetError as exc:
            raise CommandError(f"Nothing was loaded. {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
