#!/usr/bin/env bash
# Install the pinned Node.js tools of package-lock.json (openapi-typescript, openapi-fetch, TypeScript 5, tsx) with
# `npm ci`, once per change of the lock file (like scripts/bootstrap.sh for Python), under a lock so that two test
# runs at once cannot install over each other. Fails with a clear message when Node.js 20+ or npm is missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "The generated clients' check needs Node.js 20 or newer and npm ('$tool' is not on PATH):" \
      "install them (Debian: apt-get install nodejs npm) and run this again." >&2
    exit 1
  fi
done
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "The generated clients' check needs Node.js 20 or newer; this is $(node --version)." >&2
  exit 1
fi
want=$(cat package.json package-lock.json | sha256sum | cut -d' ' -f1)
stamp=node_modules/.reexapi-installed
exec 9>.npm-install.lock
flock 9
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi
