#!/usr/bin/env python3
"""gradflow vs SciPy on the same quadratic gradient flow, measured in one run.

What it measures
----------------
For each condition number kappa the script builds the quadratic
L(theta) = 1/2 theta^T A theta with A = Q diag(lambda) Q^T (Q orthogonal from
the QR of a seeded Gaussian matrix, lambda log-spaced from 1/kappa to 1) and a
seeded standard-normal theta0, and integrates the gradient flow
theta' = -A theta from t = 0 to t_end with

  * gradflow's adaptive solvers  (dopri5, cash-karp54, fehlberg78,
    bulirsch-stoer, cvode-bdf, cvode-bdf-krylov, cvode-adams), and
  * scipy.integrate.solve_ivp    (RK45, DOP853, BDF, LSODA, Radau),

with the same rtol/atol.  For every run it records the gradient evaluations
(gradflow: stats.num_gradient_evals; SciPy: sol.nfev), the wall time (minimum
over --repeats runs) and the relative error of the final point against the
exact solution theta(t_end) = V exp(-t_end w) V^T theta0 computed from
numpy.linalg.eigh(A).  It then prints the pairwise ratios the project's
targets name:

  * dopri5 vs RK45 (the same Dormand-Prince 5(4) pair):
      TARGET gradient-eval ratio gradflow/scipy <= 1 and speed-up >= 10;
  * fehlberg78 vs DOP853 (informational);
  * cvode-bdf vs BDF, and vs SciPy's fastest method for that kappa:
      TARGET at kappa = 1e4: cvode-bdf evals < BDF evals and
      speed-up vs SciPy's fastest >= 10;
  * cvode-adams vs LSODA (informational).

Command
-------
  python3 bench/peers/flow_vs_scipy.py --gradflow build/dev/gradflow \
      [--dim 200] [--kappas 1e2,1e4,1e6] [--t-end 5000] [--rtol 1e-8] \
      [--atol 1e-10] [--repeats 5] [--seed 0] [--csv OUT.csv] [--workdir DIR]

It needs numpy and SciPy (Debian: apt-get install python3-scipy).  Those
packages serve /usr/bin/python3; if the `python3` that runs the script cannot
import them (a pyenv or venv interpreter first on PATH, say), the script
re-runs itself once with /usr/bin/python3 and says so on stderr.

--timeout (default 600 s) bounds one gradflow run; --workdir keeps the
generated A/theta0 CSVs and gradflow's JSON/theta outputs for inspection.
--csv writes one row per (kappa, side, method) with the columns kappa, side,
method, grad_evals, wall_seconds, rel_error, status, then error_kind (rel or
abs), steps, rejected_steps, jac_evals, lu_decomps, process_seconds, note.

Exit status: 0 when the measurements ran, whether or not the targets were met
(failed solver runs are recorded in the table and listed at the end, not
raised); 2 for bad arguments or a missing dependency.

Fairness notes
--------------
  * Single thread on both sides: OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and
    MKL_NUM_THREADS are set to 1 below, before numpy is imported (gradflow is
    single-threaded; the variables are inherited by its processes too).
  * Same data: A and theta0 are written once per kappa as CSV with %.17g
    (round-trip exact); gradflow reads those files and SciPy uses
    np.loadtxt of the same files, so both integrate bit-identical data.  The
    reference solution is computed from the loaded arrays as well.
  * Exact Jacobian for the implicit SciPy methods: BDF, LSODA and Radau get
    jac=-A, as gradflow's cvode-bdf uses the exact Hessian (BDF and Radau as a
    constant array; LSODA through a callable returning that same array, since
    SciPy's LSODA wrapper does not accept an array).
  * Wall time is measured around the integration only on both sides:
    gradflow's stats.wall_seconds is taken inside the process around the
    integration (no process start-up, no file reading); SciPy's is
    time.perf_counter() around the solve_ivp call.  gradflow is asked to
    record only the final row (--times t_end), SciPy runs with t_eval=None and
    dense_output=False.  Each SciPy method gets one short untimed warm-up call
    first so lazy imports are not charged to it.  The gradflow process time
    (start-up and I/O included) is shown in the notes for reference only.
  * The error reported is the relative 2-norm error of the final point; if
    ||theta_exact|| is tiny (below 1e-12 ||theta0||) the absolute error is
    reported instead and the table says so.
"""

