#!/usr/bin/env python3
"""gradflow vs SciPy on the same gradient flows, measured in one run.

What it measures
----------------
For each problem named by --problems the script writes the problem's data and
start point once, integrates the gradient flow theta' = -grad L(theta) from
t = 0 to t_end with

  * gradflow's adaptive solvers  (dopri5, cash-karp54, fehlberg78,
    bulirsch-stoer, cvode-bdf, cvode-bdf-krylov, cvode-adams), and
  * scipy.integrate.solve_ivp    (RK45, DOP853, BDF, LSODA, Radau),

with the same rtol/atol, and records for every run the gradient evaluations
(gradflow: stats.num_gradient_evals; SciPy: sol.nfev, both including the
evaluations spent on finite-difference Jacobians), the wall time (minimum over
the repeats that ran) and the error of the final point against the exact
solution or a tight reference solution.  The problems:

  quadratic      L = 1/2 theta^T A theta, A = Q diag(lambda) Q^T (Q from the
                 QR of a seeded Gaussian matrix, lambda log-spaced from
                 1/kappa to 1), p = --dim, one case per kappa in --kappas,
                 t_end = --t-end (5000).  Exact: V exp(-t w) V^T theta0 from
                 numpy.linalg.eigh(A).
  least-squares  L = 1/2 ||X theta - y||^2 with X n x p (--ls-size, default
                 100 x 200, over-parameterized), entries N(0,1)/sqrt(p), y and
                 theta0 seeded N(0,1).  t_end = 10 / s_n^2 (s_n the smallest
                 nonzero singular value of X: the slow mode has decayed by
                 e^-10, the loss by e^-20) unless --ls-t-end is given.  Exact:
                 theta0 - V S^-1 (I - exp(-t S^2)) U^T (X theta0 - y) from the
                 thin SVD X = U S V^T.
  karimi         L = sum_j theta_j^2 + 3 sin^2 theta_j, p = --dim, theta0
                 seeded uniform in [-3, 3], t_end = --karimi-t-end (20).  No
                 closed form: reference below.  The flow ends near the
                 minimizer 0, so its errors are absolute and set by atol.
  mlp            f(x) = w2^T tanh(W1 x) (no biases), L = 1/2 sum_i (f(x_i) -
                 y_i)^2, n samples, d features, one hidden layer of `width`
                 (--mlp-size n,d,width, default 32,64,64: 4160 parameters),
                 x ~ N(0, I/d), y ~ N(0, 1), theta0 xavier-normal (W1 std
                 sqrt(2/(d+width)), w2 std sqrt(2/(width+1))).  t_end: by
                 default the first time an untimed pilot run (gradflow
                 cvode-bdf-krylov at the benchmark tolerances, every step
                 recorded) reaches L <= 1e-6 L0, rounded up to two significant
                 digits (--mlp-t-end sets it instead).  No closed form:
                 reference below.

Reference solution (karimi, mlp): SciPy DOP853 at rtol 1e-13, atol 1e-15
(untimed), cross-checked against gradflow fehlberg78 at rtol 1e-12, atol
1e-15; the distance between the two is printed and bounds the reference's own
error.

The script then prints, per problem (per kappa for the quadratic), the table
and the pairwise ratios gradflow/SciPy of gradient evaluations and of wall
time (with the speed-up SciPy/gradflow) for dopri5-RK45, fehlberg78-DOP853,
cvode-bdf-BDF, cvode-bdf-krylov-BDF, cvode-adams-LSODA and cvode-bdf vs
SciPy's fastest method, and the TARGET lines:

  * quadratic, every kappa: dopri5 vs RK45 grad-eval ratio <= 1 and
    speed-up >= 5; at kappa = 1e4: cvode-bdf evals < BDF evals; at kappa
    1e4 and 1e6: cvode-bdf speed-up vs SciPy's fastest >= 3;
  * least-squares: dopri5 evals <= RK45 evals and speed-up >= 5;
  * karimi, mlp: dopri5 evals <= RK45 evals and speed-up >= 8;
  * mlp: cvode-bdf-krylov vs SciPy BDF speed-up >= 100 (if SciPy BDF hit the
    time limit, the speed-up is a lower bound '>= X' and passes only if the
    bound does).

A target reads PASS, MISSED by <factor>, or NOT MEASURED / NOT DECIDED (a run
failed, or a timed-out run's bound does not settle it).

Command
-------
  /usr/bin/python3 bench/peers/flow_vs_scipy.py --gradflow build/dev/gradflow \
      [--threads 1] [--allow-reference-blas] [--problems quadratic,least-squares,karimi,mlp] [--dim 200] \
      [--kappas 1e2,1e4,1e6] [--t-end 5000] [--ls-size 100,200] \
      [--ls-t-end auto] [--karimi-t-end 20] [--mlp-size 32,64,64] \
      [--mlp-t-end auto] [--mlp-radau] [--rtol 1e-8] [--atol 1e-10] \
      [--repeats 3] [--repeat-budget 20] [--scipy-time-limit 120] \
      [--seed 0] [--csv OUT.csv] [--workdir DIR] [--timeout 600]

The default (all four problems) takes about 5-6 minutes on a 2-core machine,
most of it in two mlp runs of about 2 minutes each: gradflow's cvode-bdf (a
difference-quotient dense Jacobian, see below) and SciPy's BDF (stopped by
the time limit).

It needs numpy and SciPy (Debian: apt-get install python3-scipy).  Those
packages serve /usr/bin/python3; if the `python3` that runs the script cannot
import them (a pyenv or venv interpreter first on PATH, say), the script
re-runs itself once with /usr/bin/python3 and says so on stderr.

--repeats (default 3) runs per solver, the minimum wall time kept; a solver
stops repeating once its runs so far took more than --repeat-budget seconds
(default 20; both sides), so slow runs are measured once or twice -- the
notes column then says "runs k/N".  --scipy-time-limit (default 120 s) stops
any SciPy run that exceeds it (checked at every right-hand-side evaluation, so
it can overshoot by one dense LU); the row reads "timed out" and its wall time
and evaluation count are lower bounds.  Radau is dropped for mlp unless
--mlp-radau is given: every Radau Jacobian update needs a real and a complex
dense LU of the 4160 x 4160 iteration matrix after a finite-difference
Jacobian, and a trial on the 2-core reference machine did not finish its
first step in 60 s.  --timeout (default 600 s) bounds one gradflow run;
--workdir keeps the generated CSVs and gradflow's JSON/theta outputs for
inspection.  --csv writes one row per (problem, case, side, method) with the
columns problem, kappa (quadratic only), side, method, grad_evals,
wall_seconds, rel_error, status, then error_kind (rel or abs), steps,
rejected_steps, jac_evals, lu_decomps, process_seconds, note, hessvec_evals,
t_end, runs, loss_final (L at the final point, computed by this script),
threads, blas ("optimized", or "reference" under --allow-reference-blas).

Exit status: 0 when the measurements ran, whether or not the targets were met
(failed, timed-out or skipped solver runs are recorded in the table and listed
at the end, not raised); 2 for bad arguments or a missing dependency; 130 when
interrupted.  Exit 2 also when numpy/SciPy use the reference (netlib) BLAS and
--allow-reference-blas is not given (before anything is measured).

Fairness notes
--------------
  * The same thread count on both sides, --threads N (default 1):
    OPENBLAS_NUM_THREADS, OMP_NUM_THREADS and MKL_NUM_THREADS are set to N
    before numpy is imported and the pools are set to N again through
    threadpoolctl, which prints what each library uses; gradflow runs with
    --threads N (only its network problem uses more than one thread).
  * The peer's BLAS: the BLAS/LAPACK library numpy loaded is printed.  With
    Debian's reference (netlib) BLAS, dense LU and matrix products are
    several times slower than with OpenBLAS, which flatters gradflow: the
    script then refuses to report (exit 2, with the reason) unless
    --allow-reference-blas is given, and every ratio it prints is then
    marked [reference BLAS].  scripts/install-deps.sh --bench installs
    OpenBLAS (libopenblas0-pthread), which numpy and SciPy then load.
  * Same files: every matrix, data set and start point is written once as
    CSV with %.17g (round-trip exact); gradflow reads those files and SciPy
    uses np.loadtxt of the same files, so both integrate bit-identical data
    (the round trip is checked).  Exact and reference solutions are computed
    from the loaded arrays.
  * Same formulas: SciPy's right-hand sides compute what gradflow computes:
    -A theta; -X^T (X theta - y) (two matrix-vector products, X^T X is not
    formed); -(2 theta + 3 sin 2 theta); and for mlp a vectorized numpy
    forward/backward pass over all samples at once (matrix products, no
    per-sample loops).
  * Jacobians for SciPy's implicit methods (BDF, LSODA, Radau): exact ones
    for the linear and separable problems, as gradflow's cvode-bdf uses the
    exact Hessian there: quadratic jac = -A and least-squares jac = -X^T X
    (constant arrays for BDF/Radau; for LSODA a callable returning the same
    array, since SciPy's LSODA wrapper does not accept an array), karimi jac =
    -diag(2 + 6 cos 2 theta) (a callable, dense).  For mlp SciPy gets NO jac
    and uses finite-difference Jacobians: that is what a SciPy user without a
    Hessian gets.  gradflow's cvode-bdf on mlp is in the same position here
    (its exact dense Hessian is used only up to 2000 parameters, so at 4160
    CVODE forms a difference-quotient Jacobian), while cvode-bdf-krylov uses
    exact Hessian-vector products (matrix-free).
  * Wall time is measured around the integration only on both sides:
    gradflow's stats.wall_seconds is taken inside the process around the
    integration (no process start-up, no file reading); SciPy's is
    time.perf_counter() around the solve_ivp call.  gradflow is asked to
    record only the final row (--times t_end), SciPy runs with t_eval=None and
    dense_output=False.  SciPy's right-hand side is wrapped in a counter and a
    time-limit check (well under a microsecond per call).  Each SciPy method
    gets one untimed warm-up call first on a 2-dimensional linear problem (so
    lazy imports are not charged to it without paying for a large
    finite-difference Jacobian).  The gradflow process time (start-up and I/O
    included) is shown in the notes for reference only.  Pilot and reference
    runs are untimed.
  * The error reported is the relative 2-norm error of the final point; if
    the exact/reference ||theta(t_end)|| is tiny (below 1e-12 ||theta0||) the
    absolute error is reported instead and the table says so.
"""

