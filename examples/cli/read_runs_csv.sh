#!/usr/bin/env bash
# Read runs.csv (docs/howto/read-runs-csv.md): the small sweep of examples/cli/small-sweep.toml, its
# columns, and the runs of one scheme and width with the columns a reader usually wants; then examples/python/read_runs_csv.py on the same file when a python3
# with numpy is there. A second or two on two cores.
set -euo pipefail
GRADFLOW="${GRADFLOW:-build/release/gradflow}"
OUT="${OUT:-$(mktemp -d)}"

# [sweep]
"$GRADFLOW" sweep --config examples/cli/small-sweep.toml --out "$OUT/sweep" --no-plots --quiet
RUNS="$OUT/sweep/runs.csv"
# [columns]
head -n 1 "$RUNS" | tr ',' '\n' | paste -d ' ' - - - - - -
# [select]
# Columns by name, not by position (a newer gradflow may add columns); this sweep's fields hold no comma.
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; print "init width method seed certified reached grad_evals beta0"; next }
         $col["init"] == "positive" && $col["width"] == 16 {
           print $col["init"], $col["width"], $col["method"], $col["seed"], $col["certified"], $col["reached"],
                 $col["grad_evals"], $col["beta0"] }' "$RUNS"
# [python]
if /usr/bin/python3 -c "import numpy" 2> /dev/null; then
  /usr/bin/python3 examples/python/read_runs_csv.py "$RUNS"
fi
# [end]
