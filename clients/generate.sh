#!/usr/bin/env bash
# Generate ReexAPI's clients from an OpenAPI schema file (JSON or YAML) into OUTDIR, replacing what was there:
#   OUTDIR/python/reexapi_client/    the Python package, by openapi-python-client (pinned in pyproject.toml)
#   OUTDIR/typescript/schema.d.ts    the TypeScript types for openapi-fetch, by openapi-typescript (package-lock.json)
#   OUTDIR/typescript/tsconfig.json  clients/typescript/tsconfig.json, with the module "reexapi-schema" mapped to
#                                    that schema.d.ts, type-checking clients/typescript/example.ts
# Generated code is not committed: tests/clients/ generates it from the live server's schema on every run.
# Usage: bash clients/generate.sh SCHEMA OUTDIR   (then: bash clients/typecheck.sh OUTDIR)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -ne 2 ]; then
  echo "usage: $0 SCHEMA OUTDIR" >&2
  exit 2
fi
schema=$(realpath "$1")
out=$(realpath -m "$2")
bash "$root/clients/npm_ci.sh"
rm -rf "$out/python" "$out/typescript"
mkdir -p "$out/python" "$out/typescript"

echo "== openapi-python-client"
# The generator's post-hooks run ruff, which it looks for on PATH.
PATH="$root/.venv/bin:$PATH" "$root/.venv/bin/openapi-python-client" generate --path "$schema" \
  --output-path "$out/python/reexapi_client" --meta none --fail-on-warning \
  --config "$root/clients/python/openapi-python-client.yaml"

echo "== openapi-typescript"
"$root/node_modules/.bin/openapi-typescript" "$schema" --output "$out/typescript/schema.d.ts"
cat > "$out/typescript/tsconfig.json" <<JSON
{
  "extends": "$root/clients/typescript/tsconfig.json",
  "compilerOptions": {
    "paths": {"reexapi-schema": ["$out/typescript/schema.d.ts"]},
    "typeRoots": ["$root/node_modules/@types"]
  },
  "files": ["$root/clients/typescript/example.ts"]
}
JSON
