"""``manage.py record_merge <model> <slug> --into <slug>``: a thin wrapper over
:func:`deals.services.publication.record_merge`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from deals.services.publication import PUBLISHABLE_MODELS, PublicationError, record_by_slug, record_merge


class Command(BaseCommand):
    help = (
        "Merge a duplicate deal, company or facility into the record it duplicates: its evidence and links move "
        "there, and its URL answers 301 to the survivor's."
    )

    def add_arguments(self, parser):
        parser.add_argument("model", choices=sorted(PUBLISHABLE_MODELS), help="The kind of record.")
        parser.add_argument("slug", help="The duplicate's slug.")
        parser.add_argument("--into", required=True, metavar="SLUG", help="The slug of the record it duplicates.")

    def handle(self, *args, model, slug, into, **options):
        try:
            duplicate = record_by_slug(model_name=model, slug=slug)
            survivor = record_merge(duplicate=duplicate, survivor=record_by_slug(model_name=model, slug=into))
        except PublicationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Merged {model} “{duplicate.slug}” into “{survivor.slug}”."))
