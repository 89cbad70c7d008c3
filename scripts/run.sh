#!/usr/bin/env bash
# README command 1: install what is missing, build (Release) and run the main job: the paper's
# experiment, gradflow compare-inits (positive versus xavier_normal, kaiming_normal, lecun_normal and
# orthogonal initializations), measured in work (gradient evaluations, loss evaluations, wall time)
# with bootstrap intervals and a verdict per width, under two protocols (tuned-fixed: each scheme at
# its best fixed step c / beta0; armijo) on the synthetic default data and on the shipped real data
# set data/digits.csv. Tables and plots in results/compare-inits/<data>-<protocol>/.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"

mkdir -p results/compare-inits
started=$(date +%s)
# Sizes chosen so that the four comparisons take under 3 minutes on 2 cores (docs/tutorials/reproduce-paper.md: "Reproducing the
# paper's comparison" has the full grid and the numbers it gave).
run_compare() {
  local name=$1
  shift
  echo
  echo "gradflow: main job: gradflow compare-inits $* --out results/compare-inits/$name"
  build/release/gradflow compare-inits "$@" --out "results/compare-inits/$name" --overwrite
}
run_compare synthetic-tuned-fixed --protocol tuned-fixed --widths 16,64 --seeds 12
run_compare synthetic-armijo --protocol armijo --widths 16,64 --seeds 12
run_compare digits-tuned-fixed --preset digits --protocol tuned-fixed --widths 32 --seeds 10
run_compare digits-armijo --preset digits --protocol armijo --widths 32 --seeds 10
echo
echo "gradflow: main job done in $(($(date +%s) - started)) s. Tables: results/compare-inits/*/summary.csv (one row per"
echo "gradflow: run: runs.csv); plots: results/compare-inits/*/plots/*.png and *.svg"
