"""gradflow.plot: the figures every user of a run draws, with matplotlib (imported only when a function runs).

    import gradflow, gradflow.plot
    r = gradflow.flow(q, theta0, t_end=20.0)
    gradflow.plot.trajectory(r, path="flow.png")          # loss with the rate bound, PL ratio, ||grad L||
    gradflow.plot.against_flow(descent, flow, path="d.png")  # descent's loss against its flow's, on t
    gradflow.plot.speedups(gradflow.compare_inits(X, y), path="s.png")  # scheme / positive, with intervals

Each function returns the matplotlib Figure; with path= it also writes the figure whole (to a temporary
name in the same folder, renamed into place when complete). The data drawn are the result's own arrays,
unchanged (NaN where a value is undefined: matplotlib leaves a gap).
"""

from __future__ import annotations

import os
import tempfile
from typing import Any, Optional

import numpy as np


def _pyplot() -> Any:
    try:
        import matplotlib  # type: ignore[import]  # (no stubs in Debian 12)
        if not os.environ.get("DISPLAY") and not os.environ.get("MPLBACKEND"):
            matplotlib.use("Agg")  # headless: no display to open
        import matplotlib.pyplot as plt  # type: ignore[import]
    except ImportError as error:  # pragma: no cover - depends on the machine
        raise ImportError("gradflow.plot needs matplotlib (Debian: python3-matplotlib)") from error
    return plt


def _columns(result: Any) -> Any:
    """A FlowResult or DescentResult, or solve_flow's OdeResult (its result field, times from t0)."""
    if isinstance(result, dict) and "result" in result and "t" in result:
        return result["result"], float(result["t"][0]) if len(result["t"]) else 0.0
    if not hasattr(result, "t") or not hasattr(result, "loss"):
        raise ValueError(f"result: must be a FlowResult, DescentResult or OdeResult, got {type(result).__name__}")
    return result, 0.0


def _save(fig: Any, path: Optional[str]) -> None:
    if path is None:
        return
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    suffix = os.path.splitext(path)[1] or ".png"
    handle, temporary = tempfile.mkstemp(prefix=".gradflow.", suffix=suffix, dir=folder)
    os.close(handle)
    try:
        fig.savefig(temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise


def trajectory(result: Any, path: Optional[str] = None, title: Optional[str] = None) -> Any:
    """Three panels against t: the loss with the rate bound (log scale), the PL ratio ||grad L||^2 /
    (2 (L - L_min)) and the gradient norm. The bound is drawn only where the result has one."""
    plt = _pyplot()
    r, t0 = _columns(result)
    t = t0 + np.asarray(r.t, dtype=float)
    fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True, constrained_layout=True)
    axes[0].semilogy(t, r.loss, label="loss L(t)")
    bound = np.asarray(r.bound, dtype=float)
    if np.isfinite(bound).any():
        axes[0].semilogy(t, bound, "--", label="rate bound")
    axes[0].set_ylabel("loss")
    axes[0].legend(loc="best")
    axes[1].semilogy(t, r.pl_ratio, label="PL ratio")
    axes[1].set_ylabel("||grad L||^2 / (2 (L - L_min))")
    axes[2].semilogy(t, r.grad_norm, label="||grad L||")
    axes[2].set_ylabel("||grad L||")
    axes[2].set_xlabel("t (flow time; descent: the sum of the steps)")
    fig.suptitle(title or f"{r.to_dict().get('problem', 'run')}: {r.status}")
    _save(fig, path)
    return fig


def against_flow(descent: Any, flow: Any, path: Optional[str] = None, title: Optional[str] = None) -> Any:
    """Descent's loss and its flow's on the time axis they share (t_k = the sum of the steps), log scale."""
    plt = _pyplot()
    d, _ = _columns(descent)
    f, t0 = _columns(flow)
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    ax.semilogy(np.asarray(f.t, dtype=float) + t0, f.loss, label="gradient flow")
    ax.semilogy(np.asarray(d.t, dtype=float), d.loss, ".", markersize=3, label="gradient descent")
    ax.set_xlabel("t (descent: the sum of the steps)")
    ax.set_ylabel("loss")
    ax.legend(loc="best")
    ax.set_title(title or "descent against its flow")
    _save(fig, path)
    return fig


def speedups(comparison: Any, measure: str = "grad_evals", path: Optional[str] = None,
             title: Optional[str] = None) -> Any:
    """compare_inits' speedups: for each scheme, median work of the scheme / positive's against the width,
    with the 95% bootstrap interval, and the line 1 (above it positive needed less). measure: grad_evals,
    loss_evals, steps, wall or time_beta0. A scheme without a finite ratio is listed in the legend as such."""
    plt = _pyplot()
    rows = comparison.get("summary") if isinstance(comparison, dict) else None
    if not isinstance(rows, list):
        raise ValueError("comparison: must be the dict compare_inits returns (with its 'summary' list)")
    key = f"speedup_{measure}"
    if rows and key not in rows[0]:
        known = sorted(k[len("speedup_"):] for k in rows[0] if k.startswith("speedup_") and
                       not k.endswith(("_low", "_high", "_p")))
        raise ValueError(f"measure = {measure!r}: unknown (known: {', '.join(known)})")
    fig, ax = plt.subplots(figsize=(7, 4.5), constrained_layout=True)
    schemes = [s for s in dict.fromkeys(r["init"] for r in rows) if s != "positive"]
    for scheme in schemes:
        mine = sorted((r for r in rows if r["init"] == scheme), key=lambda r: r["width"])
        widths = np.array([r["width"] for r in mine], dtype=float)
        ratio = np.array([np.nan if r[key] is None else r[key] for r in mine], dtype=float)
        low = np.array([np.nan if r.get(key + "_low") is None else r[key + "_low"] for r in mine], dtype=float)
        high = np.array([np.nan if r.get(key + "_high") is None else r[key + "_high"] for r in mine], dtype=float)
        finite = np.isfinite(ratio) & (ratio > 0)
        label = scheme if finite.any() else f"{scheme} (no finite ratio)"
        errors = np.vstack([np.where(np.isfinite(low), ratio - low, 0.0), np.where(np.isfinite(high), high - ratio, 0.0)])
        ax.errorbar(widths[finite], ratio[finite], yerr=errors[:, finite], fmt="o-", capsize=3, label=label)
    ax.axhline(1.0, color="gray", linestyle="--", label="no difference")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("width")
    ax.set_ylabel(f"{measure}: scheme / positive")
    ax.legend(loc="best")
    ax.set_title(title or f"{measure} to the target, scheme / positive (above 1: positive needed less)")
    _save(fig, path)
    return fig
