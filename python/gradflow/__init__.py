"""gradflow: gradient flows and gradient descent, checked against Polyak-Lojasiewicz theory.

A thin layer over gradflow's C++ library (pybind11): the runs, the objectives and the certificate
are the library's; this module only converts arrays and options.

    import numpy as np, gradflow
    def loss(theta):                                   # any Python callable -> (loss, grad)
        return 0.5 * theta @ theta, theta.copy()
    r = gradflow.flow(loss, np.ones(3), t_end=5.0, times=[1, 2, 3], record_states=True,
                      min_value=0.0, mu=1.0)
    r.status, r.t, r.loss, r.states, r.bound_holds

Arrays: float64 only. theta0, matrices and data are taken as C-contiguous float64 arrays; other dtypes,
lists or non-contiguous arrays are converted once by numpy, and the library then keeps its own copy
(one copy of the input, none per step). Results are new numpy arrays.

Objectives: the built-ins Quadratic, LeastSquares, Karimi, Rosenbrock and MLP, or any Python callable
f(theta) -> (loss, grad) (gradflow.Function adds hvp and min_value). A run releases the GIL and takes
it only around each Python call. An exception raised by a callable ends the run (status
"callback_error" in the library, with the last accepted state) and is raised again when the run
returns, with its traceback; the result is attached to it as exc.gradflow_result.

Errors in options raise ValueError with the library's message ("rtol = -1: must be ...").
"""

from . import _core
from ._core import (
    DescentResult,
    Event,
    FlowResult,
    Function,
    Karimi,
    LeastSquares,
    MLP,
    Objective,
    Quadratic,
    Rosenbrock,
)

__all__ = [
    "flow",
    "descend",
    "certify",
    "find_scale",
    "probability",
    "compare_inits",
    "Objective",
    "Function",
    "Quadratic",
    "LeastSquares",
    "Karimi",
    "Rosenbrock",
    "MLP",
    "Event",
    "FlowResult",
    "DescentResult",
    "SOLVERS",
    "STEP_RULES",
]

SOLVERS = ("dopri5", "cash-karp54", "fehlberg78", "bulirsch-stoer", "euler", "rk4", "cvode-bdf",
           "cvode-bdf-krylov", "cvode-adams")
STEP_RULES = ("fixed", "inverse-smoothness", "polyak", "armijo")


def flow(objective, theta0, *, solver="dopri5", t_end=10.0, rtol=1e-8, atol=1e-10, dt=None, times=None,
         save_every=0.0, loss_tol=0.0, grad_tol=0.0, mu=None, radius=None, record_states=False,
         dense_output=False, events=(), max_steps=1000000, krylov="gmres", hvp=None, min_value=None):
    """Integrate the gradient flow theta' = -grad L(theta) from theta0; returns a FlowResult.

    objective: a built-in (Quadratic, LeastSquares, Karimi, Rosenbrock, MLP), a gradflow.Function,
        or a callable f(theta) -> (loss, grad) with theta and grad float64 arrays of shape (p,);
        p is len(theta0). For a callable, hvp(theta, v) -> H v (exact; used by cvode-bdf-krylov)
        and min_value (inf L, exact: enables the PL ratio and, with mu, the bound) may be given here.
    theta0: the initial point, shape (p,), finite (NaN or Inf: ValueError).
    solver: dopri5 (default), cash-karp54, fehlberg78, bulirsch-stoer (adaptive, odeint), euler and
        rk4 (fixed step dt), cvode-bdf, cvode-bdf-krylov (with krylov="gmres" or "pcg") and
        cvode-adams (SUNDIALS CVODE). For stiff problems use a cvode-bdf method.
    t_end: final time (> 0). rtol, atol: tolerances of the adaptive solvers (rtol in (0, 1),
        atol > 0). dt: step of euler and rk4 (default 0.01).
    times: record rows at these times (increasing, in (0, t_end]); save_every: or every save_every
        of flow time; neither: a row at every accepted step. The first row is t = 0, the last the
        final time.
    loss_tol, grad_tol: stop once loss <= loss_tol (and ||grad L|| <= grad_tol when both are set);
        the stop is located at the crossing (status "tolerance_reached").
    mu: the PL constant of the rate bound L_min + (L0 - L_min) exp(-2 mu t) (default: the problem's
        exact one). radius: check ||theta(t) - theta0|| <= radius (radius_holds).
    record_states: keep theta at every row (result.states, shape (rows, p)).
    dense_output: keep the interpolant (result.at(t) for t in [0, t_final]).
    events: gradflow.Event objects, located on the step's interpolant (result.event_hits).
    max_steps: budget of accepted steps (status "max_steps" when it runs out).

    Numerical trouble is a status, not an exception: non_finite_value, step_size_too_small,
    backend_error, max_steps, each with a message and the last good state. Invalid options
    raise ValueError naming the option, the value and the constraint.
    """
    return _core.flow(objective, theta0, solver=solver, t_end=t_end, rtol=rtol, atol=atol, dt=dt, times=times,
                      save_every=save_every, loss_tol=loss_tol, grad_tol=grad_tol, mu=mu, radius=radius,
                      record_states=record_states, dense_output=dense_output, events=tuple(events),
                      max_steps=max_steps, krylov=krylov, hvp=hvp, min_value=min_value)


