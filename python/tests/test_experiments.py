"""certify, find_scale and probability: the library's answers as dicts of numpy arrays."""
import csv
import math
import re
import os
import subprocess

import numpy as np
import pytest

import gradflow


def test_the_certificate_of_least_squares_is_its_singular_values(rng):
    x = rng.standard_normal((5, 9))
    y = rng.standard_normal(5)
    theta0 = rng.standard_normal(9)
    c = gradflow.certify(gradflow.LeastSquares(x, y), theta0)
    assert c["applies"] and c["holds"]
    s = np.linalg.svd(x, compute_uv=False)
    assert c["sigma0"] == pytest.approx(s[-1], rel=1e-10)
    assert c["jacobian_norm"] == pytest.approx(s[0], rel=1e-10)
    assert c["mu"] == pytest.approx(s[-1] ** 2, rel=1e-10)
    assert c["residual_norm"] == pytest.approx(np.linalg.norm(x @ theta0 - y), rel=1e-12)
    # The certified travel bounds the flow's.
    r = gradflow.flow(gradflow.LeastSquares(x, y), theta0, t_end=200.0, radius=c["travel"])
    assert r.radius_holds is True


def test_a_problem_without_residuals_is_not_certified():
    c = gradflow.certify(gradflow.Karimi(3), np.ones(3))
    assert not c["applies"] and c["why_not"]


def test_find_scale_gives_the_threshold_where_the_certificate_starts_to_hold(rng):
    d, n = 12, 5
    x = rng.standard_normal((n, d)) / np.sqrt(d)
    y = rng.standard_normal(n)
    net = gradflow.MLP(x, y, widths=[32])
    s = gradflow.find_scale(net, seed=1)
    assert s["found"], s["why_not"]
    above = gradflow.certify(net, net.init("positive", seed=1, output_scale=s["scale"] * 1.01))
    below = gradflow.certify(net, net.init("positive", seed=1, output_scale=s["scale"] * 0.99))
    assert above["holds"] and not below["holds"]


def clopper_pearson(k, n, alpha):
    """The exact two-sided binomial interval at level 1 - alpha, computed here (not by gradflow).

    With scipy: the Beta quantiles [Beta^-1(alpha/2; k, n-k+1), Beta^-1(1-alpha/2; k+1, n-k)]. Without:
    the same ends as the roots of the binomial tails P(X >= k; p) = alpha/2 and P(X <= k; p) = alpha/2, by
    bisection on the exact (math.comb) sums."""
    try:
        from scipy.stats import beta
    except ImportError:
        beta = None
    if beta is not None:
        lower = 0.0 if k == 0 else float(beta.ppf(alpha / 2, k, n - k + 1))
        upper = 1.0 if k == n else float(beta.ppf(1 - alpha / 2, k + 1, n - k))
        return lower, upper

    def cdf(j, p):  # P(X <= j) for X ~ Binomial(n, p)
        return sum(math.comb(n, i) * p ** i * (1 - p) ** (n - i) for i in range(j + 1))

    def root(f):  # f increasing in p on [0, 1], f(0) < 0 < f(1)
        a, b = 0.0, 1.0
        for _ in range(200):
            m = 0.5 * (a + b)
            a, b = (m, b) if f(m) < 0 else (a, m)
        return 0.5 * (a + b)

    lower = 0.0 if k == 0 else root(lambda p: (1 - cdf(k - 1, p)) - alpha / 2)
    upper = 1.0 if k == n else root(lambda p: alpha / 2 - cdf(k, p))
    return lower, upper


def test_the_clopper_pearson_oracle_has_the_documented_values():
    # docs/theory.md §7.19, and the closed forms at K = 0 and K = N: the oracle below is right.
    assert clopper_pearson(0, 10, 0.05) == pytest.approx((0.0, 1 - 0.025 ** 0.1), abs=1e-12)
    assert clopper_pearson(10, 10, 0.05) == pytest.approx((0.025 ** 0.1, 1.0), abs=1e-12)
    assert clopper_pearson(5, 10, 0.05) == pytest.approx((0.187086, 0.812914), abs=1e-6)


