#!/usr/bin/env bash
# Certify a network (docs/tutorials/certify-network.md): the local PL certificate of a one-hidden-layer
# tanh network at the positive initialization, the smallest certified output scale (--find-scale), and a
# flow and a descent run from a certified initialization, each checked against the certified rate and
# travel. Generated data (16 samples, 64 features); a second or less.
set -euo pipefail
GRADFLOW="${GRADFLOW:-build/release/gradflow}"
OUT="${OUT:-$(mktemp -d)}"

# [network]
NET=(--problem mlp --synthetic 16,64 --widths 64 --activation tanh --init positive)
# [scale 1]
"$GRADFLOW" certify "${NET[@]}" --output-scale 1
# [find scale]
"$GRADFLOW" certify "${NET[@]}" --find-scale --json "$OUT/find-scale.json"
# [scale 700]
"$GRADFLOW" certify "${NET[@]}" --output-scale 700 --json "$OUT/certificate.json"
# [flow]
"$GRADFLOW" flow "${NET[@]}" --output-scale 700 --certify --solver auto --t-end 0.05 --loss-tol 1e-8 \
    --out "$OUT/flow.csv" --json "$OUT/flow.json"
# [descend]
"$GRADFLOW" descend "${NET[@]}" --output-scale 700 --certify --step inverse-smoothness \
    --max-iters 3000 --loss-tol 1e-8 --out "$OUT/descent.csv" --json "$OUT/descent.json"
# [no scale]
"$GRADFLOW" certify --problem mlp --synthetic 16,64 --widths 64 --activation softplus --init positive --find-scale
"$GRADFLOW" certify --problem mlp --synthetic 16,64 --widths 64 --activation softplus-centered --init positive \
    --find-scale --json "$OUT/softplus-centered.json"
# [end]
echo "outputs in $OUT"
