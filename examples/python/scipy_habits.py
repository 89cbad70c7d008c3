"""The gradient flow of your own loss, written the way a SciPy user writes solve_ivp code.

A matrix-factorization loss L(U, V) = 1/2 ||U V^T - M||^2 (nonconvex), its gradient flow from a small
start with gradflow.solve_flow, checked against scipy.integrate.solve_ivp on the same right-hand side
-grad L; then an ensemble of starts and a figure. Run: python3 examples/python/scipy_habits.py [out.png]
"""
import sys

import numpy as np
from scipy.integrate import solve_ivp

import gradflow

rng = np.random.default_rng(0)
M = rng.standard_normal((6, 2)) @ rng.standard_normal((2, 5))  # a rank-2 target
shape_u, shape_v = (6, 2), (5, 2)
split = 6 * 2


def loss(y):
    u, v = y[:split].reshape(shape_u), y[split:].reshape(shape_v)
    r = u @ v.T - M
    return 0.5 * float(np.sum(r * r)), np.concatenate([(r @ v).ravel(), (r.T @ u).ravel()])


def rhs(t, y):
    return -loss(y)[1]


def small_loss(t, y):  # an event with SciPy's attributes
    return loss(y)[0] - 1e-8


small_loss.terminal = True
small_loss.direction = -1

y0 = 0.1 * rng.standard_normal(split + 5 * 2)
t_eval = np.linspace(0.0, 40.0, 81)  # from t0 on, as SciPy users write it
# RK45 is dopri5 in both: the same pair, with its own continuous extension for sol.
res = gradflow.solve_flow(loss, (0.0, 40.0), y0, method="RK45", t_eval=t_eval, events=small_loss,
                          dense_output=True, rtol=1e-10, atol=1e-12)
ref = solve_ivp(rhs, (0.0, 40.0), y0, method="RK45", t_eval=t_eval, events=small_loss, dense_output=True,
                rtol=1e-10, atol=1e-12)
print(f"status {res.status} ({res.message}); stored {res.y.shape[1]} of {len(t_eval)} times before the event")
print(f"L at the event: {loss(res.y_events[0][0])[0]:.3e}")
print(f"event at t = {res.t_events[0][0]:.6f} (solve_ivp: {ref.t_events[0][0]:.6f})")
common = min(res.y.shape[1], ref.y.shape[1])
print(f"max |y - y_scipy| at the stored times: {np.abs(res.y[:, :common] - ref.y[:, :common]).max():.1e}")
grid = np.linspace(0.0, res.t_events[0][0], 5)
print(f"max |sol - sol_scipy| on a grid: {np.abs(res.sol(grid) - ref.sol(grid)).max():.1e}")
print(f"gradient evaluations: gradflow {res.nfev}, solve_ivp {ref.nfev}")

# A built-in objective from many starts at once (each run the run alone).
q = gradflow.Quadratic.generated(20, cond=100.0, seed=1)
ensemble = gradflow.flow_many(q, rng.standard_normal((8, 20)), t_end=50.0, threads=2)
print(f"ensemble: {int(ensemble.success.sum())} of {len(ensemble.results)} reached t_end; "
      f"largest final loss {ensemble.loss_final.max():.2e}")

if len(sys.argv) > 1:
    import gradflow.plot

    gradflow.plot.trajectory(res, path=sys.argv[1], title="matrix factorization: gradient flow")
    print(f"figure: {sys.argv[1]}")
