"""``manage.py record_withdraw <model> <slug> --reason TEXT``: a thin wrapper over
:func:`deals.services.publication.record_withdraw`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from deals.services.publication import PUBLISHABLE_MODELS, PublicationError, record_by_slug, record_withdraw


class Command(BaseCommand):
    help = (
        "Withdraw a deal, company or facility: it leaves the public API, and its URL answers 410 Gone with the "
        "reason and the date. The row, its evidence and its history are kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("model", choices=sorted(PUBLISHABLE_MODELS), help="The kind of record.")
        parser.add_argument("slug", help="The record's slug.")
        parser.add_argument("--reason", required=True, help="Why it is withdrawn (public: the 410 answer shows it).")

    def handle(self, *args, model, slug, reason, **options):
        try:
            record = record_withdraw(record=record_by_slug(model_name=model, slug=slug), reason=reason)
        except PublicationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Withdrawn {model} “{record.slug}”: {record.withdrawn_reason}"))
