#!/usr/bin/env bash
# Type-check both example programs against the clients that clients/generate.sh wrote into OUTDIR: mypy --strict
# (which also checks the generated Python package it imports) and tsc --strict. Fails unless both report 0 errors.
# Usage: bash clients/typecheck.sh OUTDIR
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
out=$(realpath "$1")
cd "$root"
status=0
echo "== mypy --strict clients/python/example.py"
# The cache lives beside the generated code: two suites run side by side (.ci/run) and a shared .mypy_cache
# written by both at once makes mypy fail with an INTERNAL ERROR.
MYPYPATH="$out/python" .venv/bin/mypy --strict --cache-dir "$out/.mypy_cache" clients/python/example.py || status=1
echo "== tsc --strict --noEmit clients/typescript/example.ts"
if node_modules/.bin/tsc --strict --noEmit --pretty false -p "$out/typescript/tsconfig.json"; then
  echo "tsc: 0 errors"
else
  status=1
fi
exit $status
