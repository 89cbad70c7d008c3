"""gradflow.flow against independent oracles: matrix exponentials, pseudo-inverses and SciPy's solve_ivp."""
import numpy as np
import pytest
import scipy.integrate
import scipy.linalg

import gradflow


def rosenbrock(theta):
    """The extended Rosenbrock function in numpy: (loss, grad)."""
    x, y = theta[0::2], theta[1::2]
    a, b = y - x * x, 1.0 - x
    grad = np.empty_like(theta)
    grad[0::2] = -400.0 * a * x - 2.0 * b
    grad[1::2] = 200.0 * a
    return float(np.sum(100.0 * a * a + b * b)), grad


def test_quadratic_flow_matches_the_matrix_exponential():
    q = gradflow.Quadratic.generated(8, cond=50.0, seed=3)
    a = q.A
    assert np.allclose(a, a.T)
    theta0 = np.linspace(-1.0, 2.0, 8)
    times = [0.5, 1.0, 2.0, 5.0, 10.0]
    r = gradflow.flow(q, theta0, t_end=10.0, times=times, rtol=1e-11, atol=1e-14, record_states=True)
    assert r.status == "reached_end_time" and r.success
    assert list(r.t) == [0.0] + times
    assert r.states.shape == (len(times) + 1, 8)
    for t, state in zip(r.t, r.states):
        exact = scipy.linalg.expm(-a * t) @ theta0
        assert np.linalg.norm(state - exact) <= 1e-8 * np.linalg.norm(theta0)
    # The exact mu makes the rate bound available, and the flow satisfies it.
    assert r.mu == pytest.approx(np.linalg.eigvalsh(a)[0], rel=1e-10)
    assert r.bound_holds is True
    assert np.all(r.loss <= r.bound * (1 + 1e-9) + 1e-15)


@pytest.mark.parametrize("n,p", [(12, 5), (5, 9)])
def test_least_squares_limit_is_the_pseudo_inverse_solution(rng, n, p):
    x = rng.standard_normal((n, p))
    y = rng.standard_normal(n)
    theta0 = rng.standard_normal(p)
    ls = gradflow.LeastSquares(x, y)
    s = np.linalg.svd(x, compute_uv=False)
    mu = s[-1] ** 2 if n >= p else s[n - 1] ** 2
    assert ls.known["mu"] == pytest.approx(mu, rel=1e-9)
    r = gradflow.flow(ls, theta0, solver="cvode-bdf", t_end=60.0 / mu, rtol=1e-10, atol=1e-13)
    assert r.success, r.message
    # The flow moves theta0 within the row space of X: the limit is theta0 + pinv(X) (y - X theta0),
    # which is pinv(X) y when X has full column rank.
    limit = theta0 + np.linalg.pinv(x) @ (y - x @ theta0)
    if n >= p:
        assert np.allclose(limit, np.linalg.pinv(x) @ y, atol=1e-12)
    assert np.linalg.norm(r.theta - limit) <= 1e-7 * max(1.0, np.linalg.norm(limit))


def test_python_rosenbrock_matches_solve_ivp_dop853_at_t_1():
    theta0 = np.array([-1.2, 1.0, 0.5, 0.8])
    r = gradflow.flow(rosenbrock, theta0, t_end=1.0, rtol=1e-12, atol=1e-14, min_value=0.0)
    assert r.status == "reached_end_time"
    ref = scipy.integrate.solve_ivp(lambda t, th: -rosenbrock(th)[1], (0.0, 1.0), theta0, method="DOP853",
                                    rtol=1e-12, atol=1e-14)
    assert ref.success
    assert np.linalg.norm(r.theta - ref.y[:, -1]) <= 1e-9 * np.linalg.norm(theta0)
    # The built-in Rosenbrock is the same function: the same trajectory to the tolerance.
    built_in = gradflow.flow(gradflow.Rosenbrock(4), theta0, t_end=1.0, rtol=1e-12, atol=1e-14)
    assert np.linalg.norm(built_in.theta - r.theta) <= 1e-9
    # min_value given: the PL ratio is reported, and the loss decreases along the flow.
    assert np.all(np.isfinite(r.pl_ratio[:-1]))
    assert np.all(np.diff(r.loss) <= 0)


def test_states_equal_direct_runs_to_each_time():
    theta0 = np.array([-1.2, 1.0])
    times = [0.05, 0.3, 0.7, 1.5]
    r = gradflow.flow(rosenbrock, theta0, t_end=1.5, times=times, rtol=1e-10, atol=1e-13, record_states=True)
    assert r.success
    for t, state in zip(r.t[1:], r.states[1:]):
        direct = gradflow.flow(rosenbrock, theta0, t_end=t, rtol=1e-10, atol=1e-13)
        assert direct.t_final == t
        assert np.linalg.norm(state - direct.theta) <= 1e-7, t
    # Rows and states are consistent: the loss column is L at each state.
    for loss, state in zip(r.loss, r.states):
        assert loss == pytest.approx(rosenbrock(state)[0], rel=1e-13)


def test_at_interpolates_the_trajectory_and_refuses_outside_it():
    q = gradflow.Quadratic.generated(5, cond=10.0, seed=1)
    theta0 = np.ones(5)
    r = gradflow.flow(q, theta0, t_end=3.0, rtol=1e-10, atol=1e-13, dense_output=True)
    for t in [0.0, 0.123, 1.0, 2.71828, 3.0]:
        exact = scipy.linalg.expm(-q.A * t) @ theta0
        assert np.linalg.norm(r.at(t) - exact) <= 1e-8, t
    with pytest.raises(ValueError, match="outside"):
        r.at(3.5)
    plain = gradflow.flow(q, theta0, t_end=1.0)
    with pytest.raises(ValueError, match="dense_output"):
        plain.at(0.5)