def test_probability_counts_and_intervals_agree_with_an_independent_recount(rng):
    d, n = 12, 5
    x = rng.standard_normal((n, d)) / np.sqrt(d)
    y = rng.standard_normal(n)
    width, scale, draws, steps, alpha, eps = 32, 74.0, 10, 14, 0.1, 1e-6
    net = gradflow.MLP(x, y, widths=[width])
    # At this scale and budget some draws are certified and some reach eps L0, and some not: both counts
    # are strictly between 0 and N, so the interval's general formula (not only its K = 0 or K = N ends)
    # is checked, at an alpha other than the default so that alpha must reach the interval.
    p = gradflow.probability(net, init="positive", output_scale=scale, draws=draws, steps=steps, alpha=alpha,
                             eps=eps, threads=2)
    assert p["status"] == "reached_max_iters" and p["draws"] == draws
    for name in ["init_seed", "certified_draws", "reached_draws", "sigma0", "mu", "loss0", "iterations",
                 "loss_final"]:
        assert isinstance(p[name], np.ndarray) and p[name].shape == (draws,), name
    # Per draw, from the math: tanh at W_1 = 0 outputs 0 on every sample (docs/theory.md §5.2), so
    # L0 = 1/2 ||y||^2 (a sum, not a mean), and sigma0 = sigma_min(J) = ||W_2|| sigma_min(X) exactly.
    sigma_min_x = np.linalg.svd(x, compute_uv=False)[-1]
    certified, reached = 0, 0
    for j in range(draws):
        theta0 = net.init("positive", seed=int(p["init_seed"][j]), output_scale=scale)
        assert p["loss0"][j] == pytest.approx(0.5 * np.sum(y ** 2), rel=1e-13)
        assert p["sigma0"][j] == pytest.approx(np.linalg.norm(theta0[d * width:]) * sigma_min_x, rel=1e-9)
        # A draw is certified iff the certificate holds at its initialization (gradflow.certify, a separate
        # code path), and then carries that certificate's mu; otherwise mu = 0.
        c = gradflow.certify(net, theta0)
        assert bool(p["certified_draws"][j]) == bool(c["holds"])
        assert p["mu"][j] == (pytest.approx(c["mu"], rel=1e-12) if c["holds"] else 0.0)
        # A draw reached the target iff its final loss is <= eps L0, within the budget of steps.
        assert 1 <= p["iterations"][j] <= steps
        assert bool(p["reached_draws"][j]) == bool(p["loss_final"][j] <= eps * p["loss0"][j])
        certified += bool(c["holds"])
        reached += bool(p["loss_final"][j] <= eps * p["loss0"][j])
    assert 0 < certified < draws and 0 < reached < draws
    assert p["certified"] == certified and p["reached"] == reached
    # The intervals are the exact binomial (Clopper-Pearson) intervals of the recounted fractions.
    assert p["certified_interval"] == pytest.approx(clopper_pearson(certified, draws, alpha), abs=1e-9)
    assert p["reached_interval"] == pytest.approx(clopper_pearson(reached, draws, alpha), abs=1e-9)
    # The same draws on one thread: the same bits.
    again = gradflow.probability(net, init="positive", output_scale=scale, draws=draws, steps=steps, alpha=alpha,
                                 eps=eps, threads=1)
    for name in ["init_seed", "certified_draws", "reached_draws", "sigma0", "mu", "loss0", "iterations",
                 "loss_final"]:
        assert np.array_equal(again[name], p[name]), name
    assert (again["certified"], again["reached"]) == (p["certified"], p["reached"])
    assert again["certified_interval"] == p["certified_interval"]
    assert again["reached_interval"] == p["reached_interval"]
    # The ends K = N and K = 0 at the default alpha = 0.05 (docs/theory.md §7.19): well above the threshold
    # every draw is certified, and one step reaches eps L0 on none.
    ends = gradflow.probability(net, init="positive", output_scale=200.0, draws=10, steps=1, threads=2)
    assert ends["certified"] == int(np.sum(ends["certified_draws"])) == 10
    assert ends["reached"] == int(np.sum(ends["reached_draws"])) == 0
    assert ends["certified_interval"] == pytest.approx((0.025 ** 0.1, 1.0), abs=1e-9)
    assert ends["reached_interval"] == pytest.approx((0.0, 1 - 0.025 ** 0.1), abs=1e-9)
    with pytest.raises(ValueError, match="draws"):
        gradflow.probability(net, draws=0)


