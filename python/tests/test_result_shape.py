"""flow() and descend() results carry solve_ivp's fields (y, sol, t_events, y_events, nfev, njev, nlu,
status_code) beside gradflow's own, with the same meaning as solve_flow's OdeResult.

Oracles: the quadratic L = 0.5 theta^T diag(a) theta, whose flow is theta(t) = exp(-a t) theta0 and whose
descent is theta_k = (1 - lr a)^k theta0 (closed forms); the counters' own definitions in stats.
"""

import math

import numpy as np
import pytest

import gradflow

A = np.array([1.0, 3.0, 0.5])
THETA0 = np.array([1.0, -2.0, 0.5])


def quadratic():
    return gradflow.Quadratic(np.diag(A))


def test_flow_y_is_states_transposed_and_the_closed_form():
    r = gradflow.flow(quadratic(), THETA0, t_end=2.0, times=np.linspace(0.25, 2.0, 8), record_states=True)
    assert r.y.shape == (3, 9)
    assert np.array_equal(r.y, r.states.T)
    exact = np.exp(-np.outer(A, r.t)) * THETA0[:, None]
    assert np.max(np.abs(r.y - exact)) < 1e-7
    assert np.array_equal(r.y[:, -1], r.theta)


def test_y_is_none_without_states_and_sol_none_without_dense_output():
    r = gradflow.flow(quadratic(), THETA0, t_end=1.0)
    assert r.y is None and r.sol is None
    assert r.t_events is None and r.y_events is None


def test_flow_sol_takes_scalars_and_arrays():
    r = gradflow.flow(quadratic(), THETA0, t_end=2.0, dense_output=True)
    grid = np.linspace(0.0, 2.0, 7)
    values = r.sol(grid)
    assert values.shape == (3, 7)
    assert np.max(np.abs(values - np.exp(-np.outer(A, grid)) * THETA0[:, None])) < 1e-6
    one = r.sol(1.5)
    assert one.shape == (3,)
    assert np.array_equal(one, r.at(1.5))
    assert np.array_equal(values[:, 3], r.at(grid[3]))
    with pytest.raises(ValueError, match="sol"):
        r.sol(2.5)
    with pytest.raises(ValueError, match="1-D"):
        r.sol(np.zeros((2, 2)))


def test_flow_counters_and_status_code():
    r = gradflow.flow(quadratic(), THETA0, solver="cvode-bdf", t_end=5.0)
    stats = r.stats
    assert r.status == "reached_end_time" and r.status_code == 0
    assert r.nfev == stats["num_gradient_evals"] + stats["num_loss_evals"] > 0
    assert r.njev == stats["num_jacobian_evals"] > 0
    # A constant exact Hessian is decomposed once (its eigendecomposition), and evaluated once.
    assert r.nlu == stats["num_linear_setups"] == 1 and r.njev == 1
    # A Hessian that changes is refactored as gamma or the Hessian changes: more than once, at most
    # once per attempted step.
    karimi = gradflow.flow(gradflow.Karimi(3), THETA0, solver="cvode-bdf", t_end=5.0)
    attempted = karimi.stats["num_steps"] + karimi.stats["num_rejected_steps"]
    assert 1 < karimi.nlu <= attempted and karimi.njev >= 1
    # Without a Hessian CVODE's difference quotients are set up and LU-factored.
    plain = gradflow.flow(gradflow.Function(lambda th: (float(th @ th), 2 * th), 3), THETA0, solver="cvode-bdf",
                          t_end=5.0)
    assert 1 <= plain.nlu <= plain.stats["num_steps"] + plain.stats["num_rejected_steps"]
    explicit = gradflow.flow(quadratic(), THETA0, t_end=5.0)
    assert explicit.njev == 0 and explicit.nlu == 0

    stopped = gradflow.flow(quadratic(), THETA0, t_end=100.0, loss_tol=1e-6)
    assert stopped.status == "tolerance_reached" and stopped.status_code == 1 and stopped.success
    failed = gradflow.flow(quadratic(), THETA0, t_end=100.0, max_steps=3)
    assert failed.status == "max_steps" and failed.status_code == -1 and not failed.success


