"""``manage.py load_dataset``: a thin wrapper over :func:`deals.services.dataset.dataset_load`."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from deals.loader import DatasetError
from deals.services.dataset import DEFAULT_LOCK_TIMEOUT, dataset_load
from deals.services.dataset_lock import DatasetBusy

MODELS = ("source", "commodity", "company", "facility", "deal")


def _record_names(values: list[str]) -> set[tuple[str, str]]:
    """Parse ``<model>:<slug>`` names (model one of MODELS); anything else is a CommandError naming it."""
    names = set()
    for value in values:
        model, sep, slug = value.partition(":")
        if not sep or model not in MODELS or not slug:
            raise CommandError(
                f"--overwrite: {value!r} is not a record name; write <model>:<slug>, model one of {', '.join(MODELS)}"
            )
        names.add((model, slug))
    return names


class Command(BaseCommand):
    help = (
        "Load the YAML dataset (sources, commodities, companies, facilities, deals and their evidence) in one "
        "transaction. Every quote is verified first; on any problem nothing is written and the command exits 1. "
        "Idempotent: a second run changes nothing. Records changed or deleted outside the loader since it last "
        "wrote them (admin, import, shell) are left alone and listed, unless --overwrite names them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--path",
            type=Path,
            default=Path(settings.BASE_DIR) / "fixtures" / "dataset",
            help="Dataset directory (default: fixtures/dataset).",
        )
        parser.add_argument(
            "--overwrite",
            nargs="*",
            metavar="MODEL:SLUG",
            help=(
                "Take the fixture's version of these records (e.g. deal:gm-offtake-with-noveon) even though they "
                "were changed or deleted outside the loader; with no names, of every such record."
            ),
        )
        parser.add_argument(
            "--lock-timeout",
            type=float,
            default=DEFAULT_LOCK_TIMEOUT,
            help=f"Seconds to wait for another running load to finish (default {DEFAULT_LOCK_TIMEOUT:g}).",
        )

    def handle(self, *args, path: Path, overwrite, lock_timeout: float, **options):
        names = frozenset() if overwrite is None else (None if overwrite == [] else _record_names(overwrite))
        try:
            report = dataset_load(path=path, overwrite=names, lock_timeout=lock_timeout)
        except DatasetError as exc:
            raise CommandError(f"Nothing was loaded. {exc}") from exc
        except DatasetBusy as exc:
            raise CommandError(f"Nothing was loaded: {exc}") from exc
        for line in report.lines():
            self.stdout.write(line)
