#!/usr/bin/env bash
# Run the test suite (SQLite unless DATABASE_URL says otherwise). Extra arguments go to pytest.
# Installs Debian's Chromium for the browser tests when it is missing (Playwright cannot download one here).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi
exec .venv/bin/python -m pytest "$@"
