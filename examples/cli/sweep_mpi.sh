#!/usr/bin/env bash
# Run a sweep across MPI ranks (docs/howto/sweep-mpi.md): examples/cli/small-sweep.toml on two ranks of
# this machine, then the same sweep in one process, and a check that both runs.csv hold the same runs
# (every column but the two wall-time ones). Needs a gradflow built with MPI (OpenMPI found by CMake)
# and mpirun; without mpirun it says so and exits 0. A few seconds on two cores.
set -euo pipefail
GRADFLOW="${GRADFLOW:-build/release/gradflow}"
OUT="${OUT:-$(mktemp -d)}"
MPIRUN="${MPIRUN:-mpirun}"

if ! command -v "$MPIRUN" > /dev/null; then
  echo "sweep_mpi.sh: $MPIRUN not found (apt-get install openmpi-bin): skipped"
  exit 0
fi
if [ "$(id -u)" = 0 ]; then  # OpenMPI refuses to run as root unless told
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi

# [mpi]
"$MPIRUN" -n 2 --oversubscribe "$GRADFLOW" sweep --config examples/cli/small-sweep.toml --out "$OUT/mpi" --no-plots
# [one process]
"$GRADFLOW" sweep --config examples/cli/small-sweep.toml --out "$OUT/one" --no-plots --quiet
# [compare]
without_wall_times() {  # runs.csv without train_seconds and wall_seconds (this sweep's fields hold no comma)
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) drop[i] = ($i == "train_seconds" || $i == "wall_seconds") }
           { line = ""; for (i = 1; i <= NF; i++) if (!drop[i]) line = line (line == "" ? "" : ",") $i; print line }' "$1"
}
if diff <(without_wall_times "$OUT/mpi/runs.csv") <(without_wall_times "$OUT/one/runs.csv") > /dev/null; then
  echo "2 ranks and 1 process: the same $(($(wc -l < "$OUT/one/runs.csv") - 1)) runs"
else
  echo "2 ranks and 1 process differ" >&2
  exit 1
fi
# [several machines]
# Not run here: on several machines, with the same gradflow, sweep file and data at the same paths on each,
# a hostfile with one line per machine ("node1 slots=8"), one rank per machine and --threads set to each
# machine's cores (--threads 0 would give each rank cores / ranks):
#   mpirun --hostfile hosts -n 2 --map-by ppr:1:node build/release/gradflow sweep \
#       --config examples/cli/small-sweep.toml --out /shared/results/small-sweep --threads 8 --no-plots
# [end]
