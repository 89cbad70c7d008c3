"""Held-out error, the scale path and the conditioning path (docs/theory.md §6.5), against numpy."""
import math

import numpy as np
import pytest

import gradflow


def test_the_interpolant_distance_is_numpys_pseudo_inverse(rng):
    n, d, m = 6, 10, 25
    x = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    x_test = rng.standard_normal((m, d))
    y_test = np.sign(rng.standard_normal(m))
    net = gradflow.MLP(x, y, widths=[5])
    theta = rng.standard_normal(net.dimension)
    got = gradflow.held_out_metrics(net, theta, x, y, x_test, y_test)
    # The network's predictions on the test points, from a network built on them.
    f = gradflow.MLP(x_test, y_test, widths=[5]).predict(theta)
    linear = x_test @ (np.linalg.pinv(x) @ y)
    assert got["test_points"] == m
    assert got["test_loss"] == pytest.approx(np.mean((f - y_test) ** 2), rel=1e-12)
    assert got["interpolant_distance"] == pytest.approx(math.sqrt(np.mean((f - linear) ** 2)), rel=1e-9)
    assert got["linear_test_loss"] == pytest.approx(np.mean((linear - y_test) ** 2), rel=1e-9)
    # The training labels are not +-1, so the targets are not class labels: no accuracy.
    assert math.isnan(got["test_accuracy"])


def test_accuracy_reads_plus_minus_one_labels_by_sign(rng):
    n, d, m = 5, 8, 40
    x = rng.standard_normal((n, d))
    y = np.sign(rng.standard_normal(n))
    y[0], y[1] = 1.0, -1.0
    x_test = rng.standard_normal((m, d))
    y_test = np.sign(rng.standard_normal(m))
    net = gradflow.MLP(x, y, widths=[4])
    theta = rng.standard_normal(net.dimension)
    got = gradflow.held_out_metrics(net, theta, x, y, x_test, y_test)
    f = gradflow.MLP(x_test, y_test, widths=[4]).predict(theta)
    assert got["test_accuracy"] == pytest.approx(np.mean(np.where(f >= 0, 1.0, -1.0) == y_test), abs=1e-15)
    linear = x_test @ (np.linalg.pinv(x) @ y)
    assert got["linear_test_accuracy"] == pytest.approx(np.mean(np.where(linear >= 0, 1.0, -1.0) == y_test))


def test_the_split_is_seeded_disjoint_and_complete(rng):
    x = rng.standard_normal((40, 7))
    y = rng.standard_normal(40)
    a = gradflow.split_holdout(x, y, 0.25, seed=3)
    b = gradflow.split_holdout(x, y, 0.25, seed=3)
    c = gradflow.split_holdout(x, y, 0.25, seed=4)
    assert list(a["test_rows"]) == list(b["test_rows"])
    assert list(a["test_rows"]) != list(c["test_rows"])
    test = np.array(a["test_rows"])
    train = np.setdiff1d(np.arange(40), test)
    assert len(test) == 10 and len(train) == 30
    np.testing.assert_array_equal(a["X_test"], x[test])
    np.testing.assert_array_equal(a["y_test"], y[test])
    np.testing.assert_array_equal(a["X_train"], x[train])
    with pytest.raises(ValueError, match="fraction"):
        gradflow.split_holdout(x, y, 0.001)


