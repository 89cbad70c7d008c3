"""solve_flow: the gradient flow with scipy.integrate.solve_ivp's call and result.

The run is gradflow.flow()'s (the library's solvers, events, stops and counters); this file only maps
solve_ivp's arguments onto flow()'s keywords and flow()'s result onto solve_ivp's fields.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Optional, Sequence

import numpy as np

from . import _core  # type: ignore[attr-defined]  # the compiled module; its stub is __init__.pyi

# SciPy's method names onto gradflow's solvers ("the closest" where there is no identical method).
SCIPY_METHODS = {
    "RK45": "dopri5",  # the same Dormand-Prince 5(4) pair
    "DOP853": "fehlberg78",  # an explicit 8th-order pair (SciPy's is Dormand-Prince 8(5,3))
    "BDF": "cvode-bdf",  # variable-order BDF with a dense Newton solve (CVODE)
    "Radau": "cvode-bdf",  # the implicit method gradflow has (Radau IIA is not available)
    "LSODA": "auto",  # explicit while not stiff, BDF while stiff (gradflow's switch, not LSODA's Adams)
}
_UNAVAILABLE = {
    "RK23": "there is no third-order pair in gradflow: use 'RK45' (dopri5)",
}

# flow() keywords that solve_flow sets itself from solve_ivp's arguments.
_OWN_KEYWORDS = {"solver", "t_end", "times", "record_states", "dense_output", "rtol", "atol", "events", "max_step",
                 "first_step", "save_every"}


class AttributeDict(dict):
    """A dict whose keys are also attributes (as scipy's OptimizeResult): OdeResult's and Ensemble's base."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error

    def __dir__(self) -> list[str]:
        return sorted(self.keys())


class OdeResult(AttributeDict):
    """solve_flow's result: a dict whose keys are also attributes, as scipy's OdeResult.

    SciPy's fields: t (k,), y (p, k), sol (None unless dense_output=True), t_events, y_events (None
    without events), nfev (gradient evaluations, each giving the loss too), njev (Hessian evaluations
    of the implicit solvers), nlu (their LU factorizations), status (0 reached t_span[1], 1 a termination
    event, -1 a failure), message, success. gradflow's along t: loss, grad_norm, pl_ratio, bound (NaN
    where undefined); and bound_holds (the rate-bound verdict, None when unchecked), gradflow_status
    (flow()'s status name), stats (every counter), result (flow()'s FlowResult, times from 0).
    """

    def __repr__(self) -> str:
        keys = ", ".join(sorted(self.keys()))
        return f"OdeResult(status={self.get('status')}, message={self.get('message')!r}, keys: {keys})"


class OdeSolution:
    """The continuous solution on [t0, t_final]: sol(t) is (p,) for a scalar t, (p, m) for m times."""

    def __init__(self, result: Any, t0: float) -> None:
        self._result = result
        self.t_min = t0
        self.t_max = t0 + result.t_final
        self.t0 = t0

    def __call__(self, t: Any) -> np.ndarray:
        times = np.asarray(t, dtype=float)
        if times.ndim > 1:
            raise ValueError(f"sol(t): t must be a scalar or a 1-D array, got shape {times.shape}")
        flat = np.atleast_1d(times)
        outside = flat[(flat < self.t_min) | (flat > self.t_max) | np.isnan(flat)]
        if outside.size:
            raise ValueError(f"sol(t): t = {outside[0]!r} is outside the solution's interval [{self.t_min!r}, "
                             f"{self.t_max!r}]")
        # The run's own continuous solution (FlowResult.sol), on its clock from 0.
        relative = np.clip(flat - self.t0, 0.0, self._result.t_final)
        return self._result.sol(relative[0] if times.ndim == 0 else relative)


def _solver(method: Any) -> str:
    if not isinstance(method, str):
        raise ValueError(f"method: must be a name (a str), got {type(method).__name__}")
    if method in SCIPY_METHODS:
        return SCIPY_METHODS[method]
    if method in _UNAVAILABLE:
        raise ValueError(f"method = {method!r}: {_UNAVAILABLE[method]}")
    if method in _core.SOLVERS:
        return method
    known = ", ".join(list(SCIPY_METHODS) + list(_core.SOLVERS))
    raise ValueError(f"method = {method!r}: unknown (known: {known})")


def _real(name: str, value: Any) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} = {value!r}: must be a real number") from None
    return x