import os

# Single-threaded BLAS/OpenMP on both sides; must happen before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse
import csv
import json
import math
import platform
import shutil
import subprocess
import sys
import tempfile
import time

PROG = "flow_vs_scipy"


def die(message):
    """Report a user error in one line and exit with status 2."""
    sys.stderr.write(f"{PROG}: error: {message}\n")
    sys.exit(2)


SYSTEM_PYTHON = "/usr/bin/python3"  # the interpreter Debian's python3-scipy serves
REEXEC_FLAG = "FLOW_VS_SCIPY_REEXEC"

try:
    import numpy as np
    import scipy
    from scipy.integrate import solve_ivp
except ImportError as _exc:
    _other = os.path.exists(SYSTEM_PYTHON) and os.path.realpath(sys.executable) != os.path.realpath(SYSTEM_PYTHON)
    if _other and not os.environ.get(REEXEC_FLAG):
        # e.g. a pyenv `python3` first on PATH: retry once with the system one.
        sys.stderr.write(f"{PROG}: note: {sys.executable} has no numpy/SciPy ({_exc}); re-running with {SYSTEM_PYTHON}\n")
        sys.stderr.flush()
        os.environ[REEXEC_FLAG] = "1"
        try:
            os.execv(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__)] + sys.argv[1:])
        except OSError:
            pass
    die(
        f"numpy/SciPy cannot be imported by {sys.executable} ({_exc}); "
        "install them with `apt-get install python3-scipy`"
        + (f" and run the script with {SYSTEM_PYTHON}" if _other else "")
    )

GRADFLOW_SOLVERS = [
    "dopri5",
    "cash-karp54",
    "fehlberg78",
    "bulirsch-stoer",
    "cvode-bdf",
    "cvode-bdf-krylov",
    "cvode-adams",
]
SCIPY_METHODS = ["RK45", "DOP853", "BDF", "LSODA", "Radau"]
SCIPY_WITH_JAC = {"BDF", "LSODA", "Radau"}
OK = "reached_end_time"
TARGET_KAPPA = 1e4  # the kappa at which the cvode-bdf targets are set
TINY_REL = 1e-12  # ||theta_exact|| below TINY_REL * ||theta0|| -> absolute error


# --------------------------------------------------------------------------
# Arguments


def positive_float(text, name, low=0.0, high=math.inf, closed_low=False):
    try:
        value = float(text)
    except ValueError:
        die(f"{name} must be a number, got {text!r}")
    ok_low = value >= low if closed_low else value > low
    if not (math.isfinite(value) and ok_low and value < high):
        bound = f"[{low:g}, {high:g})" if closed_low else f"({low:g}, {high:g})"
        die(f"{name} must be in {bound}, got {text!r}")
    return value


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Compare gradflow's solvers with scipy.integrate.solve_ivp on theta' = -A theta.",
    )
    parser.add_argument("--gradflow", required=True, help="path to the gradflow binary")
    parser.add_argument("--dim", default="200", help="dimension p (default 200)")
    parser.add_argument("--kappas", default="1e2,1e4,1e6", help="comma-separated condition numbers (default 1e2,1e4,1e6)")
    parser.add_argument("--t-end", default="5000", help="final flow time (default 5000, the run of issue 2)")
    parser.add_argument("--rtol", default="1e-8", help="relative tolerance, both sides (default 1e-8)")
    parser.add_argument("--atol", default="1e-10", help="absolute tolerance, both sides (default 1e-10)")
    parser.add_argument("--repeats", default="5", help="runs per solver; the minimum wall time is kept (default 5)")
    parser.add_argument("--seed", default="0", help="seed of Q and theta0 (default 0)")
    parser.add_argument("--csv", help="write all rows to this CSV file (written atomically)")
    parser.add_argument("--workdir", help="keep the generated CSV/JSON files here (default: a temporary directory)")
    parser.add_argument("--timeout", default="600", help="seconds allowed for one gradflow run (default 600)")
    args = parser.parse_args(argv)

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

    args.dim = parse_int(args.dim, "--dim", 1)
    args.repeats = parse_int(args.repeats, "--repeats", 1)
    args.seed = parse_int(args.seed, "--seed", 0)
    args.t_end = positive_float(args.t_end, "--t-end")
    args.rtol = positive_float(args.rtol, "--rtol", 0.0, 1.0)
    args.atol = positive_float(args.atol, "--atol")
    args.timeout = positive_float(args.timeout, "--timeout")

    kappas = []
    for item in args.kappas.split(","):
        item = item.strip()
        if not item:
            die(f"--kappas has an empty entry: {args.kappas!r}")
        kappas.append(positive_float(item, "each kappa in --kappas", 1.0, closed_low=True))
    args.kappas = kappas

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


