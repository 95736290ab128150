"""``manage.py export_dataset --path DIR``: a thin wrapper over :func:`deals.services.export.dataset_export`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from deals.services.export import dataset_export


class Command(BaseCommand):
    help = (
        "Write the database's dataset (drafts included) to DIR in the layout and canonical form of "
        "fixtures/dataset/: sources.yaml, commodities.yaml and one file of records per source; raw documents go "
        "to DIR/../sources/. Existing *.yaml files in DIR are replaced."
    )

    def add_arguments(self, parser):
        parser.add_argument("--path", type=Path, required=True, help="Directory to write, e.g. fixtures/dataset.")

    def handle(self, *args, path: Path, **options):
        if path.exists() and not path.is_dir():
            raise CommandError(f"--path {path} is not a directory")
        try:
            counts = dataset_export(path=path)
        except OSError as exc:
            raise CommandError(f"cannot write the export to {path}: {exc}") from exc
        for name, count in counts.items():
            self.stdout.write(f"{path / name}: {count} record(s)")
