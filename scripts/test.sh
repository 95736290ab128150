#!/usr/bin/env bash
# Run the test suite (SQLite unless DATABASE_URL says otherwise). Extra arguments go to pytest.
# Installs Debian's Chromium for the browser tests when it is missing (Playwright cannot download one here).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Debian's Chromium at /usr/bin/chromium: run 'apt-get install chromium' as root." >&2
    exit 1
  fi
fi
exec .venv/bin/python -m pytest "$@"
