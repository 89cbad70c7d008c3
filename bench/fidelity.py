#!/usr/bin/env python3
"""How closely each flow predicts gradient descent, from the stable regime to the edge of stability.

    /usr/bin/python3 bench/fidelity.py --gradflow build/release/gradflow [--out results/fidelity]
                                       [--figure docs/explanation/central_flow_eos.png] [--skip-slow]

For each case (a problem and a step size eta), `gradflow descend --step fixed --against-flow central` and
`--against-flow edge` run descent beside the plain flow (theta' = -grad L), the modified flow
(-grad (L + eta/4 ||grad L||^2)) and the central flow, then the edge flow (docs/theory.md §2.10), all on
descent's clock t = k eta, and
`gradflow flow --observe sharpness` runs the plain flow alone for its sharpness. From the rows:

  - loss deviation: |flow's loss - descent's| / descent's, each row; the plain and modified flows
    predict the iterate's loss L_k, the central flow the time average, so its predicted average loss
    L + sigma^2 / eta, and the edge flow's (L(c + a u) + L(c - a u)) / 2, are compared with descent's loss
    centred over three rows (1/4, 1/2, 1/4), as `descend --against-flow` does;
  - sharpness deviation: the central and edge flows' sharpness against descent's (centred the same way);
  - both as the median and the largest value over the second half of the run ("late": where descent
    sits at the edge, if it reaches it) and the largest over the whole run;
  - cost: each flow's evaluations of the gradient and of Hessian-vector products per unit time (the
    modified flow's field is one gradient and one Hessian-vector product per evaluation);
  - eta x sharpness: descent's largest and its median over the second half, and the plain flow's
    largest (the plain flow is not held at the edge: where it sharpens past 2 / eta, descent does not).

Outputs in --out: fidelity.csv (one row per case) and the same table in Markdown, each case's rows
(CASE.MODEL.csv) and summary (CASE.MODEL.json); with --figure, the edge-of-stability case drawn (PNG: loss
and eta x sharpness against t; docs/explanation/central_flow_eos.png is this figure). The central flow on
the synthetic edge-of-stability network takes about ten minutes on one core (millions of evaluations,
docs/theory.md §2.10; the edge flow there takes a second), on the digits network longer than --timeout;
--skip-slow leaves the central flow out of both.
These are measurements of one run each on this machine, not bounds.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

import numpy as np

# (name, descend/flow problem options, eta, iterations, slow)
CASES = [
    ("quadratic-0.5", ["--problem", "quadratic", "--dim", "10", "--cond", "100"], 0.5, 200, False),
    ("quadratic-1.0", ["--problem", "quadratic", "--dim", "10", "--cond", "100"], 1.0, 200, False),
    ("quadratic-1.5", ["--problem", "quadratic", "--dim", "10", "--cond", "100"], 1.5, 200, False),
    # beta = 84933.5 (the largest squared singular value of the shipped digits inputs): eta beta = 1, 1.5.
    ("least-squares-1.0", ["--problem", "least-squares", "--data", "data/digits.csv"], 1.0 / 84933.5, 200, False),
    ("least-squares-1.5", ["--problem", "least-squares", "--data", "data/digits.csv"], 1.5 / 84933.5, 200, False),
    # The paper's regime, n <= d: synthetic 16 x 32, width 32.
    ("network-n16-d32-0.05", ["--problem", "mlp", "--synthetic", "16,32", "--widths", "32", "--init",
                              "xavier_normal", "--threads", "1"], 0.05, 200, False),
    ("network-n16-d32-0.1", ["--problem", "mlp", "--synthetic", "16,32", "--widths", "32", "--init",
                             "xavier_normal", "--threads", "1"], 0.1, 200, False),
    # n > d: synthetic 32 x 12, width 16; descent sharpens to the edge and stays there (eta x S = 2.000).
    ("network-n32-d12-0.045-eos", ["--problem", "mlp", "--synthetic", "32,12", "--widths", "16", "--init",
                                   "xavier_normal", "--threads", "1"], 0.045, 600, True),
    # n > d from shipped data: 180 of the 1797 digits (--holdout 0.9), standardized, widths 16,16; descent
    # starts at eta x S = 1.04 and sharpens to the edge.
    ("digits-n180-16x16-0.0012-eos", ["--problem", "mlp", "--data", "data/digits_all.csv", "--standardize",
                                      "--holdout", "0.9", "--widths", "16,16", "--init", "xavier_normal",
                                      "--threads", "1"], 0.0012, 1500, True),
]
EOS_CASE = "network-n32-d12-0.045-eos"  # the one drawn by --figure
EOS_CASES = ("network-n32-d12-0.045-eos", "digits-n180-16x16-0.0012-eos")


def read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: np.array([float(r[k]) if r[k] not in ("", "nan") else np.nan for r in rows]) for k in rows[0]}


def centred(x):
    out = np.full_like(x, np.nan)
    out[1:-1] = 0.25 * x[:-2] + 0.5 * x[1:-1] + 0.25 * x[2:]
    return out


def deviation(a, b, mask):
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(a[mask] - b[mask]) / np.abs(b[mask])
    d = d[np.isfinite(d)]
    return (float(np.median(d)), float(np.max(d))) if d.size else (np.nan, np.nan)


def run_case(gradflow, out, name, options, eta, iters, models, timeout):
    """Descent against the plain and modified flows and each model in models (central, edge): one descend
    run per model (the plain and modified flows' figures are the first finished run's); a run that takes
    longer than timeout seconds is stopped and its model's figures are NaN, noted in timed_out."""
    runs = {}
    timed_out = []
    seconds = 0.0
    for model in models:
        rows_path = os.path.join(out, f"{name}.{model}.csv")
        json_path = os.path.join(out, f"{name}.{model}.json")
        start = time.time()
        try:
            subprocess.run([gradflow, "descend", *options, "--step", "fixed", "--lr", repr(eta), "--max-iters",
                            str(iters), "--against-flow", model, "--observe", "sharpness", "--out", rows_path,
                            "--json", json_path, "--quiet"], check=False, capture_output=True, text=True,
                           timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out.append(model)
            continue
        finally:
            seconds += time.time() - start
        with open(json_path) as f:
            runs[model] = (read_rows(rows_path), json.load(f))
    if not runs:
        raise SystemExit(f"fidelity.py: {name}: every run took longer than {timeout} s")
    models = [m for m in models if m in runs]
    plain_path = os.path.join(out, name + ".plain.csv")
    subprocess.run([gradflow, "flow", *options, "--t-end", repr(eta * iters), "--save-every", repr(eta),
                    "--observe", "sharpness", "--out", plain_path, "--quiet"], check=False, capture_output=True)
    rows, summary = runs[models[0]]
    plain = read_rows(plain_path)
    af = summary["against_flow"]
    t_end = float(rows["t"][-1]) if rows["t"][-1] > 0 else eta * iters
    loss, sharp = rows["loss"], rows["sharpness"]
    loss_avg, sharp_avg = centred(loss), centred(sharp)
    n = len(loss)
    late = np.zeros(n, bool)
    late[n // 2:] = True
    every = np.ones(n, bool)
    result = {"case": name, "eta": eta, "iterations": iters, "t_end": t_end, "status": summary["status"],
              "seconds": round(seconds, 1),
              "descent_eta_sharpness_max": float(np.nanmax(eta * sharp)),
              "descent_eta_sharpness_late_median": float(np.nanmedian(eta * sharp[late])),
              "plain_flow_eta_sharpness_max": float(np.nanmax(eta * plain["sharpness"])),
              "edge_reached": bool(af.get("edge_reached", False)),
              "timed_out": " ".join(f"{m} (> {timeout:g} s)" for m in timed_out)}
    for flow, column in (("plain", "flow_loss"), ("modified", "modified_flow_loss")):
        med, big = deviation(rows[column], loss, late)
        result[f"{flow}_loss_dev_late_median"], result[f"{flow}_loss_dev_late_max"] = med, big
        result[f"{flow}_loss_dev_max"] = deviation(rows[column], loss, every)[1]
    result["plain_gradients_per_time"] = af["flow_gradient_evals"] / t_end
    result["modified_evaluations_per_time"] = af["modified_flow"]["gradient_evals"] / t_end
    for model in ("central", "edge"):
        if model not in runs:
            for key in ("loss_dev_late_median", "loss_dev_late_max", "loss_dev_max", "sharpness_dev_late_median",
                        "sharpness_dev_late_max", "sharpness_dev_max", "gradients_per_time", "hvps_per_time"):
                result[f"{model}_{key}"] = float("nan")
            continue
        model_rows, model_summary = runs[model]
        for what, column, reference in (("loss", f"{model}_average_loss", loss_avg),
                                        ("sharpness", f"{model}_sharpness", sharp_avg)):
            med, big = deviation(model_rows[column], reference, late)
            result[f"{model}_{what}_dev_late_median"], result[f"{model}_{what}_dev_late_max"] = med, big
            result[f"{model}_{what}_dev_max"] = deviation(model_rows[column], reference, every)[1]
        work = model_summary["against_flow"][f"{model}_flow"]
        result[f"{model}_gradients_per_time"] = work["gradient_evals"] / t_end
        result[f"{model}_hvps_per_time"] = work["hessian_vector_evals"] / t_end
    return result, {model: runs[model][0] for model in runs}, plain


def table(results):
    def f(x, digits=3):
        return "-" if x is None or not np.isfinite(x) else f"{x:.{digits}g}"

    lines = ["| case | eta | descent eta S: max, late median | plain flow eta S max | loss deviation, late median (max): plain | modified | central (average) | edge (average) | sharpness deviation, late median (max): central | edge | cost per unit time: plain grads | modified evals | central grads, HVPs | edge grads, HVPs | not finished |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(
            f"| {r['case']} | {f(r['eta'], 4)} | {f(r['descent_eta_sharpness_max'], 4)}, {f(r['descent_eta_sharpness_late_median'], 4)} "
            f"| {f(r['plain_flow_eta_sharpness_max'], 4)} "
            f"| {f(r['plain_loss_dev_late_median'])} ({f(r['plain_loss_dev_late_max'])}) "
            f"| {f(r['modified_loss_dev_late_median'])} ({f(r['modified_loss_dev_late_max'])}) "
            f"| {f(r['central_loss_dev_late_median'])} ({f(r['central_loss_dev_late_max'])}) "
            f"| {f(r['edge_loss_dev_late_median'])} ({f(r['edge_loss_dev_late_max'])}) "
            f"| {f(r['central_sharpness_dev_late_median'])} ({f(r['central_sharpness_dev_late_max'])}) "
            f"| {f(r['edge_sharpness_dev_late_median'])} ({f(r['edge_sharpness_dev_late_max'])}) "
            f"| {f(r['plain_gradients_per_time'])} | {f(r['modified_evaluations_per_time'])} "
            f"| {f(r['central_gradients_per_time'])}, {f(r['central_hvps_per_time'])} "
            f"| {f(r['edge_gradients_per_time'])}, {f(r['edge_hvps_per_time'])} | {r['timed_out'] or '-'} |")
    return "\n".join(lines) + "\n"


def figure(path, eta, runs, plain):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rows = next(iter(runs.values()))
    t = rows["t"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.semilogy(t, rows["loss"], color="0.7", lw=0.6, label="descent L_k")
    left.semilogy(t, centred(rows["loss"]), color="k", lw=1.2, label="descent, centred over 3 rows")
    colours = {"plain": "C0", "modified": "C1", "central": "C2", "edge": "C3"}  # the same in both panels
    left.semilogy(t, rows["flow_loss"], "--", color=colours["plain"], label="plain flow")
    left.semilogy(t, rows["modified_flow_loss"], ":", color=colours["modified"], label="modified flow")
    right.plot(t, eta * rows["sharpness"], color="0.6", lw=0.6, label="descent")
    right.plot(plain["t"], eta * plain["sharpness"], "--", color=colours["plain"], label="plain flow")
    for model, model_rows in runs.items():
        left.semilogy(model_rows["t"], model_rows[f"{model}_average_loss"], color=colours[model],
                      label=f"{model} flow: predicted average")
        right.plot(model_rows["t"], eta * model_rows[f"{model}_sharpness"], color=colours[model],
                   label=f"{model} flow")
    left.set_xlabel("t = k eta")
    left.set_ylabel("loss")
    left.legend(fontsize=8)
    right.axhline(2.0, color="k", lw=0.5)
    right.set_xlabel("t = k eta")
    right.set_ylabel("eta x sharpness (Lanczos estimate)")
    right.legend(fontsize=8)
    fig.suptitle(f"gradient descent at the edge of stability against {2 + len(runs)} flows (eta = {eta})", fontsize=10)
    fig.tight_layout()
    base = os.path.splitext(path)[0]
    fig.savefig(base + ".png", dpi=90)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gradflow", default="build/release/gradflow")
    parser.add_argument("--out", default="results/fidelity")
    parser.add_argument("--figure", help="draw the edge-of-stability case here (PNG)")
    parser.add_argument("--skip-slow", action="store_true",
                        help="leave out the central flow on the edge-of-stability networks (minutes to hours)")
    parser.add_argument("--timeout", type=float, default=1800.0,
                        help="stop a descend run after this many seconds; its model's figures are then NaN and the "
                             "table's last column says so (default 1800)")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 unless, in every case that stays below the edge, the modified flow is closer to "
                             "descent than the plain flow and the central flow is the plain flow, and at the edge the "
                             "edge flow's predicted average loss is at least twice closer than the plain flow's and its "
                             "sharpness within 1% (medians over the second half; the ctest)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    results = []
    for name, options, eta, iters, slow in CASES:
        print(f"fidelity.py: {name} (eta = {eta:.4g}, {iters} iterations)...", flush=True)
        models = ["edge"] if slow and args.skip_slow else ["central", "edge"]
        result, runs, plain = run_case(args.gradflow, args.out, name, options, eta, iters, models, args.timeout)
        results.append(result)
        print(f"  {result['seconds']} s; loss deviation late median: plain {result['plain_loss_dev_late_median']:.3g}, "
              f"modified {result['modified_loss_dev_late_median']:.3g}, central {result['central_loss_dev_late_median']:.3g}, "
              f"edge {result['edge_loss_dev_late_median']:.3g}; sharpness: central "
              f"{result['central_sharpness_dev_late_median']:.3g}, edge {result['edge_sharpness_dev_late_median']:.3g}",
              flush=True)
        if name == EOS_CASE and args.figure:
            figure(args.figure, eta, runs, plain)
    with open(os.path.join(args.out, "fidelity.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    text = table(results)
    with open(os.path.join(args.out, "fidelity" + ".md"), "w") as f:
        f.write(text)
    print(text)
    if args.check:
        problems = []
        for r in results:
            if r["case"] in EOS_CASES:
                if not r["edge_loss_dev_late_median"] < 0.5 * r["plain_loss_dev_late_median"]:
                    problems.append(f"{r['case']}: at the edge the edge flow's predicted average loss is not twice "
                                    "closer to descent's than the plain flow's loss")
                if not r["edge_sharpness_dev_late_median"] < 0.01:
                    problems.append(f"{r['case']}: at the edge the edge flow's sharpness is not within 1% of descent's")
                continue
            if r["edge_reached"] or r["descent_eta_sharpness_max"] >= 2:
                continue
            if not r["modified_loss_dev_late_median"] < r["plain_loss_dev_late_median"]:
                problems.append(f"{r['case']}: the modified flow is not closer to descent than the plain flow")
            if abs(r["central_loss_dev_late_median"] - r["plain_loss_dev_late_median"]) > \
                    0.1 * r["plain_loss_dev_late_median"] + 1e-3:
                problems.append(f"{r['case']}: below the edge the central flow's deviation is not the plain flow's")
        for problem in problems:
            print("fidelity.py: check failed:", problem)
        if problems:
            return 1
        print("fidelity.py: check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
