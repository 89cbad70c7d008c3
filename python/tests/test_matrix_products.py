"""The network's matrix products on OpenBLAS (issue 26, item 1): which kernels run, that every choice
computes the same network to round-off, the same bits for any thread count, and that gradflow's own
OpenBLAS leaves numpy's alone.

Oracles: the Eigen kernels (GRADFLOW_GEMM=eigen, GRADFLOW_SIMD=baseline) as independent products of
the same network; the one-thread evaluation for the threaded ones; threadpoolctl's report of numpy's
OpenBLAS.
"""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import gradflow

CLI = os.environ.get("GRADFLOW_CLI")
BUILD_GEMM = os.environ.get("GRADFLOW_BUILD_GEMM", "")  # "OpenBLAS (...)" or "Eigen": CMake's choice


def network(threads=1, n=600, d=64, width=512):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(n, d)) / np.sqrt(d)
    y = np.tanh(X[:, 0])
    mlp = gradflow.MLP(X, y, widths=[width, width], threads=threads)
    return mlp, mlp.init("xavier_normal", seed=3)


def test_the_kernels_are_named():
    name = gradflow.matrix_products()
    if BUILD_GEMM.startswith("OpenBLAS"):
        assert name.startswith("OpenBLAS 0.") and "kernels, one thread per call" in name
    else:
        assert name.startswith("Eigen")


def test_same_bits_for_any_thread_count():
    # n = 600 samples and 512 rows per layer: two blocks of each (problems/mlp.cpp, kMinBlock = 256).
    reference = network(threads=1)
    loss1, grad1 = reference[0].loss_and_gradient(reference[1])
    v = np.random.default_rng(1).normal(size=grad1.size)
    hv1 = reference[0].hessian_vector(reference[1], v)
    for threads in (2, 3, 4):
        mlp, theta = network(threads=threads)
        loss, grad = mlp.loss_and_gradient(theta)
        assert loss == loss1
        assert np.array_equal(grad, grad1)
        assert np.array_equal(mlp.hessian_vector(theta, v), hv1)


def test_numpys_openblas_keeps_its_thread_count():
    threadpoolctl = pytest.importorskip("threadpoolctl")  # installed by scripts/install-deps.sh
    before = [(i["filepath"], i["num_threads"]) for i in threadpoolctl.threadpool_info()]
    mlp, theta = network()
    mlp.loss_and_gradient(theta)
    after = [(i["filepath"], i["num_threads"]) for i in threadpoolctl.threadpool_info()]
    assert after == before


def run_cli(tmp_path, env_extra, name):
    env = {k: v for k, v in os.environ.items() if k not in ("GRADFLOW_GEMM", "GRADFLOW_SIMD")}
    env.update(env_extra)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(64, 48)) / np.sqrt(48)
    data = tmp_path / "data.csv"
    if not data.exists():
        np.savetxt(data, np.hstack([X, np.tanh(X[:, :1])]), delimiter=",", fmt="%.17g")
    out = tmp_path / f"{name}.json"
    version = subprocess.run([CLI, "--version"], env=env, capture_output=True, text=True, timeout=60)
    run = subprocess.run([CLI, "descend", "--problem", "mlp", "--data", str(data), "--widths", "128,128",
                          "--step", "fixed", "--lr", "0.05", "--max-iters", "200", "--threads", "2", "--json",
                          str(out), "--quiet"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return version, json.loads(out.read_text())


@pytest.mark.skipif(not CLI, reason="needs GRADFLOW_CLI (set by ctest)")
def test_every_choice_computes_the_same_network(tmp_path):
    default_version, default = run_cli(tmp_path, {}, "default")
    eigen_version, eigen = run_cli(tmp_path, {"GRADFLOW_GEMM": "eigen"}, "eigen")
    base_version, base = run_cli(tmp_path, {"GRADFLOW_SIMD": "baseline"}, "baseline")
    assert default_version.stdout.splitlines()[1] == "matrix products: " + gradflow.matrix_products()
    assert eigen_version.stdout.splitlines()[1].startswith("matrix products: Eigen")
    assert base_version.stdout.splitlines()[1] == "matrix products: Eigen, x86-64 baseline"
    # 200 steps of descent from the same start: the kernels round differently, the runs agree to round-off.
    for other in (eigen, base):
        assert other["iterations"] == default["iterations"] == 200
        assert abs(other["loss_final"] - default["loss_final"]) <= 1e-11 * default["loss0"]
    # A value the choice does not know is named, and the default is used.
    bad_version, bad = run_cli(tmp_path, {"GRADFLOW_GEMM": "mkl"}, "bad")
    assert 'GRADFLOW_GEMM=mkl is none of "eigen", "openblas", "auto"; using auto' in bad_version.stderr
    assert bad["loss_final"] == default["loss_final"]
