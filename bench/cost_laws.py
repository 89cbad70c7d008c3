#!/usr/bin/env python3
"""How gradflow's cost grows: fitted exponents, log-log plots, and sweep throughput on threads and ranks.

What it measures (one run of each part; the machine and its load are printed)
---------------------------------------------------------------------------
1. gradflow_bench --benchmark_filter=Cost/ (JSON through --benchmark_out):
   * one network loss-and-gradient (one thread) against the number of samples n (d = 64, width 64,
     depth 1), the width (n = 128, d = 16, depth 2) and the depth (n = 128, d = width = 128); the
     exponent of a least-squares fit of log time on log size, next to the expected one (1, 2, 1: the
     work is 6 n p flops, p ~ width^2 once the width x width layers dominate, p ~ depth when every
     layer is the same);
   * the flow on the quadratic (p = 200, eigenvalues log-spaced in [1/kappa, 1], to t = 5 kappa) for
     kappa = 1e1 ... 1e5: dopri5's time against kappa (expected exponent 1: its steps are bounded by
     stability, 3.3 / beta, over a time 5 kappa) and cvode-bdf's (expected ~ log kappa: exponent near 0,
     and a time per decade of kappa).
2. gradflow sweep on a fixed grid (xavier_normal, width 64, 512 seeds, armijo descent to 1e-6 L0 on
   synthetic 16 x 32 data): trials per second on 1 and 2 threads (--threads) and on 1 and 2 MPI ranks
   (mpirun -n K --allow-run-as-root --oversubscribe gradflow sweep --threads 1), and the parallel
   efficiency throughput_k / (k throughput_1). Each command runs twice on the same output directory:
   the second run finds every trial recorded and does only the fixed work (process and MPI start-up,
   reading the records, rewriting runs.csv), so the throughput is trials / (first - second wall time)
   and the fixed cost is reported apart.
3. From these, the cost of a 10,000-trial sweep of the same kind on 1, 16 and 256 cores under
   OpenMPI: the fixed cost plus 10,000 / (k throughput_1 efficiency): measured on 1 core; extrapolated
   beyond 2 with the efficiency measured on 2 ranks (stated as such).

Outputs in --out (default results/cost-laws): cost_laws.csv (every measured point), fits.csv (the
exponents), gradient_cost.{png,svg}, flow_vs_kappa.{png,svg}, sweep_scaling.{png,svg} (gnuplot), and
the table on standard output.

Command
-------
  /usr/bin/python3 bench/cost_laws.py --bench build/release/bench/gradflow_bench \\
      --gradflow build/release/gradflow [--out results/cost-laws] [--sweep-seeds 256] [--no-mpi]

Exit status: 0 when the measurements ran; 2 for bad arguments or a missing program.
"""

import argparse
import csv
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

PROG = "cost_laws"
EXPECTED = {"n": 1.0, "width": 2.0, "depth": 1.0}
SIZE_LABEL = {"n": "samples n", "width": "width", "depth": "depth"}


def die(message):
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.exit(2)


def executable(path, option):
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        die(f"{option}: not an executable file: {path}")
    return os.path.abspath(path)


def fit_loglog(points):
    """Least-squares slope and intercept of log(y) on log(x); (nan, nan) with fewer than 2 points."""
    if len(points) < 2:
        return math.nan, math.nan
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return slope, my - slope * mx


def fit_linear(points):
    """Least-squares slope of y on x."""
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)