def _event(index: int, event: Any, t0: float, args: tuple) -> Any:
    if not callable(event):
        raise ValueError(f"events[{index}]: must be a callable event(t, y), got {type(event).__name__}")
    terminal = getattr(event, "terminal", False)
    if isinstance(terminal, (bool, np.bool_)):
        terminal = bool(terminal)
    elif isinstance(terminal, (int, np.integer)) and terminal in (0, 1):
        terminal = bool(terminal)
    else:
        raise ValueError(f"events[{index}].terminal = {terminal!r}: must be True or False (a count of "
                         "occurrences before termination is not supported)")
    direction = _real(f"events[{index}].direction", getattr(event, "direction", 0.0))
    if not math.isfinite(direction):
        raise ValueError(f"events[{index}].direction = {direction!r}: must be finite (its sign is used)")
    sign = 0 if direction == 0 else (1 if direction > 0 else -1)

    def g(t: float, theta: np.ndarray, row: dict) -> float:
        return float(event(t0 + t, theta, *args))

    return _core.Event(f"event {index}", g, direction=sign, terminal=terminal)


def _objective(fun: Any, args: Optional[Sequence[Any]]) -> Any:
    if not args:
        return fun
    if isinstance(fun, _core.Objective):
        raise ValueError("args: extra arguments are for a callable fun, not for a gradflow objective")
    extra = tuple(args)
    return lambda theta: fun(theta, *extra)