def test_compare_inits_reports_held_out_error_and_the_mechanism(rng):
    # n <= d: positive at W1 = 0 trains in the kernel regime, whose limit is the minimum-norm linear
    # interpolant (docs/theory.md §6.5): its held-out predictions are close to x^T X^+ y.
    x = rng.standard_normal((16, 24)) / math.sqrt(24)
    y = np.sign(rng.standard_normal(16))
    r = gradflow.compare_inits(x, y, inits=["positive", "xavier_normal"], widths=[16], seeds=3,
                               protocol="tuned-fixed", lr_grid=[1.0], holdout=0.25, holdout_seed=1,
                               eps=1e-4, max_steps=20000, threads=2)
    for run in r["runs"]:
        assert run["test_points"] == 4
        assert math.isfinite(run["test_loss"])
        assert 0.0 <= run["test_accuracy"] <= 1.0
    positive = [run for run in r["runs"] if run["init"] == "positive"]
    assert all(run["reached"] for run in positive)
    split = gradflow.split_holdout(x, y, 0.25, seed=1)
    linear = split["X_test"] @ (np.linalg.pinv(split["X_train"]) @ split["y_train"])
    scale = math.sqrt(np.mean(linear ** 2))
    for run in positive:
        assert run["interpolant_distance"] < 0.05 * scale
        assert run["linear_test_loss"] == pytest.approx(np.mean((linear - split["y_test"]) ** 2), rel=1e-9)
    row = [s for s in r["summary"] if s["init"] == "positive"][0]
    assert row["median_test_loss_low"] <= row["median_test_loss"] <= row["median_test_loss_high"]
    # The same call again: the same bits.
    again = gradflow.compare_inits(x, y, inits=["positive", "xavier_normal"], widths=[16], seeds=3,
                                   protocol="tuned-fixed", lr_grid=[1.0], holdout=0.25, holdout_seed=1,
                                   eps=1e-4, max_steps=20000, threads=1)
    assert [run["test_loss"] for run in again["runs"]] == [run["test_loss"] for run in r["runs"]]


def test_the_conditioning_path_keeps_the_singular_vectors(rng):
    x = rng.standard_normal((8, 12))
    y = rng.standard_normal(8)
    s = np.linalg.svd(x, compute_uv=False)
    r = gradflow.compare_inits(x, y, inits=["positive", "xavier_normal"], widths=[8], seeds=2,
                               protocol="tuned-fixed", lr_grid=[1.0], condition_path=[0, 0.5, 1],
                               eps=1e-3, max_steps=20000, threads=2)
    conditions = {run["condition_power"]: run["input_condition"] for run in r["runs"]}
    for a, cond in conditions.items():
        assert cond == pytest.approx((s[0] / s[-1]) ** a, rel=1e-9)
    fits = {f["init"]: f for f in r["conditioning"]}
    assert set(fits) == {"positive", "xavier_normal"}
    assert len(fits["positive"]["conditions"]) == 3


def test_the_scale_path_and_the_verdict_on_test_loss(rng):
    x = rng.standard_normal((10, 16)) / 4.0
    y = rng.standard_normal(10)
    r = gradflow.compare_inits(x, y, inits=["positive", "xavier_normal"], widths=[8], seeds=2,
                               protocol="tuned-fixed", lr_grid=[1.0], output_scale=[1.0, "auto"],
                               holdout=0.2, verdict_on="test_loss", eps=1e-3, max_steps=20000, threads=2)
    scales = sorted({run["scale"] for run in r["runs"] if run["init"] == "positive"})
    assert scales == ["1", "auto"]
    assert all(run["scale"] is None for run in r["runs"] if run["init"] != "positive")
    assert "scale path" in r["scale_path"]
    assert "held-out mean squared error" in r["verdict"]
    with pytest.raises(ValueError, match="verdict_on"):
        gradflow.compare_inits(x, y, verdict_on="speed")
    with pytest.raises(ValueError, match="output_scale"):
        gradflow.compare_inits(x, y, output_scale=["fast"])


def test_fit_power_law_recovers_an_exact_law():
    got = gradflow.fit_power_law([1.0, 3.0, 10.0, 30.0], [2.0 * c ** 1.5 for c in (1.0, 3.0, 10.0, 30.0)])
    assert got["exponent"] == pytest.approx(1.5, rel=1e-12)
    assert got["factor"] == pytest.approx(2.0, rel=1e-12)
    assert got["points"] == 4


