#!/usr/bin/env python3
"""gradflow vs PyTorch: full-batch gradient descent on the same tanh MLP, measured in one run.

What it measures
----------------
For each size n x d x width x depth (n samples, d features, `depth` hidden
tanh layers of `width` units, scalar output, no biases) the script draws, with
a seeded numpy generator,

  * the data X ~ N(0, I/d) (n x d) and targets y ~ N(0, 1), and
  * the initial weights theta0, xavier_normal-like: every entry of W_l is
    N(0, 2 / (fan_in + fan_out)),

writes them as %.17g CSV files, and runs K iterations of full-batch gradient
descent theta <- theta - eta grad L on

  f(x) = W_L tanh(W_{L-1} ... tanh(W_1 x)),   L = 1/2 sum_i (f(x_i) - y_i)^2

on both sides:

  * gradflow   `descend --problem mlp ... --step fixed --lr eta --max-iters K`
               (its stats.wall_seconds, minimum over --repeats processes);
  * PyTorch    float64 CPU tensors, loss.backward() and an in-place update
               under torch.no_grad(), timed with time.perf_counter() around
               the K iterations (minimum over --repeats).

The step size is eta = 0.5 / beta_est, beta_est = the largest |eigenvalue| of
the Hessian of L at theta0, estimated by power iteration with Hessian-vector
products (torch.autograd double backward).  It is printed.

Per size it prints a table (side, steps/s, seconds per step, final loss,
GFLOP/s), the speed ratio gradflow steps/s / torch steps/s, and an agreement
check: the final losses (and the final parameter vectors) of both sides must
agree to about 1e-8 relative, otherwise the two sides did not train the same
network and the line says DISAGREE (after the round-off re-checks described
under Agreement below).  A loss that both sides have driven to the
round-off floor (below 1e-13 * loss0, where its relative difference is noise)
is judged by the final parameters alone.  GFLOP/s uses 6 n p flops per
loss-and-gradient evaluation (p = number of parameters) and is informational.

Threads: --threads N (default 1) or a list N,M,...: each size is measured at
each count, both sides on the same number of threads (gradflow --threads N;
torch.set_num_threads(N) and the BLAS/OpenMP pools set to N through
threadpoolctl); the counts each library really uses are printed.  With 1 and
2 in the list, the speed-up of each side from 1 to 2 threads is printed too.

Targets (issue 26, with OpenBLAS on both sides), where the size is measured:
          threads 1: ratio >= 4 at 32x64x64x1, >= 1.3 at 128x256x256x2 and
                     512x512x512x3;
          threads 2: ratio >= 2 at 128x256x256x2 and 512x512x512x3.
(Issue 15's older targets, 8 and 2.5 on one thread, were set against a
PyTorch on the reference BLAS.) gradflow's speed-up from 1 to 2 threads is
printed too, with issue 15's target of 1.7 (--threads 1,2).

Command
-------
  python3 bench/peers/descent_vs_torch.py --gradflow build/dev/gradflow \
      [--sizes 32x64x64x1,128x256x256x2,512x512x512x3] [--iters K] \
      [--repeats 3] [--seed 0] [--threads 1[,2]] [--allow-reference-blas] \
      [--csv OUT.csv] [--workdir DIR] [--timeout 600]

gradflow is run, per size and repeat, as

  gradflow descend --problem mlp --data D.csv --widths W,...,W --activation tanh \
      --theta0 T.csv --step fixed --lr ETA --max-iters K --quiet \
      --json out.json --theta-out final.csv

Without --iters, K is chosen per size from the work per step so that the
largest size still runs for seconds per side and the whole script takes a few
minutes: K = 2e10 / (6 n p) rounded to two significant digits and clamped to
[20, 2000] (2000, 200 and 20 for the three default sizes).  --iters K
overrides it for every size.

It needs numpy and PyTorch (Debian: apt-get install python3-numpy
python3-torch).  Those packages serve /usr/bin/python3; if the `python3` that
runs the script cannot import them (a pyenv or venv interpreter first on PATH,
say), the script re-runs itself once with /usr/bin/python3 and says so on
stderr.

--workdir keeps the generated D/T CSVs and gradflow's JSON/theta outputs for
inspection; --timeout bounds one gradflow run.  --csv writes one row per
(size, thread count, side) with the columns size, n, d, width, depth,
params, side, iters, seconds, steps_per_second, final_loss, status, threads,
blas ("optimized", or "reference" under --allow-reference-blas), written
atomically.

Exit status: 0 when the measurements ran, whether or not the targets were met
(a failed gradflow or torch run is recorded in the table and listed at the
end, not raised); 2 for bad arguments or a missing dependency, and when torch
uses the reference (netlib) BLAS without --allow-reference-blas (nothing is
measured then).

Fairness notes
--------------
  * Same data and the same initial weights: D.csv and T.csv are written once
    per size with %.17g (round-trip exact); gradflow reads those files and the
    torch side builds X, y and its weight tensors from np.loadtxt of the same
    files, so both start from bit-identical numbers.  The initial losses of
    both sides are printed as a check of the parameter layout.
  * float64 on both sides (torch tensors are created as torch.float64).
  * The same number of threads on both sides (--threads): OPENBLAS_NUM_THREADS,
    OMP_NUM_THREADS and MKL_NUM_THREADS are set to the largest count before
    numpy/torch are imported; per measurement torch gets
    torch.set_num_threads(N) and the BLAS/OpenMP pools threadpoolctl's
    threadpool_limits(N) (torch.set_num_interop_threads(1): the loop has no
    independent operators to overlap); gradflow gets --threads N.
  * The same loss: 1/2 sum of squared residuals (a sum, not a mean) and the
    same step size eta, plain GD (no momentum, no optimizer object).
  * Wall time around the descent loop only on both sides: gradflow's
    stats.wall_seconds is measured inside the process around the loop (no
    process start-up, no file reading); torch's is time.perf_counter()
    around the K iterations, after one untimed warm-up iteration on a copy
    of the weights (first-call allocations, autograd set-up).  Steps/s is
    K / seconds on both sides.  gradflow's loop also evaluates the gradient
    at the final point (K + 1 evaluations, it reports the final gradient
    norm) and records per-iteration statistics; torch's loop does exactly K
    evaluations and its final loss is computed after the timer stops.  Both
    differences count against gradflow.
  * The BLAS: torch multiplies float64 matrices through the BLAS it was built
    against.  Debian's python3-torch is a generic-BLAS build that calls the
    libblas.so.3 alternative, which is the reference (Netlib) BLAS unless an
    optimized one (libopenblas0-pthread, libblis4-pthread) is installed; the
    script prints the library that is mapped.  gradflow uses its own kernels.
    Against the reference BLAS the ratios flatter gradflow: the script then
    refuses to report (exit 2, with the reason) unless --allow-reference-blas
    is given, and marks every ratio [reference BLAS].

Agreement
---------
The final losses of both sides must agree to AGREE_REL = 1e-8 relative and the
final parameter vectors likewise (float64 summation orders differ, so not
bitwise).  When they do not, two untimed re-checks run: torch from theta0
moved by one ulp per entry (how much this trajectory amplifies round-off by
itself), and both sides for only 10 iterations.  If the short runs agree and
torch moves from its own twin by about as much as it differs from gradflow,
the line says ROUND-OFF SENSITIVE (typically GD reached the edge of stability
after progressive sharpening, and round-off grew to visible size on both
sides; seen e.g. with --sizes 64x32x16x2);
otherwise it says DISAGREE: the two sides did not train the same network.
"""