def fmt_kappa(kappa):
    """1e4 rather than 10000 for powers of ten; %g otherwise."""
    exponent = math.log10(kappa)
    if abs(exponent - round(exponent)) < 1e-12:
        return f"1e{int(round(exponent))}"
    return f"{kappa:g}"


def make_problem(dim, kappa, seed, directory, tag):
    """Write A and theta0 as %.17g CSV; return the paths and the re-loaded arrays."""
    rng = np.random.default_rng(seed)
    gauss = rng.standard_normal((dim, dim))
    q, r = np.linalg.qr(gauss)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q = q * signs  # column sign fix: Q unique given the Gaussian matrix
    lam = np.logspace(-math.log10(kappa), 0.0, dim) if dim > 1 else np.array([1.0])
    a = (q * lam) @ q.T
    a = (a + a.T) / 2.0  # exactly symmetric
    theta0 = rng.standard_normal(dim)

    a_path = os.path.join(directory, f"A_{tag}.csv")
    x_path = os.path.join(directory, f"theta0_{tag}.csv")
    np.savetxt(a_path, a, fmt="%.17g", delimiter=",")
    np.savetxt(x_path, theta0, fmt="%.17g")

    a_loaded = np.loadtxt(a_path, delimiter=",", ndmin=2)
    x_loaded = np.loadtxt(x_path, delimiter=",", ndmin=1)
    if not (np.array_equal(a_loaded, a) and np.array_equal(x_loaded, theta0)):
        print("  warning: the CSV round trip changed the data (both sides still use the files)")
    return a_path, x_path, a_loaded, x_loaded


def exact_solution(a, theta0, t_end):
    w, v = np.linalg.eigh(a)
    return v @ (np.exp(-t_end * w) * (v.T @ theta0))


class ErrorMeasure:
    """Relative 2-norm error against theta_exact, or absolute if ||theta_exact|| is tiny."""

    def __init__(self, theta_exact, theta0):
        self.exact = theta_exact
        self.norm = float(np.linalg.norm(theta_exact))
        self.absolute = self.norm <= TINY_REL * float(np.linalg.norm(theta0))
        self.kind = "abs" if self.absolute else "rel"

    def __call__(self, theta):
        theta = np.asarray(theta, dtype=float).reshape(-1)
        if theta.shape != self.exact.shape:
            return math.nan
        err = float(np.linalg.norm(theta - self.exact))
        return err if self.absolute else err / self.norm


# --------------------------------------------------------------------------
# Runs


def new_row(kappa, side, method):
    return {
        "kappa": kappa,
        "side": side,
        "method": method,
        "grad_evals": None,
        "wall_seconds": None,
        "rel_error": None,
        "status": "not run",
        "error_kind": "",
        "steps": None,
        "rejected_steps": None,
        "jac_evals": None,
        "lu_decomps": None,
        "process_seconds": None,
        "note": "",
    }


def last_line(text):
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1] if lines else ""


