"""flow_many and descend_many: one built-in objective from k starts at once, on the library's threads.

The runs are the library's (discrete/ensemble.hpp): each is the run flow() or descend() makes alone, bit
for bit; this file only builds the starts (a k x p array, or seeds of an initialization scheme) and stacks
the results into arrays.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

import numpy as np

from . import _core  # type: ignore[attr-defined]  # the compiled module; its stub is __init__.pyi
from ._solve_ivp import AttributeDict


class Ensemble(AttributeDict):
    """k runs stacked: a dict whose keys are also attributes.

    results (the k FlowResult or DescentResult), theta (k x p, the final states), loss_final,
    grad_norm_final, t_final (k,), status (k names), success (k booleans), num_gradient_evals (k,), and
    the rows padded with NaN to the longest run: t and loss (k x rows).
    """


def _stack(results: list) -> Ensemble:
    k = len(results)
    rows = max((len(r.t) for r in results), default=0)
    t = np.full((k, rows), np.nan)
    loss = np.full((k, rows), np.nan)
    for i, r in enumerate(results):
        t[i, :len(r.t)] = r.t
        loss[i, :len(r.loss)] = r.loss
    p = len(results[0].theta) if results else 0
    return Ensemble(
        results=results,
        theta=np.array([r.theta for r in results], dtype=float).reshape(k, p),
        loss_final=np.array([r.loss[-1] if len(r.loss) else np.nan for r in results], dtype=float),
        grad_norm_final=np.array([r.grad_norm[-1] if len(r.grad_norm) else np.nan for r in results], dtype=float),
        t_final=np.array([r.t_final for r in results], dtype=float),
        status=[r.status for r in results],
        success=np.array([r.success for r in results], dtype=bool),
        num_gradient_evals=np.array([r.stats["num_gradient_evals"] for r in results], dtype=np.int64),
        t=t,
        loss=loss,
    )


def _starts(objective: Any, starts: Any, init: Optional[str], seeds: Optional[Iterable[int]],
            output_scale: float) -> Any:
    if starts is not None:
        if init is not None or seeds is not None:
            raise ValueError("starts: give either starts or init with seeds, not both")
        return starts
    if init is None or seeds is None:
        raise ValueError("starts: give a k x p array of starts, or init= (a scheme) with seeds= (one start each)")
    if not isinstance(objective, _core.MLP):
        raise ValueError("init, seeds: initialization schemes are the network's (gradflow.MLP); give starts")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds: is empty (give at least one)")
    return np.stack([objective.init(init, seed, output_scale) for seed in seeds])


def _run(run: Any, objective: Any, starts: Any, threads: int, keywords: dict) -> Ensemble:
    try:
        return _stack(run(objective, starts, threads=threads, **keywords))
    except KeyboardInterrupt as error:
        partial = getattr(error, "gradflow_result", None)
        if isinstance(partial, list):
            error.gradflow_result = _stack(partial)  # type: ignore[attr-defined]
        raise


def flow_many(objective: Any, starts: Any = None, *, init: Optional[str] = None,
              seeds: Optional[Iterable[int]] = None, output_scale: float = 1.0, threads: int = 0,
              **flow_keywords: Any) -> Ensemble:
    """The gradient flow of a built-in objective from k starts at once; returns an Ensemble.

    starts: a k x p array (one start per row), or init= (an initialization scheme of gradflow.MLP, e.g.
    "xavier_normal") with seeds= (one start per seed, objective.init(init, seed, output_scale)).
    threads: the library's threads (0: all cores); the results do not depend on it. flow_keywords: as
    for flow() (events, hvp and min_value are not taken). Each run is bit for bit the run flow() makes
    alone. Ctrl-C stops the runs and raises KeyboardInterrupt with the Ensemble so far attached
    (gradflow_result: the runs in progress and those not started have status "interrupted").
    """
    return _run(_core._flow_many, objective, _starts(objective, starts, init, seeds, output_scale), threads,
                flow_keywords)


def descend_many(objective: Any, starts: Any = None, *, init: Optional[str] = None,
                 seeds: Optional[Iterable[int]] = None, output_scale: float = 1.0, threads: int = 0,
                 **descend_keywords: Any) -> Ensemble:
    """Gradient descent on a built-in objective from k starts at once; returns an Ensemble (as flow_many)."""
    return _run(_core._descend_many, objective, _starts(objective, starts, init, seeds, output_scale), threads,
                descend_keywords)