def solve_flow(fun: Any, t_span: Sequence[float], y0: Any, method: str = "RK45", t_eval: Any = None,
               dense_output: bool = False, events: Any = None, args: Optional[Sequence[Any]] = None,
               rtol: float = 1e-3, atol: float = 1e-6, max_step: float = math.inf,
               first_step: Optional[float] = None, **gradflow_options: Any) -> OdeResult:
    """The gradient flow y' = -grad L(y) on t_span from y0, with scipy.integrate.solve_ivp's call and result.

    fun: the loss, as a callable fun(y, *args) -> (loss, grad) (grad of shape (p,)) or a gradflow
        objective (Quadratic, LeastSquares, MLP, Function, ...). Not solve_ivp's right-hand side: the
        right-hand side is -grad L.
    t_span: (t0, t1), t0 < t1, both finite. y0: the initial point, shape (p,).
    method: SciPy's names ("RK45" -> dopri5, "DOP853" -> fehlberg78, "BDF" and "Radau" -> cvode-bdf,
        "LSODA" -> auto: dopri5 switching to BDF while the problem is stiff) or gradflow's (dopri5,
        cash-karp54, fehlberg78, bulirsch-stoer, cvode-bdf, cvode-bdf-krylov, cvode-adams, auto, euler,
        rk4 with dt=...). "RK23" raises ValueError saying what to use.
    t_eval: times to store, sorted, within t_span (t0 may be among them); None: every accepted step.
    dense_output: keep the continuous solution, sol(t) for t in [t0, t_final] (scalars and arrays).
    events: a callable event(t, y, *args) or a list of them, with SciPy's optional attributes
        terminal (True: stop at the first crossing) and direction (> 0: only increasing crossings,
        < 0: only decreasing, 0: both); located on the step's interpolant.
    args: extra arguments passed to fun and to the events.
    rtol, atol: tolerances (solve_ivp's defaults 1e-3 and 1e-6; gradflow.flow's are 1e-8, 1e-10).
    max_step, first_step: the largest step and the first trial step, as solve_ivp's.
    gradflow_options: flow()'s other keywords (loss_tol, grad_tol, mu, min_value, hvp, radius,
        observe, max_steps, max_wall_seconds, krylov, dt).

    Returns an OdeResult: solve_ivp's fields (t, y of shape (p, k), sol, t_events, y_events, nfev,
    njev, nlu, status, message, success) and gradflow's (loss, grad_norm, pl_ratio, bound along t,
    bound_holds, gradflow_status, stats, result). Bad arguments raise ValueError naming the argument.
    """
    taken = sorted(_OWN_KEYWORDS.intersection(gradflow_options))
    if taken:
        raise TypeError(f"solve_flow: {', '.join(taken)} is set by solve_ivp's arguments (t_span, t_eval, "
                        "dense_output, method, rtol, atol, events, max_step, first_step)")
    try:
        t0_in, t1_in = t_span
    except (TypeError, ValueError):
        raise ValueError(f"t_span = {t_span!r}: must be a pair (t0, t1)") from None
    t0 = _real("t_span[0]", t0_in)
    t1 = _real("t_span[1]", t1_in)
    if not (math.isfinite(t0) and math.isfinite(t1)):
        raise ValueError(f"t_span = ({t0!r}, {t1!r}): both ends must be finite")
    if not t1 > t0:
        raise ValueError(f"t_span = ({t0!r}, {t1!r}): t1 must be > t0 (the gradient flow runs forward in time)")
    extra = tuple(args) if args else ()
    keywords: dict[str, Any] = dict(gradflow_options)
    keywords.update(solver=_solver(method), t_end=t1 - t0, rtol=rtol, atol=atol, record_states=True,
                    dense_output=bool(dense_output), max_step=max_step, first_step=first_step)
    wanted: Optional[np.ndarray] = None
    if t_eval is not None:
        wanted = np.asarray(t_eval, dtype=float)
        if wanted.ndim != 1:
            raise ValueError(f"t_eval: must be a 1-D array, got shape {wanted.shape}")
        if not np.all(np.isfinite(wanted)):
            raise ValueError("t_eval: must be finite")
        if wanted.size and (wanted[0] < t0 or wanted[-1] > t1):
            raise ValueError(f"t_eval: must lie within t_span = ({t0!r}, {t1!r}) (from {wanted[0]!r} to "
                             f"{wanted[-1]!r})")
        if np.any(np.diff(wanted) <= 0):
            raise ValueError("t_eval: must be strictly increasing")
        later = wanted[wanted > t0] - t0
        keywords["times"] = later if later.size else [t1 - t0]
    if events is None:
        event_list: list = []
    elif callable(events):
        event_list = [events]
    elif isinstance(events, Iterable):
        event_list = list(events)
    else:
        raise ValueError(f"events: must be a callable or a list of callables, got {type(events).__name__}")
    keywords["events"] = [_event(i, e, t0, extra) for i, e in enumerate(event_list)]

    result = _core.flow(_objective(fun, extra), y0, **keywords)

    rows_t = np.asarray(result.t, dtype=float)
    states = np.asarray(result.states)
    if wanted is None:
        keep = np.arange(rows_t.size)
        t_out = t0 + rows_t
    else:
        relative = wanted - t0
        # A row at t = 0 stands for t0; the others are at the requested times themselves.
        keep = np.flatnonzero(np.isin(rows_t, relative[relative > 0]) | ((rows_t == 0.0) & (wanted[0] == t0)))
        _, first = np.unique(rows_t[keep], return_index=True)
        keep = keep[np.sort(first)]
        t_out = wanted[np.searchsorted(relative, rows_t[keep])]
    whole = keep.size == rows_t.size  # every row kept, in order: views, no copies
    pick = (lambda a: a) if whole else (lambda a: a[keep])
    status = result.status_code  # the module's one mapping of gradflow's statuses onto solve_ivp's
    stats = dict(result.stats)
    out = OdeResult(
        t=t_out,
        y=pick(states).T,  # (p, k), a transposed view as SciPy's
        sol=OdeSolution(result, t0) if dense_output else None,
        t_events=None,  # set below when there are events
        y_events=None,
        nfev=result.nfev,
        njev=result.njev,
        nlu=result.nlu,
        status=status,
        message=result.message,
        success=status >= 0,
        loss=pick(np.asarray(result.loss)),
        grad_norm=pick(np.asarray(result.grad_norm)),
        pl_ratio=pick(np.asarray(result.pl_ratio)),
        bound=pick(np.asarray(result.bound)),
        bound_holds=result.bound_holds,
        gradflow_status=result.status,
        stats=stats,
        result=result,
    )
    if event_list:  # the result's own grouping by event, shifted to t0
        out["t_events"] = [t0 + times for times in result.t_events]
        out["y_events"] = result.y_events
    return out
