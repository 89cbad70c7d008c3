"""Read a sweep's runs.csv with the csv module (docs/howto/read-runs-csv.md).

    python3 examples/python/read_runs_csv.py [runs.csv]

Without an argument it first runs the small sweep of examples/cli/small-sweep.toml into a temporary
folder with the gradflow program ($GRADFLOW, default build/release/gradflow). It prints, per method,
width and scheme, the runs, how many reached the target, how many were certified at theta0, and the
median gradient evaluations to the target (a run that did not reach it counting as infinitely many, as
summary.csv counts it). Needs nothing but the standard library and numpy.
"""
import csv
import math
import os
import subprocess
import sys
import tempfile
from collections import defaultdict

import numpy as np

if len(sys.argv) > 1:
    path = sys.argv[1]
else:
    folder = tempfile.mkdtemp()
    gradflow = os.environ.get("GRADFLOW", "build/release/gradflow")
    subprocess.run([gradflow, "sweep", "--config", "examples/cli/small-sweep.toml", "--out", folder,
                    "--no-plots", "--quiet"], check=True)
    path = os.path.join(folder, "runs.csv")


def number(text):
    """A numeric field: empty means not applicable (NaN); 'inf' and 'nan' are written as such."""
    return float(text) if text else math.nan


with open(path, newline="") as f:
    runs = list(csv.DictReader(f))  # columns by name: RFC 4180 quoting, as the file is written

groups = defaultdict(list)
for run in runs:
    groups[(run["method"], int(run["width"]), run["init"])].append(run)

print(f"{len(runs)} runs in {path}")
print(f"{'method':8} {'width':>5} {'init':14} {'runs':>4} {'reached':>7} {'certified':>9} {'median grads':>12}")
for (method, width, init), group in sorted(groups.items()):
    work = [number(r["grad_evals"]) if r["reached"] == "1" else math.inf for r in group]
    certified = sum(r["certified"] == "1" for r in group)  # 1 holds, 0 fails, -1 the theory does not apply
    reached = sum(r["reached"] == "1" for r in group)
    print(f"{method:8} {width:5d} {init:14} {len(group):4d} {reached:7d} {certified:9d} {np.median(work):12.1f}")
