# Type stub of the gradflow package (the compiled gradflow._core, which __init__.py re-exports).
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
LossFunction = Callable[[FloatArray], Tuple[float, ArrayLike]]
HvpFunction = Callable[[FloatArray, FloatArray], ArrayLike]

__version__: str
SOLVERS: Tuple[str, ...]
STEP_RULES: Tuple[str, ...]

class Objective:
    @property
    def dimension(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def known(self) -> dict[str, Any]: ...
    def loss(self, theta: ArrayLike) -> float: ...
    def loss_and_gradient(self, theta: ArrayLike) -> Tuple[float, FloatArray]: ...
    def hessian_vector(self, theta: ArrayLike, v: ArrayLike) -> FloatArray: ...

class Quadratic(Objective):
    def __init__(self, A: ArrayLike, minimizer: Optional[ArrayLike] = None) -> None: ...
    @staticmethod
    def generated(p: int, cond: float = 100.0, seed: int = 0) -> Quadratic: ...
    @property
    def A(self) -> FloatArray: ...

class LeastSquares(Objective):
    def __init__(self, X: ArrayLike, y: ArrayLike) -> None: ...

class Karimi(Objective):
    def __init__(self, p: int) -> None: ...

class Rosenbrock(Objective):
    def __init__(self, p: int) -> None: ...

class MLP(Objective):
    def __init__(self, X: ArrayLike, y: ArrayLike, widths: Sequence[int] = ..., activation: str = "tanh",
                 bias: bool = False, threads: int = 1) -> None: ...
    def init(self, name: str = "positive", seed: int = 0, output_scale: float = 1.0) -> FloatArray: ...
    def predict(self, theta: ArrayLike) -> FloatArray: ...

class Function:
    def __init__(self, f: LossFunction, dimension: int, hvp: Optional[HvpFunction] = None,
                 min_value: Optional[float] = None, name: str = "function") -> None: ...
    @property
    def dimension(self) -> int: ...

class Event:
    def __init__(self, name: str, g: Callable[[float, FloatArray, dict[str, float]], float], direction: int = 0,
                 terminal: bool = True) -> None: ...
    name: str
    direction: int
    terminal: bool

class _TrajectoryResult:
    status: str
    message: str
    success: bool
    theta: FloatArray
    t_final: float
    loss0: float
    loss_final: float
    path_length: float
    min_value: Optional[float]
    # One array per column of the rows (the row field table, flow/row_fields.hpp); the observed ones are
    # NaN unless observe= asked for them.
    t: FloatArray
    loss: FloatArray
    grad_norm: FloatArray
    dist_from_init: FloatArray
    pl_ratio: FloatArray
    bound: FloatArray
    ntk_min: FloatArray
    ntk_max: FloatArray
    condition: FloatArray
    sharpness: FloatArray
    sharpness_min: FloatArray
    states: Optional[FloatArray]
    event_hits: list[dict[str, Any]]
    stats: dict[str, Union[int, float]]
    bound_holds: Optional[bool]
    radius_holds: Optional[bool]
    def to_dict(self) -> dict[str, Any]: ...
    def report(self) -> str: ...

class FlowResult(_TrajectoryResult):
    mu: Optional[float]
    stiffness_hint: str
    flow_departure: str
    def at(self, t: float) -> FloatArray: ...

class DescentResult(_TrajectoryResult):
    iterations: int
    iter: FloatArray
    step_size: FloatArray
    guarantee: dict[str, Any]

ObjectiveLike = Union[Objective, Function, LossFunction]

# The defaults are the library's (FlowOptions, DescentOptions, ProbabilityOptions, CompareInitsSpec).
def flow(objective: ObjectiveLike, theta0: ArrayLike, *, solver: str = "dopri5", t_end: float = 10.0,
         rtol: float = 1e-8, atol: float = 1e-10, dt: Optional[float] = None, times: Optional[ArrayLike] = None,
         save_every: float = 0.0, loss_tol: float = 0.0, grad_tol: float = 0.0, mu: Optional[float] = None,
         radius: Optional[float] = None, record_states: bool = False, dense_output: bool = False,
         events: Iterable[Event] = (), max_steps: int = 1000000, krylov: str = "gmres",
         hvp: Optional[HvpFunction] = None, min_value: Optional[float] = None, observe: Sequence[str] = ...,
         max_wall_seconds: float = 0.0, max_step: float = ..., first_step: Optional[float] = None,
         observer: Optional[Callable[[dict[str, float], FloatArray], bool]] = None,
         row_sink: Optional[Callable[[dict[str, float], FloatArray], None]] = None) -> FlowResult: ...
def descend(objective: ObjectiveLike, theta0: ArrayLike, *, step: Union[str, Any] = "fixed", lr: float = 0.1,
            gamma: Optional[float] = None, armijo_b: float = 0.5, armijo_c: float = 0.5, max_iters: int = 100000,
            loss_tol: float = 0.0, grad_tol: float = 0.0, save_every: int = 1, mu: Optional[float] = None,
            beta: Optional[float] = None, ball_radius: Optional[float] = None, divergence_factor: float = 1e10,
            seed: int = 0, record_states: bool = False, events: Iterable[Event] = (),
            hvp: Optional[HvpFunction] = None, min_value: Optional[float] = None, observe: Sequence[str] = ...,
            max_wall_seconds: float = 0.0,
            observer: Optional[Callable[[dict[str, float], FloatArray], bool]] = None,
            row_sink: Optional[Callable[[dict[str, float], FloatArray], None]] = None) -> DescentResult: ...
def certify(objective: Objective, theta0: ArrayLike) -> dict[str, Any]: ...
def find_scale(network: MLP, seed: int = 0, for_descent: bool = False) -> dict[str, Any]: ...
def probability(network: MLP, *, init: str = "positive", seed: int = 0, output_scale: float = 1.0, draws: int = 100,
                alpha: float = 0.05, eps: float = 1e-6, steps: int = 1000, step: str = "armijo", lr: float = 1.0,
                threads: int = 0) -> dict[str, Any]: ...
def compare_inits(X: ArrayLike, y: ArrayLike, *, inits: Sequence[str] = ..., widths: Sequence[int] = ...,
                  seeds: int = 20, depth: int = 1, activation: str = "tanh", protocol: str = "armijo",
                  solver: Optional[str] = None, rtol: Optional[float] = None, atol: Optional[float] = None,
                  time_accuracy: float = 0.01, lr_grid: Optional[Sequence[float]] = None,
                  eps: Optional[float] = None, loss_tol: Optional[float] = None, max_steps: int = 20000,
                  lr: float = 1.0, output_scale: Optional[float] = None, scale_margin: float = 1.05,
                  preprocess: str = "none", observe: Sequence[str] = ..., threads: int = 0) -> dict[str, Any]: ...

# solve_flow: scipy.integrate.solve_ivp's call and result for the gradient flow (gradflow/_solve_ivp.py).
class OdeSolution:
    t_min: float
    t_max: float
    t0: float
    def __call__(self, t: ArrayLike) -> FloatArray: ...

class OdeResult(dict[str, Any]):
    t: FloatArray
    y: FloatArray
    sol: Optional[OdeSolution]
    t_events: Optional[list[FloatArray]]
    y_events: Optional[list[FloatArray]]
    nfev: int
    njev: int
    nlu: int
    status: int
    message: str
    success: bool
    loss: FloatArray
    grad_norm: FloatArray
    pl_ratio: FloatArray
    bound: FloatArray
    bound_holds: Optional[bool]
    gradflow_status: str
    stats: dict[str, Union[int, float]]
    result: FlowResult
    def __getattr__(self, name: str) -> Any: ...

def solve_flow(fun: ObjectiveLike, t_span: Sequence[float], y0: ArrayLike, method: str = "RK45",
               t_eval: Optional[ArrayLike] = None, dense_output: bool = False,
               events: Union[None, Callable[..., float], Sequence[Callable[..., float]]] = None,
               args: Optional[Sequence[Any]] = None, rtol: float = 1e-3, atol: float = 1e-6,
               max_step: float = ..., first_step: Optional[float] = None, **gradflow_options: Any) -> OdeResult: ...

# Ensembles: one built-in objective from k starts at once (gradflow/_ensemble.py).
class Ensemble(dict[str, Any]):
    results: list[Any]
    theta: FloatArray
    loss_final: FloatArray
    grad_norm_final: FloatArray
    t_final: FloatArray
    status: list[str]
    success: npt.NDArray[np.bool_]
    num_gradient_evals: npt.NDArray[np.int64]
    t: FloatArray
    loss: FloatArray
    def __getattr__(self, name: str) -> Any: ...

def flow_many(objective: Objective, starts: Optional[ArrayLike] = None, *, init: Optional[str] = None,
              seeds: Optional[Iterable[int]] = None, output_scale: float = 1.0, threads: int = 0,
              **flow_keywords: Any) -> Ensemble: ...
def descend_many(objective: Objective, starts: Optional[ArrayLike] = None, *, init: Optional[str] = None,
                 seeds: Optional[Iterable[int]] = None, output_scale: float = 1.0, threads: int = 0,
                 **descend_keywords: Any) -> Ensemble: ...
