"""The gradient flow of your own loss, in Python (docs/tutorials/own-loss.md).

    PYTHONPATH=build/release/python python3 examples/python/own_loss.py

The loss: one tanh neuron fitted to 4 points in 8 dimensions by squared error,
L(w) = 1/2 sum_i (tanh(x_i . w) - y_i)^2, with targets made by a teacher w*, so that min L = 0 exactly.
The script checks the gradient against central differences, integrates the flow to L <= 1e-12 with the
PL ratio and the sharpness watched along the path, and runs gradient descent on the same loss. It prints
six lines and writes nothing.
"""
import numpy as np

import gradflow

# --- the loss -------------------------------------------------------------------------------------
rng = np.random.default_rng(0)
X = rng.standard_normal((4, 8)) / np.sqrt(8)  # 4 samples, 8 features
y = np.tanh(X @ rng.standard_normal(8))  # a teacher's targets: the infimum 0 is attained


def loss(w):
    """L(w) and grad L(w), as float and float64 array."""
    t = np.tanh(X @ w)
    r = t - y  # the residuals
    return 0.5 * float(r @ r), X.T @ ((1 - t**2) * r)


def hvp(w, v):
    """The exact Hessian-vector product H(w) v (optional: for observe=["sharpness"] and cvode-bdf-krylov)."""
    t = np.tanh(X @ w)
    s, xv = 1 - t**2, X @ v
    return X.T @ (s * s * xv - 2 * t * s * (t - y) * xv)
# --- end of the loss ------------------------------------------------------------------------------

# --- check the derivatives ------------------------------------------------------------------------
w0 = np.zeros(8)
v = rng.standard_normal(8)
h = 1e-6
fd_grad = np.array([(loss(w0 + h * e)[0] - loss(w0 - h * e)[0]) / (2 * h) for e in np.eye(8)])
fd_hvp = (loss(w0 + h * v)[1] - loss(w0 - h * v)[1]) / (2 * h)
print(f"gradient vs differences: {np.abs(fd_grad - loss(w0)[1]).max():.1e}, "
      f"Hessian-vector product vs differences: {np.abs(fd_hvp - hvp(w0, v)).max():.1e}")
# --- end of the check -----------------------------------------------------------------------------

# --- the flow -------------------------------------------------------------------------------------
r = gradflow.flow(loss, w0, t_end=1000.0, loss_tol=1e-12, min_value=0.0, hvp=hvp, observe=["sharpness"])
print(r.status, f"at t = {r.t_final:.4f}: L = {r.loss_final:.3e}, {r.stats['num_gradient_evals']} gradients,",
      f"{len(r.t)} rows")
print(f"PL ratio along the path (measured): min {np.nanmin(r.pl_ratio):.4f}, "
      f"max {np.nanmax(r.pl_ratio):.4f}")
print(f"sharpness (Lanczos estimate): {r.sharpness[0]:.4f} at w0, at most {np.nanmax(r.sharpness):.4f}")
# --- end of the flow ------------------------------------------------------------------------------

# --- descent --------------------------------------------------------------------------------------
lr = 1.0 / np.nanmax(r.sharpness)  # a step from an estimate: no guarantee comes with it
d = gradflow.descend(loss, w0, step="fixed", lr=lr, loss_tol=1e-12, min_value=0.0, max_iters=100000)
print(d.status, f"after {d.iterations} iterations at lr = {lr:.4f}: L = {d.loss_final:.3e},",
      f"t = sum of steps = {d.t_final:.4f}")
print("guarantee:", d.guarantee)
# --- end of descent -------------------------------------------------------------------------------