import os
import sys

import peer_common

# The BLAS/OpenMP pools start with --threads (default 1); must happen before numpy loads.
peer_common.set_thread_variables(max(peer_common.requested_threads(sys.argv[1:])))

import argparse
import errno
import json
import math
import platform
import shutil
import subprocess
import tempfile
import time

PROG = "flow_vs_scipy"
peer_common.PROG = PROG
die = peer_common.die
REEXEC_FLAG = "FLOW_VS_SCIPY_REEXEC"

try:
    import numpy as np
    import scipy
    from scipy.integrate import solve_ivp
except ImportError as _exc:
    peer_common.retry_with_system_python(_exc, REEXEC_FLAG, "numpy/SciPy", "apt-get install python3-scipy")

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
IMPLICIT_SCIPY = {"BDF", "LSODA", "Radau"}
PROBLEMS = ["quadratic", "least-squares", "karimi", "mlp"]
OK = "reached_end_time"
TIMED_OUT = "timed out"
SKIPPED = "skipped"
TARGET_KAPPA = 1e4  # the kappa at which the cvode-bdf evaluation target is set
STIFF_KAPPAS = (1e4, 1e6)  # the kappas at which cvode-bdf must beat SciPy's fastest method
EXPLICIT_SPEEDUP = {"quadratic": 5.0, "least-squares": 5.0, "karimi": 8.0, "mlp": 8.0}  # dopri5 vs RK45
BDF_VS_FASTEST = 3.0
KRYLOV_VS_BDF = 100.0
KRYLOV_VS_BDF_HESS = 5.0  # and against SciPy BDF given the exact dense Hessian as jac (issue 15 section 4)
MARK = ""  # " [reference BLAS]" when --allow-reference-blas let the reference BLAS through
TINY_REL = 1e-12  # ||theta_exact|| below TINY_REL * ||theta0|| -> absolute error
REF_SCIPY = ("DOP853", 1e-13, 1e-15)  # reference solution: method, rtol, atol
REF_GRADFLOW = ("fehlberg78", 1e-12, 1e-15)  # its cross-check
MLP_LOSS_DROP = 1e-6  # --mlp-t-end auto: first time L <= MLP_LOSS_DROP * L0
MLP_PILOT_T_MAX = 200.0  # the pilot run's horizon
MLP_RADAU_MAX_PARAMS = 1000  # above this many parameters SciPy's Radau is dropped for mlp (no --mlp-radau)
LS_SLOW_MODE_DECAY = 10.0  # --ls-t-end auto: t_end = this / s_n^2


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


def parse_int(text, name, low):
    try:
        value = int(text)
    except ValueError:
        die(f"{name} must be an integer, got {text!r}")
    if value < low:
        die(f"{name} must be >= {low}, got {text!r}")
    return value


def parse_int_list(text, name, count):
    items = [item.strip() for item in text.split(",")]
    if len(items) != count or any(not item for item in items):
        die(f"{name} needs {count} comma-separated integers, got {text!r}")
    return [parse_int(item, f"each entry of {name}", 1) for item in items]


