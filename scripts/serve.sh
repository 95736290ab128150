#!/usr/bin/env bash
# Set everything up and serve the API on 127.0.0.1:8000 with the dataset loaded (SQLite by default).
# Safe to run again: installs only what changed, migrations and the loader are idempotent.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py load_dataset
.venv/bin/python manage.py verify_provenance
if [ "${REEXAPI_NO_SERVE:-}" = "1" ]; then
  exit 0
fi
exec .venv/bin/python manage.py runserver 127.0.0.1:8000
