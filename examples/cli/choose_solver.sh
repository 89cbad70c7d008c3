#!/usr/bin/env bash
# Choose a solver (docs/howto/choose-solver.md): one stiff gradient flow, the quadratic with p = 50 and
# Hessian eigenvalues log-spaced in [1e-6, 1], integrated to t = 1e6 at rtol 1e-6 by dopri5 (explicit:
# held at its stability limit, it says so), cvode-bdf (implicit, the dense Hessian) and auto (dopri5,
# handing over to BDF while the problem is stiff); then the network of docs/theory.md §1.5 (528 parameters,
# positive initialization at output scale 1082, rtol 1e-4), where dopri5 stalls and auto's BDF is
# cvode-bdf-krylov. About two seconds on two cores, most of it dopri5's gradients.
set -euo pipefail
GRADFLOW="${GRADFLOW:-build/release/gradflow}"
OUT="${OUT:-$(mktemp -d)}"

# [quadratic]
for solver in dopri5 cvode-bdf auto; do
  "$GRADFLOW" flow --problem quadratic --dim 50 --cond 1e6 --t-end 1e6 --rtol 1e-6 --solver "$solver" \
      --json "$OUT/quadratic-$solver.json"
done
# [network]
NET=(--problem mlp --synthetic 16,32 --widths 16 --init positive --output-scale 1082 --rtol 1e-4 --t-end 1000)
# dopri5 ends at --max-steps: exit status 1, expected here
"$GRADFLOW" flow "${NET[@]}" --solver dopri5 --max-steps 20000 --json "$OUT/network-dopri5.json" || [ $? -eq 1 ]
"$GRADFLOW" flow "${NET[@]}" --solver auto --json "$OUT/network-auto.json"
# [end]