def auto_or_float(text, name):
    return None if text.strip().lower() == "auto" else positive_float(text, name)


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Compare gradflow's solvers with scipy.integrate.solve_ivp on gradient flows "
        "(quadratic, least squares, Karimi, a one-hidden-layer network).",
    )
    parser.add_argument("--gradflow", required=True, help="path to the gradflow binary")
    parser.add_argument("--problems", default=",".join(PROBLEMS),
                        help=f"comma-separated problems to measure (default {','.join(PROBLEMS)})")
    parser.add_argument("--dim", default="200", help="dimension p of the quadratic and karimi problems (default 200)")
    parser.add_argument("--kappas", default="1e2,1e4,1e6",
                        help="quadratic: comma-separated condition numbers (default 1e2,1e4,1e6)")
    parser.add_argument("--t-end", default="5000", help="quadratic: final flow time (default 5000, the run of issue 2)")
    parser.add_argument("--ls-size", default="100,200", help="least-squares: n,p (default 100,200)")
    parser.add_argument("--ls-t-end", default="auto",
                        help=f"least-squares: final flow time, or auto = {LS_SLOW_MODE_DECAY:g} / s_n^2 (default auto)")
    parser.add_argument("--karimi-t-end", default="20", help="karimi: final flow time (default 20)")
    parser.add_argument("--mlp-size", default="32,64,64", help="mlp: n,d,width (default 32,64,64)")
    parser.add_argument("--mlp-t-end", default="auto",
                        help=f"mlp: final flow time, or auto = first time a pilot run has L <= {MLP_LOSS_DROP:g} L0 "
                        "(default auto)")
    parser.add_argument("--mlp-radau", action="store_true",
                        help="mlp: run SciPy's Radau too (dropped by default above 1000 parameters: far over 60 s)")
    parser.add_argument("--rtol", default="1e-8", help="relative tolerance, both sides (default 1e-8)")
    parser.add_argument("--atol", default="1e-10", help="absolute tolerance, both sides (default 1e-10)")
    parser.add_argument("--repeats", default="3", help="runs per solver; the minimum wall time is kept (default 3)")
    parser.add_argument("--repeat-budget", default="20",
                        help="a solver stops repeating once its runs took more than this many seconds (default 20)")
    parser.add_argument("--scipy-time-limit", default="120",
                        help="seconds after which a SciPy run is stopped (default 120)")
    parser.add_argument("--seed", default="0", help="seed of all generated data and start points (default 0)")
    parser.add_argument("--csv", help="write all rows to this CSV file (written atomically)")
    parser.add_argument("--workdir", help="keep the generated CSV/JSON files here (default: a temporary directory)")
    parser.add_argument("--timeout", default="600", help="seconds allowed for one gradflow run (default 600)")
    parser.add_argument("--threads", default="1",
                        help="threads on both sides: the BLAS/OpenMP pools of numpy and SciPy, and gradflow's --threads "
                        "(default 1)")
    parser.add_argument("--allow-reference-blas", action="store_true",
                        help="measure even when numpy/SciPy use the reference (netlib) BLAS; every ratio is then marked")
    args = parser.parse_args(argv)
    args.threads = parse_int(args.threads, "--threads", 1)

    path = args.gradflow
    if os.sep not in path and not os.path.exists(path):
        path = shutil.which(path) or path
    if not os.path.isfile(path):
        die(f"gradflow binary not found (or not a file): {args.gradflow}")
    if not os.access(path, os.X_OK):
        die(f"gradflow binary is not executable: {args.gradflow}")
    args.gradflow = os.path.abspath(path)

    problems = []
    for item in args.problems.split(","):
        item = item.strip()
        if not item:
            die(f"--problems has an empty entry: {args.problems!r}")
        if item not in PROBLEMS:
            die(f"unknown problem {item!r} in --problems (choose from {', '.join(PROBLEMS)})")
        if item not in problems:
            problems.append(item)
    args.problems = problems

    args.dim = parse_int(args.dim, "--dim", 1)
    args.repeats = parse_int(args.repeats, "--repeats", 1)
    args.seed = parse_int(args.seed, "--seed", 0)
    args.t_end = positive_float(args.t_end, "--t-end")
    args.ls_size = parse_int_list(args.ls_size, "--ls-size", 2)
    args.ls_t_end = auto_or_float(args.ls_t_end, "--ls-t-end")
    args.karimi_t_end = positive_float(args.karimi_t_end, "--karimi-t-end")
    args.mlp_size = parse_int_list(args.mlp_size, "--mlp-size", 3)
    args.mlp_t_end = auto_or_float(args.mlp_t_end, "--mlp-t-end")
    args.rtol = positive_float(args.rtol, "--rtol", 0.0, 1.0)
    args.atol = positive_float(args.atol, "--atol")
    args.repeat_budget = positive_float(args.repeat_budget, "--repeat-budget")
    args.scipy_time_limit = positive_float(args.scipy_time_limit, "--scipy-time-limit")
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


def save_and_reload(path, array):
    """Write array as %.17g CSV and read it back (what both sides then use)."""
    np.savetxt(path, array, fmt="%.17g", delimiter=",")
    loaded = np.loadtxt(path, delimiter=",", ndmin=array.ndim)
    if not np.array_equal(loaded, array):
        print(f"  warning: the CSV round trip changed {os.path.basename(path)} (both sides still use the file)")
    return loaded


def problem_rng(seed, problem):
    """Independent seeded streams per problem (the quadratic keeps default_rng(seed))."""
    return np.random.default_rng([seed, PROBLEMS.index(problem)])


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


class Case:
    """One measured problem instance: what each side gets and how errors are measured."""

    def __init__(self, problem, label, tag, t_end, theta0, fun, loss, gradflow_args, kappa=None):
        self.problem = problem
        self.label = label  # printed heading
        self.tag = tag  # file-name part
        self.t_end = t_end
        self.theta0 = theta0
        self.fun = fun  # SciPy right-hand side (t, y) -> -grad L(y)
        self.loss = loss  # L(theta), for the notes and the CSV
        self.gradflow_args = gradflow_args  # everything after `gradflow flow` but solver/times/tolerances/outputs
        self.kappa = kappa
        self.jac = {}  # SciPy method -> jac option (absent: SciPy uses finite differences)
        self.jac_text = ""
        self.skip = {}  # SciPy method -> why it is not run
        self.aliases = {}  # extra SciPy rows: name -> SciPy method (run with this name's jac)
        self.measure = None  # ErrorMeasure, set once the exact/reference solution is known
        self.lines = []  # extra heading lines


def constant_jac(case, matrix, text):
    """BDF/Radau take the constant array; SciPy's LSODA wrapper needs a callable."""
    case.jac = {"BDF": matrix, "Radau": matrix, "LSODA": lambda _t, _y: matrix}
    case.jac_text = text


def make_quadratic(args, kappa, index, directory):
    dim = args.dim
    rng = np.random.default_rng(args.seed)  # as before the other problems existed: same A, theta0
    gauss = rng.standard_normal((dim, dim))
    q, r = np.linalg.qr(gauss)
    signs = np.sign(np.diag(r))
    signs[signs == 0] = 1.0
    q = q * signs  # column sign fix: Q unique given the Gaussian matrix
    lam = np.logspace(-math.log10(kappa), 0.0, dim) if dim > 1 else np.array([1.0])
    a = (q * lam) @ q.T
    a = (a + a.T) / 2.0  # exactly symmetric
    theta0 = rng.standard_normal(dim)

    tag = f"quadratic_k{index}_{fmt_kappa(kappa)}"
    a_path = os.path.join(directory, f"A_{tag}.csv")
    x_path = os.path.join(directory, f"theta0_{tag}.csv")
    a = save_and_reload(a_path, a)
    theta0 = save_and_reload(x_path, theta0)

    case = Case(
        "quadratic", f"quadratic, kappa = {fmt_kappa(kappa)}, p = {dim}, t_end = {args.t_end:g}", tag,
        args.t_end, theta0,
        fun=lambda _t, y: -(a @ y),
        loss=lambda th: 0.5 * float(th @ (a @ th)),
        gradflow_args=["--matrix", a_path, "--theta0", x_path],
        kappa=kappa,
    )
    constant_jac(case, -a, "exact, jac = -A (constant)")
    w, v = np.linalg.eigh(a)
    case.measure = ErrorMeasure(v @ (np.exp(-args.t_end * w) * (v.T @ theta0)), theta0)
    return case


