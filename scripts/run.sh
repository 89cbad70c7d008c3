#!/usr/bin/env bash
# README command 1: install what is missing, build (Release) and run the main job: the paper's
# experiment with its defaults, gradflow compare-inits (positive versus xavier_normal, kaiming_normal,
# lecun_normal and orthogonal initializations at widths 16, 32, 64, 20 seeds each, on synthetic
# linearly independent data), with its table and plots in results/compare-inits.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake --preset release
cmake --build --preset release -j "$(nproc)"

mkdir -p results
echo
echo "gradflow: main job: gradflow compare-inits --out results/compare-inits"
build/release/gradflow compare-inits --out results/compare-inits
echo
echo "gradflow: the table is results/compare-inits/summary.csv (one row per run: runs.csv);"
echo "gradflow: the plots are results/compare-inits/plots/*.png and *.svg"
