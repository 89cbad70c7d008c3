#!/usr/bin/env python3
"""The network's loss-and-gradient against OpenBLAS's own dgemm rate, measured in one run (issue 26).

Both sides on one thread: gradflow's MLP.loss_and_gradient (threads=1; its products on the kernels that
gradflow.matrix_products() names) at n x d x width x depth, counted as 6 n p flops (forward 2 n p,
backward 4 n p); numpy's A @ B (OpenBLAS's dgemm, set to one thread through threadpoolctl) on square
matrices of the width, 2 m^3 flops. The best of --repeats timed calls on each side, alternating; the
ratio of the two rates is printed with issue 26's target (>= 0.9 at 512x512x512x3).

    PYTHONPATH=build/release/python /usr/bin/python3 bench/peers/gemm_rate.py [--sizes 512x512x512x3]
"""

import argparse
import sys
import time

import numpy as np

import gradflow

TARGET = 0.9


def best(repeats, call):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="128x256x256x2,512x512x512x3")
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()
    try:
        import threadpoolctl
    except ImportError:
        sys.exit("gemm_rate.py: needs python3-threadpoolctl (scripts/install-deps.sh)")
    with threadpoolctl.threadpool_limits(limits=1):
        info = [i for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]
        print("numpy's BLAS:", ", ".join(f"{i['internal_api']} {i.get('version')} {i.get('architecture')} "
                                         f"({i['num_threads']} thread)" for i in info))
        print("gradflow's matrix products:", gradflow.matrix_products())
        for text in args.sizes.split(","):
            n, d, width, depth = (int(v) for v in text.split("x"))
            rng = np.random.default_rng(0)
            X = rng.normal(size=(n, d)) / np.sqrt(d)
            y = rng.normal(size=n)
            mlp = gradflow.MLP(X, y, widths=[width] * depth, threads=1)
            theta = mlp.init("xavier_normal", seed=0)
            p = theta.size
            a = rng.normal(size=(width, width))
            b = rng.normal(size=(width, width))
            mlp.loss_and_gradient(theta)
            a @ b
            t_net, t_gemm = [], []
            for _ in range(3):  # alternate the sides, best of each
                t_net.append(best(args.repeats, lambda: mlp.loss_and_gradient(theta)))
                t_gemm.append(best(args.repeats, lambda: a @ b))
            net_rate = 6.0 * n * p / min(t_net) / 1e9
            gemm_rate = 2.0 * width ** 3 / min(t_gemm) / 1e9
            ratio = net_rate / gemm_rate
            print(f"{text}: p = {p}, loss_and_gradient {min(t_net) * 1e3:.3f} ms = {net_rate:.2f} GFLOP/s; "
                  f"dgemm {width}^3 {min(t_gemm) * 1e3:.3f} ms = {gemm_rate:.2f} GFLOP/s; ratio {ratio:.3f}")
            if text == "512x512x512x3":
                verdict = "PASS" if ratio >= TARGET else f"MISSED by {TARGET / ratio:.3g}x"
                print(f"  TARGET loss_and_gradient >= {TARGET} of dgemm's rate at {text}: {verdict}")


if __name__ == "__main__":
    main()