def make_least_squares(args, directory):
    n, p = args.ls_size
    rng = problem_rng(args.seed, "least-squares")
    x = rng.standard_normal((n, p)) / math.sqrt(p)
    y = rng.standard_normal(n)
    theta0 = rng.standard_normal(p)
    tag = f"least-squares_{n}x{p}"
    d_path = os.path.join(directory, f"data_{tag}.csv")
    x_path = os.path.join(directory, f"theta0_{tag}.csv")
    data = save_and_reload(d_path, np.column_stack([x, y]))
    x, y = data[:, :-1], data[:, -1]
    theta0 = save_and_reload(x_path, theta0)

    u, s, vt = np.linalg.svd(x, full_matrices=False)
    rank = int(np.sum(s > s[0] * max(n, p) * np.finfo(float).eps)) if s.size else 0
    if rank == 0:
        die("least-squares: X is zero")
    u, s, vt = u[:, :rank], s[:rank], vt[:rank]
    s_n = float(s[-1])
    if args.ls_t_end is None:
        t_end = LS_SLOW_MODE_DECAY / s_n**2
        how = f"= {LS_SLOW_MODE_DECAY:g} / s_n^2"
    else:
        t_end = args.ls_t_end
        how = "(--ls-t-end)"
    kind = "over-parameterized" if n < p else "under-parameterized" if n > p else "square"
    case = Case(
        "least-squares", f"least-squares, X {n} x {p} ({kind}), t_end = {t_end:.6g}", tag, t_end, theta0,
        fun=lambda _t, th: -(x.T @ (x @ th - y)),
        loss=lambda th: 0.5 * float(np.sum((x @ th - y) ** 2)),
        gradflow_args=["--problem", "least-squares", "--data", d_path, "--theta0", x_path],
    )
    constant_jac(case, -(x.T @ x), "exact, jac = -X^T X (dense, constant)")
    r0 = x @ theta0 - y
    exact = theta0 - vt.T @ ((1.0 - np.exp(-t_end * s**2)) / s * (u.T @ r0))
    case.measure = ErrorMeasure(exact, theta0)
    case.lines.append(
        f"singular values of X: s_1 = {s[0]:.4g}, s_n = {s_n:.4g} (rank {rank}); t_end {how} = {t_end:.6g}; "
        f"L0 = {case.loss(theta0):.4g}, L(t_end) exact = {case.loss(exact):.4g}"
    )
    return case


def make_karimi(args, directory):
    dim = args.dim
    rng = problem_rng(args.seed, "karimi")
    theta0 = rng.uniform(-3.0, 3.0, dim)
    tag = f"karimi_{dim}"
    x_path = os.path.join(directory, f"theta0_{tag}.csv")
    theta0 = save_and_reload(x_path, theta0)
    case = Case(
        "karimi", f"karimi, p = {dim}, theta0 uniform in [-3, 3], t_end = {args.karimi_t_end:g}", tag,
        args.karimi_t_end, theta0,
        fun=lambda _t, th: -(2.0 * th + 3.0 * np.sin(2.0 * th)),
        loss=lambda th: float(np.sum(th**2 + 3.0 * np.sin(th) ** 2)),
        gradflow_args=["--problem", "karimi", "--dim", str(dim), "--theta0", x_path],
    )
    karimi_jac = lambda _t, th: np.diag(-(2.0 + 6.0 * np.cos(2.0 * th)))  # noqa: E731
    case.jac = {"BDF": karimi_jac, "LSODA": karimi_jac, "Radau": karimi_jac}
    case.jac_text = "exact, jac(t, theta) = -diag(2 + 6 cos 2 theta) (a callable, dense)"
    return case


class NumpyMlp:
    """f(x) = w2^T tanh(W1 x), L = 1/2 sum_i (f(x_i) - y_i)^2; theta = [W1 row-major, w2]."""

    def __init__(self, x, y, width):
        self.x, self.y, self.width = x, y, width
        self.split = width * x.shape[1]

    def _forward(self, theta):
        w1 = theta[: self.split].reshape(self.width, -1)
        w2 = theta[self.split:]
        h = np.tanh(self.x @ w1.T)  # n x width, all samples at once
        return w2, h, h @ w2 - self.y

    def loss(self, theta):
        return 0.5 * float(np.sum(self._forward(theta)[2] ** 2))

    def rhs(self, _t, theta):
        w2, h, r = self._forward(theta)
        delta = np.outer(r, w2) * (1.0 - h * h)  # n x width: back-propagated residuals
        return -np.concatenate(((delta.T @ self.x).ravel(), h.T @ r))

    def jac(self, _t, theta):
        """The exact Jacobian of the flow, -H(theta), dense (p x p): H = J^T J + sum_i r_i Hess f_i."""
        w2, h, r = self._forward(theta)
        n, d = self.x.shape
        width = self.width
        s1 = 1.0 - h * h  # tanh'
        s2 = -2.0 * h * s1  # tanh''
        # J (n x p): d f_i / d W1[j, :] = w2_j s1_ij x_i, d f_i / d w2_j = h_ij.
        jw1 = (s1 * w2)[:, :, None] * self.x[:, None, :]
        jmat = np.concatenate((jw1.reshape(n, width * d), h), axis=1)
        hess = jmat.T @ jmat
        # sum_i r_i Hess f_i: the W1 row j block X^T diag(r w2_j s2_j) X, and the (W1 row j, w2_j)
        # entries X^T (r s1_j).
        c = (r[:, None] * s2) * w2  # n x width
        for j in range(width):
            block = slice(j * d, (j + 1) * d)
            hess[block, block] += (self.x * c[:, j:j + 1]).T @ self.x
            cross = self.x.T @ (r * s1[:, j])
            hess[block, width * d + j] += cross
            hess[width * d + j, block] += cross
        return -hess


