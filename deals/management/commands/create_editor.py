"""``manage.py create_editor <username>``: a thin wrapper over :func:`deals.editing.editor_create`."""

from __future__ import annotations

import getpass
import os
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from deals.editing import EDITORS_GROUP, editor_create

PASSWORD_ENV = "REEXAPI_EDITOR_PASSWORD"


class Command(BaseCommand):
    help = (
        "Create (or update) a staff account in the Editors group, creating the group and its permissions too. "
        f"The password comes from --password, else ${PASSWORD_ENV}, else a prompt; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("username", help="Login name of the editor.")
        parser.add_argument("--email", default="", help="E-mail address of the editor.")
        parser.add_argument(
            "--password",
            default=None,
            help=f"Password (visible in the shell history; prefer ${PASSWORD_ENV} or the prompt).",
        )
        parser.add_argument(
            "--no-password",
            action="store_true",
            help="Do not set or ask for a password (an existing password is kept; a new account gets none).",
        )

    def handle(self, *args, username, email, password, no_password, **options):
        if not no_password and password is None:
            password = os.environ.get(PASSWORD_ENV) or None
        if not no_password and password is None:
            if not sys.stdin.isatty():
                raise CommandError(f"Give a password with --password or ${PASSWORD_ENV}, or use --no-password.")
            password = getpass.getpass("Password: ")
            if password != getpass.getpass("Password (again): "):
                raise CommandError("The passwords do not match.")
        try:
            user = editor_create(username=username, email=email, password=password)
        except ValidationError as exc:
            raise CommandError("Password rejected: " + " ".join(exc.messages)) from exc
        self.stdout.write(self.style.SUCCESS(f"Editor “{user.username}” is ready (staff, group {EDITORS_GROUP})."))