def test_an_event_is_located_where_solve_ivp_locates_it():
    theta0 = np.array([-1.2, 1.0, 0.5, 0.8])
    loss0 = rosenbrock(theta0)[0]
    target = 0.05 * loss0
    event = gradflow.Event("L = L0 / 20", lambda t, theta, row: row["loss"] - target, direction=-1)
    r = gradflow.flow(rosenbrock, theta0, t_end=5.0, rtol=1e-12, atol=1e-14, events=[event])
    assert r.status == "event_stop", r.message
    assert len(r.event_hits) == 1
    hit = r.event_hits[0]
    assert hit["name"] == "L = L0 / 20"

    def g(t, th):
        return rosenbrock(th)[0] - target

    g.terminal = True
    g.direction = -1
    ref = scipy.integrate.solve_ivp(lambda t, th: -rosenbrock(th)[1], (0.0, 5.0), theta0, method="DOP853",
                                    rtol=1e-12, atol=1e-14, events=g)
    t_ref = ref.t_events[0][0]
    assert hit["t"] == pytest.approx(t_ref, abs=1e-8)
    assert r.t_final == hit["t"]
    assert hit["loss"] == pytest.approx(target, rel=1e-8)
    assert np.linalg.norm(hit["theta"] - ref.y_events[0][0]) <= 1e-7


def test_non_terminal_events_and_the_tolerance_stop():
    q = gradflow.Quadratic(np.diag([1.0, 2.0]))
    theta0 = np.array([1.0, 1.0])
    # theta_1(t) = exp(-t): crosses 0.5 at t = ln 2; the loss tolerance stops the run at the crossing.
    half = gradflow.Event("theta_1 = 1/2", lambda t, th, row: th[0] - 0.5, terminal=False)
    loss_tol = 1e-4
    r = gradflow.flow(q, theta0, t_end=50.0, rtol=1e-11, atol=1e-14, events=[half], loss_tol=loss_tol)
    assert r.status == "tolerance_reached"
    names = [h["name"] for h in r.event_hits]
    assert names == ["theta_1 = 1/2", "tolerance"]
    assert r.event_hits[0]["t"] == pytest.approx(np.log(2.0), abs=1e-9)
    # L(t) = 1/2 exp(-2t) + exp(-4t) = loss_tol
    from scipy.optimize import brentq
    t_tol = brentq(lambda t: 0.5 * np.exp(-2 * t) + np.exp(-4 * t) - loss_tol, 0.0, 50.0, xtol=1e-14)
    assert r.t_final == pytest.approx(t_tol, abs=1e-8)


def test_result_fields_and_to_dict():
    q = gradflow.Quadratic.generated(3, cond=4.0, seed=2)
    r = gradflow.flow(q, np.ones(3), t_end=2.0, save_every=0.5, radius=10.0)
    d = r.to_dict()
    assert d["status"] == r.status == "reached_end_time"
    assert np.array_equal(d["rows"]["t"], r.t)
    assert np.array_equal(r.t, [0.0, 0.5, 1.0, 1.5, 2.0])
    for name in ["loss", "grad_norm", "dist_from_init", "pl_ratio", "bound"]:
        column = getattr(r, name)
        assert isinstance(column, np.ndarray) and column.dtype == np.float64 and column.shape == r.t.shape
    assert r.states is None and d["states"] is None
    assert r.radius_holds is True and d["radius_holds"] is True
    assert r.stats["num_steps"] > 0 and r.stats["num_gradient_evals"] >= 6 * r.stats["num_steps"]
    assert set(d["stats"]) == set(r.stats)
    assert "reached_end_time" in repr(r)


def test_every_solver_runs_a_python_callable():
    def bowl(theta):
        return 0.5 * float(theta @ theta), theta.copy()

    def hvp(theta, v):
        return v.copy()

    theta0 = np.array([1.0, -2.0])
    for solver in gradflow.SOLVERS:
        r = gradflow.flow(bowl, theta0, solver=solver, t_end=2.0, dt=1e-3, hvp=hvp, min_value=0.0, mu=1.0)
        assert r.success, (solver, r.message)
        tol = 1e-2 if solver == "euler" else 1e-5
        assert np.linalg.norm(r.theta - theta0 * np.exp(-2.0)) <= tol, solver


def test_a_run_that_leaves_the_flow_says_so_and_the_closed_form_agrees():
    # L = (1000 x1^2 + x2^2) / 2 from (1, 1): the flow's loss at t = 20 is e^-40 / 2. dopri5 at loose
    # tolerances stalls far above it (its stiff mode kept alive at atol's level) and says so;
    # cvode-bdf at the same tolerances is on the flow and silent (docs/theory.md §1.5).
    q = gradflow.Quadratic(np.diag([1000.0, 1.0]))
    exact = 0.5 * np.exp(-40.0)
    off = gradflow.flow(q, np.ones(2), t_end=20.0, rtol=1e-3, atol=1e-3)
    assert off.loss[-1] > 1e6 * exact
    assert "does not follow the gradient flow after t = " in off.flow_departure
    assert off.flow_departure in off.message
    assert off.to_dict()["flow_departure"] == off.flow_departure
    on = gradflow.flow(q, np.ones(2), solver="cvode-bdf", t_end=20.0, rtol=1e-3, atol=1e-3)
    assert on.flow_departure == ""
