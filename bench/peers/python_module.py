#!/usr/bin/env python3
"""The Python module's costs, measured in one run (BENCHMARKS.md, "The Python module").

1. A loss written in Python through gradflow's dopri5 against scipy.integrate.solve_ivp's RK45 on
   the same callable, the same rtol and atol, from the same theta0 to the same t_end: the calls of
   the callable (each side counts them itself) and the wall time (minimum over --repeats). Both sides
   pay Python for every call; the difference is what each pays besides. The callable is the
   extended Rosenbrock function in numpy (--dim p, theta0 = (-1.2, 1, -1.2, 1, ...)) and a quadratic
   1/2 theta^T A theta with a numpy matrix-vector product (A from gradflow.Quadratic.generated).
2. A built-in objective run from Python (time.perf_counter around gradflow.flow, conversions
   included) against the same run by the gradflow executable (its JSON's stats.wall_seconds, the
   library's own clock around the integration, which leaves out the command line's parsing and
   output): the generated quadratic, and a network on data written to a CSV both sides read. The
   final losses are compared: the same bits, else the script stops (it would not be the same run).
3. gradflow.solve_flow (solve_ivp's shape) on that quadratic against flow() and the command line, and a
   numpy loss through solve_flow against solve_ivp with RK45 and DOP853 (calls and time).
4. descend_many with 64 starts of a network on 2 threads against 64 descend() calls (the same bits,
   checked; the throughput ratio).

    PYTHONPATH=build/release/python /usr/bin/python3 bench/peers/python_module.py [--repeats 5]
        [--gradflow build/release/gradflow] [--threads 1] [--allow-reference-blas]

The gradflow executable is started without a shell, one argument list per run. Prints a table; writes
nothing unless --csv PATH is given (written whole or not at all).
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peer_common as common  # noqa: E402

common.PROG = "python_module.py"
common.set_thread_variables(common.requested_threads(sys.argv)[0])

try:
    import numpy as np
    import scipy
    import scipy.integrate
except ImportError as exc:  # pragma: no cover
    common.retry_with_system_python(exc, "GRADFLOW_PEER_RETRIED", "numpy and SciPy",
                                    "apt-get install python3-numpy python3-scipy")
try:
    import gradflow
except ImportError as exc:
    common.die(f"cannot import gradflow ({exc}): build it (cmake --build --preset release) and set "
               "PYTHONPATH=build/release/python")


def rosenbrock_callable(counter):
    def loss(theta):
        counter[0] += 1
        x, y = theta[0::2], theta[1::2]
        a, b = y - x * x, 1.0 - x
        grad = np.empty_like(theta)
        grad[0::2] = -400.0 * a * x - 2.0 * b
        grad[1::2] = 200.0 * a
        return float(np.sum(100.0 * a * a + b * b)), grad
    return loss


def quadratic_callable(a, counter):
    def loss(theta):
        counter[0] += 1
        g = a @ theta
        return 0.5 * float(theta @ g), g
    return loss


def best_of(repeats, run):
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = run()
        best = min(best, time.perf_counter() - start)
    return best, value


def callable_case(name, make_loss, theta0, t_end, rtol, atol, repeats):
    counter = [0]
    loss = make_loss(counter)

    def run_gradflow():
        counter[0] = 0
        r = gradflow.flow(loss, theta0, solver="dopri5", t_end=t_end, rtol=rtol, atol=atol)
        if not r.success:
            common.die(f"gradflow failed on {name}: {r.message}")
        return r.theta, counter[0], r.stats["num_steps"]

    def run_scipy():
        counter[0] = 0
        sol = scipy.integrate.solve_ivp(lambda t, th: -loss(th)[1], (0.0, t_end), theta0, method="RK45",
                                        rtol=rtol, atol=atol)
        if not sol.success:
            common.die(f"solve_ivp failed on {name}: {sol.message}")
        return sol.y[:, -1], counter[0], len(sol.t) - 1

    def calls_alone():  # the floor both sides pay: gradflow's number of calls in a plain Python loop
        for _ in range(g_calls):
            loss(theta0)

    # The three alternate, so that they see the same load; the minimum of each.
    g_time = s_time = c_time = float("inf")
    for _ in range(repeats):
        t, (g_theta, g_calls, g_steps) = best_of(1, run_gradflow)
        g_time = min(g_time, t)
        t, (s_theta, s_calls, s_steps) = best_of(1, run_scipy)
        s_time = min(s_time, t)
        c_time = min(c_time, best_of(1, calls_alone)[0])
    gap = float(np.linalg.norm(g_theta - s_theta) / max(1.0, np.linalg.norm(s_theta)))
    return {"case": name, "gradflow_calls": g_calls, "scipy_calls": s_calls, "gradflow_steps": g_steps,
            "scipy_steps": s_steps, "gradflow_seconds": g_time, "scipy_seconds": s_time,
            "calls_alone_seconds": c_time, "speedup": s_time / g_time, "final_gap": gap}


def run_cli(executable, arguments):
    out = subprocess.run([executable] + arguments + ["--json", "-", "--quiet"], capture_output=True, text=True,
                         check=False)
    if out.returncode != 0:
        common.die(f"{executable} failed ({out.returncode}): {common.last_line(out.stderr)}")
    return json.loads(out.stdout)


def built_in_case(name, make_objective, theta0, options, cli_arguments, executable, repeats):
    """The Python call and the command line alternately, repeats times each, so that both sides see the
    same load; the minimum of each."""
    objective = make_objective()
    py_best = library_best = cli_best = float("inf")
    r = summary = None
    for _ in range(repeats):
        start = time.perf_counter()
        r = gradflow.flow(objective, theta0, **options)
        py_best = min(py_best, time.perf_counter() - start)
        library_best = min(library_best, r.stats["wall_seconds"])
        if not r.success:
            common.die(f"{name}: {r.message}")
        summary = run_cli(executable, cli_arguments)
        cli_best = min(cli_best, summary["stats"]["wall_seconds"])
    if summary["loss_final"] != r.loss_final or summary["stats"]["num_steps"] != r.stats["num_steps"]:
        common.die(f"{name}: the Python and command-line runs differ (loss {r.loss_final!r} vs "
                   f"{summary['loss_final']!r}, steps {r.stats['num_steps']} vs {summary['stats']['num_steps']})")
    return {"case": name, "steps": r.stats["num_steps"], "gradient_evals": r.stats["num_gradient_evals"],
            "python_seconds": py_best, "library_seconds_in_python": library_best, "cli_library_seconds": cli_best,
            "layer_seconds": py_best - library_best, "overhead": py_best / cli_best - 1.0}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--gradflow", default="build/release/gradflow", help="the gradflow executable")
    parser.add_argument("--threads", default="1", help="BLAS threads of numpy (the callables' products)")
    parser.add_argument("--allow-reference-blas", action="store_true")
    parser.add_argument("--csv", help="also write the rows here")
    args = parser.parse_args()
    if args.repeats < 1:
        common.die("--repeats must be >= 1")
    if not os.path.isfile(args.gradflow):
        common.die(f"--gradflow {args.gradflow}: no such file (build it first)")
    print(f"machine: {common.cpu_model()}, {os.cpu_count()} cores; python {sys.version.split()[0]}, numpy "
          f"{np.__version__}, scipy {scipy.__version__}; gradflow module {gradflow.__file__}")
    mark = common.check_blas(args.allow_reference_blas, "numpy")
    print(common.set_blas_threads(int(args.threads)) or "threadpoolctl absent")

    rows = []
    print("\n1. a Python loss: gradflow dopri5 vs solve_ivp RK45 (rtol 1e-8, atol 1e-10), best of", args.repeats)
    for p in (2, 20):
        theta0 = np.tile([-1.2, 1.0], p // 2)
        rows.append(callable_case(f"rosenbrock p={p} t=10", rosenbrock_callable, theta0, 10.0, 1e-8, 1e-10,
                                  args.repeats))
    q = gradflow.Quadratic.generated(100, cond=100.0, seed=0)
    a = q.A
    rows.append(callable_case("quadratic p=100 cond=100 t=50", lambda c: quadratic_callable(a, c), np.ones(100),
                              50.0, 1e-8, 1e-10, args.repeats))
    print(f"{'case':32} {'calls gf':>9} {'calls sp':>9} {'time gf':>10} {'time sp':>10} {'calls alone':>12} "
          f"{'speedup':>8} {'|gap|':>9}")
    for r in rows:
        print(f"{r['case']:32} {r['gradflow_calls']:9d} {r['scipy_calls']:9d} {r['gradflow_seconds']:10.4f} "
              f"{r['scipy_seconds']:10.4f} {r['calls_alone_seconds']:12.4f} {r['speedup']:7.2f}x{mark} "
              f"{r['final_gap']:9.1e}")

    print("\n2. built-ins from Python vs the same run from the command line (library wall time), best of",
          args.repeats)
    built = []
    with tempfile.TemporaryDirectory() as folder:
        theta_file = os.path.join(folder, "theta0.csv")
        np.savetxt(theta_file, np.ones(400), fmt="%.17g")
        built.append(built_in_case(
            "quadratic p=400 cond=1e4 dopri5 t=20000", lambda: gradflow.Quadratic.generated(400, 1e4, 0),
            np.ones(400), {"t_end": 20000.0, "save_every": 10.0},
            ["flow", "--problem", "quadratic", "--dim", "400", "--cond", "1e4", "--seed", "0", "--theta0",
             theta_file, "--t-end", "20000", "--save-every", "10"], args.gradflow, args.repeats))
        rng = np.random.default_rng(0)
        n, d = 64, 128
        x = rng.standard_normal((n, d)) / np.sqrt(d)
        y = rng.standard_normal(n)
        data_file = os.path.join(folder, "data.csv")
        np.savetxt(data_file, np.column_stack([x, y]), fmt="%.17g", delimiter=",")
        net = gradflow.MLP(x, y, widths=[64], threads=1)
        theta0 = net.init("positive", seed=0, output_scale=1.0)
        net_theta = os.path.join(folder, "net_theta0.csv")
        np.savetxt(net_theta, theta0, fmt="%.17g")
        built.append(built_in_case(
            "mlp 64x128, width 64, cvode-bdf-krylov t=100", lambda: net, theta0,
            {"solver": "cvode-bdf-krylov", "t_end": 100.0, "save_every": 1.0},
            ["flow", "--problem", "mlp", "--data", data_file, "--widths", "64", "--theta0", net_theta, "--threads",
             "1", "--solver", "cvode-bdf-krylov", "--t-end", "100", "--save-every", "1"], args.gradflow,
            args.repeats))
    print(f"{'case':44} {'steps':>7} {'evals':>7} {'python s':>10} {'(library)':>10} {'layer s':>9} {'cli s':>10} "
          f"{'overhead':>9}")
    print("  python s: gradflow.flow() end to end; (library): the library's clock in that call; layer s: the")
    print("  difference; cli s: the library's clock in the gradflow executable; overhead = python s / cli s - 1")
    print("  (minimum of each over the repeats, the two sides alternating)")
    for r in built:
        print(f"{r['case']:44} {r['steps']:7d} {r['gradient_evals']:7d} {r['python_seconds']:10.4f} "
              f"{r['library_seconds_in_python']:10.4f} {r['layer_seconds']:9.5f} {r['cli_library_seconds']:10.4f} "
              f"{100 * r['overhead']:8.1f}%")
    print("\n3. solve_flow (solve_ivp's shape) against flow() and the command line on the same run; a numpy loss "
          "through solve_flow against solve_ivp; best of", args.repeats)
    shaped = []
    q400 = gradflow.Quadratic.generated(400, 1e4, 0)
    grid = np.arange(0.0, 20000.0 + 1e-9, 10.0)
    with tempfile.TemporaryDirectory() as folder:
        theta_file = os.path.join(folder, "theta0.csv")
        np.savetxt(theta_file, np.ones(400), fmt="%.17g")
        cli_arguments = ["flow", "--problem", "quadratic", "--dim", "400", "--cond", "1e4", "--seed", "0", "--theta0",
                         theta_file, "--t-end", "20000", "--save-every", "10"]
        solve_best = flow_best = cli_best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            res = gradflow.solve_flow(q400, (0.0, 20000.0), np.ones(400), t_eval=grid, rtol=1e-8, atol=1e-10)
            solve_best = min(solve_best, time.perf_counter() - start)
            start = time.perf_counter()
            gradflow.flow(q400, np.ones(400), t_end=20000.0, save_every=10.0)
            flow_best = min(flow_best, time.perf_counter() - start)
            cli_best = min(cli_best, run_cli(args.gradflow, cli_arguments)["stats"]["wall_seconds"])
    shaped.append({"case": "quadratic p=400: solve_flow (y kept) / flow() / cli library", "solve_flow_seconds":
                   solve_best, "flow_seconds": flow_best, "cli_library_seconds": cli_best,
                   "solve_flow_over_cli": solve_best / cli_best})
    counter = [0]
    loss = rosenbrock_callable(counter)
    theta0 = np.tile([-1.2, 1.0], 10)
    for method in ("RK45", "DOP853"):
        g_best = s_best = float("inf")
        for _ in range(args.repeats):
            counter[0] = 0
            start = time.perf_counter()
            mine = gradflow.solve_flow(loss, (0.0, 20.0), theta0, method=method, rtol=1e-8, atol=1e-10)
            g_best = min(g_best, time.perf_counter() - start)
            g_calls = counter[0]
            counter[0] = 0
            start = time.perf_counter()
            theirs = scipy.integrate.solve_ivp(lambda t, th: -loss(th)[1], (0.0, 20.0), theta0, method=method,
                                               rtol=1e-8, atol=1e-10)
            s_best = min(s_best, time.perf_counter() - start)
            s_calls = counter[0]
        shaped.append({"case": f"rosenbrock p=20 numpy loss, {method}", "solve_flow_seconds": g_best,
                       "scipy_seconds": s_best, "speedup": s_best / g_best, "solve_flow_calls": g_calls,
                       "scipy_calls": s_calls, "final_gap": float(np.abs(mine.y[:, -1] - theirs.y[:, -1]).max())})
    for r in shaped:
        print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()))

    print("\n4. descend_many: k = 64 starts of a network on 2 threads against 64 descend() calls, best of",
          args.repeats)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 64)) / 8.0
    y = rng.standard_normal(32)
    net = gradflow.MLP(x, y, widths=[64], threads=1)
    starts = np.stack([net.init("xavier_normal", seed, 1.0) for seed in range(64)])
    serial_best = many_best = float("inf")
    for _ in range(args.repeats):
        start = time.perf_counter()
        alone = [gradflow.descend(net, s, lr=0.02, max_iters=300) for s in starts]
        serial_best = min(serial_best, time.perf_counter() - start)
        start = time.perf_counter()
        many = gradflow.descend_many(net, starts, lr=0.02, max_iters=300, threads=2)
        many_best = min(many_best, time.perf_counter() - start)
    if any(not np.array_equal(r.theta, many.theta[i]) for i, r in enumerate(alone)):
        common.die("descend_many: a start's bits differ from its descend() call")
    ensemble = {"case": "mlp 32x64 width 64, 300 iterations, 64 starts", "serial_seconds": serial_best,
                "descend_many_2_threads_seconds": many_best, "throughput_ratio": serial_best / many_best}
    print("  " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in ensemble.items()))
    if args.csv:
        everything = rows + built + shaped + [ensemble]
        fields = sorted({k for r in everything for k in r})
        common.write_csv_atomically(args.csv, everything, fields)


if __name__ == "__main__":
    main()