def run_gradflow(args, solver, a_path, x_path, workdir, tag, measure, row):
    json_path = os.path.join(workdir, f"out_{tag}_{solver}.json")
    theta_path = os.path.join(workdir, f"theta_{tag}_{solver}.csv")
    t_text = repr(float(args.t_end))
    cmd = [
        args.gradflow, "flow",
        "--matrix", a_path, "--theta0", x_path,
        "--solver", solver,
        "--t-end", t_text, "--times", t_text,
        "--rtol", repr(args.rtol), "--atol", repr(args.atol),
        "--quiet", "--json", json_path, "--theta-out", theta_path,
    ]
    walls, procs, evals = [], [], set()
    for _ in range(args.repeats):
        for stale in (json_path, theta_path):
            if os.path.exists(stale):
                os.remove(stale)
        start = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
        except subprocess.TimeoutExpired:
            row["status"] = f"failed: timed out after {args.timeout:g} s"
            return row
        except OSError as exc:
            row["status"] = f"failed: cannot start gradflow: {exc.strerror}"
            return row
        procs.append(time.perf_counter() - start)
        summary = None
        if os.path.exists(json_path):
            try:
                with open(json_path, encoding="utf-8") as fh:
                    summary = json.load(fh)
            except (OSError, ValueError):
                summary = None
        status = summary.get("status") if isinstance(summary, dict) else None
        if proc.returncode != 0 or status != OK:
            why = last_line(proc.stderr) or (summary or {}).get("message", "") or "no summary written"
            state = f", status {status}" if status else ""
            row["status"] = f"failed: exit {proc.returncode}{state}: {why}"
            return row
        stats = summary.get("stats", {})
        walls.append(float(stats["wall_seconds"]))
        evals.add(int(stats["num_gradient_evals"]))
        row["steps"] = stats.get("num_steps")
        row["rejected_steps"] = stats.get("num_rejected_steps")
        row["jac_evals"] = stats.get("num_jacobian_evals")
        try:
            theta = np.loadtxt(theta_path, delimiter=",", ndmin=1)
        except (OSError, ValueError) as exc:
            row["status"] = f"failed: cannot read --theta-out file: {exc}"
            return row
        row["rel_error"] = measure(theta)
    row["wall_seconds"] = min(walls)
    row["process_seconds"] = min(procs)
    row["grad_evals"] = min(evals)
    row["error_kind"] = measure.kind
    row["status"] = OK
    if len(evals) > 1:
        row["note"] = f"eval counts varied between repeats: {sorted(evals)}"
    return row


def run_scipy(args, method, a, theta0, measure, row):
    def fun(_t, y):
        return -(a @ y)

    options = {"rtol": args.rtol, "atol": args.atol, "t_eval": None, "dense_output": False}
    if method in SCIPY_WITH_JAC:
        neg_a = -a
        if method == "LSODA":
            # SciPy's LSODA wrapper rejects an array jac (it tests the array's
            # truth value), so it gets the same constant matrix from a callable.
            options["jac"] = lambda _t, _y: neg_a
        else:
            options["jac"] = neg_a  # constant array: BDF/Radau never re-evaluate it

    walls = []
    sol = None
    try:
        # Untimed warm-up over a tiny interval: lazy imports and first-call costs.
        solve_ivp(fun, (0.0, args.t_end * 1e-9), theta0, method=method, **options)
        for _ in range(args.repeats):
            start = time.perf_counter()
            sol = solve_ivp(fun, (0.0, args.t_end), theta0, method=method, **options)
            walls.append(time.perf_counter() - start)
    except Exception as exc:  # a SciPy failure is a measurement, not a crash
        row["status"] = f"failed: {type(exc).__name__}: {exc}"
        return row
    row["wall_seconds"] = min(walls)
    row["grad_evals"] = int(sol.nfev)
    row["jac_evals"] = int(sol.njev)
    row["lu_decomps"] = int(sol.nlu)
    row["steps"] = len(sol.t) - 1
    row["rel_error"] = measure(sol.y[:, -1])
    row["error_kind"] = measure.kind
    if sol.success and sol.status == 0:
        row["status"] = OK
    else:
        row["status"] = f"failed: {sol.message}"
    return row


# --------------------------------------------------------------------------
# Output


def fmt_num(value, spec):
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else format(value, spec)


def row_notes(row):
    parts = []
    if row["side"] == "gradflow":
        if row["steps"] is not None:
            parts.append(f"steps {row['steps']}, rej {row['rejected_steps']}, jac {row['jac_evals']}")
        if row["process_seconds"] is not None:
            parts.append(f"process {row['process_seconds']:.3g} s")
    else:
        if row["steps"] is not None:
            parts.append(f"steps {row['steps']}, njev {row['jac_evals']}, nlu {row['lu_decomps']}")
    if row["note"]:
        parts.append(row["note"])
    return "; ".join(parts)


