#!/usr/bin/env bash
# README command 1: install what is missing, build (Release) and run the main job.
# The main job, for now: the gradient flow of a stiff quadratic (p = 200, condition number 1e4)
# integrated by CVODE's BDF method to t = 5000, checked against the PL rate bound.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"

mkdir -p results
echo
echo "gradflow: main job: gradflow flow --config examples/flow-quadratic.toml"
build/release/gradflow flow --config examples/flow-quadratic.toml \
  --out results/flow-quadratic.csv --json results/flow-quadratic.json
echo
echo "gradflow: the trajectory is in results/flow-quadratic.csv, the summary in results/flow-quadratic.json"