def test_flow_model_objectives_integrate_with_flow(rng):
    # The modified flow of a quadratic: exp(-(A + (lr/2) A^2) t) theta0 (docs/theory.md §2.10).
    a = np.diag([0.5, 1.0, 2.0])
    q = gradflow.Quadratic(a)
    theta0 = np.ones(3)
    lr = 0.1
    r = gradflow.flow(gradflow.flow_model(q, "modified", lr), theta0, t_end=1.0, rtol=1e-12, atol=1e-14)
    lam = np.diag(a) + 0.5 * lr * np.diag(a) ** 2
    np.testing.assert_allclose(r.theta, np.exp(-lam) * theta0, rtol=1e-9)
    # Below the edge (sharpness 2 < 2 / lr) the central flow is the plain flow.
    c = gradflow.flow(gradflow.flow_model(q, "central", lr), theta0, t_end=1.0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(c.theta, np.exp(-np.diag(a)) * theta0, rtol=1e-9)
    # The edge flow's state (c, u, a) from flow_model_start: its centre is the modified flow, and its
    # amplitude a0 (lr a_1 - 1)^(t / lr) is descent's factor along the top eigenvector (here a decay).
    z0 = gradflow.flow_model_start(q, "edge", lr, theta0)
    assert z0.shape == (7,)
    np.testing.assert_array_equal(z0[:3], theta0)
    assert abs(z0[5]) == pytest.approx(1.0, rel=1e-9)
    assert z0[6] == pytest.approx(0.5 * lr * 2.0 * theta0[2], rel=1e-9)
    e = gradflow.flow(gradflow.flow_model(q, "edge", lr), z0, t_end=1.0, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(e.theta[:3], np.exp(-lam) * theta0, rtol=1e-8)
    assert e.theta[6] == pytest.approx(z0[6] * np.exp(np.log(np.exp(-2.0)) / lr), rel=1e-6)
    np.testing.assert_array_equal(gradflow.flow_model_start(q, "modified", lr, theta0), theta0)
    with pytest.raises(ValueError, match="theta0"):
        gradflow.flow_model_start(q, "edge", lr, np.ones(2))
    with pytest.raises(ValueError, match="model"):
        gradflow.flow_model(q, "rod", lr)


def test_descend_against_flow_matches_closed_forms_on_a_quadratic():
    # Descent at lr 0.5 on L = 1/2 theta^T A theta, A = diag(0.5, 1, 2): the plain flow's loss is
    # L(exp(-A t) theta0), the modified flow's L(exp(-(A + (lr/2) A^2) t) theta0), and the edge flow's
    # centre is the modified flow with the amplitude a0 exp(-2 t / lr) along e_3 (lr x 2 = 1: the floored
    # decay), so its predicted average loss is L(c) + a^2 (docs/theory.md §2.10, §7.49).
    a = np.array([0.5, 1.0, 2.0])
    q = gradflow.Quadratic(np.diag(a))
    theta0 = np.ones(3)
    lr = 0.5
    got = gradflow.descend_against_flow(q, theta0, lr=lr, max_iters=20, model="edge")
    rows = got["rows"]
    t = rows["t"]
    np.testing.assert_allclose(t, lr * rows["iter"], rtol=0, atol=1e-12)
    loss = lambda theta: 0.5 * np.sum(a * theta ** 2, axis=-1)
    plain = loss(np.exp(-np.outer(t, a)) * theta0)
    modified = loss(np.exp(-np.outer(t, a + 0.5 * lr * a ** 2)) * theta0)
    np.testing.assert_allclose(rows["flow_loss"], plain, rtol=1e-8)
    np.testing.assert_allclose(rows["modified_flow_loss"], modified, rtol=1e-8)
    amplitude = 0.5 * lr * 2.0 * theta0[2] * np.exp(-2.0 * t / lr)
    later = rows["iter"] > 0
    np.testing.assert_allclose(rows["edge_flow_loss"][later], modified[later], rtol=1e-6)
    np.testing.assert_allclose(rows["edge_average_loss"][later], (modified + amplitude ** 2)[later], rtol=1e-6)
    np.testing.assert_allclose(rows["edge_sharpness"][later], 2.0, rtol=1e-9)
    # Descent's own loss, and the fidelity recomputed from the rows.
    np.testing.assert_allclose(rows["loss"], loss((1.0 - lr * a)[None, :] ** rows["iter"][:, None] * theta0),
                               rtol=1e-12)
    assert got["fidelity"]["plain"] == pytest.approx(
        np.max(np.abs(rows["flow_loss"][later] - rows["loss"][later]) / rows["loss"][later]), rel=1e-12)
    assert got["edge"] is None and got["rows_at_edge"] == 0
    assert got["work"]["model_hessian_vector_evals"] > 0
    with pytest.raises(ValueError, match="model"):
        gradflow.descend_against_flow(q, theta0, lr=lr, max_iters=5, model="rod")
    # A Python function has no exact Hessian-vector products: the models of the edge need them.
    with pytest.raises(ValueError, match="Hessian-vector"):
        gradflow.descend_against_flow(lambda th: (0.5 * th @ th, th), theta0, lr=lr, max_iters=5, model="central")