def print_table(rows, measure):
    err_head = "rel error" if not measure.absolute else "ABS error"
    print(f"  {'side':<9} {'method':<17} {'grad evals':>10} {'wall s':>10} {err_head:>10}  {'status':<17} notes")
    for row in rows:
        status = row["status"]
        print(
            f"  {row['side']:<9} {row['method']:<17} {fmt_num(row['grad_evals'], 'd'):>10} "
            f"{fmt_num(row['wall_seconds'], '.3e'):>10} {fmt_num(row['rel_error'], '.2e'):>10}  "
            f"{status:<17} {row_notes(row)}".rstrip()
        )


class Targets:
    def __init__(self):
        self.passed = 0
        self.missed = 0
        self.unmeasured = 0

    def check(self, label, value, bound, kind, detail):
        """kind: 'le' (value <= bound), 'lt' (value < bound) or 'ge' (value >= bound)."""
        if value is None:
            self.unmeasured += 1
            print(f"  TARGET {label} : NOT MEASURED ({detail})")
            return
        if kind == "le":
            ok, factor = value <= bound, value / bound
        elif kind == "lt":
            ok, factor = value < bound, value / bound
        else:
            ok, factor = value >= bound, (bound / value if value > 0 else math.inf)
        if ok:
            self.passed += 1
            print(f"  TARGET {label} : PASS ({detail})")
        else:
            self.missed += 1
            print(f"  TARGET {label} : MISSED by {factor:.3g}x ({detail})")


def ok(row):
    return row is not None and row["status"] == OK


def compare(gf, sp, kind="rel"):
    """Text and numbers of one gradflow-vs-SciPy pair, or a reason it cannot be compared."""
    if not ok(gf) or not ok(sp):
        bad = gf if not ok(gf) else sp
        name = f"{bad['side']} {bad['method']}" if bad else "missing run"
        return None, None, f"{name} did not succeed"
    ratio = gf["grad_evals"] / sp["grad_evals"] if sp["grad_evals"] else math.inf
    speed = sp["wall_seconds"] / gf["wall_seconds"] if gf["wall_seconds"] > 0 else math.inf
    text = (
        f"evals {gf['grad_evals']} / {sp['grad_evals']} = {ratio:.3g}; "
        f"time {gf['wall_seconds']:.3e} s vs {sp['wall_seconds']:.3e} s = speed-up {speed:.3g}x; "
        f"{kind} errors {gf['rel_error']:.2e} vs {sp['rel_error']:.2e}"
    )
    return ratio, speed, text


def print_pairs(kappa, rows, targets):
    by = {(r["side"], r["method"]): r for r in rows}
    k = fmt_kappa(kappa)
    kind = next((r["error_kind"] for r in rows if r["error_kind"]), "rel")

    print(f"  pairs at kappa = {k}:")
    # dopri5 vs RK45: the target holds at every kappa.
    ratio, speed, text = compare(by.get(("gradflow", "dopri5")), by.get(("scipy", "RK45")), kind)
    print(f"    dopri5 vs RK45: {text}")
    targets.check(f"dopri5 vs RK45 grad-eval ratio <= 1 (kappa {k})", ratio, 1.0, "le",
                  f"ratio {ratio:.3g}" if ratio is not None else text)
    targets.check(f"dopri5 vs RK45 speed-up >= 10 (kappa {k})", speed, 10.0, "ge",
                  f"speed-up {speed:.3g}x" if speed is not None else text)

    _, _, text = compare(by.get(("gradflow", "fehlberg78")), by.get(("scipy", "DOP853")), kind)
    print(f"    fehlberg78 vs DOP853 (informational): {text}")

    gf_bdf = by.get(("gradflow", "cvode-bdf"))
    ratio, speed, text = compare(gf_bdf, by.get(("scipy", "BDF")), kind)
    print(f"    cvode-bdf vs BDF: {text}")
    fastest = min(
        (r for r in rows if r["side"] == "scipy" and ok(r)),
        key=lambda r: r["wall_seconds"],
        default=None,
    )
    if fastest is None:
        fast_speed, fast_text = None, "no SciPy method succeeded"
    else:
        _, fast_speed, fast_text = compare(gf_bdf, fastest, kind)
        fast_text = f"fastest SciPy method {fastest['method']}: {fast_text}"
    print(f"    cvode-bdf vs SciPy's fastest: {fast_text}")
    if kappa == TARGET_KAPPA:
        targets.check(f"cvode-bdf evals < BDF evals (kappa {k})", ratio, 1.0, "lt",
                      f"ratio {ratio:.3g}" if ratio is not None else text)
        targets.check(f"cvode-bdf speed-up vs SciPy's fastest >= 10 (kappa {k})", fast_speed, 10.0, "ge",
                      f"{fast_speed:.3g}x vs {fastest['method']}" if fast_speed is not None else fast_text)

    _, _, text = compare(by.get(("gradflow", "cvode-adams")), by.get(("scipy", "LSODA")), kind)
    print(f"    cvode-adams vs LSODA (informational): {text}")


