#!/usr/bin/env bash
# Serve ReexAPI in production: gunicorn (reexapi/gunicorn.conf.py, workers sized from the CPUs) on PostgreSQL and
# Redis, DEBUG off. The environment must provide DJANGO_SECRET_KEY, DATABASE_URL, REDIS_URL and
# DJANGO_ALLOWED_HOSTS; see README.md, "Production", for every setting. Safe to run again: installs only what
# changed, migrations and the loader are idempotent, collectstatic copies only what changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
export DJANGO_DEBUG=false
for name in DJANGO_SECRET_KEY DATABASE_URL REDIS_URL DJANGO_ALLOWED_HOSTS; do
  if [ -z "${!name:-}" ]; then
    echo "serve-production.sh: $name is not set (README.md, \"Production\")." >&2
    exit 1
  fi
done
.venv/bin/python manage.py check --deploy --fail-level WARNING
.venv/bin/python manage.py migrate --noinput
.venv/bin/python manage.py collectstatic --noinput -v 0
.venv/bin/python manage.py load_dataset
.venv/bin/python manage.py verify_provenance
if [ "${REEXAPI_NO_SERVE:-}" = "1" ]; then
  exit 0
fi
exec .venv/bin/gunicorn -c reexapi/gunicorn.conf.py reexapi.wsgi
