"""flow_many and descend_many: k starts at once on the library's threads, each run bit for bit the run made
alone (the ensemble is k separate calls made faster), with its refusals named."""

import numpy as np
import pytest

import gradflow

rng = np.random.default_rng(0)
X, Y = rng.standard_normal((8, 16)), rng.standard_normal(8)
NETWORK = gradflow.MLP(X, Y, widths=[8])


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_descend_many_gives_the_bits_of_separate_calls(threads):
    seeds = range(6)
    e = gradflow.descend_many(NETWORK, init="xavier_normal", seeds=seeds, lr=0.01, max_iters=200, threads=threads)
    assert e.theta.shape == (6, NETWORK.dimension) and e.loss.shape[0] == 6
    for i, seed in enumerate(seeds):
        alone = gradflow.descend(NETWORK, NETWORK.init("xavier_normal", seed, 1.0), lr=0.01, max_iters=200)
        assert np.array_equal(alone.theta, e.theta[i])
        assert np.array_equal(alone.loss, e.loss[i, :len(alone.loss)])
        assert alone.status == e.status[i] and e.results[i].status == alone.status
        assert e.num_gradient_evals[i] == alone.stats["num_gradient_evals"]
        assert e.loss_final[i] == alone.loss[-1]


@pytest.mark.parametrize("threads", [1, 2])
def test_flow_many_gives_the_bits_of_separate_calls_and_pads_the_rows(threads):
    q = gradflow.Quadratic(np.diag([3.0, 1.0, 0.2]))
    starts = np.array([[1.0, 2.0, 3.0], [0.1, 0.0, -1.0], [5.0, -5.0, 0.5]])
    e = gradflow.flow_many(q, starts, t_end=5.0, threads=threads)
    for i in range(3):
        alone = gradflow.flow(q, starts[i], t_end=5.0)
        assert np.array_equal(alone.theta, e.theta[i])
        assert np.array_equal(alone.t, e.t[i, :len(alone.t)])
        assert np.all(np.isnan(e.t[i, len(alone.t):]))  # padded to the longest run
    assert list(e.success) == [True, True, True]


def test_an_ensemble_refuses_what_it_cannot_run_naming_it():
    q = gradflow.Quadratic(np.eye(2))
    cases = [
        (lambda: gradflow.flow_many(lambda th: (0.0, th), np.ones((2, 2))), "objective: an ensemble runs a built-in"),
        (lambda: gradflow.flow_many(q, np.ones((2, 3))), "starts: each row must have p = 2"),
        (lambda: gradflow.flow_many(q, np.ones(2)), "starts: must be a 2-D array"),
        (lambda: gradflow.flow_many(q), "starts: give a k x p array"),
        (lambda: gradflow.flow_many(q, init="xavier_normal", seeds=[0]), "init, seeds: initialization schemes"),
        (lambda: gradflow.descend_many(NETWORK, np.ones((1, NETWORK.dimension)), init="xavier_normal", seeds=[0]),
         "starts: give either"),
        (lambda: gradflow.flow_many(q, np.ones((2, 2)), events=[gradflow.Event("e", lambda t, th, r: 1.0)]),
         "events: not supported"),
        (lambda: gradflow.flow_many(q, np.ones((2, 2)), threads=-1), "threads = -1"),
        (lambda: gradflow.flow_many(q, np.ones((2, 2)), rtol=-1.0), "rtol = -1"),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()
