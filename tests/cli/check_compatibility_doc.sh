#!/usr/bin/env bash
# docs/COMPATIBILITY.md must be exactly what the binary advertises.
set -euo pipefail
strata=$1 doc=$2
if ! diff -u "$doc" <("$strata" api-versions --markdown); then
  echo "docs/COMPATIBILITY.md is stale: regenerate with 'build/strata api-versions --markdown > docs/COMPATIBILITY.md'" >&2
  exit 1
fi
echo "COMPATIBILITY.md matches the binary"
