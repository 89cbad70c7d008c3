"""gradflow.plot, headless (Agg): the figures draw the results' own arrays, files are written whole, and
matplotlib is imported only when a figure is drawn."""

import os
import subprocess
import sys

import numpy as np
import pytest

import gradflow

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import gradflow.plot  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def quadratic_run(**kwargs):
    q = gradflow.Quadratic(np.diag([2.0, 1.0, 0.1]))
    return q, gradflow.flow(q, np.ones(3), t_end=20.0, **kwargs)


def test_trajectory_draws_the_loss_the_bound_the_pl_ratio_and_the_gradient_norm(tmp_path):
    _, r = quadratic_run()
    path = tmp_path / "flow.png"
    fig = gradflow.plot.trajectory(r, path=str(path))
    loss_ax, pl_ax, grad_ax = fig.axes
    assert np.array_equal(loss_ax.lines[0].get_xdata(), r.t)
    assert np.array_equal(loss_ax.lines[0].get_ydata(), r.loss)
    assert np.array_equal(loss_ax.lines[1].get_ydata(), r.bound)  # the quadratic's exact mu: a bound
    assert np.array_equal(pl_ax.lines[0].get_ydata(), r.pl_ratio)
    assert np.array_equal(grad_ax.lines[0].get_ydata(), r.grad_norm)
    assert path.read_bytes()[:8] == PNG
    assert sorted(os.listdir(tmp_path)) == ["flow.png"]  # no temporary left beside it


def test_a_solve_flow_result_is_drawn_on_its_own_time_axis(tmp_path):
    q = gradflow.Quadratic(np.diag([2.0, 1.0]))
    res = gradflow.solve_flow(q, (5.0, 9.0), np.ones(2))
    fig = gradflow.plot.trajectory(res, path=str(tmp_path / "s.svg"))
    assert np.allclose(fig.axes[0].lines[0].get_xdata(), res.t)
    assert (tmp_path / "s.svg").read_text().lstrip().startswith("<?xml")


def test_descent_against_its_flow_shares_the_time_axis(tmp_path):
    q, flow = quadratic_run()
    descent = gradflow.descend(q, np.ones(3), lr=0.1, max_iters=200)
    fig = gradflow.plot.against_flow(descent, flow, path=str(tmp_path / "d.png"))
    flow_line, descent_line = fig.axes[0].lines
    assert np.array_equal(flow_line.get_ydata(), flow.loss)
    assert np.array_equal(descent_line.get_xdata(), descent.t)
    assert np.array_equal(descent_line.get_ydata(), descent.loss)


def test_speedups_draw_each_schemes_ratio_with_its_interval(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((4, 8)), rng.standard_normal(4)
    comparison = gradflow.compare_inits(x, y, widths=[4, 8], seeds=3, max_steps=500, threads=2)
    fig = gradflow.plot.speedups(comparison, path=str(tmp_path / "w.png"))
    ax = fig.axes[0]
    drawn = {c.get_label(): c for c in ax.containers}
    for scheme in ["xavier_normal", "kaiming_normal", "lecun_normal", "orthogonal"]:
        rows = sorted((r for r in comparison["summary"] if r["init"] == scheme), key=lambda r: r["width"])
        label = next(name for name in drawn if name.startswith(scheme))
        line = drawn[label].lines[0]
        finite = [r for r in rows if r["speedup_grad_evals"] is not None and np.isfinite(r["speedup_grad_evals"])]
        assert np.allclose(line.get_ydata(), [r["speedup_grad_evals"] for r in finite])
        assert np.allclose(line.get_xdata(), [r["width"] for r in finite])
    assert (tmp_path / "w.png").read_bytes()[:8] == PNG
    with pytest.raises(ValueError, match="measure = 'nothing': unknown"):
        gradflow.plot.speedups(comparison, measure="nothing")
    with pytest.raises(ValueError, match="comparison: must be the dict compare_inits returns"):
        gradflow.plot.speedups([1, 2])
    with pytest.raises(ValueError, match="result: must be a FlowResult"):
        gradflow.plot.trajectory(42)


def test_matplotlib_is_imported_only_when_a_figure_is_drawn():
    code = "import sys, gradflow, gradflow.plot; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