def test_flow_events_grouped_by_event_in_order():
    # ||theta||^2 decreases through 1 once and through 0.25 once; the loss never crosses 10.
    below_one = gradflow.Event("one", lambda t, th, row: float(th @ th) - 1.0, terminal=False)
    never = gradflow.Event("never", lambda t, th, row: row["loss"] - 10.0, terminal=False)
    quarter = gradflow.Event("quarter", lambda t, th, row: float(th @ th) - 0.25, terminal=False)
    r = gradflow.flow(quadratic(), THETA0, t_end=5.0, rtol=1e-10, atol=1e-12, events=[below_one, never, quarter])
    assert len(r.t_events) == 3 and len(r.y_events) == 3
    assert [len(x) for x in r.t_events] == [1, 0, 1]
    assert r.y_events[1].shape == (0, 3)
    for times, states, level in ((r.t_events[0], r.y_events[0], 1.0), (r.t_events[2], r.y_events[2], 0.25)):
        state = np.exp(-A * times[0]) * THETA0
        assert math.isclose(float(state @ state), level, rel_tol=1e-7)
        assert np.max(np.abs(states[0] - state)) < 1e-7
    assert r.t_events[0][0] < r.t_events[2][0]


def test_descend_has_the_same_shape():
    lr = 0.25
    stop = gradflow.Event("small", lambda t, th, row: row["loss"] - 1e-3, terminal=True)
    r = gradflow.descend(quadratic(), THETA0, lr=lr, max_iters=200, record_states=True, events=[stop])
    assert r.status == "event_stop" and r.status_code == 1
    k = r.iter.astype(int)
    assert r.y.shape == (3, k.size)
    assert np.max(np.abs(r.y - np.power.outer(1 - lr * A, k) * THETA0[:, None])) < 1e-13
    assert np.array_equal(r.t, lr * k)
    assert len(r.t_events) == 1 and r.t_events[0].size == 1
    assert np.array_equal(r.y_events[0][0], r.theta)
    assert r.nfev == r.stats["num_gradient_evals"] + r.stats["num_loss_evals"]
    assert r.njev == 0 and r.nlu == 0
    assert not hasattr(r, "sol")  # descent has no continuous solution

    budget = gradflow.descend(quadratic(), THETA0, lr=lr, max_iters=5)
    assert budget.status == "reached_max_iters" and budget.status_code == 0
    blown = gradflow.descend(quadratic(), THETA0, lr=1.0)  # lr * 3 > 2: diverges
    assert blown.status == "diverged" and blown.status_code == -1


def test_solve_flow_agrees_with_the_result_it_wraps():
    ev = lambda t, y: float(y @ y) - 1.0  # noqa: E731
    res = gradflow.solve_flow(quadratic(), (1.0, 4.0), THETA0, events=ev, rtol=1e-9, atol=1e-12)
    inner = res.result
    assert res.status == inner.status_code
    assert (res.nfev, res.njev, res.nlu) == (inner.nfev, inner.njev, inner.nlu)
    assert np.array_equal(res.t_events[0], 1.0 + inner.t_events[0])
    assert np.array_equal(res.y_events[0], inner.y_events[0])


def test_observer_stop_is_a_termination_in_both():
    stop_early = lambda row, theta: row["t"] > 0.5  # noqa: E731
    r = gradflow.flow(quadratic(), THETA0, t_end=5.0, observer=stop_early)
    assert r.status == "stopped_by_observer" and r.status_code == 1 and r.success
    res = gradflow.solve_flow(quadratic(), (0.0, 5.0), THETA0, observer=stop_early)
    assert res.status == 1 and res.success
