# Sourced by serve.sh and test.sh: make the virtual environment, install the pinned dependencies when
# pyproject.toml changed, and write a local .env with a random secret key. Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.reexapi-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'
  echo "$want" > "$stamp"
fi
if [ ! -f .env ]; then
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  printf 'DJANGO_DEBUG=true\nDJANGO_SECRET_KEY=dev-%s\n' "$secret" > .env
fi
