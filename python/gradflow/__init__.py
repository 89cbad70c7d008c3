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
returns, with its traceback; the result is attached to it as exc.gradflow_result. Ctrl-C during a long
call on the main thread (flow, descend, compare_inits, probability) ends the run the same way (status
"interrupted") and raises KeyboardInterrupt with the partial result as exc.gradflow_result.

solve_flow(fun, t_span, y0, method="RK45", t_eval=None, dense_output=False, events=None, ...) is
scipy.integrate.solve_ivp's call and result (t, y of shape (p, k), sol, t_events, y_events, nfev,
status 0 / 1 / -1) for the gradient flow of fun, on flow()'s run.

Errors in options raise ValueError with the library's message ("rtol = -1: must be ...").
"""

from . import _core
from ._core import (
    SOLVERS,
    STEP_RULES,
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
    certify,
    compare_inits,
    descend,
    find_scale,
    fit_power_law,
    flow,
    flow_model,
    flow_model_start,
    descend_against_flow,
    held_out_metrics,
    matrix_products,
    probability,
    split_holdout,
)
from ._ensemble import Ensemble, descend_many, flow_many
from ._solve_ivp import OdeResult, OdeSolution, solve_flow

__version__: str = _core.__version__  # the C++ package's version (CMake's project VERSION)

# Every function is the compiled module's own, with the library's defaults (the structs' of the C++
# library, the same as the command line's) and its documentation (help(gradflow.flow)).
__all__ = [
    "solve_flow",
    "flow_many",
    "descend_many",
    "Ensemble",
    "OdeResult",
    "OdeSolution",
    "flow",
    "descend",
    "certify",
    "find_scale",
    "probability",
    "compare_inits",
    "flow_model",
    "flow_model_start",
    "descend_against_flow",
    "split_holdout",
    "held_out_metrics",
    "fit_power_law",
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
    "matrix_products",
]