import os
import sys

import peer_common

# The BLAS/OpenMP pools start with the largest --threads count; must happen before numpy/torch load.
peer_common.set_thread_variables(max(peer_common.requested_threads(sys.argv[1:])))

import argparse
import json
import math
import platform
import shutil
import subprocess
import tempfile
import time

PROG = "descent_vs_torch"
peer_common.PROG = PROG
die = peer_common.die
REEXEC_FLAG = "DESCENT_VS_TORCH_REEXEC"

try:
    import numpy as np
    import torch
except ImportError as _exc:
    peer_common.retry_with_system_python(_exc, REEXEC_FLAG, "numpy/torch", "apt-get install python3-numpy python3-torch")

DEFAULT_SIZES = "32x64x64x1,128x256x256x2,512x512x512x3"
OK = "reached_max_iters"
FLOP_BUDGET = 2e10  # default K = FLOP_BUDGET / (6 n p), two significant digits
MIN_ITERS, MAX_ITERS = 20, 2000
AGREE_REL = 1e-8  # final losses / parameters must agree to this relative difference
LOSS_FLOOR = 1e-13  # a loss below LOSS_FLOOR * loss0 is round-off: judged by theta only
POWER_ITERS, POWER_RTOL = 20, 1e-3  # power iteration from below; eta keeps a 4x margin
SHORT_ITERS = 10  # horizon of the re-check when long runs differ
SENSITIVITY_FACTOR = 10.0  # a difference within this factor of the one-ulp twin is round-off
ETA_FACTOR = 0.5  # eta = ETA_FACTOR / beta_est
# Issue 26's targets: gradflow steps/s / torch steps/s per thread count and size; issue 15's for
# gradflow's speed-up from 1 to 2 threads.
RATIO_TARGETS = {1: {"32x64x64x1": 4.0, "128x256x256x2": 1.3, "512x512x512x3": 1.3},
                 2: {"128x256x256x2": 2.0, "512x512x512x3": 2.0}}
