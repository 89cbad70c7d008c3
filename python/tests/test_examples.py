"""The Python examples run, and the README shows what its example prints."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "examples", "python")


def run(script, *args, cwd):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], cwd=cwd, capture_output=True,
                          text=True, check=False, env=dict(os.environ))


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


def test_the_plot_example_writes_its_figure(tmp_path):
    pytest.importorskip("matplotlib", reason="python3-matplotlib is not installed: the plot example is skipped")
    out = run("plot_flow.py", str(tmp_path / "flow.png"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "flow.png").stat().st_size > 10000
    assert sorted(os.listdir(tmp_path)) == ["flow.png"]
