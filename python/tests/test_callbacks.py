"""Python callables inside a run: an exception ends the run and comes back, nothing leaks."""
import gc
import os
import threading
import traceback
import tracemalloc

import numpy as np
import pytest

import gradflow


class Refusal(RuntimeError):
    pass


def make_refusing_loss(limit):
    calls = {"n": 0}

    def loss(theta):
        calls["n"] += 1
        if calls["n"] > limit:
            raise Refusal(f"refused at call {calls['n']}")
        return 0.5 * float(theta @ theta), theta.copy()

    return loss, calls


@pytest.mark.parametrize("solver", ["dopri5", "rk4", "cvode-bdf", "cvode-bdf-krylov", "cvode-adams"])
def test_an_exception_in_the_loss_stops_the_run_and_is_raised_with_its_traceback(solver):
    loss, calls = make_refusing_loss(25)
    theta0 = np.array([1.0, -2.0, 0.5])
    with pytest.raises(Refusal, match="refused at call 26") as info:
        gradflow.flow(loss, theta0, solver=solver, t_end=100.0)
    assert calls["n"] == 26  # nothing is called after the refusal
    # The traceback reaches the line of the callable that raised.
    frames = traceback.extract_tb(info.value.__traceback__)
    assert frames[-1].name == "loss"
    # The library's result travels with the exception: status callback_error, the last accepted state.
    r = info.value.gradflow_result
    assert r.status == "callback_error" and not r.success
    assert "refused at call 26" in r.message
    assert 0.0 < r.t_final < 100.0
    assert np.linalg.norm(r.theta - theta0 * np.exp(-r.t_final)) <= 1e-5


def test_an_exception_at_theta0_and_in_descent_and_in_an_event():
    loss, _ = make_refusing_loss(0)
    with pytest.raises(Refusal) as info:
        gradflow.flow(loss, np.ones(2))
    assert info.value.gradflow_result.status == "callback_error"
    assert info.value.gradflow_result.t_final == 0.0

    loss, calls = make_refusing_loss(10)
    with pytest.raises(Refusal) as info:
        gradflow.descend(loss, np.ones(2), lr=0.5)
    r = info.value.gradflow_result
    assert r.status == "callback_error" and r.iterations == 9 and calls["n"] == 11
    assert np.allclose(r.theta, 0.5**9)

    def bad_event(t, theta, row):
        if t > 0.5:
            raise KeyError("event")
        return 1.0

    bowl = lambda th: (0.5 * float(th @ th), th.copy())  # noqa: E731

    def hvp(theta, v):
        raise ZeroDivisionError("no products")

    with pytest.raises(ZeroDivisionError) as info:  # the estimate of beta, before the first step
        gradflow.descend(bowl, np.ones(2), step="inverse-smoothness", hvp=hvp)
    assert info.value.gradflow_result.status == "callback_error"
    with pytest.raises(KeyError):
        gradflow.flow(bowl, np.ones(2), events=[gradflow.Event("e", bad_event)])


def test_a_wrong_return_value_is_a_value_error():
    with pytest.raises(ValueError, match="shape"):
        gradflow.flow(lambda th: (1.0, np.zeros(3)), np.ones(2))
    with pytest.raises(ValueError, match=r"\(loss, grad\)"):
        gradflow.flow(lambda th: (1.0, th, 3), np.ones(2))
    with pytest.raises(ValueError):
        gradflow.flow(lambda th: 1.0, np.ones(2))


def test_a_thousand_failing_runs_leave_memory_where_it_was():
    theta0 = np.ones(4)

    def run_once():
        loss, _ = make_refusing_loss(30)
        try:
            gradflow.flow(loss, theta0, t_end=10.0, record_states=True, dense_output=True)
        except Refusal:
            pass
        else:
            raise AssertionError("the run did not stop")

    def resident_bytes():  # the process's resident memory: what C++ allocations would show
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    for _ in range(50):
        run_once()
    gc.collect()
    resident_before = resident_bytes()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(1000):
            run_once()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # A leak of the exception, its traceback or the result would be ~1 kB a run: 1 MB here. The C++
    # side (the result's rows, states and interpolant, ~10 kB a run) would show in the resident size.
    assert after - before < 64 * 1024, (before, after)
    assert resident_bytes() - resident_before < 2 * 1024 * 1024


def test_the_gil_is_released_while_a_built_in_runs():
    # A built-in run on the main thread while Python code runs on another: the other thread makes
    # progress during the run only if the run does not hold the GIL (with it held, the count of ticks
    # taken during the run would be 0).
    q = gradflow.Quadratic.generated(200, cond=1e4, seed=0)
    ticks = []
    stop = threading.Event()
    started = threading.Event()

    def ticker():
        started.set()
        while not stop.is_set():
            ticks.append(1)

    thread = threading.Thread(target=ticker)
    thread.start()
    started.wait()
    try:
        before = len(ticks)
        r = gradflow.flow(q, np.ones(200), t_end=20000.0, rtol=1e-10)  # a few hundred ms
        during = len(ticks) - before
    finally:
        stop.set()
        thread.join()
    assert r.success
    assert during > 1000, during