SPEEDUP_TARGETS = {"128x256x256x2": 1.7, "512x512x512x3": 1.7}
MARK = ""  # " [reference BLAS]" when --allow-reference-blas let the reference BLAS through


# --------------------------------------------------------------------------
# Arguments


class Size:
    def __init__(self, text, n, d, width, depth):
        self.text, self.n, self.d, self.width, self.depth = text, n, d, width, depth
        self.params = width * d + width * width * (depth - 1) + width

    def layer_shapes(self):
        """(rows, cols) of W_1 ... W_L: outputs x inputs."""
        shapes = [(self.width, self.d)]
        shapes += [(self.width, self.width)] * (self.depth - 1)
        shapes.append((1, self.width))
        return shapes

    def default_iters(self):
        raw = FLOP_BUDGET / (6.0 * self.n * self.params)
        nice = float(f"{raw:.2g}")
        return int(min(MAX_ITERS, max(MIN_ITERS, round(nice))))


def parse_size(text):
    parts = text.lower().split("x")
    if len(parts) != 4:
        die(f"each entry of --sizes must be n x d x width x depth, e.g. 32x64x64x1, got {text!r}")
    values = []
    for name, part in zip(("n", "d", "width", "depth"), parts):
        try:
            value = int(part)
        except ValueError:
            die(f"{name} in --sizes entry {text!r} must be an integer, got {part!r}")
        if value < 1:
            die(f"{name} in --sizes entry {text!r} must be >= 1, got {part!r}")
        values.append(value)
    return Size(text, *values)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Compare gradflow's gradient descent on a tanh MLP with the same loop in PyTorch.",
    )
    parser.add_argument("--gradflow", required=True, help="path to the gradflow binary")
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help=f"comma-separated n x d x width x depth (default {DEFAULT_SIZES})")
    parser.add_argument("--iters", help="GD iterations K for every size (default: per size, 2000/200/20 for the defaults)")
    parser.add_argument("--repeats", default="3", help="runs per side; the minimum time is kept (default 3)")
    parser.add_argument("--seed", default="0", help="seed of the data and the initial weights (default 0)")
    parser.add_argument("--csv", help="write all rows to this CSV file (written atomically)")
    parser.add_argument("--workdir", help="keep the generated CSV/JSON files here (default: a temporary directory)")
    parser.add_argument("--timeout", default="600", help="seconds allowed for one gradflow run (default 600)")
    parser.add_argument("--threads", default="1",
                        help="threads on both sides, or a comma-separated list of counts to measure (default 1)")
    parser.add_argument("--allow-reference-blas", action="store_true",
                        help="measure even when torch uses the reference (netlib) BLAS; every ratio is then marked")
    args = parser.parse_args(argv)
    args.threads = peer_common.parse_thread_list(args.threads)

    path = args.gradflow
    if os.sep not in path and not os.path.exists(path):
        path = shutil.which(path) or path
    if not os.path.isfile(path):
        die(f"gradflow binary not found (or not a file): {args.gradflow}")
    if not os.access(path, os.X_OK):
        die(f"gradflow binary is not executable: {args.gradflow}")
    args.gradflow = os.path.abspath(path)

    def parse_int(text, name, low):
        try:
            value = int(text)
        except ValueError:
            die(f"{name} must be an integer, got {text!r}")
        if value < low:
            die(f"{name} must be >= {low}, got {text!r}")
        return value

    args.iters = None if args.iters is None else parse_int(args.iters, "--iters", 1)
    args.repeats = parse_int(args.repeats, "--repeats", 1)
    args.seed = parse_int(args.seed, "--seed", 0)
    text = args.timeout
    try:
        args.timeout = float(text)
    except ValueError:
        die(f"--timeout must be a number, got {text!r}")
    if not (math.isfinite(args.timeout) and args.timeout > 0):
        die(f"--timeout must be a positive number of seconds, got {text!r}")

    sizes = []
    for item in args.sizes.split(","):
        item = item.strip()
        if not item:
            die(f"--sizes has an empty entry: {args.sizes!r}")
        sizes.append(parse_size(item))
    args.sizes = sizes

    if args.csv:
        args.csv = os.path.abspath(args.csv)
        if os.path.isdir(args.csv):
            die(f"--csv names a directory: {args.csv}")
        parent = os.path.dirname(args.csv)
        if not os.path.isdir(parent):
            die(f"--csv directory does not exist: {parent}")
        if not os.access(parent, os.W_OK):
            die(f"--csv directory is not writable: {parent}")
    if args.workdir:
        args.workdir = os.path.abspath(args.workdir)
        try:
            os.makedirs(args.workdir, exist_ok=True)
        except OSError as exc:
            die(f"cannot create --workdir {args.workdir}: {exc.strerror}")
        if not os.access(args.workdir, os.W_OK):
            die(f"--workdir is not writable: {args.workdir}")
    return args


