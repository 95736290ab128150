"""``manage.py verify_provenance``: a thin wrapper over :func:`deals.provenance.provenance_check`."""

from django.core.management.base import BaseCommand, CommandError

from deals.provenance import provenance_check


class Command(BaseCommand):
    help = (
        "Check provenance in the database: every deal, company and facility has evidence and a current quote for "
        "every non-empty field, every quote equals "
        "source.text[start:end], and every source's text_sha256 matches its text. Exits 1 on any fault."
    )

    def handle(self, *args, **options):
        result = provenance_check()
        for fault in result.faults:
            self.stderr.write(f"FAULT {fault}")
        summary = (
            f"{result.sources} sources, {result.records} deals/companies/facilities, "
            f"{result.evidence} evidence rows, {result.verified} verified"
        )
        if result.faults:
            raise CommandError(f"{len(result.faults)} provenance fault(s); {summary}.")
        self.stdout.write(f"Provenance OK: {summary}.")
