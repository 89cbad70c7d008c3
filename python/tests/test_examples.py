"""The Python examples run, and the README shows what its example prints."""
import json
import math
import os
import re
import struct
import subprocess
import sys
import textwrap
import zlib

import numpy as np
import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples", "python")


def run(script, *args, cwd, pythonpath=None):
    # The scripts run in cwd: PYTHONPATH's entries are made absolute so that a relative one still finds gradflow.
    env = dict(os.environ)
    paths = [os.path.abspath(p) for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(([pythonpath] if pythonpath else []) + paths)
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], cwd=cwd, capture_output=True,
                          text=True, check=False, env=env)


def test_the_readme_example_prints_what_the_readme_says(tmp_path):
    out = run("readme_example.py", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as fh:
        readme = fh.read()
    with open(os.path.join(EXAMPLES, "readme_example.py"), encoding="utf-8") as fh:
        source = fh.read()
    assert "```python\n" + source + "```" in readme, "the README's example is not examples/python/readme_example.py"
    shown = re.search(r"It prints \(a test runs the file and compares\):\n\n```\n(.*?)```", readme, re.S)
    assert shown and shown.group(1) == out.stdout


# A stand-in for matplotlib that records what plot_flow.py draws (every call on the figure and its axes,
# arrays as lists) and writes the record as JSON where the figure would go: the numbers behind the plot can
# then be checked without matplotlib, and without decoding pixels.
RECORDING_PYPLOT = textwrap.dedent("""
    import json
    calls = []
    class Axes:
        def __init__(self, index):
            self.index = index
        def __getattr__(self, name):
            def record(*args, **kwargs):
                calls.append({"axes": self.index, "call": name, "kwargs": kwargs,
                              "args": [a.tolist() if hasattr(a, "tolist") else a for a in args]})
            return record
    class Figure(Axes):
        def savefig(self, path, **kwargs):
            with open(path, "w") as fh:
                json.dump({"calls": calls, "savefig": kwargs}, fh)
    def subplots(rows, cols, **kwargs):
        calls.append({"axes": None, "call": "subplots", "args": [rows, cols], "kwargs": kwargs})
        return Figure(None), tuple(Axes(i) for i in range(rows * cols))
""")


def example_data():
    """The data of plot_flow.py, drawn again from its generator."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 32)) / np.sqrt(32)
    y = rng.standard_normal(16)
    return x, y


def check_the_printed_report(stdout, out):
    """What plot_flow.py prints: the flow's report, whose loss starts at L0 = 1/2 ||y||^2 (a tanh network at
    W_1 = 0 outputs 0, docs/theory.md §5.2) and whose bound and radius hold. Returns the numbers."""
    _, y = example_data()
    loss0 = 0.5 * float(np.sum(y ** 2))
    assert stdout.endswith("wrote " + out + "\n"), stdout
    assert re.search(r"^status +reached_end_time", stdout, re.M), stdout
    m = re.search(r"^loss +(\S+) -> (\S+) ", stdout, re.M)
    assert m and float(m.group(1)) == pytest.approx(loss0, rel=1e-6), stdout
    final = float(m.group(2))
    assert final < 1e-6 * loss0  # five certified e-foldings of exp(-2 mu t) and more
    m = re.search(r"^rate bound .*, mu = (\S+): holds$", stdout, re.M)
    assert m, stdout
    mu = float(m.group(1))
    m = re.search(r"^radius +\|\|theta - theta0\|\| <= (\S+): holds$", stdout, re.M)
    assert m, stdout
    radius = float(m.group(1))
    m = re.search(r"^travel +\|\|theta - theta0\|\| = (\S+),", stdout, re.M)
    assert m, stdout
    return {"loss0": loss0, "final": final, "mu": mu, "radius": radius, "distance": float(m.group(1))}


def test_the_plot_example_draws_the_flow_against_its_certified_bound(tmp_path):
    stub = tmp_path / "stub" / "matplotlib"
    stub.mkdir(parents=True)
    (stub / "__init__.py").write_text("def use(backend):\n    pass\n")
    (stub / "pyplot.py").write_text(RECORDING_PYPLOT)
    work = tmp_path / "work"
    work.mkdir()
    out = run("plot_flow.py", "flow.json", cwd=work, pythonpath=str(tmp_path / "stub"))
    assert out.returncode == 0, out.stderr
    assert sorted(os.listdir(work)) == ["flow.json"]
    printed = check_the_printed_report(out.stdout, "flow.json")
    with open(work / "flow.json", encoding="utf-8") as fh:
        record = json.load(fh)
    calls = {(c["axes"], c["call"], c["kwargs"].get("label")): c for c in record["calls"]}
    assert record["savefig"] == {"dpi": 120}
    assert calls[(None, "subplots", None)]["kwargs"] == {"figsize": [10, 4]}
    t, loss = map(np.array, calls[(0, "semilogy", "L(t)")]["args"])
    t_bound, bound = map(np.array, calls[(0, "semilogy", "certified bound L0 exp(-2 mu t)")]["args"][:2])
    t_dist, dist = map(np.array, calls[(1, "plot", "||theta(t) - theta0||")]["args"])
    travel = calls[(1, "axhline", "certified travel")]["args"][0]
    assert np.array_equal(t, t_bound) and np.array_equal(t, t_dist)
    # The rows: t = 0, 0.05/rate, ..., 5/rate, 101 of them, evenly spaced.
    assert len(t) == len(loss) == len(bound) == len(dist) == 101 and t[0] == 0.0
    assert np.allclose(np.diff(t), t[-1] / 100, rtol=1e-9, atol=0.0)
    # The loss curve starts at L0 = 1/2 ||y||^2, falls monotonically (a gradient flow), and ends at the printed loss.
    loss0 = printed["loss0"]
    assert loss[0] == pytest.approx(loss0, rel=1e-13)
    assert np.all(np.diff(loss) < 0.0)
    assert loss[-1] == pytest.approx(printed["final"], rel=1e-6)
    # The bound curve is L0 exp(-2 mu t) with one mu, the certificate's (as printed, and in the title), and
    # the run lasts 5 / rate = 5 / (2 mu): the bound ends at L0 e^-5.
    assert bound[0] == pytest.approx(loss0, rel=1e-13)
    mu = -np.log(bound[1:] / loss0) / (2.0 * t[1:])
    assert np.allclose(mu, mu[0], rtol=1e-9, atol=0.0)
    mu = mu[0]
    assert mu == pytest.approx(printed["mu"], rel=1e-5)
    title = calls[(None, "suptitle", None)]["args"][0]
    assert float(re.search(r"mu = (\S+)$", title).group(1)) == pytest.approx(mu, rel=5e-3)
    assert np.allclose(bound, loss0 * np.exp(-2.0 * mu * t), rtol=1e-12, atol=0.0)
    assert 2.0 * mu * t[-1] == pytest.approx(5.0, rel=1e-12)
    # Theorem 1: the loss stays under the bound (up to the solver's tolerance), and far under it at the end.
    assert np.all(loss <= bound * (1.0 + 1e-6))
    assert loss[-1] < 1e-3 * bound[-1]
    # The travel line is the theorem's sqrt(2 L0 / mu), the printed radius; the distance curve starts at 0,
    # ends at the printed distance and stays within it.
    assert travel == pytest.approx(math.sqrt(2.0 * loss0 / mu), rel=1e-9)
    assert travel == pytest.approx(printed["radius"], rel=1e-5)
    assert dist[0] == 0.0 and dist[-1] == pytest.approx(printed["distance"], rel=1e-5)
    assert np.all(dist < travel)


def png_pixels(path):
    """Width, height and the RGBA rows of an 8-bit RGBA or RGB PNG, decoded with the standard library."""
    with open(path, "rb") as fh:
        data = fh.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and color in (2, 6) and interlace == 0
    channels = 4 if color == 6 else 3
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    stride = width * channels
    assert len(raw) == height * (1 + stride)
    rows, previous = [], bytearray(stride)
    for i in range(height):
        kind, line = raw[i * (1 + stride)], bytearray(raw[i * (1 + stride) + 1:(i + 1) * (1 + stride)])
        for j in range(stride):
            a = line[j - channels] if j >= channels else 0
            b = previous[j]
            c = previous[j - channels] if j >= channels else 0
            if kind == 1:
                line[j] = (line[j] + a) & 0xFF
            elif kind == 2:
                line[j] = (line[j] + b) & 0xFF
            elif kind == 3:
                line[j] = (line[j] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[j] = (line[j] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            else:
                assert kind == 0, kind
        rows.append(line)
        previous = line
    pixels = np.frombuffer(b"".join(rows), dtype=np.uint8).reshape(height, width, channels)
    return width, height, pixels[:, :, :3]


def test_the_plot_example_writes_its_figure(tmp_path):
    pytest.importorskip("matplotlib", reason="python3-matplotlib is not installed: the plot example is skipped")
    out = run("plot_flow.py", str(tmp_path / "flow.png"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert sorted(os.listdir(tmp_path)) == ["flow.png"]
    check_the_printed_report(out.stdout, str(tmp_path / "flow.png"))
    # figsize (10, 4) at 120 dpi, decoded: a white page with both panels drawn. Matplotlib's first two line
    # colours are C0 (31, 119, 180) for L(t) and ||theta(t) - theta0||, and C1 (255, 127, 14) for the bound,
    # which is only on the left.
    width, height, rgb = png_pixels(tmp_path / "flow.png")
    assert (width, height) == (1200, 480)
    white = np.all(rgb == 255, axis=2)
    assert 0.5 < white.mean() < 0.99
    blue = np.all(rgb == (31, 119, 180), axis=2)
    orange = np.all(rgb == (255, 127, 14), axis=2)
    left, right = slice(0, width // 2), slice(width // 2, width)
    assert blue[:, left].sum() > 200 and blue[:, right].sum() > 200
    assert orange[:, left].sum() > 200 and orange[:, right].sum() == 0


def test_the_scipy_habits_tutorial_runs_and_agrees_with_solve_ivp(tmp_path):
    out = run("scipy_habits.py", str(tmp_path / "mf.png"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "status 1 (terminal event" in text
    mine, theirs = re.search(r"event at t = ([0-9.]+) \(solve_ivp: ([0-9.]+)\)", text).groups()
    assert abs(float(mine) - float(theirs)) < 1e-5
    assert float(re.search(r"max \|y - y_scipy\| at the stored times: (\S+)", text).group(1)) < 1e-7
    assert float(re.search(r"max \|sol - sol_scipy\| on a grid: (\S+)", text).group(1)) < 1e-7
    assert float(re.search(r"L at the event: (\S+)", text).group(1)) == pytest.approx(1e-8, rel=1e-6)
    assert "ensemble: 8 of 8 reached t_end" in text
    assert (tmp_path / "mf.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_own_loss_tutorial_checks_its_derivatives_and_converges(tmp_path):
    """examples/python/own_loss.py (docs/tutorials/own-loss.md): its gradient and Hessian-vector product agree
    with differences, the flow and descent reach the tolerance, and the PL ratio it measures is positive."""
    out = run("own_loss.py", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    grad, hvp = re.search(r"gradient vs differences: (\S+), Hessian-vector product vs differences: (\S+)", text).groups()
    assert float(grad) < 1e-6 and float(hvp) < 1e-6
    flow = re.search(r"tolerance_reached at t = (\S+): L = (\S+),", text)
    assert flow and float(flow.group(2)) <= 1e-12 * (1 + 1e-9)
    low, high = map(float, re.search(r"PL ratio along the path \(measured\): min (\S+), max (\S+)", text).groups())
    assert 0 < low <= high
    descent = re.search(r"tolerance_reached after (\d+) iterations at lr = (\S+): L = (\S+), t = sum of steps = (\S+)", text)
    assert descent and float(descent.group(3)) <= 1e-12
    # Descent's clock, the sum of its steps, is iterations x lr for a fixed step.
    assert float(descent.group(4)) == pytest.approx(int(descent.group(1)) * float(descent.group(2)), rel=1e-3)
    assert sorted(os.listdir(tmp_path)) == []


def test_the_runs_csv_reader_gives_the_summarys_medians(tmp_path):
    """examples/python/read_runs_csv.py (docs/howto/read-runs-csv.md) on a sweep of
    examples/cli/small-sweep.toml: its per-group counts and medians are summary.csv's."""
    cli = os.environ.get("GRADFLOW_CLI")
    if not cli:
        pytest.skip("GRADFLOW_CLI (the built program) is not set: run through ctest")
    folder = tmp_path / "sweep"
    sweep = subprocess.run([cli, "sweep", "--config", os.path.join(ROOT, "examples/cli/small-sweep.toml"),
                            "--out", str(folder), "--no-plots", "--quiet"], capture_output=True, text=True, check=False)
    assert sweep.returncode == 0, sweep.stderr
    out = run("read_runs_csv.py", str(folder / "runs.csv"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[2:]]
    assert len(rows) == 8
    import csv
    with open(folder / "summary.csv", newline="") as f:
        summary = {(r["method"], int(r["width"]), r["init"]): r for r in csv.DictReader(f)}
    for method, width, init, runs, reached, certified, median in rows:
        row = summary[(method, int(width), init)]
        assert int(runs) == int(row["runs"]) == 4 and int(reached) == int(row["converged"])
        assert float(median) == pytest.approx(float(row["median_grad_evals"]), rel=1e-9)