# --------------------------------------------------------------------------
# Problem data


def make_problem(size, seed, directory, tag):
    """Write D.csv and T.csv (%.17g); return the paths and the re-loaded arrays."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((size.n, size.d)) / math.sqrt(size.d)
    y = rng.standard_normal(size.n)
    blocks = []
    for rows, cols in size.layer_shapes():
        std = math.sqrt(2.0 / (cols + rows))  # xavier_normal: fan_in = cols, fan_out = rows
        blocks.append(rng.normal(0.0, std, size=rows * cols))  # row-major W_l
    theta0 = np.concatenate(blocks)

    d_path = os.path.join(directory, f"D_{tag}.csv")
    t_path = os.path.join(directory, f"T_{tag}.csv")
    np.savetxt(d_path, np.column_stack([x, y]), fmt="%.17g", delimiter=",")
    np.savetxt(t_path, theta0, fmt="%.17g")

    data = np.loadtxt(d_path, delimiter=",", ndmin=2)
    theta = np.loadtxt(t_path, delimiter=",", ndmin=1)
    if data.shape != (size.n, size.d + 1) or theta.shape != (size.params,):
        raise RuntimeError(f"the written CSV files do not have the expected shapes ({data.shape}, {theta.shape})")
    if not (np.array_equal(data[:, :-1], x) and np.array_equal(data[:, -1], y) and np.array_equal(theta, theta0)):
        print("  warning: the CSV round trip changed the data (both sides still use the files)")
    return d_path, t_path, data[:, :-1].copy(), data[:, -1].copy(), theta


# --------------------------------------------------------------------------
# The torch side


def torch_weights(size, theta):
    """theta (flat, layer by layer, row-major) -> list of float64 leaf tensors W_l."""
    weights, offset = [], 0
    for rows, cols in size.layer_shapes():
        block = theta[offset:offset + rows * cols].reshape(rows, cols)
        weights.append(torch.tensor(block, dtype=torch.float64).requires_grad_(True))
        offset += rows * cols
    return weights


def forward(weights, x):
    h = x
    for w in weights[:-1]:
        h = torch.tanh(h @ w.t())
    return (h @ weights[-1].t()).squeeze(1)


def loss_of(weights, x, y):
    return 0.5 * ((forward(weights, x) - y) ** 2).sum()


def gd_loop(weights, x, y, eta, iters):
    """The timed loop: K full-batch GD steps, in place."""
    for _ in range(iters):
        loss = 0.5 * ((forward(weights, x) - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            for w in weights:
                w -= eta * w.grad
                w.grad = None


def estimate_beta(size, theta, x, y):
    """Largest |eigenvalue| of the Hessian of L at theta0: power iteration with Hessian-vector products."""
    weights = torch_weights(size, theta)
    loss = loss_of(weights, x, y)
    grads = torch.autograd.grad(loss, weights, create_graph=True)
    gen = torch.Generator().manual_seed(12345)
    v = [torch.randn(w.shape, generator=gen, dtype=torch.float64) for w in weights]
    norm = math.sqrt(sum(float((vi * vi).sum()) for vi in v))
    v = [vi / norm for vi in v]
    estimate, its = 0.0, 0
    for its in range(1, POWER_ITERS + 1):
        hv = torch.autograd.grad(grads, weights, grad_outputs=v, retain_graph=True)
        rayleigh = sum(float((a * b).sum()) for a, b in zip(hv, v))
        norm = math.sqrt(sum(float((h * h).sum()) for h in hv))
        if norm == 0.0:
            break
        v = [h / norm for h in hv]
        converged = its > 3 and abs(norm - estimate) <= POWER_RTOL * norm
        estimate = norm
        if converged:
            break
    return estimate, rayleigh, its


def torch_train(size, theta0, x, y, eta, iters):
    """Untimed: K GD steps from theta0; return (final loss, final theta)."""
    weights = torch_weights(size, theta0)
    gd_loop(weights, x, y, eta, iters)
    with torch.no_grad():
        final = float(loss_of(weights, x, y))
    return final, torch.cat([w.detach().reshape(-1) for w in weights]).numpy().copy()


def run_torch(args, size, theta0, x_np, y_np, eta, iters, row):
    try:
        x = torch.tensor(x_np, dtype=torch.float64)
        y = torch.tensor(y_np, dtype=torch.float64)
        # One untimed warm-up iteration on a copy of the weights.
        gd_loop(torch_weights(size, theta0), x, y, eta, 1)
        times, weights = [], None
        for _ in range(args.repeats):
            weights = torch_weights(size, theta0)
            start = time.perf_counter()
            gd_loop(weights, x, y, eta, iters)
            times.append(time.perf_counter() - start)
        with torch.no_grad():
            final = float(loss_of(weights, x, y))
        theta = torch.cat([w.detach().reshape(-1) for w in weights]).numpy().copy()
    except Exception as exc:  # a torch failure is a measurement, not a crash
        row["status"] = f"failed: {type(exc).__name__}: {exc}"
        return row, None
    row["seconds"] = min(times)
    row["final_loss"] = final
    row["status"] = OK if math.isfinite(final) else "failed: non-finite final loss"
    return row, theta


# --------------------------------------------------------------------------
# The gradflow side


def gradflow_command(args, size, d_path, t_path, eta, iters, json_path, theta_path):
    return [
        args.gradflow, "descend",
        "--problem", "mlp", "--data", d_path,
        "--widths", ",".join([str(size.width)] * size.depth),
        "--activation", "tanh", "--theta0", t_path,
        "--step", "fixed", "--lr", repr(float(eta)), "--max-iters", str(iters), "--threads", str(args.run_threads),
        "--quiet", "--json", json_path, "--theta-out", theta_path,
    ]


def run_gradflow(args, size, d_path, t_path, eta, iters, workdir, tag, row, repeats=None):
    json_path = os.path.join(workdir, f"out_{tag}.json")
    theta_path = os.path.join(workdir, f"final_{tag}.csv")
    cmd = gradflow_command(args, size, d_path, t_path, eta, iters, json_path, theta_path)
    row["command"] = cmd
    walls, summary = [], None
    for _ in range(repeats or args.repeats):
        for stale in (json_path, theta_path):
            if os.path.exists(stale):
                os.remove(stale)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            row["status"] = f"failed: timed out after {args.timeout:g} s"
            return row, None
        except OSError as exc:
            row["status"] = f"failed: cannot start gradflow: {exc.strerror}"
            return row, None
        summary = None
        if os.path.exists(json_path):
            try:
                with open(json_path, encoding="utf-8") as fh:
                    summary = json.load(fh)
            except (OSError, ValueError):
                summary = None
        status = summary.get("status") if isinstance(summary, dict) else None
        if proc.returncode != 0 or status != OK:
            why = peer_common.last_line(proc.stderr) or (summary or {}).get("message", "") or "no summary written"
            state = f", status {status}" if status else ""
            row["status"] = f"failed: exit {proc.returncode}{state}: {why}"
            if isinstance(summary, dict) and summary.get("loss_final") is not None:
                row["final_loss"] = float(summary["loss_final"])
            return row, None
        try:
            walls.append(float(summary["stats"]["wall_seconds"]))
        except (KeyError, TypeError, ValueError):
            row["status"] = "failed: the JSON summary has no stats.wall_seconds"
            return row, None
        if int(summary.get("iterations", iters)) != iters:
            row["status"] = f"failed: ran {summary.get('iterations')} iterations, not {iters}"
            return row, None
    try:
        theta = np.loadtxt(theta_path, delimiter=",", ndmin=1)
    except (OSError, ValueError) as exc:
        row["status"] = f"failed: cannot read --theta-out file: {exc}"
        return row, None
    row["seconds"] = min(walls)
    row["final_loss"] = float(summary["loss_final"])
    row["loss0"] = summary.get("loss0")
    row["status"] = OK
    return row, theta


# --------------------------------------------------------------------------
# Output


def new_row(size, side, iters):
    return {
        "size": size.text, "n": size.n, "d": size.d, "width": size.width, "depth": size.depth,
        "params": size.params, "side": side, "iters": iters,
        "seconds": None, "steps_per_second": None, "final_loss": None, "status": "not run",
        "loss0": None, "command": None, "threads": None, "blas": None,
    }


def fmt_num(value, spec):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def print_table(size, rows):
    flops = 6.0 * size.n * size.params
    print(f"  {'side':<9} {'steps/s':>11} {'s/step':>11} {'GFLOP/s':>8} {'final loss':>24}  status")
    for row in rows:
        if row["seconds"]:
            row["steps_per_second"] = row["iters"] / row["seconds"]
        sps = row["steps_per_second"]
        per = 1.0 / sps if sps else None
        gflops = flops * sps / 1e9 if sps else None
        print(f"  {row['side']:<9} {fmt_num(sps, '.4g'):>11} {fmt_num(per, '.3e'):>11} {fmt_num(gflops, '.3g'):>8} "
              f"{fmt_num(row['final_loss'], '.17g'):>24}  {row['status']}")


class Targets:
    def __init__(self):
        self.passed = 0
        self.missed = 0
        self.unmeasured = 0

    def check_ge(self, label, value, bound, detail):
        if value is None:
            self.unmeasured += 1
            print(f"  TARGET {label} : NOT MEASURED ({detail})")
        elif value >= bound:
            self.passed += 1
            print(f"  TARGET {label} : PASS ({detail})")
        else:
            self.missed += 1
            factor = bound / value if value > 0 else math.inf
            print(f"  TARGET {label} : MISSED by {factor:.3g}x ({detail})")


def rel_diff(a, b):
    scale = max(abs(a), abs(b))
    return abs(a - b) / scale if scale > 0 else 0.0


def theta_rel_diff(a, b):
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-300))


def check_agreement(gf, th, theta_gf, theta_th, loss0):
    """Print the final-loss and final-theta comparison; return "ok", "differ" or None (not comparable)."""
    if gf["status"] != OK or th["status"] != OK or theta_gf is None or theta_th is None:
        print("  agreement: not checked (a side failed)")
        return None
    if theta_gf.shape != theta_th.shape:
        print(f"  agreement: DISAGREE: gradflow wrote {theta_gf.size} parameters, torch has {theta_th.size}")
        return "shape"
    lg, lt = gf["final_loss"], th["final_loss"]
    loss_rel = rel_diff(lg, lt)
    theta_rel = theta_rel_diff(theta_gf, theta_th)
    floor = LOSS_FLOOR * loss0
    at_floor = max(lg, lt) <= floor
    loss_ok = loss_rel <= AGREE_REL or at_floor
    theta_ok = theta_rel <= AGREE_REL
    print(f"  final loss: gradflow {lg:.17g}, torch {lt:.17g}, relative difference {loss_rel:.2e}"
          + (f" (both below the round-off floor {LOSS_FLOOR:g} * loss0 = {floor:.2e}: judged by theta)" if at_floor else ""))
    print(f"  final theta: ||theta_gradflow - theta_torch|| / ||theta_torch|| = {theta_rel:.2e}")
    if loss_ok and theta_ok:
        print(f"  agreement: OK (both sides trained the same network to within {AGREE_REL:g})")
        return "ok"
    return "differ"


def diagnose(args, size, d_path, t_path, theta0, x_np, y_np, eta, iters, workdir, tag, theta_gf, theta_th):
    """The long runs differ: is it a different network, or a trajectory that amplifies round-off?

    Two untimed checks: (1) torch from theta0 moved by one ulp per entry, K steps:
    how far torch moves from itself; (2) both sides for only SHORT_ITERS steps:
    do they agree before round-off had time to grow?  Returns "sensitive" or "disagree".
    """
    theta_rel = theta_rel_diff(theta_gf, theta_th)
    x = torch.tensor(x_np, dtype=torch.float64)
    y = torch.tensor(y_np, dtype=torch.float64)
    try:
        _, twin = torch_train(size, np.nextafter(theta0, np.inf), x, y, eta, iters)
        twin_rel = theta_rel_diff(twin, theta_th)
    except Exception as exc:
        print(f"  re-check: torch from a one-ulp perturbed theta0 failed: {type(exc).__name__}: {exc}")
        twin_rel = None
    short = min(iters, SHORT_ITERS)
    short_rel = None
    row, theta_gf_short = run_gradflow(args, size, d_path, t_path, eta, short, workdir, f"{tag}_short",
                                       new_row(size, "gradflow", short), repeats=1)
    if theta_gf_short is None:
        print(f"  re-check: gradflow with {short} iterations failed: {row['status']}")
    else:
        try:
            _, theta_th_short = torch_train(size, theta0, x, y, eta, short)
            short_rel = theta_rel_diff(theta_gf_short, theta_th_short)
        except Exception as exc:
            print(f"  re-check: torch with {short} iterations failed: {type(exc).__name__}: {exc}")
    if twin_rel is not None:
        print(f"  re-check: torch vs torch from theta0 moved by one ulp per entry, {iters} iterations: "
              f"relative theta difference {twin_rel:.2e}")
    if short_rel is not None:
        print(f"  re-check: gradflow vs torch after {short} iterations: relative theta difference {short_rel:.2e}")
    if (twin_rel is not None and short_rel is not None and short_rel <= AGREE_REL
            and twin_rel > AGREE_REL and theta_rel <= SENSITIVITY_FACTOR * twin_rel):
        print(f"  agreement: ROUND-OFF SENSITIVE, not a disagreement: the sides agree after {short} iterations, and "
              f"torch alone moves by {twin_rel:.1e} under a one-ulp change of theta0, the size of the gradflow-torch "
              f"difference ({theta_rel:.1e}); GD here amplifies round-off (typically progressive sharpening "
              f"up to the edge of stability), so the final losses differ although both sides train the same network")
        return "sensitive"
    print(f"  agreement: DISAGREE (final losses/parameters differ by more than {AGREE_REL:g} relative and the "
          "re-checks do not explain it by round-off: the two sides did not train the same network)")
    return "disagree"


CSV_FIELDS = [
    "size", "n", "d", "width", "depth", "params", "side", "iters",
    "seconds", "steps_per_second", "final_loss", "status", "threads", "blas",
]


def set_interop_threads():
    try:
        torch.set_num_interop_threads(1)
        return "set to 1"
    except RuntimeError as exc:  # only allowed before any inter-op work started
        return f"not set ({exc})"


def set_threads(count):
    """Both sides on count threads: torch's intra-op pool, the BLAS/OpenMP pools (threadpoolctl) and
    gradflow's --threads. Returns the line that says what each library now uses."""
    torch.set_num_threads(count)
    pools = peer_common.set_blas_threads(count)
    return (f"torch.get_num_threads() = {torch.get_num_threads()}; "
            f"threadpoolctl: {pools or 'not installed (only the variables set at start apply)'}; "
            f"gradflow --threads {count}")