def descend(objective, theta0, *, step="fixed", lr=0.1, gamma=None, armijo_b=0.5, armijo_c=0.5, max_iters=100000,
            loss_tol=0.0, grad_tol=0.0, save_every=1, mu=None, beta=None, ball_radius=None, divergence_factor=1e10,
            seed=0, record_states=False, events=(), hvp=None, min_value=None):
    """Gradient descent theta_{k+1} = theta_k - eta_k grad L(theta_k) from theta0; returns a DescentResult.

    objective, theta0, hvp, min_value: as for flow().
    step: "fixed" (eta = lr), "inverse-smoothness" (eta = 1 / beta: exact beta, or estimated by
        power iteration from seed), "polyak" (eta = gamma (L - L_min) / ||grad L||^2; gamma default
        2 mu / beta) or "armijo" (backtracking from lr by armijo_b until the decrease armijo_c).
    max_iters: iteration budget; loss_tol, grad_tol: stop conditions; save_every: a row every
        save_every iterations (and the last).
    mu, beta: the constants of the rule's guarantee L_k - L_min <= q^k (L0 - L_min) (default: the
        problem's exact ones); ball_radius: they hold only on B(theta0, ball_radius).
    divergence_factor: status "diverged" once L - L_min exceeds this factor times L0 - L_min.
    record_states, events: as for flow() (events are checked at the iterates).
    """
    return _core.descend(objective, theta0, step=step, lr=lr, gamma=gamma, armijo_b=armijo_b, armijo_c=armijo_c,
                         max_iters=max_iters, loss_tol=loss_tol, grad_tol=grad_tol, save_every=save_every, mu=mu,
                         beta=beta, ball_radius=ball_radius, divergence_factor=divergence_factor, seed=seed,
                         record_states=record_states, events=tuple(events), hvp=hvp, min_value=min_value)


def certify(objective, theta0):
    """The rigorous local PL certificate at theta0 (docs/theory.md §4), as a dict.

    For squared losses with a Lipschitz bound of the Jacobian: LeastSquares and MLP with an
    activation the theory covers. Keys: applies (bool) and why_not; holds (sigma0^2 > 4 l(r*) ||r0||)
    with sigma0, residual_norm, jacobian_norm, radius, lipschitz, mu (certified PL constant on
    B(theta0, radius)), travel, rate (2 mu), margin, verdict; the descent certificate's
    descent_holds, beta, step, descent_q, descent_travel. Rigorous, not sampled.
    """
    return _core.certify(objective, theta0)


def find_scale(network, seed=0, for_descent=False):
    """The output scale s* above which the positive initialization of network (an MLP) is certified
    (docs/theory.md §5.5).

    Returns a dict: found (bool), scale (s*, relative precision 1e-9), why_not, and certificate (the
    certify() dict at s*). for_descent: the threshold of the descent certificate instead of the flow's.
    """
    return _core.find_scale(network, seed=seed, for_descent=for_descent)


# probability and compare_inits are the module's own functions: their defaults are the library's
# (ProbabilityOptions, CompareInitsSpec), the same as the command line's.
probability = _core.probability
compare_inits = _core.compare_inits
