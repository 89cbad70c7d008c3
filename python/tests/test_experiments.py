"""certify, find_scale and probability: the library's answers as dicts of numpy arrays."""
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


def test_probability_counts_agree_with_its_draws(rng):
    d, n = 12, 5
    x = rng.standard_normal((n, d)) / np.sqrt(d)
    y = rng.standard_normal(n)
    net = gradflow.MLP(x, y, widths=[32])
    p = gradflow.probability(net, init="positive", output_scale=5.0, draws=6, steps=200, threads=2)
    assert p["status"] == "reached_max_iters" and p["draws"] == 6
    assert isinstance(p["certified_draws"], np.ndarray) and p["certified_draws"].shape == (6,)
    assert p["certified"] == int(p["certified_draws"].sum())
    assert p["reached"] == int(p["reached_draws"].sum())
    lo, hi = p["certified_interval"]
    assert 0.0 <= lo <= p["certified"] / 6 <= hi <= 1.0
    # Each draw is the certificate at that seed.
    for seed, certified in zip(p["init_seed"], p["certified_draws"]):
        c = gradflow.certify(net, net.init("positive", seed=int(seed), output_scale=5.0))
        assert c["holds"] == bool(certified)
    with pytest.raises(ValueError, match="draws"):
        gradflow.probability(net, draws=0)