def torch_blas_info():
    for item in torch.__config__.show().replace(",", " ").split():
        if item.startswith("BLAS_INFO="):
            return item.split("=", 1)[1]
    return "unknown"


def print_environment(args, interop_note):
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    env = " ".join(f"{v}={os.environ.get(v, '')}" for v in peer_common.THREAD_VARIABLES)
    print(f"python {platform.python_version()} ({sys.executable}), numpy {np.__version__}, torch {torch.__version__}")
    print(f"nproc {nproc} (cpu_count {os.cpu_count()}), CPU: {peer_common.cpu_model()}")
    print(f"threads: {','.join(str(t) for t in args.threads)} on both sides (each count in turn); at start {env}; "
          f"torch.get_num_interop_threads() = {torch.get_num_interop_threads()} ({interop_note})")
    print(f"torch BLAS_INFO={torch_blas_info()}{MARK}")
    print(f"gradflow: {args.gradflow}")
    version = subprocess.run([args.gradflow, "--version"], capture_output=True, text=True, timeout=60)
    for line in version.stdout.splitlines()[1:]:  # "matrix products: OpenBLAS ... (... kernels, one thread per call)"
        print(f"gradflow {line}")
    iters = f"{args.iters} (all sizes)" if args.iters else "per size (see below)"
    print(f"problem: tanh MLP, no biases, loss 1/2 sum (f - y)^2, float64; sizes "
          f"{','.join(s.text for s in args.sizes)}; iterations {iters}; repeats {args.repeats}; seed {args.seed}")
    print()


