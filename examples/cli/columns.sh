#!/usr/bin/env bash
# Where the output columns show (docs/howto/add-column.md): the trajectory columns as `gradflow flow --help`
# lists them from the row field table (flow/row_fields.cpp), the header of a descent's --out and of a
# flow's with --observe, and the header of a sweep's runs.csv (the run field table,
# experiments/run_record.cpp). After adding a column, each of these shows it. A second on two cores.
set -euo pipefail
GRADFLOW="${GRADFLOW:-build/release/gradflow}"
OUT="${OUT:-$(mktemp -d)}"

# [help]
"$GRADFLOW" flow --help | sed -n '/^Output:/,/^Exit status:/p' | sed '$d'
# [headers]
"$GRADFLOW" descend --problem karimi --dim 4 --max-iters 10 --out "$OUT/descent.csv" --quiet
"$GRADFLOW" flow --problem least-squares --data data/digits.csv --observe ntk,sharpness --t-end 1 \
    --out "$OUT/flow.csv" --quiet
head -q -n 1 "$OUT/descent.csv" "$OUT/flow.csv"
# [runs]
"$GRADFLOW" compare-inits --inits positive,xavier_normal --widths 16 --seeds 1 --out "$OUT/compare" --no-plots --quiet
head -n 1 "$OUT/compare/runs.csv"
# [end]