def make_mlp(args, directory):
    n, d, width = args.mlp_size
    rng = problem_rng(args.seed, "mlp")
    x = rng.standard_normal((n, d)) / math.sqrt(d)
    y = rng.standard_normal(n)
    w1 = rng.standard_normal((width, d)) * math.sqrt(2.0 / (d + width))
    w2 = rng.standard_normal(width) * math.sqrt(2.0 / (width + 1))
    tag = f"mlp_{n}x{d}_w{width}"
    d_path = os.path.join(directory, f"data_{tag}.csv")
    x_path = os.path.join(directory, f"theta0_{tag}.csv")
    data = save_and_reload(d_path, np.column_stack([x, y]))
    theta0 = save_and_reload(x_path, np.concatenate([w1.ravel(), w2]))
    net = NumpyMlp(data[:, :-1], data[:, -1], width)
    case = Case(
        "mlp", "", tag, None, theta0,
        fun=net.rhs,
        loss=net.loss,
        gradflow_args=["--problem", "mlp", "--data", d_path, "--widths", str(width), "--activation", "tanh",
                       "--theta0", x_path],
    )
    case.jac_text = ("NONE: SciPy's BDF/LSODA/Radau form finite-difference Jacobians "
                     f"({theta0.size} right-hand sides each) -- what a SciPy user without a Hessian gets; "
                     "BDF+hess: SciPy's BDF given the exact dense Hessian as jac (numpy, J^T J + sum r_i Hess f_i)")
    case.aliases["BDF+hess"] = "BDF"
    case.jac["BDF+hess"] = net.jac
    if not args.mlp_radau and theta0.size > MLP_RADAU_MAX_PARAMS:
        trial = ("; a trial at the default size (4160) on the 2-core reference machine did not finish its first step "
                 "in 60 s" if theta0.size >= 4160 else "")
        case.skip["Radau"] = (f"dropped (--mlp-radau runs it): every Jacobian update needs {theta0.size} "
                              "right-hand sides for the finite-difference Jacobian, then a real and a complex dense "
                              f"LU of the {theta0.size} x {theta0.size} iteration matrix{trial}")
    case.lines.append(
        f"network: n {n}, d {d}, width {width}, tanh, no biases, {theta0.size} parameters; "
        f"L0 = {net.loss(theta0):.6g} (numpy)"
    )
    return case


def round_up_2(value):
    """Round up to two significant digits: 4.53 -> 4.6."""
    exponent = math.floor(math.log10(value)) - 1
    digits = math.ceil(value / 10.0**exponent - 1e-9)
    return float(f"{digits}e{exponent}")  # 5.3, not 53 * 0.1 = 5.300000000000001