# --------------------------------------------------------------------------


def measure(args, size, threads, d_path, t_path, x, y, theta0, eta, iters, workdir, tag, targets, notes):
    """One size at one thread count: both sides, the agreement check, the ratio and its target."""
    print(f"  threads {threads}: {set_threads(threads)}")
    args.run_threads = threads
    gf = new_row(size, "gradflow", iters)
    th = new_row(size, "torch", iters)
    gf["threads"] = th["threads"] = threads
    theta_gf = theta_th = None
    if eta is None:
        gf["status"] = th["status"] = "not run: no step size"
    else:
        gf, theta_gf = run_gradflow(args, size, d_path, t_path, eta, iters, workdir, tag, gf)
        th, theta_th = run_torch(args, size, theta0, x, y, eta, iters, th)
    with torch.no_grad():
        loss0 = float(loss_of(torch_weights(size, theta0), torch.tensor(x, dtype=torch.float64),
                              torch.tensor(y, dtype=torch.float64)))
    if gf["loss0"] is not None:
        print(f"  initial loss: gradflow {float(gf['loss0']):.17g}, torch {loss0:.17g} "
              f"(relative difference {rel_diff(float(gf['loss0']), loss0):.2e})")
    print_table(size, [gf, th])
    agree = check_agreement(gf, th, theta_gf, theta_th, loss0)
    if agree == "differ":
        agree = diagnose(args, size, d_path, t_path, theta0, x, y, eta, iters, workdir, tag, theta_gf, theta_th)
    if agree in ("shape", "disagree"):
        notes["disagreements"].append(f"{size.text} on {threads} thread(s)")
    elif agree == "sensitive":
        notes["sensitive"].append(f"{size.text} on {threads} thread(s)")
    ratio = None
    if gf["steps_per_second"] and th["steps_per_second"]:
        ratio = gf["steps_per_second"] / th["steps_per_second"]
        print(f"  ratio gradflow steps/s / torch steps/s on {threads} thread(s) = {ratio:.3g}{MARK}")
    else:
        print(f"  ratio gradflow steps/s / torch steps/s on {threads} thread(s): not measured")
    bound = RATIO_TARGETS.get(threads, {}).get(size.text)
    if bound is not None:
        targets.check_ge(f"speed ratio gradflow/torch >= {bound:g} at {size.text} on {threads} thread(s)", ratio,
                         bound, (f"ratio {ratio:.3g}" if ratio is not None else "a side failed") + MARK)
    return gf, th


