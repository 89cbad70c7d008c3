#!/usr/bin/env bash
# Resume a sweep (docs/howto/resume-sweep.md): a sweep killed part-way and run again, a grid grown from 4
# to 8 seeds, a rerun with another setting refused and then forced with --overwrite, and a rerun from the
# folder's own sweep.toml. examples/cli/small-sweep.toml; a few seconds on two cores.
set -euo pipefail
GRADFLOW="${GRADFLOW:-build/release/gradflow}"
OUT="${OUT:-$(mktemp -d)}"
SWEEP="$OUT/sweep"

# [kill]
# Killed after 0.3 s (SIGKILL: no clean-up at all); on a fast machine it may have finished by then.
timeout -s KILL 0.3 "$GRADFLOW" sweep --config examples/cli/small-sweep.toml --out "$SWEEP" --no-plots --quiet \
    || echo "killed (exit status $?)"
# [rerun]
"$GRADFLOW" sweep --config examples/cli/small-sweep.toml --out "$SWEEP" --no-plots | sed -n 1p
# [grow]
sed 's/^seeds = 4$/seeds = 8/' examples/cli/small-sweep.toml > "$OUT/eight-seeds.toml"
"$GRADFLOW" sweep --config "$OUT/eight-seeds.toml" --out "$SWEEP" --no-plots | sed -n 1p
# [other setting]
sed 's/^eps = 1e-6$/eps = 1e-4/' "$OUT/eight-seeds.toml" > "$OUT/looser.toml"
if "$GRADFLOW" sweep --config "$OUT/looser.toml" --out "$SWEEP" --no-plots --quiet; then
  echo "resume_sweep.sh: a rerun with another eps was not refused" >&2
  exit 1
fi
"$GRADFLOW" sweep --config "$OUT/looser.toml" --out "$SWEEP" --no-plots --overwrite | sed -n 1p
# [from the folder]
"$GRADFLOW" sweep --config "$SWEEP/sweep.toml" --no-plots | sed -n 1p
# [end]
