"""``manage.py verify_source_text FILE --source SLUG``: a thin wrapper over
:func:`deals.services.source_verification.source_text_verify`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from deals.services.source_verification import (
    SourceNotFound,
    source_get,
    source_text_verify,
    verification_report_lines,
)


class Command(BaseCommand):
    help = (
        "Check your own copy of a source article against the dataset: its SHA-256 digests (raw bytes, and the text "
        "normalised as the loader does it) and every published quote at its offsets. Exits 0 when the normalised "
        "text and every quote match, 1 when anything differs (each difference is named), 2 for a bad slug or file."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Your copy of the article: a text file, read as raw bytes.")
        parser.add_argument("--source", required=True, metavar="SLUG", help="The source's slug, e.g. from the API.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            source = source_get(slug=options["source"])
        except SourceNotFound as exc:
            raise CommandError(str(exc), returncode=2) from None
        except DatabaseError as exc:
            raise CommandError(
                f"The database holds no dataset ({exc}): run manage.py migrate and load_dataset first.", returncode=2
            ) from None
        if not path.is_file():
            problem = "is a directory" if path.is_dir() else "does not exist"
            raise CommandError(f"FILE {path} {problem}: give the path of your copy of the article.", returncode=2)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"FILE {path} cannot be read: {exc.strerror}.", returncode=2) from None

        result = source_text_verify(source=source, raw=raw)
        for line in verification_report_lines(result=result):
            self.stdout.write(line)
        if not result.ok:
            differs = [] if result.decode_error is None and result.text_matches else ["text_sha256"]
            if result.differing_quotes:
                differs.append(f"{len(result.differing_quotes)} quote(s)")
            raise CommandError(f"{path} does not match source {source.slug!r}: {', '.join(differs)} differ.")
        self.stdout.write(f"OK: {path} matches source {source.slug!r}: the normalised text and every published quote.")