def run(args, workdir, interop_note):
    print_environment(args, interop_note)
    all_rows, targets = [], Targets()
    notes = {"disagreements": [], "sensitive": []}
    speedups = []
    for index, size in enumerate(args.sizes):
        tag = f"s{index}_{size.text}"
        iters = args.iters or size.default_iters()
        print(f"size {size.text}: n {size.n}, d {size.d}, {size.depth} hidden layer(s) of {size.width}, "
              f"p = {size.params} parameters, K = {iters} iterations, {6.0 * size.n * size.params / 1e9:.3g} GFLOP/step")
        d_path, t_path, x, y, theta0 = make_problem(size, args.seed, workdir, tag)
        try:
            start = time.perf_counter()
            beta, rayleigh, its = estimate_beta(size, theta0, torch.tensor(x, dtype=torch.float64),
                                                torch.tensor(y, dtype=torch.float64))
            eta = ETA_FACTOR / beta if beta > 0 else None
            print(f"  beta_est = {beta:.6g} (largest |Hessian eigenvalue| at theta0, {its} power iterations, "
                  f"Rayleigh quotient {rayleigh:.6g}, {time.perf_counter() - start:.2g} s); "
                  f"eta = {ETA_FACTOR:g} / beta_est = {eta:.6g}" if eta else f"  beta_est = {beta:g}: no step size")
        except Exception as exc:
            eta = None
            print(f"  cannot estimate beta: {type(exc).__name__}: {exc}")
        if eta is not None:
            args.run_threads = args.threads[0]
            print("  gradflow command: " + " ".join(gradflow_command(
                args, size, d_path, t_path, eta, iters, os.path.join(workdir, f"out_{tag}.json"),
                os.path.join(workdir, f"final_{tag}.csv"))) + "  (--threads as below)")
        rows = {}
        for threads in args.threads:
            rows[threads] = measure(args, size, threads, d_path, t_path, x, y, theta0, eta, iters, workdir,
                                    f"{tag}_t{threads}", targets, notes)
            all_rows.extend(rows[threads])
        if 1 in rows and 2 in rows:
            line = []
            for side, position in (("gradflow", 0), ("torch", 1)):
                one, two = rows[1][position]["steps_per_second"], rows[2][position]["steps_per_second"]
                value = two / one if one and two else None
                line.append(f"{side} {value:.3g}" if value is not None else f"{side} not measured")
                if side == "gradflow":
                    speedups.append((size.text, value))
                    bound = SPEEDUP_TARGETS.get(size.text)
                    if bound is not None:
                        targets.check_ge(f"gradflow speed-up from 1 to 2 threads >= {bound:g} at {size.text}", value,
                                         bound, f"{value:.3g}x" if value is not None else "a run failed")
            print(f"  speed-up from 1 to 2 threads (steps/s): {'; '.join(line)}")
        print()

    failures = [r for r in all_rows if r["status"] != OK]
    for r in failures:
        print(f"FAILED: size {r['size']} {r['side']} on {r['threads']} thread(s): {r['status']}")
        if r["side"] == "gradflow" and r["command"]:
            print(f"  command: {' '.join(r['command'])}")
    for s in notes["disagreements"]:
        print(f"DISAGREE: size {s}: the final losses/parameters of gradflow and torch differ")
    for s in notes["sensitive"]:
        print(f"note: size {s}: the GD trajectory amplifies round-off; the final losses differ for that reason only")
    print(f"targets: {targets.passed} passed, {targets.missed} missed, {targets.unmeasured} not measured; "
          f"{len(failures)} failed run(s), {len(notes['disagreements'])} disagreement(s){MARK}")
    for row in all_rows:
        row["blas"] = "reference" if MARK else "optimized"
    if args.csv:
        peer_common.write_csv_atomically(args.csv, all_rows, CSV_FIELDS)
        print(f"rows written to {args.csv}")


def main(argv=None):
    global MARK
    try:
        sys.stdout.reconfigure(line_buffering=True)  # progress shows through pipes
    except AttributeError:
        pass
    args = parse_args(sys.argv[1:] if argv is None else argv)
    interop_note = set_interop_threads()
    # Before any measurement: a float64 product (so that the BLAS torch calls is mapped), then the
    # refusal of the reference BLAS.
    _ = torch.ones(4, 4, dtype=torch.float64) @ torch.ones(4, 4, dtype=torch.float64)
    MARK = peer_common.check_blas(args.allow_reference_blas, "torch")
    try:
        if args.workdir:
            run(args, args.workdir, interop_note)
        else:
            with tempfile.TemporaryDirectory(prefix="descent_vs_torch.") as workdir:
                run(args, workdir, interop_note)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
