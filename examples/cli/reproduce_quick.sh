#!/usr/bin/env bash
# The quick version of the paper's comparison (docs/tutorials/reproduce-paper.md): positive against
# xavier_normal, kaiming_normal, lecun_normal and orthogonal on the synthetic default data (16 x 32),
# widths 16 and 64, 12 seeds, under Armijo backtracking and under the gradient flow (dopri5). These are
# two of the nine comparisons of the full run, with the same settings, so they give the same rows as its
# table; a few seconds on two cores.
set -euo pipefail
GRADFLOW="${GRADFLOW:-build/release/gradflow}"
OUT="${OUT:-$(mktemp -d)}"

for p in armijo flow; do
  "$GRADFLOW" compare-inits --protocol "$p" --widths 16,64 --seeds 12 --out "$OUT/synthetic-$p" --no-plots
done
