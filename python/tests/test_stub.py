"""The stub (gradflow/__init__.pyi) says what the module has: mypy's stubtest compares it with the
imported package (python3-mypy), with python/stubtest_allowlist.txt for what a stub cannot show of
pybind11's classes."""

import os
import pathlib
import subprocess
import sys

import pytest

import gradflow

pytest.importorskip("mypy")
ALLOWLIST = pathlib.Path(__file__).resolve().parents[1] / "stubtest_allowlist.txt"


def test_the_stub_matches_the_module(tmp_path):
    package = pathlib.Path(gradflow.__file__).resolve().parent
    env = dict(os.environ, MYPY_CACHE_DIR=str(tmp_path / "cache"))
    env["PYTHONPATH"] = os.pathsep.join([str(package.parent)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep)
                                                                  if p])
    out = subprocess.run([sys.executable, "-m", "mypy.stubtest", "gradflow", "--allowlist", str(ALLOWLIST)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
