"""A step rule, an observer and a row sink written in Python, run through the library's own machinery:
the rule's steps are the iterates' (checked against a numpy loop), a rule that reproduces "fixed" gives its
bits, the guarantee it states is the run's, and their errors come back as the objective's do."""

import numpy as np
import pytest

import gradflow

A = np.diag([2.0, 1.0, 0.5])
Q = gradflow.Quadratic(A)
THETA0 = np.array([1.0, -1.0, 2.0])


class Decay:
    name = "step decay"

    def __init__(self, eta0, every):
        self.eta0, self.every = eta0, every

    def propose(self, theta, loss, grad, iteration):
        return self.eta0 / (1 + iteration // self.every)

    def guarantee(self, facts):
        return {"q": None, "radius": None, "note": f"none (loss0 = {facts['loss0']:.3g})"}


def test_a_python_step_rule_drives_descent_as_a_numpy_loop_would():
    r = gradflow.descend(Q, THETA0, step=Decay(0.4, 10), max_iters=40)
    theta = THETA0.copy()
    for k in range(40):
        theta = theta - 0.4 / (1 + k // 10) * (A @ theta)
    assert np.allclose(r.theta, theta, rtol=1e-14, atol=1e-300)
    assert np.allclose(r.step_size[1:], [0.4 / (1 + k // 10) for k in range(40)])
    d = r.to_dict()
    assert d["step"] == "step decay" and d["guarantee"].startswith("none (loss0 = ")


def test_a_python_rule_that_is_fixed_gives_the_bits_of_fixed():
    class Fixed:
        def propose(self, theta, loss, grad, iteration):
            return 0.3

    mine = gradflow.descend(Q, THETA0, step=Fixed(), max_iters=60)
    theirs = gradflow.descend(Q, THETA0, step="fixed", lr=0.3, max_iters=60)
    assert np.array_equal(mine.theta, theirs.theta) and np.array_equal(mine.loss, theirs.loss)
    assert mine.to_dict()["step"] == "python"


def test_a_rules_errors_come_back_as_the_objectives_do():
    class Raises:
        def propose(self, *args):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom") as info:
        gradflow.descend(Q, THETA0, step=Raises())
    assert info.value.gradflow_result.status == "callback_error"

    class Garbage:
        def propose(self, *args):
            return "large"

    with pytest.raises(ValueError, match=r"propose\(theta, loss, grad, iter\) must return a float"):
        gradflow.descend(Q, THETA0, step=Garbage())
    with pytest.raises(ValueError, match="step: must be one of fixed"):
        gradflow.descend(Q, THETA0, step=42)
    with pytest.raises(ValueError, match="step: an ensemble takes a rule's name"):
        gradflow.descend_many(Q, np.ones((2, 3)), step=Decay(0.1, 5))


def test_a_row_sink_sees_every_recorded_row_and_an_observer_can_stop_the_run():
    rows = []
    r = gradflow.flow(Q, THETA0, t_end=5.0, times=[1, 2, 3], row_sink=lambda row, th: rows.append((row, th.copy())))
    assert [row["t"] for row, _ in rows] == list(r.t)
    assert np.array_equal(rows[-1][1], r.theta) and rows[-1][0]["loss"] == r.loss[-1]
    stopped = gradflow.flow(Q, THETA0, t_end=50.0, observer=lambda row, th: row["loss"] < 1e-3)
    assert stopped.status == "stopped_by_observer" and stopped.loss[-1] < 1e-3
    seen = []
    d = gradflow.descend(Q, THETA0, lr=0.1, max_iters=100, observer=lambda row, th: seen.append(row["iter"]) or
                         len(seen) >= 10)
    assert d.status == "stopped_by_observer" and seen == list(range(10))
    with pytest.raises(ZeroDivisionError) as info:
        gradflow.flow(Q, THETA0, observer=lambda row, th: 1 / 0)
    assert info.value.gradflow_result.status == "callback_error"
    for keyword in ("observer", "row_sink"):
        with pytest.raises(ValueError, match=f"{keyword}: must be a callable"):
            gradflow.flow(Q, THETA0, **{keyword: 3})