def mlp_t_end(args, case, workdir):
    """The t_end of the mlp case: --mlp-t-end, or from an untimed cvode-bdf-krylov pilot run."""
    if args.mlp_t_end is not None:
        return args.mlp_t_end, "(--mlp-t-end)"
    traj = os.path.join(workdir, f"pilot_{case.tag}.csv")
    summary_path = os.path.join(workdir, f"pilot_{case.tag}.json")
    cmd = [args.gradflow, "flow", *case.gradflow_args, "--solver", "cvode-bdf-krylov",
           "--t-end", repr(MLP_PILOT_T_MAX), "--rtol", repr(args.rtol), "--atol", repr(args.atol),
           "--quiet", "--out", traj, "--json", summary_path]
    fallback = f"= {MLP_PILOT_T_MAX:g}: the pilot run "
    try:
        proc = call_gradflow(args, cmd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return MLP_PILOT_T_MAX, fallback + f"could not run ({exc})"
    if proc.returncode != 0 or not os.path.exists(traj):
        return MLP_PILOT_T_MAX, fallback + f"failed (exit {proc.returncode}: {peer_common.last_line(proc.stderr)})"
    try:
        rows = np.loadtxt(traj, delimiter=",", skiprows=1, usecols=(0, 1), ndmin=2)
        with open(summary_path, encoding="utf-8") as fh:
            loss0_gradflow = float(json.load(fh)["loss0"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return MLP_PILOT_T_MAX, fallback + f"wrote unreadable output ({exc})"
    loss0 = rows[0, 1]
    loss0_numpy = case.loss(case.theta0)
    case.lines.append(f"L0: gradflow {loss0_gradflow:.17g}, numpy {loss0_numpy:.17g} "
                      f"(relative difference {abs(loss0_gradflow - loss0_numpy) / loss0_numpy:.1e})")
    below = np.nonzero(rows[:, 1] <= MLP_LOSS_DROP * loss0)[0]
    if below.size == 0:
        return MLP_PILOT_T_MAX, fallback + f"never reached L <= {MLP_LOSS_DROP:g} L0"
    t_hit = float(rows[below[0], 0])
    return round_up_2(t_hit), (f"= first time an untimed cvode-bdf-krylov pilot run reached L <= {MLP_LOSS_DROP:g} L0 "
                               f"(t = {t_hit:.4g}, L = {rows[below[0], 1]:.3g}), rounded up")


def reference_solution(args, case, workdir):
    """SciPy DOP853 at tight tolerances, cross-checked against gradflow fehlberg78; sets case.measure."""
    method, rtol, atol = REF_SCIPY
    start = time.perf_counter()
    try:
        sol = solve_ivp(case.fun, (0.0, case.t_end), case.theta0, method=method, rtol=rtol, atol=atol)
    except Exception as exc:  # noqa: BLE001 -- reported, the case then has no errors
        sol = None
        why = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - start
    if sol is None or not sol.success:
        why = why if sol is None else sol.message
        case.lines.append(f"reference: SciPy {method} failed ({why}); errors are not measured")
        case.measure = ErrorMeasure(np.full_like(case.theta0, math.nan), case.theta0)
        return
    theta_ref = sol.y[:, -1]
    case.measure = ErrorMeasure(theta_ref, case.theta0)
    text = (f"reference: SciPy {method} rtol {rtol:g} atol {atol:g} (untimed: {sol.nfev} evals, {seconds:.2g} s), "
            f"L(t_end) = {case.loss(theta_ref):.3g}")
    g_method, g_rtol, g_atol = REF_GRADFLOW
    check = new_row(case, "gradflow", g_method)
    run_gradflow(args, case, g_method, workdir, check, rtol=g_rtol, atol=g_atol, repeats=1, tag_suffix="_refcheck")
    if check["status"] == OK:
        text += (f"; cross-check gradflow {g_method} rtol {g_rtol:g} atol {g_atol:g} differs by "
                 f"{check['rel_error']:.2e} ({case.measure.kind})")
    else:
        text += f"; cross-check gradflow {g_method} did not succeed: {check['status']}"
    case.lines.append(text)


# --------------------------------------------------------------------------
# Runs


def new_row(case, side, method):
    return {
        "problem": case.problem,
        "kappa": case.kappa,
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
        "hessvec_evals": None,
        "t_end": case.t_end,
        "runs": None,
        "loss_final": None,
    }


def call_gradflow(args, cmd):
    """subprocess.run, waiting (up to 2 minutes) once if the binary is being rebuilt."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
    except OSError as exc:
        if exc.errno not in (errno.ENOENT, errno.ETXTBSY, errno.EACCES):
            raise
        sys.stderr.write(f"{PROG}: note: cannot start {args.gradflow} ({exc.strerror}); waiting for it\n")
        deadline = time.monotonic() + 120.0
        while time.monotonic() < deadline:
            time.sleep(5.0)
            if os.access(args.gradflow, os.X_OK):
                time.sleep(2.0)  # let the linker finish writing it
                break
        return subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)


def run_gradflow(args, case, solver, workdir, row, rtol=None, atol=None, repeats=None, tag_suffix=""):
    rtol = args.rtol if rtol is None else rtol
    atol = args.atol if atol is None else atol
    repeats = args.repeats if repeats is None else repeats
    json_path = os.path.join(workdir, f"out_{case.tag}_{solver}{tag_suffix}.json")
    theta_path = os.path.join(workdir, f"theta_{case.tag}_{solver}{tag_suffix}.csv")
    t_text = repr(float(case.t_end))
    cmd = [
        args.gradflow, "flow", *case.gradflow_args,
        "--solver", solver, "--threads", str(args.threads),
        "--t-end", t_text, "--times", t_text,
        "--rtol", repr(rtol), "--atol", repr(atol),
        "--quiet", "--json", json_path, "--theta-out", theta_path,
    ]
    walls, procs, evals = [], [], set()
    for _ in range(repeats):
        for stale in (json_path, theta_path):
            if os.path.exists(stale):
                os.remove(stale)
        start = time.perf_counter()
        try:
            proc = call_gradflow(args, cmd)
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
            why = peer_common.last_line(proc.stderr) or (summary or {}).get("message", "") or "no summary written"
            state = f", status {status}" if status else ""
            row["status"] = f"failed: exit {proc.returncode}{state}: {why}"
            return row
        stats = summary.get("stats", {})
        walls.append(float(stats["wall_seconds"]))
        evals.add(int(stats["num_gradient_evals"]))
        row["steps"] = stats.get("num_steps")
        row["rejected_steps"] = stats.get("num_rejected_steps")
        row["jac_evals"] = stats.get("num_jacobian_evals")
        row["hessvec_evals"] = stats.get("num_hessian_vector_evals")
        try:
            theta = np.loadtxt(theta_path, delimiter=",", ndmin=1)
        except (OSError, ValueError) as exc:
            row["status"] = f"failed: cannot read --theta-out file: {exc}"
            return row
        row["rel_error"] = case.measure(theta)
        row["loss_final"] = case.loss(theta) if theta.shape == case.theta0.shape else None
        if sum(procs) > args.repeat_budget:
            break
    row["wall_seconds"] = min(walls)
    row["process_seconds"] = min(procs)
    row["grad_evals"] = min(evals)
    row["error_kind"] = case.measure.kind
    row["runs"] = len(walls)
    row["status"] = OK
    if len(evals) > 1:
        row["note"] = f"eval counts varied between repeats: {sorted(evals)}"
    return row


class SciPyTimeLimit(Exception):
    """Raised from the right-hand side to stop a SciPy run that exceeds --scipy-time-limit."""


_WARMED_UP = set()


def warm_up(method, with_jac):
    """One untimed solve of a 2-dimensional linear problem: lazy imports, first-call costs."""
    if (method, with_jac) in _WARMED_UP:
        return
    mat = np.array([[-1.0, 0.1], [0.1, -2.0]])
    options = {"rtol": 1e-6, "atol": 1e-9}
    if with_jac:
        options["jac"] = (lambda _t, _y: mat) if method == "LSODA" else mat
    solve_ivp(lambda _t, y: mat @ y, (0.0, 1.0), np.array([1.0, 1.0]), method=method, **options)
    _WARMED_UP.add((method, with_jac))


def run_scipy(args, case, method, row):
    if method in case.skip:
        row["status"] = SKIPPED
        row["note"] = case.skip[method]
        return row
    options = {"rtol": args.rtol, "atol": args.atol, "t_eval": None, "dense_output": False}
    if method in case.jac:
        options["jac"] = case.jac[method]
    scipy_method = case.aliases.get(method, method)

    base = case.fun
    count = [0]
    deadline = [math.inf]

    def fun(t, y):
        count[0] += 1
        if time.perf_counter() > deadline[0]:
            raise SciPyTimeLimit()
        return base(t, y)

    walls = []
    sol = None
    spent = 0.0
    try:
        warm_up(scipy_method, "jac" in options)
        for _ in range(args.repeats):
            count[0] = 0
            start = time.perf_counter()
            deadline[0] = start + args.scipy_time_limit
            try:
                sol_run = solve_ivp(fun, (0.0, case.t_end), case.theta0, method=scipy_method, **options)
            except SciPyTimeLimit:
                elapsed = time.perf_counter() - start
                if walls:  # an earlier repeat finished: keep it, note the stop
                    row["note"] = f"a later repeat hit the {args.scipy_time_limit:g} s limit"
                    break
                row["status"] = TIMED_OUT
                row["wall_seconds"] = elapsed
                row["grad_evals"] = count[0]
                row["runs"] = 1
                row["note"] = (f"stopped after {elapsed:.0f} s (limit {args.scipy_time_limit:g} s): "
                               "wall time and evals are lower bounds")
                return row
            elapsed = time.perf_counter() - start
            walls.append(elapsed)
            sol = sol_run
            spent += elapsed
            if spent > args.repeat_budget:
                break
    except Exception as exc:  # noqa: BLE001 -- a SciPy failure is a measurement, not a crash
        row["status"] = f"failed: {type(exc).__name__}: {exc}"
        return row
    finally:
        deadline[0] = math.inf
    row["wall_seconds"] = min(walls)
    row["runs"] = len(walls)
    row["grad_evals"] = int(sol.nfev)
    row["jac_evals"] = int(sol.njev)
    row["lu_decomps"] = int(sol.nlu)
    row["steps"] = len(sol.t) - 1
    row["rel_error"] = case.measure(sol.y[:, -1])
    row["loss_final"] = case.loss(sol.y[:, -1])
    row["error_kind"] = case.measure.kind
    if sol.success and sol.status == 0:
        row["status"] = OK
    else:
        row["status"] = f"failed: {sol.message}"
    return row


# --------------------------------------------------------------------------
# Output


def fmt_num(value, spec, lower_bound=False):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return (">" if lower_bound else "") + format(value, spec)


def row_notes(row, repeats):
    parts = []
    if row["side"] == "gradflow":
        if row["steps"] is not None:
            parts.append(f"steps {row['steps']}, rej {row['rejected_steps']}, jac {row['jac_evals']}, "
                         f"hv {row['hessvec_evals']}")
        if row["process_seconds"] is not None:
            parts.append(f"process {row['process_seconds']:.3g} s")
    else:
        if row["steps"] is not None:
            parts.append(f"steps {row['steps']}, njev {row['jac_evals']}, nlu {row['lu_decomps']}")
    if row["runs"] is not None and row["runs"] < repeats and row["status"] == OK:
        parts.append(f"runs {row['runs']}/{repeats}")
    if row["note"]:
        parts.append(row["note"])
    return "; ".join(parts)


def print_table(rows, measure, repeats):
    err_head = "rel error" if not measure.absolute else "ABS error"
    print(f"  {'side':<9} {'method':<17} {'grad evals':>10} {'wall s':>10} {err_head:>10}  {'status':<17} notes")
    for row in rows:
        bound = row["status"] == TIMED_OUT
        print(
            f"  {row['side']:<9} {row['method']:<17} {fmt_num(row['grad_evals'], 'd', bound):>10} "
            f"{fmt_num(row['wall_seconds'], '.3e', bound):>10} {fmt_num(row['rel_error'], '.2e'):>10}  "
            f"{row['status']:<17} {row_notes(row, repeats)}".rstrip()
        )


class Targets:
    def __init__(self):
        self.passed = 0
        self.missed = 0
        self.unmeasured = 0

    def check(self, label, value, bound, kind, detail, is_bound=False):
        """kind: 'le' (value <= bound), 'lt' (value < bound) or 'ge' (value >= bound).

        is_bound: value is only a bound (a lower bound for 'ge', an upper bound for 'le'/'lt'), from a
        SciPy run stopped by the time limit: it can pass the target but not miss it.
        """
        if value is None:
            self.unmeasured += 1
            print(f"  TARGET {label} : NOT MEASURED ({detail}){MARK}")
            return
        if kind == "le":
            ok_, factor = value <= bound, value / bound
        elif kind == "lt":
            ok_, factor = value < bound, value / bound
        else:
            ok_, factor = value >= bound, (bound / value if value > 0 else math.inf)
        factor = fmt_close(factor)
        if ok_:
            self.passed += 1
            print(f"  TARGET {label} : PASS ({detail}){MARK}")
        elif is_bound:
            self.unmeasured += 1
            print(f"  TARGET {label} : NOT DECIDED (only a bound is known: {detail}){MARK}")
        else:
            self.missed += 1
            print(f"  TARGET {label} : MISSED by {factor}x ({detail}){MARK}")


def ok(row):
    return row is not None and row["status"] == OK


def compare(gf, sp, kind="rel"):
    """(eval ratio gradflow/SciPy, speed-up SciPy/gradflow, text, is_bound), or Nones and a reason.

    A SciPy run stopped by the time limit still gives bounds: its time and evals are lower bounds, so
    the eval ratio is an upper bound and the speed-up a lower bound (is_bound True).
    """
    if not ok(gf):
        name = f"gradflow {gf['method']}" if gf else "gradflow run missing"
        return None, None, f"{name} did not succeed", False
    if sp is None:
        return None, None, "SciPy run missing", False
    if sp["status"] == SKIPPED:
        return None, None, f"SciPy {sp['method']} was skipped", False
    bounded = sp["status"] == TIMED_OUT
    if not ok(sp) and not bounded:
        return None, None, f"scipy {sp['method']} did not succeed", False
    ratio = gf["grad_evals"] / sp["grad_evals"] if sp["grad_evals"] else math.inf
    time_ratio = gf["wall_seconds"] / sp["wall_seconds"] if sp["wall_seconds"] > 0 else math.inf
    speed = sp["wall_seconds"] / gf["wall_seconds"] if gf["wall_seconds"] > 0 else math.inf
    if bounded:
        text = (f"SciPy {sp['method']} TIMED OUT after {sp['wall_seconds']:.0f} s ({sp['grad_evals']} evals so far): "
                f"evals {gf['grad_evals']} / >={sp['grad_evals']} -> ratio <= {fmt_close(ratio)}; "
                f"time {gf['wall_seconds']:.3e} s vs >={sp['wall_seconds']:.3e} s -> ratio <= {time_ratio:.3g}, "
                f"speed-up >= {speed:.3g}x; {kind} error gradflow {gf['rel_error']:.2e}")
    else:
        text = (f"evals {gf['grad_evals']} / {sp['grad_evals']} = {fmt_close(ratio)}; "
                f"time {gf['wall_seconds']:.3e} s / {sp['wall_seconds']:.3e} s = {time_ratio:.3g} "
                f"(speed-up {speed:.3g}x); {kind} errors {gf['rel_error']:.2e} vs {sp['rel_error']:.2e}")
    return ratio, speed, text, bounded


def fmt_close(value):
    """%.3g, or %.4g when %.3g would round a value near 1 to exactly 1 (1.0024 -> 1.002)."""
    text = format(value, ".3g")
    return format(value, ".4g") if text == "1" and value != 1.0 else text


def bound_text(value, is_bound, what):
    return f"{what} {'>= ' if is_bound and what == 'speed-up' else '<= ' if is_bound else ''}{fmt_close(value)}"


def print_pairs(case, rows, targets):
    by = {(r["side"], r["method"]): r for r in rows}
    kind = case.measure.kind
    where = f"kappa {fmt_kappa(case.kappa)}" if case.problem == "quadratic" else case.problem

    def pair(gf_name, sp_name, title):
        result = compare(by.get(("gradflow", gf_name)), by.get(("scipy", sp_name)), kind)
        print(f"    {title}: {result[2]}{MARK}")
        return result

    print(f"  pairs ({where}), ratios gradflow/SciPy:")
    ratio, speed, text, bounded = pair("dopri5", "RK45", "dopri5 vs RK45")
    if case.problem == "quadratic":
        eval_label = f"dopri5 vs RK45 grad-eval ratio <= 1 ({where})"
    else:
        eval_label = f"dopri5 evals <= RK45 evals ({where})"
    targets.check(eval_label, ratio, 1.0, "le",
                  bound_text(ratio, bounded, "ratio") if ratio is not None else text, bounded)
    explicit = EXPLICIT_SPEEDUP[case.problem]
    targets.check(f"dopri5 vs RK45 speed-up >= {explicit:g} ({where})", speed, explicit, "ge",
                  bound_text(speed, bounded, "speed-up") + "x" if speed is not None else text, bounded)

    pair("fehlberg78", "DOP853", "fehlberg78 vs DOP853")
    ratio, _, text, bounded = pair("cvode-bdf", "BDF", "cvode-bdf vs BDF")
    bdf_ratio, bdf_text, bdf_bounded = ratio, text, bounded
    _, k_speed, k_text, k_bounded = pair("cvode-bdf-krylov", "BDF", "cvode-bdf-krylov vs BDF")
    pair("cvode-adams", "LSODA", "cvode-adams vs LSODA")

    gf_bdf = by.get(("gradflow", "cvode-bdf"))
    fastest = min((r for r in rows if r["side"] == "scipy" and ok(r)), key=lambda r: r["wall_seconds"], default=None)
    if fastest is None:
        fast_speed, fast_text = None, "no SciPy method succeeded"
    else:
        _, fast_speed, fast_text, _ = compare(gf_bdf, fastest, kind)
        fast_text = f"fastest SciPy method {fastest['method']}: {fast_text}"
    print(f"    cvode-bdf vs SciPy's fastest: {fast_text}{MARK}")

    if case.problem == "quadratic" and case.kappa == TARGET_KAPPA:
        targets.check(f"cvode-bdf evals < BDF evals ({where})", bdf_ratio, 1.0, "lt",
                      bound_text(bdf_ratio, bdf_bounded, "ratio") if bdf_ratio is not None else bdf_text, bdf_bounded)
    if case.problem == "quadratic" and case.kappa in STIFF_KAPPAS:
        targets.check(f"cvode-bdf speed-up vs SciPy's fastest >= {BDF_VS_FASTEST:g} ({where})", fast_speed,
                      BDF_VS_FASTEST, "ge",
                      f"{fast_speed:.3g}x vs {fastest['method']}" if fast_speed is not None else fast_text)
    if case.problem == "mlp":
        detail = k_text
        if k_speed is not None:
            detail = bound_text(k_speed, k_bounded, "speed-up") + "x"
            if k_bounded:
                detail += f" (SciPy BDF timed out after {by[('scipy', 'BDF')]['wall_seconds']:.0f} s)"
        targets.check(f"cvode-bdf-krylov vs SciPy BDF speed-up >= {KRYLOV_VS_BDF:g} (mlp)", k_speed, KRYLOV_VS_BDF,
                      "ge", detail, k_bounded)
        _, h_speed, h_text, h_bounded = pair("cvode-bdf-krylov", "BDF+hess",
                                             "cvode-bdf-krylov vs BDF given the exact Hessian")
        detail = h_text
        if h_speed is not None:
            detail = bound_text(h_speed, h_bounded, "speed-up") + "x"
            if h_bounded:
                detail += f" (SciPy BDF+hess timed out after {by[('scipy', 'BDF+hess')]['wall_seconds']:.0f} s)"
        targets.check(f"cvode-bdf-krylov vs SciPy BDF with the exact Hessian speed-up >= {KRYLOV_VS_BDF_HESS:g} "
                      "(mlp)", h_speed, KRYLOV_VS_BDF_HESS, "ge", detail, h_bounded)


CSV_FIELDS = [
    "problem", "kappa", "side", "method", "grad_evals", "wall_seconds", "rel_error", "status",
    "error_kind", "steps", "rejected_steps", "jac_evals", "lu_decomps", "process_seconds", "note",
    "hessvec_evals", "t_end", "runs", "loss_final", "threads", "blas",
]


def print_environment(args):
    try:
        nproc = len(os.sched_getaffinity(0))
    except AttributeError:
        nproc = os.cpu_count()
    variables = " ".join(f"{v}={os.environ.get(v, '')}" for v in peer_common.THREAD_VARIABLES)
    print(f"python {platform.python_version()} ({sys.executable}), numpy {np.__version__}, scipy {scipy.__version__}")
    print(f"nproc {nproc} (cpu_count {os.cpu_count()}), CPU: {peer_common.cpu_model()}")
    print(f"threads: {args.threads} on both sides; SciPy side: {variables}; "
          f"threadpoolctl: {args.pools or 'not installed (only the variables apply)'}; "
          f"gradflow: --threads {args.threads} (the network problem; the others run on one thread)")
    print(f"BLAS: {args.blas_line}")
    print(f"gradflow: {args.gradflow}")
    print(f"problems: {','.join(args.problems)}; rtol {args.rtol:g}, atol {args.atol:g}, repeats {args.repeats} "
          f"(fewer once a solver's runs exceed {args.repeat_budget:g} s), "
          f"SciPy time limit {args.scipy_time_limit:g} s, seed {args.seed}")
    if "quadratic" in args.problems:
        kappas = ",".join(fmt_kappa(k) for k in args.kappas)
        print(f"  quadratic: dim {args.dim}, kappas {kappas}, t_end {args.t_end:g}")
    print()


# --------------------------------------------------------------------------


def build_cases(args, problem, workdir):
    if problem == "quadratic":
        return [make_quadratic(args, kappa, index, workdir) for index, kappa in enumerate(args.kappas)]
    if problem == "least-squares":
        return [make_least_squares(args, workdir)]
    if problem == "karimi":
        case = make_karimi(args, workdir)
        reference_solution(args, case, workdir)
        return [case]
    case = make_mlp(args, workdir)
    case.t_end, how = mlp_t_end(args, case, workdir)
    case.label = f"mlp, t_end = {case.t_end:.6g}"
    case.lines.append(f"t_end {how}")
    reference_solution(args, case, workdir)
    return [case]


def measure_case(args, case, workdir, targets):
    measure = case.measure
    started = time.perf_counter()
    print(f"{case.label}  (||theta0|| = {np.linalg.norm(case.theta0):.3e}, "
          f"||theta(t_end)|| = {measure.norm:.3e}"
          f"{' -- tiny, ABSOLUTE errors reported' if measure.absolute else ''})")
    for line in case.lines:
        print(f"  {line}")
    print(f"  SciPy implicit methods' Jacobian: {case.jac_text}")
    dim = case.theta0.size
    if measure.absolute:
        print(f"  note: the final point is ~0, so the absolute errors below are set by atol = {args.atol:g}")
    elif args.rtol * measure.norm < args.atol * math.sqrt(dim):
        print(f"  note: atol*sqrt(dim) > rtol*||theta(t_end)||: the final point is so small that "
              f"the errors below are set by atol = {args.atol:g}, not by rtol")
    rows = []
    for solver in GRADFLOW_SOLVERS:
        rows.append(run_gradflow(args, case, solver, workdir, new_row(case, "gradflow", solver)))
    for method in SCIPY_METHODS + list(case.aliases):
        rows.append(run_scipy(args, case, method, new_row(case, "scipy", method)))
    print_table(rows, measure, args.repeats)
    print_pairs(case, rows, targets)
    print(f"  ({time.perf_counter() - started:.0f} s for this case)")
    print()
    return rows


def run(args, workdir):
    print_environment(args)
    if MARK:
        print(f"WARNING: the reference BLAS is in use (--allow-reference-blas): every ratio is marked{MARK}\n")
    started = time.perf_counter()
    all_rows = []
    targets = Targets()
    for problem in args.problems:
        for case in build_cases(args, problem, workdir):
            all_rows.extend(measure_case(args, case, workdir, targets))

    if "quadratic" in args.problems and TARGET_KAPPA not in args.kappas:
        print(f"note: kappa {fmt_kappa(TARGET_KAPPA)} was not measured, so the cvode-bdf targets were not checked")

    def where(r):
        return f"kappa {fmt_kappa(r['kappa'])}" if r["problem"] == "quadratic" else r["problem"]

    failures = [r for r in all_rows if r["status"] not in (OK, TIMED_OUT, SKIPPED)]
    timed_out = [r for r in all_rows if r["status"] == TIMED_OUT]
    skipped = [r for r in all_rows if r["status"] == SKIPPED]
    for r in failures:
        print(f"FAILED: {where(r)} {r['side']} {r['method']}: {r['status']}")
    for r in timed_out:
        print(f"TIMED OUT: {where(r)} {r['side']} {r['method']}: {r['note']}")
    for r in skipped:
        print(f"SKIPPED: {where(r)} {r['side']} {r['method']}: {r['note']}")
    print(f"targets: {targets.passed} passed, {targets.missed} missed, {targets.unmeasured} not measured/decided; "
          f"{len(failures)} failed run(s), {len(timed_out)} timed out, {len(skipped)} skipped; "
          f"total {time.perf_counter() - started:.0f} s")
    for row in all_rows:
        row["threads"] = args.threads
        row["blas"] = "reference" if MARK else "optimized"
    if args.csv:
        peer_common.write_csv_atomically(args.csv, all_rows, CSV_FIELDS)
        print(f"rows written to {args.csv}")


def main(argv=None):
    try:
        sys.stdout.reconfigure(line_buffering=True)  # progress shows through pipes
    except AttributeError:
        pass
    global MARK
    args = parse_args(sys.argv[1:] if argv is None else argv)
    # Before any measurement: the threads of numpy/SciPy's pools, and a refusal of the reference BLAS.
    args.pools = peer_common.set_blas_threads(args.threads)
    np.ones((8, 8)) @ np.ones((8, 8))  # the BLAS is mapped by now; a product makes sure
    MARK = peer_common.check_blas(args.allow_reference_blas, "numpy/SciPy")
    args.blas_line = "reference (netlib) BLAS, allowed by --allow-reference-blas" if MARK else "see above"
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
