"""solve_flow: solve_ivp's call and result for the gradient flow, checked against scipy.integrate.solve_ivp
(DOP853 at tight tolerances) on the same right-hand side -grad L, written the way a SciPy user writes."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import gradflow

A = np.diag([3.0, 1.0, 0.2])
Y0 = np.array([1.0, -2.0, 0.5])


def loss(y):
    return 0.5 * y @ A @ y, A @ y


def rhs(t, y):
    return -A @ y


@pytest.mark.parametrize("rtol", [1e-8, 1e-10, 1e-12])
@pytest.mark.parametrize("method", ["RK45", "DOP853", "BDF", "dopri5"])
def test_a_scipy_users_script_runs_unchanged_and_agrees_with_solve_ivp(method, rtol):
    # solve_ivp habits: t_span from a t0 != 0, t_eval that starts at t0, dense output on an array, res.y[:, -1].
    t_eval = np.linspace(2.0, 6.0, 9)
    res = gradflow.solve_flow(loss, (2.0, 6.0), Y0, method=method, t_eval=t_eval, dense_output=True, rtol=rtol,
                              atol=rtol * 1e-2)
    ref = solve_ivp(rhs, (2.0, 6.0), Y0, method="DOP853", t_eval=t_eval, dense_output=True, rtol=1e-13,
                    atol=1e-15)
    assert res.success and res.status == 0 and ref.success
    assert np.array_equal(res.t, t_eval)
    assert res.y.shape == (3, 9)
    assert np.array_equal(res.y[:, 0], Y0)
    allowed = (10 if method != "BDF" else 1000) * rtol
    assert np.abs(res.y - ref.y).max() <= allowed
    assert np.abs(res.y[:, -1] - ref.y[:, -1]).max() <= allowed
    grid = np.linspace(2.0, 6.0, 25)
    assert res.sol(grid).shape == (3, 25)
    assert res.sol(3.5).shape == (3,)
    assert np.abs(res.sol(grid) - ref.sol(grid)).max() <= 10 * allowed
    # gradflow's columns along t: the loss is L(y) at the stored points.
    assert np.allclose(res.loss, [loss(res.y[:, j])[0] for j in range(9)], rtol=1e-12)
    assert res.nfev == res.stats["num_gradient_evals"] + res.stats["num_loss_evals"] and res.nfev > 0
    if method == "BDF":
        assert res.njev > 0 and res.nlu > 0
    else:
        assert res.njev == 0 and res.nlu == 0


def test_events_with_scipys_attributes_are_located_where_solve_ivp_locates_them():
    def low(t, y, *args):  # solve_ivp passes args to the events too
        return y[0] - 0.1

    low.terminal = True
    low.direction = -1

    def crossing(t, y, shift):  # non-terminal, both directions; takes args as solve_ivp's events do
        return y[2] - shift

    def scaled(y, factor):
        value, grad = loss(y)
        return factor * value, factor * grad

    res = gradflow.solve_flow(scaled, [0.0, 10.0], Y0, events=[crossing, low], args=(1.0,), rtol=1e-11, atol=1e-13)
    ref = solve_ivp(lambda t, y, s: rhs(t, y), [0.0, 10.0], Y0, events=[crossing, low], args=(1.0,), rtol=1e-12,
                    atol=1e-14)
    assert res.status == 1 and ref.status == 1
    assert len(res.t_events) == 2 and len(res.y_events) == 2
    for mine, theirs in zip(res.t_events, ref.t_events):
        assert mine.shape == theirs.shape
        assert np.allclose(mine, theirs, rtol=1e-8)
    assert res.y_events[1].shape == (1, 3)
    assert abs(res.y_events[1][0, 0] - 0.1) < 1e-9
    assert res.t[-1] == res.t_events[1][0]  # the run ends at the terminal event, as solve_ivp's
    # direction filters: y[0] only decreases, so an increasing-only event never fires.
    low.direction = 1
    up = gradflow.solve_flow(loss, (0.0, 10.0), Y0, events=low)
    assert up.status == 0 and up.t_events[0].size == 0 and up.y_events[0].shape == (0, 3)


def test_without_t_eval_every_accepted_step_is_stored_and_max_step_first_step_are_honoured():
    res = gradflow.solve_flow(loss, (1.0, 3.0), Y0)
    assert res.t[0] == 1.0 and res.t[-1] == 3.0 and res.y.shape == (3, res.t.size)
    assert res.t.size == res.stats["num_steps"] + 1
    capped = gradflow.solve_flow(loss, (1.0, 3.0), Y0, max_step=0.01)
    assert np.diff(capped.t).max() <= 0.01 * (1 + 1e-12) and capped.t.size >= 200
    first = gradflow.solve_flow(loss, (1.0, 3.0), Y0, first_step=1e-5)
    assert first.t[1] - first.t[0] == pytest.approx(1e-5, rel=1e-12)
    bdf = gradflow.solve_flow(loss, (1.0, 3.0), Y0, method="BDF", max_step=0.05)
    assert np.diff(bdf.t).max() <= 0.05 * (1 + 1e-12)


def test_a_gradflow_objective_and_gradflows_options_go_through_and_statuses_follow_scipy():
    q = gradflow.Quadratic(A)
    res = gradflow.solve_flow(q, (0.0, 50.0), Y0, loss_tol=1e-6)
    assert res.status == 1 and res.gradflow_status == "tolerance_reached" and res.loss[-1] <= 1e-6
    assert isinstance(res.result, gradflow.FlowResult)
    assert res.bound_holds is True  # the quadratic's exact mu and L_min give the rate bound
    failed = gradflow.solve_flow(q, (0.0, 50.0), Y0, max_steps=3)
    assert failed.status == -1 and not failed.success and failed.gradflow_status == "max_steps"
    assert "max_steps" in failed.message


@pytest.mark.parametrize("kwargs, message", [
    ({"method": "RK23"}, r"method = 'RK23': there is no third-order pair"),
    ({"method": "Euler-Cromer"}, r"method = 'Euler-Cromer': unknown"),
    ({"t_eval": [0.5, 20.0]}, r"t_eval: must lie within t_span"),
    ({"t_eval": [2.0, 1.0]}, r"t_eval: must be strictly increasing"),
    ({"max_step": 0.0}, r"max_step = 0"),
    ({"first_step": 20.0}, r"first_step = 20"),
])
def test_bad_arguments_raise_valueerror_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        gradflow.solve_flow(loss, (0.0, 10.0), Y0, **kwargs)


def test_bad_spans_events_and_keywords_are_refused():
    for span, message in [((1.0, 1.0), "t1 must be > t0"), ((2.0, 1.0), "t1 must be > t0"),
                          ((0.0, math.inf), "both ends must be finite"), ((0.0,), "must be a pair")]:
        with pytest.raises(ValueError, match=message):
            gradflow.solve_flow(loss, span, Y0)

    def counted(t, y):
        return y[0]

    counted.terminal = 2
    with pytest.raises(ValueError, match=r"events\[0\]\.terminal = 2"):
        gradflow.solve_flow(loss, (0.0, 1.0), Y0, events=[counted])
    with pytest.raises(ValueError, match=r"events\[0\]: must be a callable"):
        gradflow.solve_flow(loss, (0.0, 1.0), Y0, events=[3.0])
    with pytest.raises(TypeError, match="t_end"):
        gradflow.solve_flow(loss, (0.0, 1.0), Y0, t_end=5.0)
    res = gradflow.solve_flow(loss, (0.0, 1.0), Y0)
    with pytest.raises(ValueError, match="outside the solution's interval"):
        gradflow.solve_flow(loss, (0.0, 1.0), Y0, dense_output=True).sol(2.0)
    assert res.sol is None and res.t_events is None
    with pytest.raises(AttributeError):
        res.no_such_field


def test_the_version_is_the_cmake_packages():
    import pathlib
    import re
    top = pathlib.Path(__file__).resolve().parents[2] / "CMakeLists.txt"
    version = re.search(r"project\(gradflow VERSION ([0-9.]+)", top.read_text()).group(1)
    assert gradflow.__version__ == version


def test_lsoda_is_the_automatic_switch_on_a_stiff_quadratic():
    # eigenvalues 1e-4 .. 1 (p = 20), t to 1e4: stiff for an explicit method after the fast modes decay.
    eigenvalues = np.logspace(0.0, -4.0, 20)
    q = gradflow.Quadratic(np.diag(eigenvalues))
    y0 = np.ones(20)
    res = gradflow.solve_flow(q, (0.0, 1e4), y0, method="LSODA", rtol=1e-6, atol=1e-10)
    assert res.status == 0 and res.success
    switches = res.result.solver_switches
    assert len(switches) >= 1 and switches[0]["from"] == "dopri5" and switches[0]["to"] == "cvode-bdf"
    assert 0.0 < switches[0]["t"] < 1e4 and "stability limit" in switches[0]["reason"]
    assert res.result.stats["num_solver_switches"] == len(switches)
    exact = np.exp(-eigenvalues * 1e4) * y0
    assert np.max(np.abs(res.y[:, -1] - exact)) <= 1e-4
    rk45 = gradflow.solve_flow(q, (0.0, 1e4), y0, method="RK45", rtol=1e-6, atol=1e-10)
    assert res.nfev * 5 < rk45.nfev  # the explicit method alone is held at its stability limit
