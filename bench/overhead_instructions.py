#!/usr/bin/env python3
"""Solver overhead in instructions, not seconds: gradflow's dopri5 against the bare odeint loop.

Runs each pair of gradflow_bench benchmarks (Flow/dopri5/PROBLEM and Bare/odeint-dopri5/PROBLEM) once
under valgrind's callgrind and reads the inclusive instruction counts of simulate_flow, of the bare
loop and of the problem's loss_and_gradient. Instruction counts do not depend on the machine's load,
so the ratios can be measured on a busy shared machine where wall times cannot. Printed per problem:
  overhead factor = instructions of the run / instructions of its gradient evaluations
  gradflow / bare = instructions of gradflow's run / instructions of the bare loop (same steps)
Caveat: callgrind counts a `rep movsb` (glibc's memcpy for large copies) as one instruction per byte,
which overstates large copies several-fold in these counts.

Usage: bench/overhead_instructions.py [--bench build/release/bench/gradflow_bench] [--problems a,b]
Needs valgrind (scripts/install-deps.sh --bench).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

PROBLEMS = ["quadratic-1e2", "quadratic-1e4", "quadratic-1e6", "least-squares", "karimi", "mlp"]
GRADIENT = r"^gradflow::(Quadratic|LeastSquares|Karimi|Mlp|Rosenbrock)::loss_and_gradient\("


def inclusive(path):
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                          capture_output=True, text=True, check=True).stdout
    counts = {}
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+\S*?:(.*)", line)
        if m:
            counts[m.group(2)] = int(m.group(1).replace(",", ""))
    return counts


def total(counts, pattern):
    return sum(v for k, v in counts.items() if re.search(pattern, k))


def profile(bench, name, folder):
    out = os.path.join(folder, name.replace("/", "_") + ".out")
    subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out, bench,
                    "--benchmark_filter=^" + name + "$", "--benchmark_min_time=0.001"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return inclusive(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bench", default="build/release/bench/gradflow_bench")
    parser.add_argument("--problems", default=",".join(PROBLEMS))
    args = parser.parse_args()
    if shutil.which("valgrind") is None or shutil.which("callgrind_annotate") is None:
        sys.exit("overhead_instructions.py: valgrind is not installed (scripts/install-deps.sh --bench)")
    if not os.path.isfile(args.bench):
        sys.exit("overhead_instructions.py: --bench " + args.bench + ": no such file")
    print("| problem | gradflow instructions | of which gradients | overhead factor | bare loop instructions"
          " | bare overhead factor | gradflow / bare |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for problem in args.problems.split(","):
            flow = profile(args.bench, "Flow/dopri5/" + problem, folder)
            bare = profile(args.bench, "Bare/odeint-dopri5/" + problem, folder)
            run = total(flow, r"^gradflow::simulate_flow\(")
            gradients = total(flow, GRADIENT)
            bare_run = total(bare, r"^gradflow::bench::bare_odeint_dopri5\(")
            # The Bare benchmark also runs gradflow's dopri5 once (untimed) on the same problem: the same
            # gradient evaluations as the Flow benchmark's run, subtracted here.
            bare_gradients = total(bare, GRADIENT) - gradients
            print(f"| {problem} | {run:,} | {gradients:,} | {run / gradients:.3f} | {bare_run:,} |"
                  f" {bare_run / bare_gradients:.3f} | {run / bare_run:.3f} |", flush=True)


if __name__ == "__main__":
    main()
