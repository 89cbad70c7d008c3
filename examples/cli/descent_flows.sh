#!/usr/bin/env bash
# Flows that model descent (docs/explanation/descent-flows.md): gradient descent at step 1 on the
# quadratic with p = 10 and Hessian eigenvalues log-spaced in [0.01, 1] (eta x sharpness = 1, stable),
# against the plain, the modified and the central flow on descent's clock t = k eta; then the modified
# flow alone, integrated by two solvers. Well under a second.
set -euo pipefail
GRADFLOW="${GRADFLOW:-build/release/gradflow}"
OUT="${OUT:-$(mktemp -d)}"

# [against]
"$GRADFLOW" descend --problem quadratic --dim 10 --cond 100 --step fixed --lr 1.0 --max-iters 200 \
    --against-flow central --out "$OUT/descent.csv" --json "$OUT/descent.json"
# [against end]

# [alone]
for solver in dopri5 cvode-bdf; do
  "$GRADFLOW" flow --problem quadratic --dim 10 --cond 100 --flow modified --lr 1.0 --t-end 200 \
      --solver "$solver" --out "$OUT/modified-$solver.csv"
done
# [alone end]
