"""pip's way in (docs/reference/python.md): in a virtual environment made with --system-site-packages,
`pip install --no-build-isolation --no-index .` builds the module through CMake (setup.py) and installs
the package offline; `pip wheel` and `python3 -m build --wheel --no-isolation` (Debian's python3-build)
make a wheel the same way. The build reuses this build tree
(GRADFLOW_BUILD_DIR), so nothing is compiled twice."""

import os
import pathlib
import subprocess
import sys

import pytest

import gradflow

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = os.environ.get("GRADFLOW_BUILD_TREE")


@pytest.mark.skipif(not BUILD, reason="needs GRADFLOW_BUILD_TREE (set by ctest)")
def test_pip_installs_the_package_offline_in_a_virtual_environment(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL")}
    env["GRADFLOW_BUILD_DIR"] = BUILD
    env["PIP_NO_INPUT"] = "1"
    pip = [str(venv / "bin" / "python"), "-m", "pip"]
    install = subprocess.run(pip + ["install", "--no-build-isolation", "--no-index", str(ROOT)], env=env,
                             capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    code = ("import gradflow, numpy as np; "
            "print(gradflow.__file__); print(gradflow.__version__); "
            "print(gradflow.solve_flow(gradflow.Quadratic(np.eye(2)), (0, 1), np.ones(2)).status)")
    run = subprocess.run([str(venv / "bin" / "python"), "-c", code], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    where, version, status = run.stdout.split()
    assert where.startswith(str(venv)) and "site-packages" in where
    assert version == gradflow.__version__
    assert status == "0"
    wheel = subprocess.run(pip + ["wheel", "--no-build-isolation", "--no-index", "--no-deps", "-w",
                                  str(tmp_path / "wheels"), str(ROOT)], env=env, capture_output=True, text=True,
                           timeout=900)
    assert wheel.returncode == 0, wheel.stdout[-2000:] + wheel.stderr[-2000:]
    wheels = list((tmp_path / "wheels").glob(f"gradflow-{gradflow.__version__}-cp*.whl"))
    assert len(wheels) == 1, list((tmp_path / "wheels").iterdir())


@pytest.mark.skipif(not BUILD, reason="needs GRADFLOW_BUILD_TREE (set by ctest)")
def test_python_m_build_makes_the_wheel_offline(tmp_path):
    # python3-build is installed by scripts/install-deps.sh: its absence is a failure, not a skip.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_INDEX_URL")}
    env["GRADFLOW_BUILD_DIR"] = BUILD
    out = tmp_path / "dist"
    build = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                            str(ROOT)], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    wheels = list(out.glob(f"gradflow-{gradflow.__version__}-cp*.whl"))
    assert len(wheels) == 1, list(out.iterdir())
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    install = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index", "--no-deps",
                              str(wheels[0])], env=env, capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-2000:]
    code = "import gradflow; print(gradflow.__version__, gradflow.__file__)"
    run = subprocess.run([str(venv / "bin" / "python"), "-c", code], env=env, cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    version, where = run.stdout.split()
    assert version == gradflow.__version__ and where.startswith(str(venv))