def test_compare_inits_gives_the_bits_of_the_command_on_the_same_data(tmp_path, rng):
    # The command on a data file named "array" and the module on the same numbers: the runs' initial
    # seeds derive from that name in both, so every run must agree to the last bit.
    cli = os.environ.get("GRADFLOW_CLI")
    if not cli:
        pytest.skip("GRADFLOW_CLI is not set (ctest sets it)")
    n, d = 5, 10
    x = rng.standard_normal((n, d)) / np.sqrt(d)
    y = rng.standard_normal(n)
    np.savetxt(tmp_path / "array", np.column_stack([x, y]), delimiter=",", fmt="%.17g")
    # 11 seeds: runs.csv's key order (seed=10 before seed=2) differs from the grid's, and the bootstrap
    # resamples by position, so the intervals agree only if the module summarizes in the command's order.
    args = dict(inits=["positive", "xavier_normal"], widths=[6], seeds=11, max_steps=200, eps=1e-3)
    subprocess.run([cli, "compare-inits", "--data", "array", "--inits", "positive,xavier_normal", "--widths", "6",
                    "--seeds", "11", "--max-steps", "200", "--eps", "1e-3", "--observe", "sharpness",
                    "--out", "out", "--no-plots", "--quiet"], cwd=tmp_path, check=True)
    with open(tmp_path / "out" / "runs.csv", newline="") as f:
        rows = {(r["init"], int(r["width"]), int(r["seed"])): r for r in csv.DictReader(f)}
    result = gradflow.compare_inits(x, y, observe=["sharpness"], threads=2, **args)
    assert len(result["runs"]) == len(rows) == 22
    for run in result["runs"]:
        row = rows[(run["init"], run["width"], run["seed"])]
        assert run["init_seed"] == int(row["init_seed"])
        assert run["output_scale"] == float(row["output_scale"])
        assert run["final_loss"] == float(row["final_loss"])
        assert run["steps"] == int(row["steps"])
        assert run["grad_evals"] == int(row["grad_evals"])
        assert run["reached"] == (row["reached"] == "1")
        assert run["sharpness0"] == float(row["sharpness0"])
        assert run["sharpness_max"] == float(row["sharpness_max"])
        assert run["observed_rows"] == int(row["observed_rows"]) > 2
        assert run["ntk_min"] is None
    positive = [s for s in result["summary"] if s["init"] == "positive"]
    other = [s for s in result["summary"] if s["init"] == "xavier_normal"]
    assert len(positive) == len(other) == 1
    assert positive[0]["runs"] == 11 and positive[0]["speedup_grad_evals"] is None
    with open(tmp_path / "out" / "summary.csv", newline="") as f:
        summary = {r["init"]: r for r in csv.DictReader(f)}
    # Every column of summary.csv is a key of the module's summary dicts, with the same value (the
    # machine-dependent wall times aside).
    for row, ours in [(summary["xavier_normal"], other[0]), (summary["positive"], positive[0])]:
        assert set(row) == set(ours)
        for name, text in row.items():
            if "seconds" in name or "wall" in name:
                continue
            value = ours[name]
            if text == "":
                assert value is None or value == "", name
            elif isinstance(value, str):
                assert value == text, name
            else:
                assert value == float(text), name
    assert other[0]["speedup_grad_evals_low"] <= other[0]["speedup_grad_evals"] <= other[0]["speedup_grad_evals_high"]
    assert "verdict" in result["verdict"] and "loss <= 0.001 L0" in result["tolerance"]
    # The same request on one thread: the same numbers.
    again = gradflow.compare_inits(x, y, observe=["sharpness"], threads=1, **args)
    assert again["verdict"] == result["verdict"]
    assert [r["final_loss"] for r in again["runs"]] == [r["final_loss"] for r in result["runs"]]


def test_compare_inits_and_the_command_refuse_the_same_requests(tmp_path, rng):
    # The command, a sweep file and the module build one spec and validate it once: a repeated item,
    # an empty grid, a zero scale, a protocol's option on another protocol are refused by all three.
    cli = os.environ.get("GRADFLOW_CLI")
    if not cli:
        pytest.skip("GRADFLOW_CLI is not set (ctest sets it)")
    x = rng.standard_normal((4, 8))
    y = rng.standard_normal(4)
    np.savetxt(tmp_path / "array", np.column_stack([x, y]), delimiter=",", fmt="%.17g")
    cases = [({"widths": [4, 4]}, ["--widths", "4,4"], "widths = [4, 4]", "is listed twice"),
             ({"inits": ["positive", "positive"]}, ["--inits", "positive,positive"], 'inits = ["positive", "positive"]',
              "is listed twice"),
             ({"protocol": "tuned-fixed", "lr_grid": [1.0, 1.0]}, ["--protocol", "tuned-fixed", "--lr-grid", "1,1"],
              'methods = ["fixed"]\nlr-grid = [1, 1]', "is listed twice"),
             ({"protocol": "tuned-fixed", "lr_grid": []}, None, "lr-grid = []", "empty"),
             ({"output_scale": 0.0}, ["--output-scale", "0"], "output-scale = 0", "must be a finite number > 0"),
             ({"solver": "cvode-bdf"}, ["--solver", "cvode-bdf"], None, "is for the flow protocol only"),
             ({"lr_grid": [1.0]}, ["--lr-grid", "1"], 'methods = ["armijo"]\nlr-grid = [1]', "tuned-fixed"),
             ({"eps": 1e-3, "loss_tol": 1e-3}, ["--eps", "1e-3", "--loss-tol", "1e-3"], None, "cannot be combined"),
             ({"lr": float("inf")}, ["--lr", "inf"], "lr = inf", "")]
    for kwargs, flags, key, message in cases:
        with pytest.raises(ValueError, match=message):
            gradflow.compare_inits(x, y, **kwargs)
        if flags is not None:
            run = subprocess.run([cli, "compare-inits", "--data", "array", "--out", "o", "--quiet"] + flags,
                                 cwd=tmp_path, capture_output=True, text=True)
            assert run.returncode == 2, (flags, run.stderr)
            assert message in run.stderr and not (tmp_path / "o").exists(), (flags, run.stderr)
        if key is not None:
            (tmp_path / "s.toml").write_text('datasets = ["synthetic:4x8"]\nout = "o"\n' + key + "\n")
            run = subprocess.run([cli, "sweep", "--config", "s.toml", "--quiet"], cwd=tmp_path, capture_output=True,
                                 text=True)
            assert run.returncode == 2, (key, run.stderr)
            assert not (tmp_path / "o").exists(), (key, run.stderr)


