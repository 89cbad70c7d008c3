#!/usr/bin/env bash
# Line and branch coverage of the whole test suite (ctest: the Catch2 tests, the command-line tests and
# the Python tests), per folder, with gcovr (a Debian package: scripts/install-deps.sh --coverage).
#
#   scripts/coverage.sh            # configure and build the coverage preset, run ctest, print the table
#   scripts/coverage.sh --report   # only print the table of the last run (build/coverage)
#
# Branches: gcovr --exclude-throw-branches --exclude-unreachable-branches, i.e. the branches gcc adds
# for exception unwinding and on lines without code are not counted (every `new` and every call that
# may throw would otherwise add a branch that no test can take on purpose). The table and its command
# are in CONTRIBUTING.md; the full per-file report is written to build/coverage/coverage.json.
set -euo pipefail
cd "$(dirname "$0")/.."

report_only=0
for argument in "$@"; do
  case "$argument" in
    --report) report_only=1 ;;
    -h | --help)
      sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "coverage.sh: error: unknown argument '$argument' (expected --report or --help)" >&2
      exit 2
      ;;
  esac
done

if ! command -v gcovr > /dev/null; then
  echo "coverage.sh: error: gcovr is not installed (scripts/install-deps.sh --coverage)" >&2
  exit 2
fi

build=build/coverage
if [ "$report_only" -eq 0 ]; then
  cmake --preset coverage
  cmake --build --preset coverage -j "$(nproc)"
  find "$build" -name '*.gcda' -delete  # counts of this run only
  ctest --preset coverage || echo "coverage.sh: warning: some tests failed; the table counts the run as it was" >&2
fi

gcovr --root . --object-directory "$build" \
  --filter 'core/' --filter 'problems/' --filter 'theory/' --filter 'flow/' --filter 'discrete/' \
  --filter 'experiments/' --filter 'apps/' --filter 'python/src/' \
  --exclude-throw-branches --exclude-unreachable-branches \
  -j "$(nproc)" --json "$build/coverage.json.tmp" > /dev/null
mv "$build/coverage.json.tmp" "$build/coverage.json"
python3 scripts/coverage_table.py "$build/coverage.json"