CSV_FIELDS = [
    "kappa", "side", "method", "grad_evals", "wall_seconds", "rel_error", "status",
    "error_kind", "steps", "rejected_steps", "jac_evals", "lu_decomps", "process_seconds", "note",
]


def write_csv_atomically(path, rows):
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
            writer.writeheader()
            for row in rows:
                out = {}
                for key in CSV_FIELDS:
                    value = row[key]
                    if value is None:
                        value = ""
                    elif isinstance(value, float):
                        value = repr(value)
                    out[key] = value
                writer.writerow(out)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_environment(args):
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    threads = " ".join(
        f"{v}={os.environ.get(v, '')}" for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
    )
    print(f"python {platform.python_version()} ({sys.executable}), numpy {np.__version__}, scipy {scipy.__version__}")
    print(f"nproc {nproc} (cpu_count {os.cpu_count()}), CPU: {cpu_model()}")
    print(f"threads: {threads}")
    print(f"gradflow: {args.gradflow}")
    print(
        f"problem: quadratic, dim {args.dim}, kappas {','.join(fmt_kappa(k) for k in args.kappas)}, "
        f"t_end {args.t_end:g}, rtol {args.rtol:g}, atol {args.atol:g}, repeats {args.repeats}, seed {args.seed}"
    )
    print()


# --------------------------------------------------------------------------


def run(args, workdir):
    print_environment(args)
    all_rows = []
    targets = Targets()
    for index, kappa in enumerate(args.kappas):
        tag = f"k{index}_{fmt_kappa(kappa)}"
        a_path, x_path, a, theta0 = make_problem(args.dim, kappa, args.seed, workdir, tag)
        measure = ErrorMeasure(exact_solution(a, theta0, args.t_end), theta0)
        note = " -- tiny, ABSOLUTE errors reported" if measure.absolute else ""
        print(f"kappa = {fmt_kappa(kappa)}  (||theta0|| = {np.linalg.norm(theta0):.3e}, "
              f"||theta_exact(t_end)|| = {measure.norm:.3e}{note})")
        if not measure.absolute and args.rtol * measure.norm < args.atol * math.sqrt(args.dim):
            print(f"  note: atol*sqrt(dim) > rtol*||theta_exact||: the final point is so small that "
                  f"the errors below are set by atol = {args.atol:g}, not by rtol")
        rows = []
        for solver in GRADFLOW_SOLVERS:
            rows.append(run_gradflow(args, solver, a_path, x_path, workdir, tag, measure,
                                     new_row(kappa, "gradflow", solver)))
        for method in SCIPY_METHODS:
            rows.append(run_scipy(args, method, a, theta0, measure, new_row(kappa, "scipy", method)))
        print_table(rows, measure)
        print_pairs(kappa, rows, targets)
        print()
        all_rows.extend(rows)

    if TARGET_KAPPA not in args.kappas:
        print(f"note: kappa {fmt_kappa(TARGET_KAPPA)} was not measured, so the cvode-bdf targets were not checked")
    failures = [r for r in all_rows if r["status"] != OK]
    for r in failures:
        print(f"FAILED: kappa {fmt_kappa(r['kappa'])} {r['side']} {r['method']}: {r['status']}")
    print(f"targets: {targets.passed} passed, {targets.missed} missed, {targets.unmeasured} not measured; "
          f"{len(failures)} failed run(s)")
    if args.csv:
        write_csv_atomically(args.csv, all_rows)
        print(f"rows written to {args.csv}")


def main(argv=None):
    try:
        sys.stdout.reconfigure(line_buffering=True)  # progress shows through pipes
    except AttributeError:
        pass
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.workdir:
            run(args, args.workdir)
        else:
            with tempfile.TemporaryDirectory(prefix="flow_vs_scipy.") as workdir:
                run(args, workdir)
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
