"""One objective shared by Python threads: runs release the GIL, and the built-in objectives' evaluations
are safe from any number of threads at once (core/objective.hpp), so every thread gets the bits of the
same call made alone."""
import threading

import numpy as np
import pytest

import gradflow

THREADS = 4


def run_together(work, count=THREADS):
    """work(i) for i < count, each on its own thread, released together; the results in order."""
    barrier = threading.Barrier(count)
    results = [None] * count
    errors = []

    def body(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 - reported on the main thread
            errors.append(e)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def same_bits(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return a.shape == b.shape and a.tobytes() == b.tobytes()


def objectives(rng):
    """(name, objective, theta0, lr): runs of 3000 steps that neither diverge nor stop early, long enough
    (tens to hundreds of milliseconds) that the threads overlap."""
    x = rng.standard_normal((256, 10))
    y = np.tanh(x @ rng.standard_normal(10))
    net = gradflow.MLP(x, y, widths=[32])
    deep = gradflow.MLP(x, y, widths=[16, 8], bias=True)
    ls = gradflow.LeastSquares(rng.standard_normal((400, 200)), rng.standard_normal(400))
    q = gradflow.Quadratic.generated(400, cond=100.0, seed=3)
    return [
        ("mlp", net, net.init("positive", 0, 5.0), 0.001),
        ("mlp2", deep, deep.init("xavier_normal", 1), 0.001),
        ("least-squares", ls, rng.standard_normal(200), 0.001),
        ("quadratic", q, rng.standard_normal(400), 0.5),
    ]


@pytest.mark.parametrize("index", range(4))
def test_descents_sharing_one_objective_give_the_bits_of_the_same_descent_alone(rng, index):
    name, f, theta0, lr = objectives(rng)[index]
    alone = gradflow.descend(f, theta0, max_iters=3000, lr=lr)
    assert alone.status == "reached_max_iters" and alone.iterations == 3000, name
    # The same start on every thread, and different starts at once.
    starts = [theta0 + 0.01 * k * np.cos(np.arange(theta0.size)) for k in range(THREADS)]
    alone_each = [gradflow.descend(f, s, max_iters=3000, lr=lr) for s in starts]
    for results, expected in (
        (run_together(lambda i: gradflow.descend(f, theta0, max_iters=3000, lr=lr)), [alone] * THREADS),
        (run_together(lambda i: gradflow.descend(f, starts[i], max_iters=3000, lr=lr)), alone_each),
    ):
        for r, e in zip(results, expected):
            assert r.status == e.status, name
            assert r.iterations == e.iterations, name
            assert same_bits(r.theta, e.theta), name
            assert same_bits(r.loss, e.loss), name
            assert same_bits([r.loss_final], [e.loss_final]), name


def test_flows_sharing_one_network_give_the_bits_of_the_same_flow_alone(rng):
    _, f, theta0, _ = objectives(rng)[0]
    for solver in ("dopri5", "cvode-bdf-krylov"):
        alone = gradflow.flow(f, theta0, solver=solver, t_end=0.2)
        for r in run_together(lambda i: gradflow.flow(f, theta0, solver=solver, t_end=0.2)):
            assert same_bits(r.theta, alone.theta), solver
            assert same_bits(r.loss, alone.loss), solver


@pytest.mark.parametrize("index", range(4))
def test_evaluations_while_another_thread_descends_on_the_same_objective_are_exact(rng, index):
    name, f, theta0, lr = objectives(rng)[index]
    points = [theta0 + 0.1 * k * rng.standard_normal(theta0.size) for k in range(5)]
    v = rng.standard_normal(theta0.size)
    expected = [(f.loss(p), f.loss_and_gradient(p), f.hessian_vector(p, v)) for p in points]
    alone = gradflow.descend(f, theta0, max_iters=3000, lr=lr)
    done = threading.Event()
    outcome = {}

    def descend():
        try:
            outcome["result"] = gradflow.descend(f, theta0, max_iters=3000, lr=lr)
        finally:
            done.set()

    runner = threading.Thread(target=descend)
    runner.start()
    calls, wrong = 0, 0
    while not done.is_set() or calls < 200:
        k = calls % len(points)
        loss, (loss2, grad), hv = expected[k]
        wrong += f.loss(points[k]) != loss
        got_loss, got_grad = f.loss_and_gradient(points[k])
        wrong += got_loss != loss2 or not same_bits(got_grad, grad)
        wrong += not same_bits(f.hessian_vector(points[k], v), hv)
        calls += 1
    runner.join()
    assert wrong == 0, f"{name}: {wrong} of {calls} evaluations differ from the serial ones"
    assert same_bits(outcome["result"].theta, alone.theta), name
