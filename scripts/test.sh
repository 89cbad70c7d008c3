#!/usr/bin/env bash
# README command 2: install what is missing, build and run the whole test suite through ctest.
# With an argument, uses that preset (release, debug or sanitize); the default is release.
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"

scripts/install-deps.sh
cmake --preset "$preset"
cmake --build --preset "$preset" -j "$(nproc)"
ctest --preset "$preset"