def run_bench(bench, workdir):
    out = os.path.join(workdir, "cost.json")
    cmd = [bench, "--benchmark_filter=Cost/", f"--benchmark_out={out}", "--benchmark_out_format=json"]
    print("running: " + " ".join(cmd), flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not os.path.exists(out):
        die(f"gradflow_bench failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    with open(out, encoding="utf-8") as fh:
        report = json.load(fh)
    return report


def seconds(entry):
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[entry.get("time_unit", "ns")]
    return float(entry["real_time"]) * scale


def parse_bench(report):
    """{'n': [(n, s)], 'width': ..., 'depth': ..., 'dopri5': [(kappa, s, steps, evals)], 'cvode-bdf': ...}"""
    series = {key: [] for key in ("n", "width", "depth", "dopri5", "cvode-bdf")}
    for entry in report.get("benchmarks", []):
        if entry.get("run_type", "iteration") != "iteration" or entry.get("error_occurred"):
            continue
        name = entry["name"]
        if name.startswith("Cost/gradient/"):
            key, value = name[len("Cost/gradient/"):].split("/")[0].split(":")
            series[key].append((float(value), seconds(entry)))
        elif name.startswith("Cost/flow/"):
            solver, rest = name[len("Cost/flow/"):].split("/", 1)
            kappa = 10.0 ** float(rest.split(":")[1].split("/")[0])
            series[solver].append((kappa, seconds(entry), entry.get("steps"), entry.get("grad_evals")))
    for key in series:
        series[key].sort()
    return series


SWEEP_TEMPLATE = """# bench/cost_laws.py: the sweep whose throughput is measured
inits = ["xavier_normal"]
widths = [64]
depths = [1]
activations = ["tanh"]
seeds = {seeds}
methods = ["armijo"]
datasets = ["synthetic:16x32"]
eps = 1e-6
max-steps = 20000
curve-points = 10
"""


def run_sweep(args, workdir, label, threads, ranks):
    config = os.path.join(workdir, "sweep.toml")
    with open(config, "w", encoding="utf-8") as fh:
        fh.write(SWEEP_TEMPLATE.format(seeds=args.sweep_seeds))
    out = os.path.join(workdir, f"sweep_{label}")
    cmd = [args.gradflow, "sweep", "--config", config, "--out", out, "--threads", str(threads), "--no-plots",
           "--quiet"]
    if ranks > 0:
        cmd = [args.mpirun, "-n", str(ranks), "--allow-run-as-root", "--oversubscribe"] + cmd
    walls = []
    for _ in range(2):  # the second run finds every trial recorded: only the fixed work remains
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        walls.append(time.perf_counter() - start)
        if proc.returncode != 0:
            print(f"  {label}: FAILED (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
            return None
    with open(os.path.join(out, "runs.csv"), encoding="utf-8") as fh:
        runs = sum(1 for _ in csv.DictReader(fh))
    work = max(walls[0] - walls[1], 1e-9)
    return {"label": label, "threads": threads, "ranks": max(ranks, 1), "mpi": ranks > 0, "trials": runs,
            "seconds": walls[0], "fixed_seconds": walls[1], "trials_per_second": runs / work}


def gnuplot(args, script):
    if not args.gnuplot:
        return
    proc = subprocess.run([args.gnuplot], input=script, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"  gnuplot failed: {proc.stderr.strip()[-300:]}")


def plot(args, name, title, xlabel, ylabel, series, logscale="xy"):
    """series: list of (label, [(x, y)], expected slope or None); data files go next to the plots."""
    data_files = []
    for index, (label, points, expected) in enumerate(series):
        path = os.path.join(args.out, f"{name}_{index}.dat")
        with open(path, "w", encoding="utf-8") as fh:  # x, y, and the expected law through the first point
            for x, y in points:
                reference = points[0][1] * (x / points[0][0]) ** expected if expected is not None else y
                fh.write(f"{x!r} {y!r} {reference!r}\n")
        data_files.append(path)
    for terminal, extension in (("pngcairo size 900,600", "png"), ("svg size 900,600", "svg")):
        lines = [f"set terminal {terminal}", f"set output '{os.path.join(args.out, name)}.{extension}'",
                 f"set title '{title}'", f"set xlabel '{xlabel}'", f"set ylabel '{ylabel}'",
                 f"set logscale {logscale}" if logscale else "unset logscale", "set key top left", "set grid",
                 "set format y '%g'", "set format x '%g'"]
        parts = []
        for (label, points, expected), path in zip(series, data_files):
            parts.append(f"'{path}' using 1:2 with linespoints title '{label}'")
            if expected is not None and points:
                parts.append(f"'{path}' using 1:3 with lines dashtype 2 title '{label}: slope {expected:g}'")
        lines.append("plot " + ", ".join(parts))
        gnuplot(args, "\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser(prog=PROG, description="Fit how gradflow's cost grows; sweep scaling.")
    parser.add_argument("--bench", required=True, help="path to gradflow_bench")
    parser.add_argument("--gradflow", required=True, help="path to the gradflow binary (for the sweeps)")
    parser.add_argument("--out", default="results/cost-laws", help="output directory (default results/cost-laws)")
    parser.add_argument("--sweep-seeds", default="512", help="trials of the throughput sweep (default 512)")
    parser.add_argument("--no-mpi", action="store_true", help="skip the MPI ranks (threads only)")
    args = parser.parse_args()
    args.bench = executable(args.bench, "--bench")
    args.gradflow = executable(args.gradflow, "--gradflow")
    try:
        args.sweep_seeds = int(args.sweep_seeds)
    except ValueError:
        die(f"--sweep-seeds must be an integer, got {args.sweep_seeds!r}")
    if args.sweep_seeds < 2:
        die("--sweep-seeds must be >= 2")
    args.mpirun = None if args.no_mpi else shutil.which("mpirun")
    if not args.no_mpi and not args.mpirun:
        die("mpirun not found (scripts/install-deps.sh --bench installs openmpi-bin), or pass --no-mpi")
    args.gnuplot = shutil.which("gnuplot")
    os.makedirs(args.out, exist_ok=True)
    try:
        load = os.getloadavg()
    except OSError:
        load = (math.nan,) * 3
    print(f"{platform.node()}: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"at start; python {platform.python_version()}")

    rows, fits = [], []
    with tempfile.TemporaryDirectory(prefix="cost_laws.") as workdir:
        series = parse_bench(run_bench(args.bench, workdir))
        print("\nOne loss-and-gradient evaluation (one thread): fitted exponent of time against size")
        print(f"  {'against':<10} {'points':<46} {'exponent':>8} {'expected':>8}")
        for key in ("n", "width", "depth"):
            points = series[key]
            slope, _ = fit_loglog(points)
            tail, _ = fit_loglog(points[-3:])
            fits.append({"law": f"gradient vs {key}", "exponent": slope, "exponent_last_3": tail,
                         "expected": EXPECTED[key]})
            shown = ", ".join(f"{x:g}: {1e6 * y:.0f} us" for x, y in points)
            print(f"  {key:<10} {shown:<46} {slope:8.2f} {EXPECTED[key]:8.0f}   (last three points: {tail:.2f})")
            rows.extend({"part": "gradient", "series": key, "x": x, "seconds": y} for x, y in points)
        plot(args, "gradient_cost", "One loss-and-gradient evaluation (one thread)", "size (n, width or depth)",
             "seconds", [(f"vs {SIZE_LABEL[k]}", series[k], EXPECTED[k]) for k in ("n", "width", "depth")])

        print("\nFlow on the quadratic (p = 200, to t = 5 kappa): wall time against kappa")
        for solver, expected in (("dopri5", 1.0), ("cvode-bdf", 0.0)):
            points = [(k, s) for k, s, _, _ in series[solver]]
            slope, _ = fit_loglog(points)
            per_decade = fit_linear([(math.log10(k), s) for k, s in points]) if len(points) > 1 else math.nan
            fits.append({"law": f"{solver} flow vs kappa", "exponent": slope, "exponent_last_3": fit_loglog(points[-3:])[0],
                         "expected": expected})
            detail = ", ".join(f"1e{round(math.log10(k))}: {1e3 * s:.1f} ms ({steps:.0f} steps)"
                               for k, s, steps, _ in series[solver])
            print(f"  {solver:<10} {detail}")
            print(f"  {'':<10} exponent {slope:.2f}, last three points {fit_loglog(points[-3:])[0]:.2f} "
                  f"(expected {'1: ~ kappa' if expected else '0: ~ log kappa'}); "
                  f"{1e3 * per_decade:.2f} ms more per decade of kappa")
            rows.extend({"part": "flow", "series": solver, "x": k, "seconds": s} for k, s in points)
        plot(args, "flow_vs_kappa", "Flow on the quadratic, p = 200, to t = 5 kappa", "kappa", "seconds",
             [("dopri5", [(k, s) for k, s, _, _ in series["dopri5"]], 1.0),
              ("cvode-bdf", [(k, s) for k, s, _, _ in series["cvode-bdf"]], None)])

        print(f"\nSweep throughput ({args.sweep_seeds} trials: xavier_normal, width 64, armijo to 1e-6 L0, "
              "synthetic 16 x 32; trials/s = trials / (wall time - fixed time of a rerun with nothing left to do)):")
        sweeps = [run_sweep(args, workdir, "threads1", 1, 0), run_sweep(args, workdir, "threads2", 2, 0)]
        if args.mpirun:
            sweeps += [run_sweep(args, workdir, "mpi1", 1, 1), run_sweep(args, workdir, "mpi2", 1, 2)]
        sweeps = [s for s in sweeps if s]
        base = {False: None, True: None}
        for s in sweeps:
            if s["threads"] * s["ranks"] == 1:
                base[s["mpi"]] = s["trials_per_second"]
        print(f"  {'how':<22} {'cores':>5} {'trials':>6} {'wall s':>8} {'fixed s':>8} {'trials/s':>9} "
              f"{'efficiency':>10}")
        for s in sweeps:
            cores = s["threads"] * s["ranks"]
            reference = base[s["mpi"]]
            s["efficiency"] = s["trials_per_second"] / (cores * reference) if reference else math.nan
            how = f"mpirun -n {s['ranks']}, 1 thread" if s["mpi"] else f"1 process, {s['threads']} thread(s)"
            print(f"  {how:<22} {cores:>5} {s['trials']:>6} {s['seconds']:8.2f} {s['fixed_seconds']:8.2f} "
                  f"{s['trials_per_second']:9.1f} {s['efficiency']:10.2f}")
            rows.append({"part": "sweep", "series": "mpi" if s["mpi"] else "threads", "x": cores,
                         "seconds": s["seconds"], "trials_per_second": s["trials_per_second"],
                         "efficiency": s["efficiency"], "fixed_seconds": s["fixed_seconds"]})
        plot(args, "sweep_scaling", "Sweep throughput", "cores (threads or MPI ranks)", "trials per second",
             [("threads", [(s["threads"], s["trials_per_second"]) for s in sweeps if not s["mpi"]], 1.0),
              ("MPI ranks", [(s["ranks"], s["trials_per_second"]) for s in sweeps if s["mpi"]], None)], logscale="")

        mpi = [s for s in sweeps if s["mpi"]] or [s for s in sweeps if not s["mpi"]]
        one = next((s for s in mpi if s["ranks"] * s["threads"] == 1), None)
        two = next((s for s in mpi if s["ranks"] * s["threads"] == 2), None)
        if one and two:
            rate, efficiency, fixed = one["trials_per_second"], two["efficiency"], two["fixed_seconds"]
            how = "MPI ranks" if one["mpi"] else "threads"
            print(f"\nA 10,000-trial sweep of this kind on {how} (measured: 1 and 2 cores; 16 and 256 extrapolated "
                  f"with the 2-core efficiency {efficiency:.2f} and the 2-rank fixed cost {fixed:.2f} s):")
            for cores in (1, 16, 256):
                total = (one["fixed_seconds"] if cores == 1 else fixed) + 10000.0 / (
                    rate * cores * (1.0 if cores == 1 else efficiency))
                kind = "from the measured 1-core rate" if cores == 1 else "extrapolated"
                print(f"  {cores:>4} cores: {total:9.1f} s ({total / 3600:.3g} h), {kind}")
                fits.append({"law": f"10000 trials on {cores} cores (s)", "exponent": total,
                             "exponent_last_3": math.nan, "expected": math.nan})

    fields = ["part", "series", "x", "seconds", "trials_per_second", "efficiency", "fixed_seconds"]
    with open(os.path.join(args.out, "cost_laws.csv"), "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, restval="")
        writer.writeheader()
        writer.writerows(rows)
    with open(os.path.join(args.out, "fits.csv"), "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["law", "exponent", "exponent_last_3", "expected"])
        writer.writeheader()
        writer.writerows(fits)
    print(f"\nwritten: {args.out}/cost_laws.csv, fits.csv" +
          (", gradient_cost, flow_vs_kappa, sweep_scaling (.png, .svg)" if args.gnuplot else " (no gnuplot: no plots)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