def test_the_module_takes_its_defaults_from_the_library():
    # The signature pybind11 writes shows the defaults the library's structs give, which the command
    # line's options show too (gradflow probability --help, gradflow compare-inits --help).
    probability = gradflow.probability.__doc__.splitlines()[0]
    assert "eps: float = 1e-06" in probability and "step: str = 'armijo'" in probability
    assert "lr: float = 1.0" in probability
    compare = gradflow.compare_inits.__doc__.splitlines()[0]
    assert "max_steps: int = 20000" in compare and "seeds: int = 20" in compare
    cli = os.environ.get("GRADFLOW_CLI")
    if cli:
        help_text = subprocess.run([cli, "probability", "--help"], capture_output=True, text=True).stdout
        assert "--eps FLOAT=1e-06" in help_text and "--lr FLOAT=1 " in help_text
        help_text = subprocess.run([cli, "compare-inits", "--help"], capture_output=True, text=True).stdout
        assert "--max-steps INT=20000" in help_text and "--seeds INT=20 " in help_text


def test_compare_inits_refuses_bad_requests(rng):
    x = rng.standard_normal((4, 8))
    y = rng.standard_normal(4)
    for kwargs, message in [({"protocol": "sgd"}, "protocol"), ({"observe": ["hessian"]}, "hessian"),
                            ({"inits": ["uniform"]}, "inits"), ({"seeds": 0}, "seeds"),
                            ({"preprocess": "pca"}, "preprocess"), ({"widths": [0]}, "width"),
                            ({"eps": float("nan")}, "eps"), ({"max_steps": 0}, "max_steps"),
                            ({"output_scale": -1.0}, "output_scale"), ({"lr_grid": [1.0, 0.0]}, "lr_grid")]:
        with pytest.raises(ValueError, match=message):
            gradflow.compare_inits(x, y, **kwargs)
    with pytest.raises(ValueError, match="y"):
        gradflow.compare_inits(x, y[:3])
    # A grid whose records alone exceed the memory limit is refused before anything is allocated.
    with pytest.raises(ValueError, match="seeds"):
        gradflow.compare_inits(x, y, widths=list(range(1, 100001)), seeds=1000000)


def test_compare_inits_takes_the_flow_tolerances_for_the_flow_protocol_only(rng):
    # rtol and atol are the flow protocol's (as solver is); time_accuracy the accuracy of its time to the
    # target. The defaults are the library's, and the refusals name the keyword.
    compare = gradflow.compare_inits.__doc__.splitlines()[0]
    assert "rtol: Optional[float] = None" in compare and "atol: Optional[float] = None" in compare
    assert "time_accuracy: float = 0.01" in compare
    x = rng.standard_normal((3, 6)) / np.sqrt(6)
    y = rng.standard_normal(3)
    tiny = dict(inits=["xavier_normal"], widths=[4], seeds=1, eps=1e-3, max_steps=2000, threads=1)
    for kwargs, message in [({"protocol": "armijo", "rtol": 1e-6}, r"^rtol = .*flow protocol only"),
                            ({"protocol": "tuned-fixed", "atol": 1e-10}, r"^atol = .*flow protocol only"),
                            ({"protocol": "flow", "rtol": 1e-300}, r"^rtol = 1e-300: is below"),
                            ({"protocol": "flow", "rtol": 1.0}, r"^rtol = 1: must be a number in \(0, 1\)"),
                            ({"protocol": "flow", "atol": 0.0}, r"^atol = 0: must be a number in \(0, 1\)"),
                            ({"protocol": "flow", "time_accuracy": 0.7}, r"^time_accuracy = "),
                            ({"protocol": "flow", "time_accuracy": float("nan")}, r"^time_accuracy = ")]:
        with pytest.raises(ValueError, match=message):
            gradflow.compare_inits(x, y, **tiny, **kwargs)
    r = gradflow.compare_inits(x, y, protocol="flow", rtol=1e-7, atol=1e-11, time_accuracy=0.05, **tiny)
    assert len(r["runs"]) == 1 and r["runs"][0]["method"] == "dopri5"
    assert r["runs"][0]["status"] != ""
