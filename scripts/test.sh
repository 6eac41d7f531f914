#!/usr/bin/env bash
# The one test command (README, .ci/run): set up, build, run every test — lab tests
# included — and fail if any test was skipped while CI is set.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if ((${#files[@]} == 0)); then
  echo "test: no compiled tests found under dist/test" >&2
  exit 1
fi

tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
status=0
node --test --test-timeout=300000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${files[@]}" || status=$?

skipped=$(sed -n 's/^# skipped \([0-9]*\)$/\1/p' "$tap" | tail -1)
if [[ -n "${CI:-}" && "${skipped:-0}" != 0 ]]; then
  echo "test: ${skipped} test(s) skipped while CI is set; every test must run in CI" >&2
  grep -E '# SKIP' "$tap" >&2 || true
  exit 1
fi
exit "$status"
